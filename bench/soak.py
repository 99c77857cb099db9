"""Soak: one run written at 500 instances/s for 30 minutes, 5 open run pages and one stream client (issue #19).

The app is started as the e2e tests start it (tests/app_server.running_app). A writer
thread appends instance lines (two steps each) every 100 ms, `completed_at` = the moment
of writing, so a stream message's lag is its arrival minus its `completedAt`. Every 10 s
the server's RSS (whole process tree) is sampled and each page's All count is compared
with what had been written 1 s before (a page further behind than that counts as lagging).
Prints: RSS slope after warm-up (target ≤ 1 MB/min), stream lag p50/p95 in the first and
last 5 minutes (no growth), page staleness, and exactness at the end (API totals = lines
written; every seq reached the stream client exactly once; every page shows the total).

    .venv/bin/python bench/soak.py [--minutes 30] [--rate 500] [--pages 5] [--warmup 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.detail_support import SCENARIOS, chromium  # noqa: E402
from tests.api.procstats import rss_bytes  # noqa: E402
from tests.app_server import running_app  # noqa: E402
from windtunnel_dash.artifacts.status import nearest_rank  # noqa: E402
from windtunnel_dash.artifacts.writer import RunWriter  # noqa: E402
from windtunnel_dash.timefmt import utc_iso  # noqa: E402

TICK_S = 0.1
SAMPLE_S = 10.0


class Writer(threading.Thread):
    """Appends `rate` instances a second in 100 ms batches until stopped; counts what it wrote."""

    def __init__(self, writer: RunWriter, rate: int) -> None:
        super().__init__(daemon=True)
        self.writer, self.rate = writer, rate
        self.written = 0
        self.tally = {"passed": 0, "failed": 0, "error": 0}
        self.history: list[tuple[float, int]] = []  # (monotonic, written) after each batch
        self.stop = threading.Event()
        self._rng = random.Random(19)

    def run(self) -> None:
        start = time.monotonic()
        while not self.stop.is_set():
            due = int((time.monotonic() - start) * self.rate)
            now = utc_iso(datetime.now(UTC))
            instances, steps = [], []
            for n in range(self.written + 1, due + 1):
                r = self._rng.random()
                status = "passed" if r < 0.9 else "failed" if r < 0.97 else "error"
                self.tally[status] += 1
                iid = f"inst_{n:07d}"
                instances.append({"instance_id": iid, "correlation_id": f"c{n}", "scenario_id": SCENARIOS[n % 3],
                                  "started_at": now, "completed_at": now, "duration_ms": 100.0 + n % 400,
                                  "passed": status == "passed", "error": "timeout" if status == "error" else None})
                steps += [{"instance_id": iid, "step_index": i, "step_name": f"s{i}", "step_type": "http",
                           "timestamp": now, "observation": {"ok": True, "latency_ms": 3.0}} for i in range(2)]
            if instances:
                self.writer.write_batch(instances=instances, steps=steps)
                self.written = due
                self.history.append((time.monotonic(), due))
            self.stop.wait(TICK_S)


class StreamClient(threading.Thread):
    """One /stream client: lag per message by minute, and each seq seen exactly once (a bitmap, not a list)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.lags: dict[int, list[float]] = {}  # minute since start → lags (ms)
        self.seen = bytearray(1 << 21)
        self.duplicates = 0
        self.count = 0
        self.closed = threading.Event()
        self._start = time.monotonic()

    def run(self) -> None:
        asyncio.run(self._read())

    async def _read(self) -> None:
        from websockets.asyncio.client import connect

        async with connect(self.url, max_size=None) as ws:
            async for raw in ws:
                now_ms = time.time() * 1000
                decoded = json.loads(raw)
                for msg in decoded if isinstance(decoded, list) else [decoded]:
                    if msg["type"] == "instance_complete":
                        data = msg["data"]
                        seq = data["seq"]
                        if self.seen[seq]:
                            self.duplicates += 1
                        self.seen[seq] = 1
                        self.count += 1
                        done = datetime.fromisoformat(data["completedAt"].replace("Z", "+00:00")).timestamp() * 1000
                        minute = int((time.monotonic() - self._start) // 60)
                        self.lags.setdefault(minute, []).append(now_ms - done)
        self.closed.set()


def _count(page) -> int | None:
    """The page's All count, or None when the page does not answer within 5 s."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        text = page.get_by_test_id("filter-all-count").text_content(timeout=5000)
    except PlaywrightError:
        return None
    return int(text.replace(",", "")) if text else None


def rss_by_process(pid: int) -> dict[str, int]:
    """RSS of each process in the server's tree, by role: which one grows, not only how much they all do."""
    root = psutil.Process(pid)
    out = {}
    for proc in [root, *root.children(recursive=True)]:
        try:
            cmdline = " ".join(proc.cmdline())
            role = ("server" if proc.pid == pid else "app worker" if "serve.py" in cmdline
                    else "parse worker" if "spawn_main" in cmdline else proc.name())
            out[f"{role} {proc.pid}"] = proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return out


def window(lags: dict[int, list[float]], minutes: range) -> str:
    values = sorted(v for m in minutes for v in lags.get(m, []))
    if not values:
        return "no messages"
    return f"p50 {nearest_rank(values, 50):.0f} ms, p95 {nearest_rank(values, 95):.0f} ms ({len(values):,} messages)"


def slope_mb_per_min(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS over time."""
    n = len(samples)
    if n < 2:
        return float("nan")
    mt = sum(t for t, _ in samples) / n
    mr = sum(r for _, r in samples) / n
    num = sum((t - mt) * (r - mr) for t, r in samples)
    den = sum((t - mt) ** 2 for t, _ in samples)
    return num / den * 60 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=5, help="minutes left out of the RSS slope")
    args = parser.parse_args()
    print(f"soak: {args.minutes:g} min at {args.rate}/s, {args.pages} pages + 1 stream client; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp), name="soak") as app, chromium() as browser:
        run = RunWriter(app.runs_dir, "soak_run", sut_name="soak", scenario_ids=SCENARIOS,
                        planned=int(args.rate * args.minutes * 60)).open()
        writer = Writer(run, args.rate)
        pages = []
        for _ in range(args.pages):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            pages.append(page)
        for page in pages:  # open before writing starts: the first minutes are measured, not spent loading
            page.goto(app.url("/runs/soak_run"), timeout=120_000)
            page.get_by_test_id("filter-all-count").wait_for(timeout=120_000)
        # ?batch=1: a program reading 500 messages a second takes them one array per flush (docs/design.md §5)
        stream = StreamClient(f"{app.ws_url}/api/runs/soak_run/stream?batch=1")
        stream.start()
        writer.start()
        start = time.monotonic()
        rss: list[tuple[float, int]] = []
        split_start: dict[str, int] = {}  # RSS by process at the first sample, and at the latest
        split_end: dict[str, int] = {}
        behind: list[tuple[float, int]] = []  # (minute, instances a page was behind the writer's count 1 s earlier)
        missed = 0
        end = start + args.minutes * 60
        while time.monotonic() < end:
            pages[0].wait_for_timeout(SAMPLE_S * 1000)
            if not Path(f"/proc/{app.pid}").exists():
                raise SystemExit(f"the server (pid {app.pid}) stopped after {(time.monotonic() - start) / 60:.1f} "
                                 f"min; its log: {app.log_path}")
            elapsed = time.monotonic() - start
            rss.append((elapsed, rss_bytes(app.pid)))
            split_end = rss_by_process(app.pid)
            split_start = split_start or split_end
            reference = max((w for t, w in writer.history if t <= time.monotonic() - 1.0), default=0)
            for page in pages:
                shown = _count(page)
                if shown is None:  # a starved renderer did not answer in time: a missed sample, not the end
                    missed += 1
                    continue
                behind.append((elapsed / 60, max(0, reference - shown)))
            print(f"  {elapsed / 60:5.1f} min: written {writer.written:,}, stream {stream.count:,}, "
                  f"RSS {rss[-1][1] / 2**20:.0f} MB, pages behind ≤ {max((b for _, b in behind[-len(pages):]), default=0):,}, "
                  f"load {os.getloadavg()[0]:.2f}", flush=True)
        writer.stop.set()
        writer.join()
        run.finalize()
        total = writer.written
        deadline = time.monotonic() + 120
        api = {}
        while time.monotonic() < deadline:
            api = httpx.get(app.url("/api/runs/soak_run"), timeout=30).json()
            if api["stats"]["total"] >= total and api["status"] == "complete":
                break
            time.sleep(0.5)
        stream.closed.wait(120)
        shown: list[int] = []
        while time.monotonic() < deadline + 60:
            shown = [_count(p) for p in pages]
            if all(n == total for n in shown):
                break
            pages[0].wait_for_timeout(500)

    minutes = int(args.minutes)
    warm = [(t, r) for t, r in rss if t >= args.warmup * 60]
    first, last = range(0, min(5, minutes)), range(max(0, minutes - 5), minutes)
    stats = api.get("stats", {})
    exact_api = (stats.get("total"), stats.get("passed"), stats.get("failed"), stats.get("errors")) == (
        total, writer.tally["passed"], writer.tally["failed"], writer.tally["error"])
    exact_stream = stream.count == total and stream.duplicates == 0 and sum(stream.seen) == total
    print(f"RSS: {rss[0][1] / 2**20:.0f} MB at start, {rss[-1][1] / 2**20:.0f} MB at the end; slope after "
          f"{args.warmup:g} min warm-up {slope_mb_per_min(warm):+.2f} MB/min (target ≤ 1)")
    print("RSS by process, first sample → last: " + ", ".join(
        f"{name} {split_start.get(name, 0) / 2**20:.0f} → {rss / 2**20:.0f} MB" for name, rss in split_end.items()))
    print(f"stream lag, first 5 min: {window(stream.lags, first)}")
    print(f"stream lag, last 5 min:  {window(stream.lags, last)}")
    early = [b for m, b in behind if m < 5]
    late = [b for m, b in behind if m >= minutes - 5]
    print(f"pages behind the writer's count 1 s earlier (instances), first 5 min max {max(early, default=0)}, "
          f"last 5 min max {max(late, default=0)}")
    print(f"page samples missed (no answer within 5 s): {missed}")
    print(f"exact at the end: API {'yes' if exact_api else 'NO'} ({stats.get('total')} of {total}), "
          f"stream {'yes' if exact_stream else 'NO'} ({stream.count} messages, {stream.duplicates} duplicates), "
          f"pages {shown}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
