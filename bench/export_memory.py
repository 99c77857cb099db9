"""Export memory: the app server's RSS while a 100,000-instance run downloads as CSV and as JSONL.

Target (issue 17, docs/design.md §10): the server stays within +30 MB of its RSS before the
export, because rows are streamed from one catalog statement instead of loaded whole.
RSS is the whole server process tree (Reflex CLI plus its worker), sampled every 10 ms
while the client reads the body slowly enough for the stream to matter.

    .venv/bin/python bench/export_memory.py [--instances 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api.procstats import rss_bytes  # noqa: E402
from tests.app_server import AppServer, running_app  # noqa: E402

MB = 1024 * 1024
TARGET_MB = 30


def write_run(runs_dir: Path, run_id: str, instances: int) -> None:
    run = runs_dir / run_id
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"run_id": run_id, "timestamp": "2026-01-01T00:00:00Z",
                                                   "config": {"instances": instances}}))
    with open(run / "instances.jsonl", "w") as out:
        for n in range(instances):
            out.write(json.dumps({
                "instance_id": f"inst_{n:08x}", "run_id": run_id, "correlation_id": f"corr_{n:08x}",
                "scenario_id": f"scenario_{n % 4}", "started_at": "2026-01-01T00:00:00Z",
                "completed_at": "2026-01-01T00:00:01Z", "duration_ms": 100 + n % 500, "passed": n % 7 != 0,
                "entry_data": {"n": n}, "error": "upstream timed out after 30 s" if n % 21 == 0 else None,
            }) + "\n")
    (run / "summary.json").write_text("{}")


def wait_ingested(app: AppServer, run_id: str, instances: int) -> float:
    start = time.monotonic()
    while True:
        answer = httpx.get(app.url(f"/api/runs/{run_id}"), timeout=10)
        if answer.status_code == 200 and answer.json()["stats"]["total"] == instances:
            return time.monotonic() - start
        if time.monotonic() - start > 600:
            raise SystemExit(f"run not ingested: {answer.text[:200]}")
        time.sleep(0.2)


def measure(app: AppServer, path: str) -> tuple[int, int, float, int]:
    """(RSS before, peak RSS during, seconds, bytes) for one download."""
    before = rss_bytes(app.pid)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_bytes(app.pid))
            done.wait(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    size = 0
    start = time.monotonic()
    try:
        with httpx.stream("GET", app.url(path), timeout=120) as answer:
            answer.raise_for_status()
            for chunk in answer.iter_bytes(64 * 1024):
                size += len(chunk)
                time.sleep(0.002)  # a client slower than the server: unsent rows must not pile up in it
    finally:
        done.set()
        sampler.join()
    return before, peak, time.monotonic() - start, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100_000)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp), name="api") as app:
        run_id = "export_bench"
        write_run(app.runs_dir, run_id, args.instances)
        took = wait_ingested(app, run_id, args.instances)
        print(f"{args.instances:,} instances ingested in {took:.1f} s")
        worst = 0.0
        for path in (f"/api/runs/{run_id}/instances.csv", f"/api/runs/{run_id}/instances.jsonl",
                     f"/api/runs/{run_id}/instances.csv?sort=-durationMs&q=inst_"):
            before, peak, seconds, size = measure(app, path)
            grew = (peak - before) / MB
            worst = max(worst, grew)
            print(f"{path}: {size / MB:.1f} MB in {seconds:.1f} s ({size / MB / seconds:.1f} MB/s); "
                  f"server RSS {before / MB:.0f} MB → peak {peak / MB:.0f} MB (+{grew:.1f} MB)")
    verdict = "within" if worst <= TARGET_MB else "OVER"
    print(f"worst growth +{worst:.1f} MB: {verdict} the +{TARGET_MB} MB target")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
