"""WS /api/runs/{id}/stream over a real socket against the running app (docs/design.md §5)."""

from __future__ import annotations

import asyncio
import shutil
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.api.runbuilder import assertion, instance, open_run, step
from tests.api.streamclient import StreamReader, has_total, is_instance, is_type, stream_url
from windtunnel_dash.api.schemas import STREAM_MESSAGES

pytestmark = pytest.mark.anyio

FIXTURE_RUN = Path(__file__).resolve().parents[1] / "fixtures/runs/run_20261126_151613"


async def write_in_bursts(run, count: int, *, every: int, pause_s: float) -> None:
    """`count` instances of every status, pausing after each `every` of them: several flushes' worth."""
    for n in range(1, count + 1):
        run.write_instance(instance(n, ("passed", "passed", "failed", "error")[n % 4], float(n)))
        if n % every == 0:
            await asyncio.sleep(pause_s)


def check_schema(reader: StreamReader) -> None:
    for message in reader.received:
        assert set(message) == {"type", "data"}
        STREAM_MESSAGES[message["type"]].model_validate(message["data"])


async def test_live_instances_stats_and_completion(app_server):
    run = open_run(app_server.runs_dir, planned=3)
    async with StreamReader.open(stream_url(app_server.ws_url, run.run_id)) as reader:
        run.write_instance(instance(1, "passed", 12.0))
        first = await reader.until(is_instance(1))
        run.write_batch(instances=[instance(2, "error", 30.0), instance(3, "failed", None)])
        await reader.until(is_instance(3))
        stats = await reader.until(is_type("stats_update"))
        run.finalize()
        final = await reader.until(is_type("run_complete"))
        assert await reader.until_closed() == 1000

    check_schema(reader)
    assert first["data"] == {
        "instanceId": "inst_00001", "correlationId": "CORR_00001", "scenarioId": "checkout", "passed": True,
        "durationMs": 12.0, "status": "passed", "error": None, "completedAt": "2026-01-01T00:00:01.000000Z",
        "startedAt": "2026-01-01T00:00:00.988000Z", "seq": 1,
    }
    assert reader.seqs() == [1, 2, 3]
    assert [d["status"] for d in reader.data("instance_complete")] == ["passed", "error", "failed"]
    assert stats["data"] == {"total": 3, "passed": 1, "failed": 1, "errors": 1, "passRate": 33.3,
                             "planned": 3, "p50Ms": 12.0, "p95Ms": 30.0, "p99Ms": 30.0}
    assert final["data"]["finalStats"] == stats["data"]
    assert final["data"]["completedAt"] == run.summary.completed_at
    assert reader.data("step_complete") == []


async def test_stats_update_counts_what_came_before_it_at_most_ten_a_second(app_server):
    run = open_run(app_server.runs_dir)
    async with StreamReader.open(stream_url(app_server.ws_url, run.run_id)) as reader:
        first_write = time.perf_counter()
        await write_in_bursts(run, 200, every=5, pause_s=0.01)  # 40 appends over 0.4 s or more
        await reader.until(has_total(200))  # the latest counts always go out, if late by up to 100 ms
        run.finalize()
        await reader.until_closed()

    check_schema(reader)
    assert reader.seqs() == list(range(1, 201))
    kinds = [m["type"] for m in reader.received if m["type"] != "heartbeat"]
    assert kinds[-1] == "run_complete"
    seen = 0
    for message in reader.received:  # a stats_update counts exactly the instances sent before it
        if message["type"] == "instance_complete":
            seen = message["data"]["seq"]
        elif message["type"] == "stats_update":
            assert message["data"]["total"] == seen
    # At most 10 a second, leading edge: every one went out between the first append and the arrival
    # of the last one, at least 100 ms apart.
    stats_at = [t for m, t in zip(reader.received, reader.arrived, strict=True) if m["type"] == "stats_update"]
    assert len(stats_at) <= 10 * (stats_at[-1] - first_write) + 1


