"""The hub: cursors, cadence, no per-reader memory, reader counting (docs/design.md §4 "Hub", "Cadence")."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import tracemalloc
from pathlib import Path

import pytest

from tests.unit.pipeline_support import append, instance_line, make_catalog, status_of, write_manifest
from windtunnel_dash.pipeline import hub as hub_module
from windtunnel_dash.pipeline.hub import Hub, interval
from windtunnel_dash.pipeline.tailer import RunTailer
from windtunnel_dash.settings import Settings

# Every test here runs on SQLite and on Postgres (docs/design.md §7).
pytestmark = pytest.mark.usefixtures("each_catalog")


class Feed:
    """A run whose lines the test appends, ingests and publishes by hand (no watcher: deterministic).

    With `snapshots` it publishes as the engine does (the committed run and its newest rows), so readers
    at the head are served from the hub's tail; without, every reader queries the catalog.
    """

    def __init__(self, tmp_path: Path, max_per_s: float = 10.0, snapshots: bool = True) -> None:
        self.snapshots = snapshots
        self.run_dir = tmp_path / "runs" / "run_h"
        write_manifest(self.run_dir)
        self.catalog = make_catalog(tmp_path)
        self.hub = Hub(self.catalog, max_per_s=max_per_s)
        self.tailer = RunTailer("run_h", self.run_dir, self.catalog.engine)
        self.n = 0
        self.push(0)

    def push(self, count: int, *, summary: bool = False, error: str = "boom") -> None:
        """`count` more results; every fifth is an error, with `error` as its text."""
        append(self.run_dir / "instances.jsonl",
               b"".join(instance_line(self.n + i, status=status_of(self.n + i), error=error) for i in range(count)))
        self.n += count
        if summary:
            (self.run_dir / "summary.json").write_text("{}")
        result = self.tailer.poll()
        if not self.snapshots:
            self.hub.publish("run_h", result.head)
            return
        run = self.catalog.run_row_from_values("run_h", result.run) if result.run else None
        self.hub.publish("run_h", result.head, run=run, fresh=result.fresh, generation=result.generation,
                         reset=result.reset)


@pytest.fixture(params=[True, False], ids=["tail", "catalog"])
def snapshots(request: pytest.FixtureRequest) -> bool:
    return request.param


def test_two_readers_at_different_cursors_each_get_exactly_what_follows(tmp_path: Path, snapshots: bool) -> None:
    async def main() -> None:
        feed = Feed(tmp_path, max_per_s=1000, snapshots=snapshots)
        feed.push(10)
        async with feed.hub.subscribe("run_h") as a, feed.hub.subscribe("run_h", since=7) as b:
            first_a, first_b = await a.next_batch(1), await b.next_batch(1)
            assert [i.seq for i in first_a.instances] == list(range(1, 11))
            assert [i.seq for i in first_b.instances] == [8, 9, 10]
            feed.push(3)
            more_a, more_b = await a.next_batch(1), await b.next_batch(1)
            assert [i.seq for i in more_a.instances] == [i.seq for i in more_b.instances] == [11, 12, 13]
            assert more_a.stats.total == 13 and more_a.head == 13
            assert await a.next_batch(0.05) is None  # nothing new: None, the caller's heartbeat
    asyncio.run(main())


def test_complete_is_reported_only_once_the_reader_has_the_final_drain(tmp_path: Path, snapshots: bool) -> None:
    async def main() -> None:
        feed = Feed(tmp_path, max_per_s=1000, snapshots=snapshots)
        feed.push(10, summary=True)
        async with feed.hub.subscribe("run_h", chunk_rows=4) as sub:
            batches = [await sub.next_batch(1) for _ in range(3)]
        assert [len(b.instances) for b in batches] == [4, 4, 2]
        assert [b.complete for b in batches] == [False, False, True]
    asyncio.run(main())


def test_rows_with_long_error_texts_come_a_byte_budget_at_a_time_each_once(tmp_path: Path, snapshots: bool) -> None:
    """A delivery is what a reader whose socket stalls holds, so it is bounded in bytes as well as in rows."""
    async def main() -> None:
        feed = Feed(tmp_path, max_per_s=1000, snapshots=snapshots)
        feed.push(60, error="e" * 1000)
        budget = 10_000
        async with feed.hub.subscribe("run_h", chunk_bytes=budget) as sub:
            batches = [await sub.next_batch(1)]
            while batches[-1].instances[-1].seq < 60:
                batches.append(await sub.next_batch(1))
        assert [i.seq for b in batches for i in b.instances] == list(range(1, 61))
        assert len(batches) > 2
        for batch in batches:  # each stops at the first row that reaches the budget
            assert sum(i.approx_bytes() for i in batch.instances[:-1]) < budget
    asyncio.run(main())


def test_an_isolated_result_goes_at_once(tmp_path: Path) -> None:
    async def main() -> None:
        feed = Feed(tmp_path, max_per_s=0.5)  # a 2 s interval makes leading and trailing edge unmistakable, even on a busy machine
        async with feed.hub.subscribe("run_h") as sub:
            await sub.next_batch(1)  # the replay
            await asyncio.sleep(2.05)
            feed.push(1)
            started = time.monotonic()
            batch = await sub.next_batch(3)
            assert len(batch.instances) == 1
            assert time.monotonic() - started < 1.5  # not held back to the end of an interval
    asyncio.run(main())


def test_an_uncapped_reader_gets_each_commit_at_once_beside_a_capped_one(tmp_path: Path) -> None:
    """The stream's subscription (max_per_s=0) is not held to the hub's cap; a page's still is."""
    async def main() -> None:
        feed = Feed(tmp_path, max_per_s=0.5)  # a 2 s interval: a held delivery is unmistakable, even on a busy machine
        async with feed.hub.subscribe("run_h", max_per_s=0) as fast, feed.hub.subscribe("run_h") as capped:
            await fast.next_batch(1)
            await capped.next_batch(1)  # the replays
            replayed_at = time.monotonic()
            for seq in (1, 2, 3):
                feed.push(1)
                started = time.monotonic()
                batch = await fast.next_batch(1)
                assert [i.seq for i in batch.instances] == [seq]
                assert time.monotonic() - started < 0.6  # not held to the end of a 2 s interval
            held = await capped.next_batch(3)
            assert [i.seq for i in held.instances] == [1, 2, 3]  # coalesced into one delivery...
            assert time.monotonic() - replayed_at >= 1.99  # ...an interval after the last
    asyncio.run(main())


