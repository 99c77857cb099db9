"""Pipeline latency: a line appended to instances.jsonl → a hub subscriber holds it.

The whole engine runs as in the app (watchfiles watcher, ingest thread, SQLite
catalog, hub). 200 appends at random spacing of 150-350 ms: well over the hub's
100 ms delivery interval, so the figure is the pipeline's, not the rate cap's.
Targets (issue): p50 ≤ 20 ms, p95 ≤ 50 ms.

    .venv/bin/python bench/pipeline_latency.py [--appends 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from windtunnel_dash.artifacts.status import nearest_rank  # noqa: E402
from windtunnel_dash.pipeline.engine import Engine  # noqa: E402
from windtunnel_dash.settings import Settings  # noqa: E402


async def measure(tmp: Path, appends: int) -> list[float]:
    root = tmp / "runs"
    run_dir = root / "latency_run"
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text(json.dumps({"run_id": "latency_run", "timestamp": "2026-01-01T00:00:00Z"}))
    settings = Settings(runs_dir=root, data_dir=tmp / "data", db_url=f"sqlite:///{tmp / 'data' / 'catalog.db'}",
                        stall_timeout_s=120.0, heartbeat_s=5.0, demo=False)
    engine = Engine(settings)
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
        with open(run_dir / "instances.jsonl", "ab", buffering=0) as f:
            for seq in range(1, appends + 1):
                await asyncio.sleep(rng.uniform(0.15, 0.35))
                line = json.dumps({"instance_id": f"i{seq}", "passed": True, "duration_ms": 12.5}) + "\n"
                written[seq] = time.perf_counter()
                f.write(line.encode())
        await asyncio.wait_for(reading, 10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    engine.close()
    return sorted((received[s] - written[s]) * 1000 for s in written)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        latencies = asyncio.run(measure(Path(tmp), args.appends))
    p50, p95, p99 = (nearest_rank(latencies, p) for p in (50, 95, 99))
    print(f"pipeline latency over {len(latencies)} appends: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, "
          f"max {latencies[-1]:.1f} ms; targets p50 <= 20 ms, p95 <= 50 ms")


if __name__ == "__main__":
    main()
