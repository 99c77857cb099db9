"""A runs root that grew for months (issue #19): 2,000 runs, some with 100,000 artifact directories.

Builds the root once (kept under --root for later runs), starts the app on it as the e2e
tests start it, and prints: the time until the run list is complete (all runs in
/api/runs) after the server answers and after launch, the inotify watches the server's
processes hold (from /proc/<pid>/fdinfo), the server's RSS, and the append → DOM p50/p95
of a live run written in that root, beside the same figure in an empty root.
Targets: list complete ≤ 10 s; live p95 within +20 ms of the empty root.

    .venv/bin/python bench/runs_root_scale.py [--runs 2000] [--big-runs 3] [--artifacts 100000] [--samples 40]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.detail_support import DOM_PROBE, chromium, instance_record, open_writer, summary  # noqa: E402
from tests.api.procstats import rss_bytes  # noqa: E402
from tests.app_server import running_app  # noqa: E402


def build_root(root: Path, runs: int, big_runs: int, artifacts: int) -> None:
    """`runs` complete runs of 10 instances each; the first `big_runs` also get `artifacts` artifact directories."""
    marker = root / ".built.json"
    wanted = {"runs": runs, "big_runs": big_runs, "artifacts": artifacts}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return
    started = time.monotonic()
    rng = random.Random(7)
    for r in range(runs):
        writer = open_writer(root, f"old_run_{r:05d}")
        writer.write_batch(instances=[instance_record(n, rng) for n in range(1, 11)])
        writer.finalize()
        if r < big_runs:
            base = root / f"old_run_{r:05d}" / "artifacts"
            for a in range(artifacts):
                os.makedirs(base / f"inst_{a:07d}", exist_ok=True)
    marker.write_text(json.dumps(wanted))
    print(f"built {root} in {time.monotonic() - started:.0f} s")


def inotify_watches(pid: int) -> int:
    """inotify watches held by the process and its children (one `inotify wd:` line per watch in fdinfo)."""
    total = 0
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for proc in procs:
        fd_dir = Path(f"/proc/{proc.pid}/fd")
        try:
            fds = list(fd_dir.iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) != "anon_inode:inotify":
                    continue
                info = Path(f"/proc/{proc.pid}/fdinfo/{fd.name}").read_text()
            except OSError:
                continue
            total += sum(1 for line in info.splitlines() if line.startswith("inotify wd:"))
    return total


def live_latency(app, runs_dir: Path, browser, samples: int) -> list[float]:
    """Append one line at a time (~3/s) to a new run and time each until its row is in the page's DOM."""
    rng = random.Random(3)
    writer = open_writer(runs_dir, f"live_{int(time.time())}")
    writer.write_batch(instances=[instance_record(0, rng)])
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(app.url(f"/runs/{writer.run_id}"), timeout=120_000)
    page.get_by_test_id("filter-all-count").wait_for(timeout=120_000)
    page.evaluate(DOM_PROBE)
    latencies = []
    for n in range(1, samples + 1):
        written = time.time() * 1000
        writer.write_instance(instance_record(n, rng))
        seen = page.wait_for_function(f"() => window.__rowSeen['inst_{n:07d}']", timeout=30_000).json_value()
        latencies.append(seen - written)
        page.wait_for_timeout(200 + rng.random() * 200)
    page.close()
    writer.finalize()
    shutil.rmtree(writer.dir)  # the bench's root stays as built
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--big-runs", type=int, default=3)
    parser.add_argument("--artifacts", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "windtunnel-scale-root")
    args = parser.parse_args()
    build_root(args.root, args.runs, args.big_runs, args.artifacts)
    print(f"root: {args.runs:,} runs, {args.big_runs} with {args.artifacts:,} artifact directories; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    with chromium() as browser:
        with tempfile.TemporaryDirectory() as tmp:
            with running_app(Path(tmp), name="scale") as app:
                empty = live_latency(app, app.runs_dir, browser, args.samples)
            print(summary("empty root: append → row in DOM", empty), flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            launched = time.monotonic()
            with running_app(Path(tmp), name="scale", WINDTUNNEL_RUNS_DIR=str(args.root)) as app:
                answering = time.monotonic()
                while httpx.get(app.url("/api/runs?limit=1"), timeout=30).json()["total"] < args.runs:
                    time.sleep(0.1)
                listed = time.monotonic()
                health = httpx.get(app.url("/api/health"), timeout=30).json()
                print(f"run list complete ({args.runs:,} runs) {listed - answering:.1f} s after the server answered, "
                      f"{listed - launched:.1f} s after launch (target ≤ 10 s)")
                print(f"inotify watches held by the server: {inotify_watches(app.pid):,} "
                      f"(watch mode {health['watch']!r}, warnings {[w['key'] for w in health['warnings']]})")
                print(f"server RSS {rss_bytes(app.pid) / 2**20:.0f} MB", flush=True)
                big = live_latency(app, args.root, browser, args.samples)
                print(f"server RSS after the live run {rss_bytes(app.pid) / 2**20:.0f} MB")
        print(summary(f"{args.runs:,}-run root: append → row in DOM", big))
        print(summary("empty root:        append → row in DOM", empty))
        print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
