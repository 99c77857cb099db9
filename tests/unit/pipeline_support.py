"""Helpers for the pipeline, catalog and hub tests: lines a runner would write, and polling with deadlines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.unit.run_files import read_run
from windtunnel_dash.artifacts.status import classify
from windtunnel_dash.catalog import Catalog
from windtunnel_dash.catalog.rows import InstanceRow, StepEvent
from windtunnel_dash.pipeline.engine import Pipeline
from windtunnel_dash.pipeline.tailer import RunTailer, TailResult
from windtunnel_dash.settings import Settings

FIXTURE_RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
BY_NUMBER: Any = object()  # instance_line's default duration: derived from n


def instance_line(n: int, *, status: str = "passed", duration_ms: float | None = BY_NUMBER, scenario: str = "checkout",
                  instance_id: str | None = None, error: str = "boom") -> bytes:
    record: dict[str, Any] = {
        "instance_id": f"inst_{n:06d}" if instance_id is None else instance_id,
        "correlation_id": f"corr_{n:06d}",
        "scenario_id": scenario,
        "completed_at": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
        "duration_ms": float(n % 997) if duration_ms is BY_NUMBER else duration_ms,
        "passed": status == "passed",
        "error": error if status == "error" else None,
    }
    return (json.dumps(record) + "\n").encode()


def step_line(instance_n: int, index: int | None) -> bytes:
    record: dict[str, Any] = {"instance_id": f"inst_{instance_n:06d}", "step_name": f"s{index}", "step_type": "http",
                              "observation": {"ok": True, "latency_ms": 1.5}}
    if index is not None:
        record["step_index"] = index
    return (json.dumps(record) + "\n").encode()


def status_of(n: int) -> str:
    return ("passed", "passed", "failed", "passed", "error")[n % 5]


def write_manifest(run_dir: Path, **extra: Any) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest = {"run_id": run_dir.name, "timestamp": "2026-01-01T00:00:00Z", "sut_name": "sut",
                "scenario_ids": ["checkout"], "config": {"instances": 100}, **extra}
    (run_dir / "manifest.json").write_text(json.dumps(manifest))


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


# The catalog database of the test running now: None means SQLite under its tmp_path; the `each_catalog`
# fixture (tests/unit/conftest.py) sets a Postgres database here for the test's Postgres variant.
CATALOG_URL: str | None = None


def make_catalog(tmp_path: Path, **kwargs: Any) -> Catalog:
    return Catalog(CATALOG_URL or f"sqlite:///{tmp_path / 'catalog.db'}", **kwargs)


def tail(catalog: Catalog, run_dir: Path) -> TailResult:
    """One poll by a fresh tailer: exactly what a restarted process does first."""
    return RunTailer(run_dir.name, run_dir, catalog.engine).poll()


def all_instances(catalog: Catalog, run_id: str) -> list[InstanceRow]:
    """Every instance of a run in seq order, through the hub's read (none while the run is not catalogued)."""
    changes = catalog.changes_since(run_id, 0, None, limit=10**9)
    return [] if changes is None else changes.instances


def all_steps(catalog: Catalog, run_id: str) -> list[StepEvent]:
    """Every step of a run in file order, through the hub's read (none while the run is not catalogued)."""
    changes = catalog.changes_since(run_id, 0, 0, limit=10**9)
    return [] if changes is None else changes.steps


def catalog_instances(catalog: Catalog, run_id: str) -> list[tuple]:
    return [(r.seq, r.instance_id, r.status, r.duration_ms) for r in all_instances(catalog, run_id)]


def catalog_step_count(catalog: Catalog, run_id: str) -> int:
    return len(all_steps(catalog, run_id))


def file_instances(run_dir: Path) -> list[tuple]:
    """The oracle: the artifacts reader's whole-file view of the instances."""
    return [
        (seq, inst.instance_id or f"#{seq}", classify(inst.passed, inst.error), inst.duration_ms)
        for seq, inst in enumerate(read_run(run_dir).instances, start=1)
    ]


def settings_for(tmp_path: Path, runs_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        runs_dir=runs_dir, data_dir=tmp_path / "data", db_url=CATALOG_URL or f"sqlite:///{tmp_path / 'data' / 'catalog.db'}",
        stall_timeout_s=120.0, heartbeat_s=5.0, demo=False,
    )
    values.update(overrides)
    return Settings(**values)


@contextlib.asynccontextmanager
async def engine_running(settings: Settings, sweep_s: float = 0.2) -> AsyncIterator[Pipeline]:
    """An engine running (watcher, ingest, sweep; leading when elected) until the block ends."""
    engine = Pipeline(settings, sweep_s=sweep_s)
    task = asyncio.create_task(engine.run())
    try:
        yield engine
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        engine.close()


async def read_seqs(engine: Pipeline, run_id: str, count: int, seen: list[int], wait_s: float) -> None:
    """A reader of `run_id` on `engine`'s hub: each delivered instance's seq goes into `seen` until it holds
    `count`; fails when `wait_s` pass without a delivery."""
    async with engine.hub.subscribe(run_id) as sub:
        while len(seen) < count:
            batch = await sub.next_batch(wait_s)
            assert batch is not None, f"the reader of {run_id} stopped at {seen[-1:]}"
            seen.extend(i.seq for i in batch.instances)


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 10.0,
                     what: str = "condition") -> None:
    """Poll `check` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
