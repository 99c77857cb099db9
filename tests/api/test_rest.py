"""REST endpoints of docs/design.md §5 over a real socket against the running app."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.runbuilder import assertion, instance, open_run, step
from windtunnel_dash.api import schemas
from windtunnel_dash.artifacts.status import InstanceStatus

N = 120


def status_of(n: int) -> InstanceStatus:
    return "error" if n % 10 == 0 else "failed" if n % 4 == 0 else "passed"


def duration_of(n: int) -> float | None:
    return None if n % 7 == 0 else float((n * 37) % 50)  # many ties, some missing


def scenario_of(n: int) -> str:
    return "browse" if n % 2 else "checkout"


def wait_for(client: httpx.Client, path: str, done, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(path)
        if answer.status_code == 200 and done(answer.json()):
            return answer.json()
        assert time.monotonic() < deadline, f"{path} never got there: {answer.status_code} {answer.text[:300]}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def seeded(app_server, client) -> str:
    """A finished run of N instances with every status, tied and missing durations, and one unreadable line."""
    run = open_run(app_server.runs_dir, planned=N, started_at=datetime.now(UTC) + timedelta(days=1))
    detailed = instance(8, status_of(8), duration_of(8), scenario_of(8))
    run.write_batch(steps=[step(detailed, 0), step(detailed, 1, ok=False)],
                    assertions=[assertion(detailed, 1, passed=False), assertion(detailed, 0, passed=True)])
    for n in range(1, N + 1):
        run.write_instance(detailed if n == 8 else instance(n, status_of(n), duration_of(n), scenario_of(n)))
        if n == 50:
            with open(run.dir / "instances.jsonl", "ab") as raw:
                raw.write(b"{not json\n")
    run.finalize()
    wait_for(client, f"/api/runs/{run.run_id}", lambda r: r["status"] == "complete" and r["stats"]["total"] == N)
    return run.run_id


def expected_ids(keep=lambda n: True, key=None, reverse=False) -> list[str]:
    seqs = [n for n in range(1, N + 1) if keep(n)]
    if key is not None:
        seqs.sort(key=key)
    elif reverse:
        seqs.reverse()
    return [f"inst_{n:05d}" for n in seqs]


def all_pages(client: httpx.Client, run_id: str, limit: int, **params: Any) -> list[str]:
    ids: list[str] = []
    page = 1
    while True:
        body = client.get(f"/api/runs/{run_id}/instances", params={**params, "page": page, "limit": limit}).json()
        schemas.InstancePage.model_validate(body)
        assert body["page"] == page and body["limit"] == limit
        ids += [item["instanceId"] for item in body["items"]]
        if page * limit >= body["total"]:
            assert len(ids) == body["total"]
            return ids
        page += 1


def test_run_detail(client, seeded):
    body = client.get(f"/api/runs/{seeded}").json()
    schemas.RunDetail.model_validate(body)
    counts = {s: sum(1 for n in range(1, N + 1) if status_of(n) == s) for s in ("passed", "failed", "error")}
    assert body["runId"] == seeded and body["sutName"] == "api-test-sut" and body["planned"] == N
    assert body["status"] == "complete" and body["completedAt"] and body["unreadableLines"] == 1
    assert body["scenarioIds"] == ["checkout", "browse"]
    stats = body["stats"]
    assert (stats["total"], stats["passed"], stats["failed"], stats["errors"]) == (
        N, counts["passed"], counts["failed"], counts["error"])
    assert stats["passRate"] == round(100 * counts["passed"] / N, 1)
    browse = next(s for s in body["scenarios"] if s["scenarioId"] == "browse")
    assert browse["total"] == sum(1 for n in range(1, N + 1) if scenario_of(n) == "browse")
    assert body["config"]["instances"] == N


def test_run_list_newest_first_with_paging(app_server, client, seeded):
    older = open_run(app_server.runs_dir, started_at=datetime(2000, 1, 1, tzinfo=UTC))
    older.finalize()
    everything = wait_for(client, "/api/runs?limit=500", lambda b: older.run_id in [r["runId"] for r in b["runs"]])
    schemas.RunPage.model_validate(everything)
    ids = [r["runId"] for r in everything["runs"]]
    assert everything["total"] == len(ids)
    assert ids[0] == seeded and ids[-1] == older.run_id  # started tomorrow / in 2000
    starts = [r["startedAt"] for r in everything["runs"]]
    assert starts == sorted(starts, reverse=True)
    paged = [r["runId"] for off in range(0, len(ids), 2)
             for r in client.get("/api/runs", params={"limit": 2, "offset": off}).json()["runs"]]
    assert paged == ids
    assert "scenarios" not in everything["runs"][0] and "config" not in everything["runs"][0]


def test_instances_default_newest_first(client, seeded):
    body = client.get(f"/api/runs/{seeded}/instances").json()
    assert body["total"] == N and body["page"] == 1 and body["limit"] == 50
    assert [i["instanceId"] for i in body["items"]] == expected_ids(reverse=True)[:50]
    assert [i["seq"] for i in body["items"]] == list(range(N, N - 50, -1))


@pytest.mark.parametrize("status", ["passed", "failed", "error"])
def test_status_filter(client, seeded, status):
    ids = all_pages(client, seeded, 17, status=status, sort="seq")
    assert ids == expected_ids(lambda n: status_of(n) == status)


def test_filters_partition_all(client, seeded):
    totals = [client.get(f"/api/runs/{seeded}/instances", params={"status": s}).json()["total"]
              for s in ("passed", "failed", "error")]
    assert sum(totals) == N


def missing_last(n: int, sign: int) -> tuple:
    d = duration_of(n)
    return (d is None, sign * (d or 0), n)


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("seq", lambda n: n),
        ("-seq", lambda n: -n),
        ("durationMs", lambda n: missing_last(n, 1)),
        ("-durationMs", lambda n: missing_last(n, -1)),
        ("status", lambda n: (["error", "failed", "passed"].index(status_of(n)), n)),
    ],
)
def test_sorts_page_without_overlap(client, seeded, sort, key):
    assert all_pages(client, seeded, 13, sort=sort) == expected_ids(key=key)


def test_search_is_case_insensitive_on_instance_and_correlation_id(client, seeded):
    by_instance = client.get(f"/api/runs/{seeded}/instances", params={"q": "INST_0010", "sort": "seq"}).json()
    assert [i["instanceId"] for i in by_instance["items"]] == [f"inst_{n:05d}" for n in range(100, 110)]
    by_corr = client.get(f"/api/runs/{seeded}/instances", params={"q": "corr_0011", "status": "error"}).json()
    assert [i["instanceId"] for i in by_corr["items"]] == ["inst_00110"] and by_corr["total"] == 1


def test_limit_is_capped_at_500(client, seeded):
    body = client.get(f"/api/runs/{seeded}/instances", params={"limit": 10_000}).json()
    assert body["limit"] == 500 and len(body["items"]) == N


def test_page_past_the_end_is_empty(client, seeded):
    body = client.get(f"/api/runs/{seeded}/instances", params={"page": 99}).json()
    assert body["items"] == [] and body["total"] == N


@pytest.mark.parametrize(
    "params",
    [{"page": 0}, {"page": -1}, {"page": "x"}, {"status": "ok"}, {"status": "PASSED"},
     {"sort": "name"}, {"sort": "-status"}, {"limit": 0}],
)
def test_bad_parameters_get_400_with_error_body(client, seeded, params):
    answer = client.get(f"/api/runs/{seeded}/instances", params=params)
    assert answer.status_code == 400
    body = schemas.ErrorBody.model_validate(answer.json())
    assert body.error.code == 400 and body.error.message


def test_instance_detail_has_steps_with_observations_and_assertions(client, seeded):
    body = client.get(f"/api/runs/{seeded}/instances/inst_00008").json()
    schemas.InstanceDetail.model_validate(body)
    assert body["seq"] == 8 and body["status"] == "failed" and body["entryData"] == {"n": 8}
    assert [s["stepIndex"] for s in body["steps"]] == [0, 1]
    second = body["steps"][1]
    assert second["stepName"] == "step-1" and second["stepType"] == "http"
    assert second["observation"]["ok"] is False and second["observation"]["body"] == {"i": 1}
    assert second["assertions"] == [{"assertionName": "status is 200", "passed": False, "expected": 200,
                                     "actual": 500, "message": "expected 200, got 500"}]
    assert [a["passed"] for a in body["steps"][0]["assertions"]] == [True]


NOT_FOUND_PATHS = [
    "/api/runs/no_such_run",
    "/api/runs/no_such_run/instances",
    "/api/runs/no_such_run/instances/inst_00001",
    "/api/runs/%2e%2e",
    "/api/runs/%2e%2e%2f%2e%2e%2fetc",
    "/api/runs/..%2f..%2fetc%2fpasswd/instances",
    "/api/runs/..%5c..%5cwindows",
    "/api/runs/%252e%252e",
    "/api/runs/a%00b",
    "/api/nothing/here",
    "/api/runs/x/y/z/w",
]


@pytest.mark.parametrize("path", NOT_FOUND_PATHS)
def test_what_does_not_exist_is_404_with_error_body(client, path):
    answer = client.get(httpx.URL(client.base_url.join("/"), raw_path=path.encode()))
    assert answer.status_code == 404, answer.text
    assert schemas.ErrorBody.model_validate(answer.json()).error.code == 404


def test_unknown_instance_of_a_known_run_is_404(client, seeded):
    answer = client.get(f"/api/runs/{seeded}/instances/inst_99999")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == 404


def test_encoded_slash_does_not_reach_another_route(client, seeded):
    answer = client.get(httpx.URL(client.base_url.join("/"), raw_path=f"/api/runs/{seeded}%2Finstances".encode()))
    assert answer.status_code == 404


def test_run_created_a_moment_ago_is_served(app_server, client):
    run = open_run(app_server.runs_dir)
    assert client.get(f"/api/runs/{run.run_id}").status_code == 200
    run.finalize()


def test_health(client):
    body = client.get("/api/health").json()
    schemas.Health.model_validate(body)
    assert body["watch"] == "inotify" and body["warnings"] == []  # a local runs folder, well within the budget


def test_openapi_docs_are_served(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/runs", "/api/runs/{run_id}", "/api/runs/{run_id}/instances",
            "/api/runs/{run_id}/instances/{instance_id}", "/api/health"} <= set(spec["paths"])
    listed = spec["paths"]["/api/runs/{run_id}/instances"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"status", "sort", "page", "limit", "q"}
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_the_docs_page_loads_nothing_from_elsewhere(client):
    """Offline, a page naming a CDN is blank: every script, stylesheet and icon /docs names is served here."""
    assets = re.findall(r'(?:src|href)="([^"]+)"', client.get("/docs").text)
    assert assets and all(url.startswith("/") for url in assets), assets
    for url in assets:
        assert client.get(url).status_code == 200, url


def test_non_finite_numbers_in_the_files_go_out_as_null(app_server, client):
    run = open_run(app_server.runs_dir)
    with open(run.dir / "steps.jsonl", "ab") as steps, open(run.dir / "instances.jsonl", "ab") as instances:
        steps.write(b'{"instance_id": "odd", "step_index": 0, "step_name": "s", "step_type": "http",'
                    b' "observation": {"ok": true, "latency_ms": NaN, "body": {"x": Infinity}}}\n')
        instances.write(b'{"instance_id": "odd", "passed": true, "duration_ms": 3, "entry_data": {"v": -Infinity}}\n')
    run.finalize()
    body = wait_for(client, f"/api/runs/{run.run_id}/instances/odd", lambda b: b["steps"])
    assert body["entryData"] == {"v": None}
    assert body["steps"][0]["observation"] == {"ok": True, "latency_ms": None, "body": {"x": None}}
