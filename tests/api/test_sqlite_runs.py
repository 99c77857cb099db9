"""Runs stored in the runner's turbulence.db, over a real socket: exact counts, detail, stream (docs/design.md §2, §5)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.api.streamclient import StreamReader, is_type, stream_url
from tests.api.test_rest import wait_for
from windtunnel_dash.api.schemas import STREAM_MESSAGES

REAL_RUN = "run_20261205_143438"
COUNTS = {"total": 150, "passed": 141, "failed": 6, "errors": 3}


@pytest.fixture(scope="module")
def real_run(app_server, client) -> str:
    run_id = app_server.copy_fixture(REAL_RUN, "sqlite_real_run")
    wait_for(client, f"/api/runs/{run_id}", lambda r: r["status"] == "complete", timeout=30)
    return run_id


def test_the_real_run_is_listed_and_exact(client, real_run) -> None:
    run = client.get(f"/api/runs/{real_run}").json()
    assert {k: run["stats"][k] for k in COUNTS} == COUNTS and run["stats"]["passRate"] == 94.0
    assert (run["status"], run["sutName"], run["scenarioIds"]) == (
        "complete", "fake-shop-local", ["browse-slow", "checkout-flow"])
    assert run["startedAt"] == "2026-12-05T14:34:38.637377+00:00"
    assert run["completedAt"] == "2026-12-05T14:34:47.717842Z" and run["unreadableLines"] == 0
    assert run["config"] == {"seed": 21, "concurrency": 10, "timeout_seconds": 30.0}
    assert run["scenarios"] == [
        {"scenarioId": "browse-slow", "total": 79, "passed": 79, "failed": 0, "errors": 0, "passRate": 100.0},
        {"scenarioId": "checkout-flow", "total": 71, "passed": 62, "failed": 6, "errors": 3, "passRate": 87.3},
    ]
    listed = {r["runId"]: r for r in client.get("/api/runs", params={"limit": 500}).json()["runs"]}
    assert listed[real_run]["stats"] == run["stats"] and listed[real_run]["status"] == "complete"
    assert listed[real_run]["durationMs"] == 9080.465 and listed[real_run]["sutName"] == "fake-shop-local"


def test_filters_sorts_and_search_are_exact(client, real_run) -> None:
    path = f"/api/runs/{real_run}/instances"
    totals = {s: client.get(path, params={"status": s}).json()["total"] for s in ("passed", "failed", "error")}
    assert totals == {"passed": 141, "failed": 6, "error": 3}
    everything = client.get(path, params={"limit": 500, "sort": "seq"}).json()
    assert everything["total"] == 150 and [i["seq"] for i in everything["items"]] == list(range(1, 151))
    durations = [i["durationMs"] for i in client.get(path, params={"limit": 500, "sort": "-durationMs"}).json()["items"]]
    assert durations == sorted(durations, reverse=True) and None not in durations
    errors = client.get(path, params={"status": "error"}).json()["items"]
    assert {i["error"] for i in errors} == {"Variable 'total' not found in context"}
    found = client.get(path, params={"q": "F14727A5"}).json()
    assert [i["instanceId"] for i in found["items"]] == ["inst_f14727a56c86"]


def test_an_instance_shows_its_steps_observations_attempts_and_assertions(client, real_run) -> None:
    detail = client.get(f"/api/runs/{real_run}/instances/inst_f14727a56c86").json()
    assert (detail["status"], detail["durationMs"]) == ("error", 99.262)
    assert detail["entryData"]["seed_data"]["variation"]["locale"] == "ja-JP"
    http, check = detail["steps"]
    assert (http["stepIndex"], http["stepName"], http["stepType"]) == (0, "create_cart", "http")
    assert http["observation"]["status_code"] == 503 and http["observation"]["attempts"][0]["attempt"] == 1
    assert check["assertions"] == [{"assertionName": "cart_created", "passed": False, "expected": 201, "actual": 503,
                                    "message": "Status code mismatch: expected 201, got 503"}]


@pytest.mark.anyio
async def test_the_stream_replays_the_real_run_then_completes(app_server, real_run) -> None:
    async with StreamReader.open(stream_url(app_server.ws_url, real_run)) as reader:
        final = await reader.until(is_type("run_complete"), timeout=20)
        assert await reader.until_closed() == 1000
    assert reader.seqs() == list(range(1, 151))
    assert {k: final["data"]["finalStats"][k] for k in COUNTS} == COUNTS
    for message in reader.received:
        STREAM_MESSAGES[message["type"]].model_validate(message["data"])


@pytest.mark.anyio
async def test_a_live_sqlite_run_streams_every_instance_once(app_server) -> None:
    run_id = app_server.simulate(wait=False, storage="sqlite", instances=120, rate=40, seed=11,
                                 fail_rate=0.2, error_rate=0.1)
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=app_server.base_url) as http:
        while (await http.get(f"/api/runs/{run_id}")).status_code != 200:
            assert time.monotonic() < deadline, "the run never appeared"
            await asyncio.sleep(0.05)
        async with StreamReader.open(stream_url(app_server.ws_url, run_id)) as reader:
            final = await reader.until(is_type("run_complete"), timeout=60)
            assert await reader.until_closed() == 1000
        run = (await http.get(f"/api/runs/{run_id}")).json()
    assert reader.seqs() == list(range(1, 121))
    assert len({d["instanceId"] for d in reader.data("instance_complete")}) == 120
    stats = final["data"]["finalStats"]
    assert stats["total"] == 120 == stats["passed"] + stats["failed"] + stats["errors"]
    assert run["status"] == "complete" and run["stats"] == stats


def test_a_bad_database_is_listed_as_an_error_run_with_the_reason(app_server, client) -> None:
    run_dir = app_server.runs_dir / "sqlite_not_a_database"
    run_dir.mkdir()
    (run_dir / "turbulence.db").write_bytes(b"definitely not SQLite\n" * 100)
    run = wait_for(client, f"/api/runs/{run_dir.name}", lambda r: r["status"] == "error")
    assert run["statusReason"] == "turbulence.db is not a SQLite database"
    assert client.get("/api/health").json()["status"] == "ok"