async def test_instance_messages_are_not_held_back_by_the_cap(app_server):
    """Lines 40 ms apart reach the client about 40 ms apart, not gathered into the cap's 100 ms flushes
    (under the cap no two separate deliveries arrive less than ~100 ms apart)."""
    run = open_run(app_server.runs_dir)
    async with StreamReader.open(stream_url(app_server.ws_url, run.run_id)) as reader:
        run.write_instance(instance(1))
        await reader.until(is_instance(1))
        reading = asyncio.create_task(reader.until(is_instance(26)))  # stamps each frame as it comes
        for n in range(2, 27):
            await asyncio.sleep(0.04)
            run.write_instance(instance(n))
        await reading
        run.finalize()
        await reader.until_closed()

    arrivals = [t for m, t in zip(reader.received, reader.arrived, strict=True) if m["type"] == "instance_complete"]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    apart = [g for g in gaps if 0.015 < g < 0.08]
    assert len(apart) >= 6, f"instance messages came in bunches: gaps {[round(g * 1000) for g in gaps]} ms"


async def test_steps_only_when_asked(app_server):
    run = open_run(app_server.runs_dir)
    inst = instance(1, "failed")
    async with (
        StreamReader.open(stream_url(app_server.ws_url, run.run_id, steps=1)) as with_steps,
        StreamReader.open(stream_url(app_server.ws_url, run.run_id)) as without,
    ):
        run.write_batch(steps=[step(inst, 0), step(inst, 1, ok=False, latency_ms=7.5)],
                        assertions=[assertion(inst, 1, passed=False)])
        run.write_instance(inst)
        run.finalize()
        await with_steps.until_closed()
        await without.until_closed()

    check_schema(with_steps)
    assert with_steps.data("step_complete") == [
        {"instanceId": "inst_00001", "correlationId": "CORR_00001", "stepIndex": 0, "stepName": "step-0",
         "stepType": "http", "ok": True, "latencyMs": 5.0},
        {"instanceId": "inst_00001", "correlationId": "CORR_00001", "stepIndex": 1, "stepName": "step-1",
         "stepType": "http", "ok": False, "latencyMs": 7.5},
    ]
    kinds = [m["type"] for m in with_steps.received if m["type"] in ("step_complete", "instance_complete")]
    assert kinds == ["step_complete", "step_complete", "instance_complete"]
    assert without.data("step_complete") == [] and without.seqs() == [1]


async def test_heartbeat_in_silence(app_server):
    run = open_run(app_server.runs_dir)
    run.write_batch(instances=[instance(1), instance(2)])
    async with StreamReader.open(stream_url(app_server.ws_url, run.run_id)) as reader:
        await reader.until(is_instance(2))
        beats = [await reader.until(is_type("heartbeat"), timeout=5) for _ in range(2)]
    check_schema(reader)
    for beat in beats:
        assert beat["data"]["seq"] == 2
        assert datetime.fromisoformat(beat["data"]["ts"].replace("Z", "+00:00")).tzinfo is not None
    run.finalize()


async def test_resume_since_sends_every_later_instance_once(app_server):
    run = open_run(app_server.runs_dir)
    run.write_batch(instances=[instance(n) for n in range(1, 31)])
    async with StreamReader.open(stream_url(app_server.ws_url, run.run_id)) as first:
        await first.until(is_instance(30))
    run.write_batch(instances=[instance(n) for n in range(31, 61)])  # lands while nobody is connected
    async with StreamReader.open(stream_url(app_server.ws_url, run.run_id, since=12)) as second:
        await second.until(is_instance(45))
        run.write_batch(instances=[instance(n) for n in range(61, 81)])
        run.finalize()
        assert await second.until_closed() == 1000
    assert first.seqs() == list(range(1, 31))
    assert second.seqs() == list(range(13, 81))
    assert second.received[-1]["type"] == "run_complete"


async def test_finished_run_replays_then_completes(app_server):
    shutil.copytree(FIXTURE_RUN, app_server.runs_dir / FIXTURE_RUN.name, dirs_exist_ok=True)
    lines = sum(1 for raw in (FIXTURE_RUN / "instances.jsonl").read_bytes().splitlines() if raw.strip())
    async with StreamReader.open(stream_url(app_server.ws_url, FIXTURE_RUN.name)) as reader:
        assert await reader.until_closed() == 1000
    check_schema(reader)
    assert reader.seqs() == list(range(1, lines + 1))
    assert reader.received[-1]["type"] == "run_complete"
    assert reader.received[-1]["data"]["finalStats"]["total"] == lines

    async with StreamReader.open(stream_url(app_server.ws_url, FIXTURE_RUN.name, since=lines)) as caught_up:
        assert await caught_up.until_closed() == 1000
    assert [m["type"] for m in caught_up.received] == ["run_complete"]


