"""Stream latency: an instance line appended → its `instance_complete` received over the real socket.

Starts the real app (tests/app_server.py, as `make run` does), writes a run with RunWriter and reads
WS /api/runs/{id}/stream. 200 appends at random spacing, each longer than the hub's 100 ms delivery
interval, so the figure is the path's latency, not the rate cap's. Targets (issue): p50 ≤ 30 ms, p95 ≤ 80 ms.

    .venv/bin/python bench/stream_latency.py [--appends 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout, no install

from tests.api.runbuilder import instance, open_run  # noqa: E402
from tests.api.streamclient import StreamReader, is_instance, stream_url  # noqa: E402
from tests.app_server import running_app  # noqa: E402
from windtunnel_dash.artifacts.status import nearest_rank  # noqa: E402


async def measure(server, appends: int) -> list[float]:
    run = open_run(server.runs_dir)
    rng = random.Random(1)
    latencies = []
    async with StreamReader.open(stream_url(server.ws_url, run.run_id)) as reader:
        await asyncio.sleep(1.0)  # let the subscription and the watcher settle before the first measured append
        for seq in range(1, appends + 1):
            await asyncio.sleep(rng.uniform(0.105, 0.2))
            written = time.perf_counter()
            run.write_instance(instance(seq))
            await reader.until(is_instance(seq))
            latencies.append((reader.arrived[-1] - written) * 1000)
    run.finalize()
    return sorted(latencies)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appends", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp), name="api") as server:
        latencies = asyncio.run(measure(server, args.appends))
    p50, p95, p99 = (nearest_rank(latencies, p) for p in (50, 95, 99))
    print(f"stream latency (append → instance_complete) over {len(latencies)} appends: p50 {p50:.1f} ms, "
          f"p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms; targets p50 <= 30 ms, p95 <= 80 ms")


if __name__ == "__main__":
    main()
