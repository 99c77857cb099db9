"""Pipeline latency: a line appended to instances.jsonl (or a row committed to turbulence.db) → a hub subscriber holds it.

The whole engine runs as in the app (watchfiles watcher, ingest thread, SQLite
catalog, hub). 200 appends at random spacing of 150-350 ms: well over the hub's
100 ms delivery interval, so the figure is the pipeline's, not the rate cap's.
Targets (issue): p50 ≤ 20 ms, p95 ≤ 50 ms; a run in the runner's SQLite backend
(`--storage sqlite`: one row per transaction, as the runner commits) within the
JSONL p95 + 20 ms (`--storage both` measures the two one after the other).

    .venv/bin/python bench/pipeline_latency.py [--appends 200] [--storage jsonl|sqlite|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from windtunnel_dash.artifacts.sqlite_writer import SqliteRunWriter  # noqa: E402
from windtunnel_dash.artifacts.status import nearest_rank  # noqa: E402
from windtunnel_dash.pipeline.engine import Pipeline  # noqa: E402
from windtunnel_dash.settings import Settings  # noqa: E402


class _JsonlAppender:
    def __init__(self, root: Path) -> None:
        run_dir = root / "latency_run"
        run_dir.mkdir(parents=True)
        (run_dir / "manifest.json").write_text(json.dumps({"run_id": "latency_run", "timestamp": "2026-01-01T00:00:00Z"}))
        self._file = open(run_dir / "instances.jsonl", "ab", buffering=0)

    def append(self, record: dict) -> None:
        self._file.write((json.dumps(record) + "\n").encode())

    def close(self) -> None:
        self._file.close()


class _SqliteAppender:
    def __init__(self, root: Path) -> None:
        self._writer = SqliteRunWriter(root, "latency_run").open()

    def append(self, record: dict) -> None:
        self._writer.write_instance(record)

    def close(self) -> None:
        self._writer.finalize()


APPENDERS = {"jsonl": _JsonlAppender, "sqlite": _SqliteAppender}


async def measure(tmp: Path, appends: int, storage: str) -> list[float]:
    root = tmp / "runs"
    root.mkdir()
    appender = APPENDERS[storage](root)
    settings = Settings(runs_dir=root, data_dir=tmp / "data", db_url=f"sqlite:///{tmp / 'data' / 'catalog.db'}",
                        stall_timeout_s=120.0, heartbeat_s=5.0, demo=False)
    engine = Pipeline(settings)
    task = asyncio.create_task(engine.run())
    assert await engine.ensure_run("latency_run")
    await asyncio.sleep(0.5)  # let the watcher settle before the first measured append
    written: dict[int, float] = {}
    received: dict[int, float] = {}
    rng = random.Random(1)
    async with engine.hub.subscribe("latency_run") as sub:
        await sub.next_batch(1)

        async def reader() -> None:
            while len(received) < appends:
                batch = await sub.next_batch(5)
                now = time.perf_counter()
                for inst in batch.instances if batch else ():
                    received[inst.seq] = now

        reading = asyncio.create_task(reader())
        for seq in range(1, appends + 1):
            await asyncio.sleep(rng.uniform(0.15, 0.35))
            record = {"instance_id": f"i{seq}", "passed": True, "duration_ms": 12.5}
            written[seq] = time.perf_counter()
            appender.append(record)
        await asyncio.wait_for(reading, 10)
        appender.close()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    engine.close()
    return sorted((received[s] - written[s]) * 1000 for s in written)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=200)
    parser.add_argument("--storage", choices=(*APPENDERS, "both"), default="jsonl")
    args = parser.parse_args()
    for storage in APPENDERS if args.storage == "both" else (args.storage,):
        with tempfile.TemporaryDirectory() as tmp:
            load = os.getloadavg()[0]
            latencies = asyncio.run(measure(Path(tmp), args.appends, storage))
        p50, p95, p99 = (nearest_rank(latencies, p) for p in (50, 95, 99))
        print(f"{storage} pipeline latency over {len(latencies)} appends: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
              f"p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms (load average before {load:.1f}); "
              f"targets p50 <= 20 ms, p95 <= 50 ms")


if __name__ == "__main__":
    main()