def test_a_burst_is_coalesced_into_at_most_ten_deliveries_a_second(tmp_path: Path) -> None:
    async def main() -> None:
        feed = Feed(tmp_path)
        async with feed.hub.subscribe("run_h") as sub:
            await sub.next_batch(1)

            async def burst() -> None:
                for _ in range(40):  # 40 results over ~0.6 s
                    feed.push(1)
                    await asyncio.sleep(0.015)

            writer = asyncio.create_task(burst())
            deliveries, received, started = 0, 0, time.monotonic()
            while received < 40:
                batch = await sub.next_batch(2)
                assert batch is not None
                deliveries += 1
                received += len(batch.instances)
            elapsed = time.monotonic() - started
            await writer
            assert received == 40
            assert deliveries <= elapsed * 10 + 1
    asyncio.run(main())


def test_a_stalled_reader_costs_no_memory_while_the_run_grows(tmp_path: Path, snapshots: bool) -> None:
    async def main() -> None:
        feed = Feed(tmp_path, max_per_s=1000, snapshots=snapshots)
        async with feed.hub.subscribe("run_h") as idle:
            await idle.next_batch(1)
            for _ in range(25):
                feed.push(100)  # fills the run's shared tail to its cap
            tracemalloc.start()
            before = tracemalloc.take_snapshot()
            for _ in range(25):
                feed.push(100)  # 2,500 more results the reader does not pull
            after = tracemalloc.take_snapshot()
            tracemalloc.stop()
            hub_file = [tracemalloc.Filter(True, hub_module.__file__)]
            growth = sum(s.size_diff for s in after.filter_traces(hub_file).compare_to(
                before.filter_traces(hub_file), "filename"))
            assert growth < 16_384, growth
            batch = await idle.next_batch(1)  # it simply gets one larger chunk later
            assert [i.seq for i in batch.instances] == list(range(1, 5001))
    asyncio.run(main())


