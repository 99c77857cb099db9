"""The engine finds runs in the demo runs folder beside the runs root (docs/design.md §10), live, with the real watcher."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from tests.unit.pipeline_support import append, catalog_instances, eventually, instance_line, write_manifest
from tests.unit.test_pipeline_engine import running_engine


async def _total(engine, run_id: str) -> int:
    run = await asyncio.to_thread(engine.catalog.get_run, run_id)
    return -1 if run is None else run.stats.total


def test_a_demo_run_is_listed_and_live_and_leaves_when_pruned(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_engine(tmp_path, demo=True) as engine:
            folder = engine.settings.demo_runs_dir
            assert folder == tmp_path / "data" / "demo-runs"
            write_manifest(folder / "run_demo")
            await eventually(lambda: _total(engine, "run_demo"), what="the demo run in the catalog")
            for n in range(5):
                append(folder / "run_demo" / "instances.jsonl", instance_line(n))
            await eventually(lambda: asyncio.to_thread(lambda: len(catalog_instances(engine.catalog, "run_demo")) == 5),
                             what="appends to the demo run")
            shutil.rmtree(folder / "run_demo")
            await eventually(lambda: asyncio.to_thread(lambda: engine.catalog.get_run("run_demo") is None),
                             what="the pruned demo run leaving the catalog")

    asyncio.run(main())


def test_a_run_id_in_both_folders_is_the_runs_roots(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_engine(tmp_path, demo=True) as engine:
            write_manifest(engine.root / "run_twin")
            append(engine.root / "run_twin" / "instances.jsonl", instance_line(0))
            assert await engine.ensure_run("run_twin")
            demo_twin = engine.settings.demo_runs_dir / "run_twin"  # a demo run by the same name, later
            write_manifest(demo_twin)
            append(demo_twin / "instances.jsonl", b"".join(instance_line(n) for n in range(3)))
            await engine.ingest("run_twin")
            await eventually(lambda: _is(engine, "run_twin", 1), what="the runs root's run (1 instance, not 3)")
            run = await asyncio.to_thread(engine.catalog.get_run, "run_twin")
            assert run.stats.total == 1 and await engine.find_instance("run_twin", "inst_000000") is not None
            assert await engine.find_instance("run_twin", "inst_000002") is None  # the demo twin's lines are not read

    asyncio.run(main())


async def _is(engine, run_id: str, total: int) -> bool:
    return await _total(engine, run_id) == total


def test_with_demo_off_the_demo_folder_is_not_read(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_engine(tmp_path, demo=False) as engine:
            write_manifest(engine.settings.demo_runs_dir / "run_old_demo")
            write_manifest(engine.root / "run_real")
            await eventually(lambda: _is(engine, "run_real", 0), what="the runs root's run")
            assert not await engine.ensure_run("run_old_demo")
            assert await _total(engine, "run_old_demo") == -1

    asyncio.run(main())