HOSTILE_IDS = [
    "no_such_run", "..", "%2e%2e", "%2E%2E", ".%2e", "..%2f..%2fetc", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%5c..%5cwindows", "%252e%252e%252f", "a%00b", "../../etc", "x/../..", "%2f", "%20",
]


@pytest.mark.parametrize("run_id", HOSTILE_IDS)
async def test_unknown_and_hostile_ids_get_404_and_4404(app_server, run_id):
    async with StreamReader.open(stream_url(app_server.ws_url, run_id)) as reader:
        assert await reader.until_closed() == 4404
    assert [m["type"] for m in reader.received] == ["error"]
    assert reader.received[0]["data"]["code"] == 404
    check_schema(reader)


async def test_run_created_a_moment_ago_is_served(app_server):
    run = open_run(app_server.runs_dir)
    run.write_instance(instance(1))
    async with StreamReader.open(stream_url(app_server.ws_url, run.run_id)) as reader:
        await reader.until(is_instance(1))
    run.finalize()


@pytest.mark.parametrize("query", [{"since": "-1"}, {"since": "abc"}, {"steps": "maybe"}, {"batch": "2"}])
async def test_bad_query_gets_400_and_4400(app_server, query):
    run = open_run(app_server.runs_dir)
    async with StreamReader.open(stream_url(app_server.ws_url, run.run_id, **query)) as reader:
        assert await reader.until_closed() == 4400
    assert reader.data("error")[0]["code"] == 400
    run.finalize()


async def test_closed_client_stops_counting_as_subscriber(app_server):
    async def live() -> int:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{app_server.base_url}/api/health")).json()["liveSubscribers"]

    async def settled_at_zero(what: str) -> None:
        deadline = asyncio.get_running_loop().time() + 20
        while await live() != 0:
            assert asyncio.get_running_loop().time() < deadline, what
            await asyncio.sleep(0.05)

    run = open_run(app_server.runs_dir)
    run.write_instance(instance(1))
    # From zero, not from a count read while the previous tests' streams may still be winding down.
    await settled_at_zero("an earlier test's subscription outlived its socket")
    async with StreamReader.open(stream_url(app_server.ws_url, run.run_id)) as reader:
        await reader.until(is_instance(1))
        assert await live() == 1
    await settled_at_zero("subscription outlived its socket")
    run.finalize()


async def test_batch_mode_sends_each_flush_as_one_array(app_server):
    run = open_run(app_server.runs_dir)
    async with (
        StreamReader.open(stream_url(app_server.ws_url, run.run_id, batch=1)) as batched,
        StreamReader.open(stream_url(app_server.ws_url, run.run_id)) as single,
    ):
        await write_in_bursts(run, 300, every=30, pause_s=0.05)
        await batched.until(has_total(300))
        run.finalize()
        await batched.until_closed()
        await single.until_closed()

    check_schema(batched)
    for kind in ("instance_complete", "run_complete"):  # stats_update follows each reader's own flushes
        assert batched.data(kind) == single.data(kind)
    assert batched.seqs() == list(range(1, 301))
    assert set(single.frames) == {1}
    assert sum(batched.frames) == len(batched.received) and len(batched.frames) < len(batched.received)
    ends = [batched.received[sum(batched.frames[: i + 1]) - 1]["type"] for i in range(len(batched.frames))]
    assert set(ends) <= {"stats_update", "heartbeat", "run_complete"}  # a flush closes with its stats_update


async def test_batch_mode_sends_at_most_ten_frames_a_second(app_server):
    run = open_run(app_server.runs_dir)
    async with StreamReader.open(stream_url(app_server.ws_url, run.run_id, batch=1)) as reader:
        first_write = time.perf_counter()
        await write_in_bursts(run, 150, every=1, pause_s=0.01)  # a line every 10 ms or more
        await reader.until(has_total(150))
        live_frames, last_frame = len(reader.frames), reader.arrived[-1]
        run.finalize()
        await reader.until_closed()

    assert reader.seqs() == list(range(1, 151))
    assert live_frames <= 10 * (last_frame - first_write) + 1