def test_live_readers_fall_back_to_zero_when_readers_go(tmp_path: Path) -> None:
    async def main() -> None:
        feed = Feed(tmp_path)

        async def reader() -> None:
            async with feed.hub.subscribe("run_h") as sub:
                while True:
                    await sub.next_batch(None)

        tasks = [asyncio.create_task(reader()) for _ in range(5)]
        with feed.hub.track_reader():
            await asyncio.sleep(0.05)
            assert feed.hub.live_readers() == 6
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            assert feed.hub.live_readers() == 1
        assert feed.hub.live_readers() == 0
    asyncio.run(main())


def test_wait_changed_wakes_on_any_run_change_and_times_out_otherwise(tmp_path: Path) -> None:
    async def main() -> None:
        feed = Feed(tmp_path)
        version = feed.hub.version
        assert await feed.hub.wait_changed(version, 0.05) == version
        waiter = asyncio.create_task(feed.hub.wait_changed(version, 5))
        await asyncio.sleep(0.01)
        feed.push(1)
        assert await asyncio.wait_for(waiter, 1) > version
    asyncio.run(main())


def test_a_rebuilt_run_tells_readers_to_start_over(tmp_path: Path, snapshots: bool) -> None:
    async def main() -> None:
        feed = Feed(tmp_path, max_per_s=1000, snapshots=snapshots)
        feed.push(5)
        async with feed.hub.subscribe("run_h") as sub:
            assert len((await sub.next_batch(1)).instances) == 5
            (feed.run_dir / "instances.jsonl").write_bytes(instance_line(900) + instance_line(901))
            feed.push(0)
            batch = await sub.next_batch(1)
            assert batch.reset and [i.instance_id for i in batch.instances] == ["inst_000900", "inst_000901"]
    asyncio.run(main())


@pytest.mark.parametrize("steps", [False, True])
def test_steps_are_delivered_only_to_readers_that_ask(tmp_path: Path, steps: bool) -> None:
    async def main() -> None:
        feed = Feed(tmp_path, max_per_s=1000)
        append(feed.run_dir / "steps.jsonl", b'{"instance_id": "inst_000000", "step_index": 0}\n')
        feed.push(1)
        async with feed.hub.subscribe("run_h", steps=steps) as sub:
            batch = await sub.next_batch(1)
        assert len(batch.steps) == (1 if steps else 0)
    asyncio.run(main())


def test_readers_at_the_head_are_served_from_the_runs_tail_without_a_query(tmp_path: Path) -> None:
    async def main() -> None:
        feed = Feed(tmp_path, max_per_s=1000)
        feed.push(3)
        async with feed.hub.subscribe("run_h") as a, feed.hub.subscribe("run_h") as b:
            await a.next_batch(1), await b.next_batch(1)
            queries = []
            original = feed.catalog.changes_since
            feed.catalog.changes_since = lambda *args: queries.append(args) or original(*args)
            feed.push(2)
            batches = [await a.next_batch(1), await b.next_batch(1)]
            assert [[i.seq for i in batch.instances] for batch in batches] == [[4, 5], [4, 5]]
            assert batches[0].stats.total == 5 and queries == []
    asyncio.run(main())


def test_a_hub_built_without_a_cap_paces_readers_at_the_settings_rate(tmp_path: Path) -> None:
    """One page rate: the hub's default is the setting's (docs/design.md §4 "Cadence")."""
    setting = next(f.default for f in dataclasses.fields(Settings) if f.name == "max_updates_per_s")
    assert Hub(make_catalog(tmp_path)).min_interval == interval(setting)
