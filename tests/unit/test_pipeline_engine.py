"""The whole live pipeline with the real watcher: files → tailer → catalog → hub → readers (docs/design.md §4)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import subprocess
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.unit.pipeline_support import (
    FIXTURE_RUNS,
    append,
    catalog_instances,
    engine_running,
    eventually,
    file_instances,
    instance_line,
    settings_for,
    status_of,
    write_manifest,
)
from windtunnel_dash.catalog import writes
from windtunnel_dash.pipeline.engine import Pipeline
from windtunnel_dash.pipeline.watcher import RunsWatcher

# Every test here runs on SQLite and on Postgres (docs/design.md §7).
pytestmark = pytest.mark.usefixtures("each_catalog")


@contextlib.asynccontextmanager
async def running_engine(tmp_path: Path, **overrides) -> AsyncIterator[Pipeline]:
    root = tmp_path / "runs"
    root.mkdir(exist_ok=True)
    async with engine_running(settings_for(tmp_path, root, **overrides)) as engine:
        yield engine


@contextlib.asynccontextmanager
async def idle_engine(tmp_path: Path, root: Path) -> AsyncIterator[Pipeline]:
    """An engine whose pipeline is not running (no watcher, no sweep), holding the leadership as `run` would
    (on Postgres another worker could hold it: a follower waits for the leader instead of ingesting)."""
    engine = Pipeline(settings_for(tmp_path, root))
    await engine.leadership.acquire()
    engine.leading = True
    try:
        yield engine
    finally:
        await engine.leadership.release()
        engine.close()


async def _run(engine: Pipeline, run_id: str):
    return await asyncio.to_thread(engine.catalog.get_run, run_id)


def test_a_new_run_appears_live_and_appends_reach_a_reader_in_order(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_engine(tmp_path) as engine:
            run_dir = engine.root / "run_live"
            write_manifest(run_dir)
            await eventually(lambda: _run(engine, "run_live"), what="the new run in the catalog")
            rng = random.Random(3)
            async with engine.hub.subscribe("run_live") as sub:
                seen: list[int] = []
                for n in range(30):
                    append(run_dir / "instances.jsonl", instance_line(n, status=status_of(n)))
                    await asyncio.sleep(rng.uniform(0, 0.03))
                while len(seen) < 30:
                    batch = await sub.next_batch(10)
                    assert batch is not None, "appends never arrived"
                    seen += [i.seq for i in batch.instances]
            assert seen == list(range(1, 31))
            assert catalog_instances(engine.catalog, "run_live") == file_instances(run_dir)
    asyncio.run(main())


def test_completion_race_ends_exact_every_time(tmp_path: Path) -> None:
    """A runner appending while the engine polls, then its last lines and the summary back to back, 200 times."""
    def write_rest(run_dir: Path, seed: int) -> None:
        rng = random.Random(seed)
        for i in range(5, 15):  # appends spread over ~50 ms, so polls run while lines land
            append(run_dir / "instances.jsonl", instance_line(i, status=status_of(i)))
            time.sleep(rng.uniform(0, 0.01))
        append(run_dir / "instances.jsonl", b"".join(instance_line(i, status="failed") for i in range(15, 18)))
        (run_dir / "summary.json").write_text("{}")

    async def trial(engine: Pipeline, n: int) -> None:
        run_dir = engine.root / f"race_{n:03d}"
        write_manifest(run_dir)
        append(run_dir / "instances.jsonl", b"".join(instance_line(i) for i in range(5)))
        await eventually(lambda: engine.ensure_run(run_dir.name), what=f"{run_dir.name} known")
        async with engine.hub.subscribe(run_dir.name) as sub:
            received = len((await sub.next_batch(10)).instances)
            writer = asyncio.create_task(asyncio.to_thread(write_rest, run_dir, n))
            while True:
                batch = await sub.next_batch(10)
                assert batch is not None, f"{run_dir.name} never completed"
                received += len(batch.instances)
                if batch.complete:
                    break
            await writer
        expected = len(file_instances(run_dir))
        assert received == batch.stats.total == expected == 18, (run_dir.name, received, batch.stats.total)

    async def main() -> None:
        async with running_engine(tmp_path) as engine:
            for group in range(0, 200, 25):
                await asyncio.gather(*(trial(engine, n) for n in range(group, group + 25)))
    asyncio.run(main())


def test_appends_made_before_the_watcher_is_in_place_are_read_once_it_is(tmp_path: Path, monkeypatch) -> None:
    """The watcher's thread may start late (a loaded machine, a root of many runs): lines written to a known
    run before its watch exists raise no event, and must be read once the watches are in place, however
    many sweeps went by meanwhile."""
    let_watch, sweeps = threading.Event(), []
    real_loop, real_sweep = RunsWatcher._native_loop, Pipeline._sweep

    def late_loop(self: RunsWatcher) -> None:
        let_watch.wait(60)
        real_loop(self)

    async def counted_sweep(self: Pipeline) -> None:
        sweeps.append(1)
        await real_sweep(self)

    monkeypatch.setattr(RunsWatcher, "_native_loop", late_loop)
    monkeypatch.setattr(Pipeline, "_sweep", counted_sweep)

    async def main() -> None:
        async with running_engine(tmp_path) as engine:
            try:
                run_dir = engine.root / "early"
                write_manifest(run_dir)
                await eventually(lambda: _run(engine, "early"), what="the run found by a sweep")
                seen = len(sweeps)
                await eventually(lambda: len(sweeps) >= seen + 2, what="two more sweeps without a watcher")
                append(run_dir / "instances.jsonl", b"".join(instance_line(n) for n in range(5)))
            finally:
                let_watch.set()  # (the engine's stop joins the watcher's thread)
            await eventually(lambda: _total(engine, "early", 5), what="the lines written before the watch")
    asyncio.run(main())


def test_a_run_copied_in_with_cp_r_ends_exact(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_engine(tmp_path) as engine:
            source = FIXTURE_RUNS / "run_20261126_151613"
            subprocess.run(["cp", "-r", str(source), str(engine.root / "copied")], check=True)
            # and one copied file by file with its summary first, lines in two halves
            target = engine.root / "summary_first"
            target.mkdir()
            shutil.copy(source / "summary.json", target)
            shutil.copy(source / "manifest.json", target)
            lines = (source / "instances.jsonl").read_bytes().splitlines(keepends=True)
            append(target / "instances.jsonl", b"".join(lines[:120]))
            await eventually(lambda: engine.ensure_run("summary_first"), what="summary_first known")
            await asyncio.sleep(0.05)
            append(target / "instances.jsonl", b"".join(lines[120:]))

            async def exact(run_id: str) -> bool:
                run = await _run(engine, run_id)
                return run is not None and run.status == "complete" and (
                    run.stats.total, run.stats.passed, run.stats.failed, run.stats.errors) == (200, 168, 23, 9)
            await eventually(lambda: exact("copied"), what="cp -r run exact")
            await eventually(lambda: exact("summary_first"), what="summary-first run exact")
    asyncio.run(main())


def test_a_run_directory_not_reported_yet_is_found_on_disk(tmp_path: Path) -> None:
    async def main() -> None:
        root = tmp_path / "runs"
        write_manifest(root / "fresh")
        (root / "not_a_run").mkdir()
        async with idle_engine(tmp_path, root) as engine:  # no watcher running at all
            assert await engine.ensure_run("fresh")
            assert (await _run(engine, "fresh")).sut_name == "sut"
            for bad in ("not_a_run", "missing", "..", "../runs/fresh", "fresh/..", "", "a\x00b"):
                assert not await engine.ensure_run(bad), bad
    asyncio.run(main())


def test_an_instance_written_before_its_file_event_is_handled_is_found(tmp_path: Path) -> None:
    async def main() -> None:
        root = tmp_path / "runs"
        write_manifest(root / "live")
        append(root / "live" / "instances.jsonl", instance_line(1))
        async with idle_engine(tmp_path, root) as engine:  # no watcher: only the lookup itself can catch up
            assert await engine.ensure_run("live")
            append(root / "live" / "instances.jsonl", instance_line(2))
            detail = await engine.find_instance("live", "inst_000002")
            assert detail is not None and detail.instance.seq == 2
            assert await engine.find_instance("live", "inst_999999") is None
            assert await engine.find_instance("..", "inst_000001") is None
    asyncio.run(main())


def test_a_deleted_run_leaves_the_catalog_and_its_readers_learn_it(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_engine(tmp_path) as engine:
            run_dir = engine.root / "doomed"
            write_manifest(run_dir)
            append(run_dir / "instances.jsonl", instance_line(1))
            assert await engine.ensure_run("doomed")
            async with engine.hub.subscribe("doomed") as sub:
                await sub.next_batch(1)
                shutil.rmtree(run_dir)
                batch = await sub.next_batch(10)
                while batch is not None and batch.run is not None:
                    batch = await sub.next_batch(10)
                assert batch is not None and batch.run is None and batch.complete
            assert await _run(engine, "doomed") is None
            assert not await engine.ensure_run("doomed")
    asyncio.run(main())


def test_a_restart_mid_run_resumes_exactly(tmp_path: Path) -> None:
    async def main() -> None:
        run_dir = tmp_path / "runs" / "long"
        write_manifest(run_dir)
        async with running_engine(tmp_path) as engine:
            append(run_dir / "instances.jsonl", b"".join(instance_line(n) for n in range(30)) + b'{"instance_id": "hal')
            await eventually(lambda: engine.catalog.run_stats("long").total == 30, what="first 30")
        append(run_dir / "instances.jsonl", b'f"}\n' + b"".join(instance_line(n) for n in range(31, 60)))
        async with running_engine(tmp_path) as engine:
            await eventually(lambda: engine.catalog.run_stats("long").total == 60, what="all 60 after restart")
            assert catalog_instances(engine.catalog, "long") == file_instances(run_dir)
    asyncio.run(main())


def test_a_quiet_run_turns_stalled_and_its_readers_hear_of_it(tmp_path: Path) -> None:
    async def main() -> None:
        # Long enough that the first read sees it running on a loaded machine (and on Postgres).
        async with running_engine(tmp_path, stall_timeout_s=3.0) as engine:
            await eventually(lambda: engine.leading, what="the engine to lead")  # on Postgres, once elected
            write_manifest(engine.root / "quiet")
            assert await engine.ensure_run("quiet")
            async with engine.hub.subscribe("quiet") as sub:
                assert (await sub.next_batch(1)).run.status == "running"
                # Not necessarily the next batch: other wake-ups may come first (on Postgres, a broadcast
                # listener that connects late resyncs by publishing every known run).
                deadline, status = time.monotonic() + 15, "running"
                while status == "running":
                    batch = await sub.next_batch(deadline - time.monotonic())
                    assert batch is not None, "the reader never heard of the stall"
                    status = batch.run.status
                assert status == "stalled"
    asyncio.run(main())


def test_a_failed_commit_is_retried_from_what_the_catalog_holds(tmp_path: Path, monkeypatch) -> None:
    """The tailer's state moves on before its commit ends; a failure must not leave it ahead of the catalog."""
    real_commit, failures = writes.commit, []

    def failing_once(engine, batch):
        if batch.instances and not failures:
            failures.append(batch.run_id)
            raise OSError("disk full")
        real_commit(engine, batch)

    monkeypatch.setattr(writes, "commit", failing_once)

    async def main() -> None:
        async with running_engine(tmp_path) as engine:
            run_dir = engine.root / "run_retry"
            write_manifest(run_dir)
            append(run_dir / "instances.jsonl", b"".join(instance_line(n, status=status_of(n)) for n in range(20)))
            await eventually(lambda: bool(failures), what="the failed commit")
            append(run_dir / "instances.jsonl", instance_line(20))  # a new event: the run is polled again
            await eventually(lambda: _total(engine, "run_retry", 21), what="all 21 instances")
            assert catalog_instances(engine.catalog, "run_retry") == file_instances(run_dir)
            stats = (await _run(engine, "run_retry")).stats
            assert (stats.total, stats.passed + stats.failed + stats.errors) == (21, 21)

    asyncio.run(main())


async def _total(engine: Pipeline, run_id: str, total: int) -> bool:
    run = await _run(engine, run_id)
    return run is not None and run.stats.total == total


def test_a_pipeline_part_that_dies_is_restarted_and_said_meanwhile(tmp_path: Path, monkeypatch) -> None:
    real_drain, starts = Pipeline._drain, []

    async def dies_the_first_time(self: Pipeline) -> None:
        starts.append(time.monotonic())
        if len(starts) == 1:
            raise RuntimeError("boom")
        await real_drain(self)

    monkeypatch.setattr(Pipeline, "_drain", dies_the_first_time)

    async def main() -> None:
        async with running_engine(tmp_path) as engine:
            await eventually(lambda: engine.conditions.get("pipeline") is not None, what="the pipeline condition")
            await eventually(lambda: len(starts) == 2, what="the pipeline restarted")
            run_dir = engine.root / "after_restart"
            write_manifest(run_dir)
            append(run_dir / "instances.jsonl", b"".join(instance_line(n) for n in range(5)))
            await eventually(lambda: len(catalog_instances(engine.catalog, "after_restart")) == 5,
                             what="ingest working again")
            assert engine.conditions.get("pipeline") is None
    asyncio.run(main())
