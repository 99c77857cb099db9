"""How fast the watcher notices a write, and what watching costs while nothing is written (issue #13, #19).

Side by side in one run, for each watcher `step`: append → hub p50/p95 (bench/pipeline_latency's
measurement: the whole engine, appends 150-350 ms apart) and the engine's CPU while idle (20 s,
one live run watched, nothing written), as a share of one core. Targets: p50 ≤ 8 ms; idle ≤ 1%.

    .venv/bin/python bench/watch_latency.py [--appends 100] [--steps 3,10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pipeline_latency import measure  # noqa: E402
from windtunnel_dash.artifacts.status import nearest_rank  # noqa: E402
from windtunnel_dash.pipeline.engine import Pipeline  # noqa: E402
from windtunnel_dash.pipeline.watcher import RunsWatcher  # noqa: E402
from windtunnel_dash.settings import Settings  # noqa: E402

IDLE_S = 20.0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def idle_share(tmp: Path) -> float:
    """CPU of the whole engine (watcher threads, sweep, loop) per second of wall time, nothing written."""
    root = tmp / "runs"
    (root / "idle_run").mkdir(parents=True)
    (root / "idle_run" / "manifest.json").write_text(json.dumps({"run_id": "idle_run", "timestamp": "2026-01-01T00:00:00Z"}))
    settings = Settings(runs_dir=root, data_dir=tmp / "data", db_url=f"sqlite:///{tmp / 'data' / 'catalog.db'}",
                        stall_timeout_s=120.0, heartbeat_s=5.0, demo=False)
    engine = Pipeline(settings)
    task = asyncio.create_task(engine.run())
    assert await engine.ensure_run("idle_run")
    await asyncio.sleep(3)  # start-up done: parse workers started, first sweep over
    cpu, wall = _cpu_s(), time.monotonic()
    await asyncio.sleep(IDLE_S)
    share = (_cpu_s() - cpu) / (time.monotonic() - wall)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    engine.close()
    return share


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=100)
    parser.add_argument("--steps", default="3,10")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at start")
    for step in (int(s) for s in args.steps.split(",")):
        RunsWatcher.__init__.__kwdefaults__["step_ms"] = step
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "latency").mkdir()
            latencies = asyncio.run(measure(Path(tmp) / "latency", args.appends, "jsonl"))
            idle = asyncio.run(idle_share(Path(tmp) / "idle"))
        p50, p95 = nearest_rank(latencies, 50), nearest_rank(latencies, 95)
        print(f"step {step:2d} ms: append → hub p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(latencies)} appends; "
              f"engine idle CPU {100 * idle:.2f}% of a core; load average {os.getloadavg()[0]:.2f}", flush=True)
    print("targets: p50 ≤ 8 ms; idle CPU ≤ 1% of a core")


if __name__ == "__main__":
    main()
