"""Live at every rate (issue 13): how long a line takes to show, at fixed write rates from 1 to 5,000/s.

    .venv/bin/python bench/live_rates.py [--rates 1,10,30,100,300,1000,5000] [--seconds 20] [--only stream|page|list]

For each rate a fresh run is written on a fixed schedule (lines due at start + n/rate, written in slices
of at least 5 ms, as a runner appends them) for `--seconds`, once for each reader:

  * stream: one WebSocket client on WS /api/runs/{id}/stream; append → `instance_complete` received;
  * page: the run detail page in Chromium; append → the line's row in the DOM (rows up to 1,000/s),
    and how far the All count on screen trails the file (every rate). Also the state deltas per second,
    and how much of the count trail is the server's (write → the frame carrying the count);
  * list: the run list in Chromium; how far the run's instances cell trails the file.

Each figure is p50 / p95 over the whole run, then the p95 of the lines written in the first 5 s and in
the last 5 s: lag that builds up shows as a last-5-s p95 worse than the first. Targets (issue 13): stream
p50 ≤ 15, p95 ≤ 30 ms up to 1,000/s; row p95 ≤ 130 ms up to 100/s; count p95 ≤ 150 ms up to 5,000/s;
deltas ≤ 10/s. Times are epoch milliseconds on one machine (Python's clock and the page's Date.now()).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import random
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from detail_support import DOM_PROBE, WS_PROBE, bench_app, chromium, instance_record, open_writer, pct, wait_ingested
from websockets.asyncio.client import connect

EDGE_S = 5.0  # the first and last seconds compared for build-up
ROWS_UP_TO = 1000  # above this the grid shows a fraction of the rows: rows are not timed
SLICE_S = 0.005


@dataclass
class Written:
    """When each line was written (epoch ms, after its write returned), and the file's total after each write."""

    start_ms: float = 0.0
    at: dict[int, float] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)

    def first_write_reaching(self, total: int) -> float | None:
        i = bisect.bisect_left(self.totals, total)
        return self.times[i] if i < len(self.totals) else None


def write_paced(writer, rate: float, seconds: float, first: int, rng: random.Random, out: Written) -> None:
    """Lines first+1 … written at `rate`/s: each write takes every line that is due by then."""
    total = max(1, round(rate * seconds))
    n, start = 0, time.perf_counter()
    out.start_ms = time.time() * 1000
    while n < total:
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        if due > n:
            writer.write_batch(instances=[instance_record(first + i, rng) for i in range(n + 1, due + 1)])
            now = time.time() * 1000
            for i in range(n + 1, due + 1):
                out.at[first + i] = now
            n = due
            out.times.append(now)
            out.totals.append(first + n)
        next_due = start + n / rate
        time.sleep(max(SLICE_S, next_due - time.perf_counter()))


@dataclass
class Figures:
    p50: float
    p95: float
    first_p95: float
    last_p95: float
    n: int

    def cell(self) -> str:
        if not self.n:
            return "—"
        return f"{self.p50:.0f} / {self.p95:.0f} ({self.first_p95:.0f} → {self.last_p95:.0f})"


def figures(samples: list[tuple[float, float]], start_ms: float, seconds: float) -> Figures:
    """`samples`: (written at, latency ms). First and last EDGE_S seconds by write time."""
    values = [lat for _, lat in samples]
    first = [lat for at, lat in samples if at - start_ms < EDGE_S * 1000]
    last = [lat for at, lat in samples if at - start_ms >= (seconds - EDGE_S) * 1000]
    return Figures(pct(values, 50), pct(values, 95), pct(first, 95), pct(last, 95), len(values))


# ---- the stream -----------------------------------------------------------------------------------

async def stream_pass(app, rate: float, seconds: float, rng: random.Random) -> tuple[Figures, float]:
    """(append → instance_complete figures, the most stats_update messages in any 1 s)."""
    run_id = f"rates_stream_{rate:g}"
    writer = open_writer(app.runs_dir, run_id)
    writer.write_batch(instances=[instance_record(0, rng)])
    wait_ingested(app, run_id, 1)
    arrived: dict[int, float] = {}
    stats_at: list[float] = []
    written = Written()
    async with connect(f"{app.ws_url}/api/runs/{run_id}/stream?since=1", max_size=None) as ws:
        await asyncio.sleep(0.5)  # the subscription and the watcher settle

        async def read() -> None:
            async for raw in ws:
                now = time.time() * 1000
                decoded = json.loads(raw)
                for message in decoded if isinstance(decoded, list) else (decoded,):
                    if message["type"] == "instance_complete":
                        arrived.setdefault(message["data"]["seq"], now)
                    elif message["type"] == "stats_update":
                        stats_at.append(now)

        reader = asyncio.create_task(read())
        await asyncio.to_thread(write_paced, writer, rate, seconds, 0, rng, written)
        deadline = time.monotonic() + 60
        while len(arrived) < len(written.at) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        reader.cancel()
    writer.finalize()
    # seq n is instance_record(n - 1): the seed line is seq 1 and instance 0
    samples = [(written.at[n - 1], arrived[n] - written.at[n - 1]) for n in arrived if n - 1 in written.at]
    per_second = max((bisect.bisect_left(stats_at, t + 1000) - i for i, t in enumerate(stats_at)), default=0)
    return figures(samples, written.start_ms, seconds), per_second


# ---- the page -------------------------------------------------------------------------------------

def page_pass(app, browser, rate: float, seconds: float, rng: random.Random) -> tuple[Figures, Figures, float]:
    """(append → row in the DOM, All count trail, state deltas per second while writing)."""
    run_id = f"rates_page_{rate:g}"
    writer = open_writer(app.runs_dir, run_id)
    writer.write_batch(instances=[instance_record(0, rng)])
    wait_ingested(app, run_id, 1)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.add_init_script(WS_PROBE)
    frames: list[float] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda _: frames.append(time.time() * 1000)))
    page.goto(app.url(f"/runs/{run_id}"))
    page.wait_for_selector("[data-testid=instance-grid] tbody tr", timeout=60_000)
    page.evaluate(DOM_PROBE)
    page.wait_for_timeout(1500)  # first-load aggregates and charts settle
    written = Written()
    done = threading.Event()

    def write() -> None:
        write_paced(writer, rate, seconds, 0, rng, written)
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    while not done.is_set():
        page.wait_for_timeout(100)  # pump Playwright's events while writing
    thread.join()
    final = written.totals[-1] + 1  # plus the seed line
    page.wait_for_function(
        f"() => document.querySelector('[data-testid=filter-all-count]')?.textContent === '{final}'", timeout=60_000
    )
    end_ms = written.times[-1]
    seen = page.evaluate("window.__rowSeen")
    rows = [(written.at[n], seen[f"inst_{n:07d}"] - written.at[n])
            for n in written.at if f"inst_{n:07d}" in seen] if rate <= ROWS_UP_TO else []
    counts = []
    for at, shown in page.evaluate("window.__counts"):
        reached = written.first_write_reaching(shown - 1)  # the count includes the seed line
        if shown > 1 and reached is not None and at >= written.start_ms:
            counts.append((reached, at - reached))
    deltas = [t for t in frames if written.start_ms <= t <= end_ms]
    framed = page.evaluate("window.__countFrames")
    server = [at - reached for at, shown in framed
              if shown > 1 and (reached := written.first_write_reaching(shown - 1)) is not None and at >= written.start_ms]
    busy = page.evaluate("window.__longTasks")
    long_ms = sum(d for t, d in busy if written.start_ms <= t <= end_ms)
    print(f"    {rate:g}/s: of the count trail, write → frame in the page p50 {pct(server, 50):.0f} / p95 "
          f"{pct(server, 95):.0f} ms; long tasks {100 * long_ms / max(1.0, end_ms - written.start_ms):.0f}% "
          f"of the time", flush=True)
    page.close()
    writer.finalize()
    span_s = (end_ms - written.start_ms) / 1000
    return (figures(rows, written.start_ms, seconds), figures(counts, written.start_ms, seconds),
            len(deltas) / span_s if span_s > 0 else 0.0)


# Records each value the run's instances cell on the run list shows, with the time (epoch ms) it appeared.
LIST_PROBE = """
(runId) => {
  window.__listCounts = [];
  const mark = () => {
    const cell = document.querySelector(`.wt-row[data-run-id="${runId}"] .wt-instances`);
    if (!cell) return;
    const n = parseInt(cell.textContent.replace(/,/g, ''), 10);
    const last = window.__listCounts[window.__listCounts.length - 1];
    if (!last || last[1] !== n) window.__listCounts.push([Date.now(), n]);
  };
  new MutationObserver(mark).observe(document.body, {subtree: true, childList: true, characterData: true});
  mark();
}
"""


def list_pass(app, browser, rate: float, seconds: float, rng: random.Random) -> tuple[Figures, float]:
    """(how far the run's instances cell on the run list trails the file, deltas per second while writing)."""
    run_id = f"rates_list_{rate:g}"
    writer = open_writer(app.runs_dir, run_id)
    writer.write_batch(instances=[instance_record(0, rng)])
    wait_ingested(app, run_id, 1)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    frames: list[float] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda _: frames.append(time.time() * 1000)))
    page.goto(app.url("/"))
    page.wait_for_selector(f'.wt-row[data-run-id="{run_id}"] .wt-instances', timeout=60_000)
    page.evaluate(LIST_PROBE, run_id)
    page.wait_for_timeout(1000)
    written = Written()
    thread = threading.Thread(target=write_paced, args=(writer, rate, seconds, 0, rng, written))
    thread.start()
    while thread.is_alive():
        page.wait_for_timeout(100)
    thread.join()
    final = written.totals[-1] + 1
    page.wait_for_function(f"() => window.__listCounts.some(([, n]) => n === {final})", timeout=60_000)
    end_ms = written.times[-1]
    counts = [(reached, at - reached) for at, shown in page.evaluate("window.__listCounts")
              if shown > 1 and (reached := written.first_write_reaching(shown - 1)) is not None
              and at >= written.start_ms]
    deltas = [t for t in frames if written.start_ms <= t <= end_ms]
    page.close()
    writer.finalize()
    return figures(counts, written.start_ms, seconds), len(deltas) / max(0.001, (end_ms - written.start_ms) / 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", default="1,10,30,100,300,1000,5000")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--only", choices=("stream", "page", "list"))
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    rng = random.Random(13)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    stream: dict[float, tuple[Figures, float]] = {}
    page: dict[float, tuple[Figures, Figures, float]] = {}
    listed: dict[float, tuple[Figures, float]] = {}
    with tempfile.TemporaryDirectory(prefix="live-rates-") as tmp, bench_app(Path(tmp)) as app:
        if args.only != "page":
            for rate in rates:
                if rate <= 1000:
                    stream[rate] = asyncio.run(stream_pass(app, rate, args.seconds, rng))
                    print(f"  stream {rate:g}/s: {stream[rate][0].cell()}", flush=True)
        if args.only in (None, "page", "list"):
            with chromium() as browser:
                for rate in rates:
                    if args.only != "list":
                        page[rate] = page_pass(app, browser, rate, args.seconds, rng)
                        print(f"  page {rate:g}/s: rows {page[rate][0].cell()}, counts {page[rate][1].cell()}",
                              flush=True)
                    if args.only != "page":
                        listed[rate] = list_pass(app, browser, rate, args.seconds, rng)
                        print(f"  run list {rate:g}/s: count {listed[rate][0].cell()}", flush=True)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\nms, p50 / p95 over {args.seconds:g} s (p95 of the first {EDGE_S:g} s → p95 of the last {EDGE_S:g} s)")
    print("| rate/s | stream message | stats_update max/s | detail: row | detail: All count | detail deltas/s "
          "| run list: count | list deltas/s |")
    print("|---|---|---|---|---|---|---|---|")
    for rate in rates:
        s, p, ls = stream.get(rate), page.get(rate), listed.get(rate)
        print(f"| {rate:,.0f} | {s[0].cell() if s else '—'} | {s[1] if s else '—'} | "
              f"{p[0].cell() if p else '—'} | {p[1].cell() if p else '—'} | {f'{p[2]:.1f}' if p else '—'} | "
              f"{ls[0].cell() if ls else '—'} | {f'{ls[1]:.1f}' if ls else '—'} |")


if __name__ == "__main__":
    main()
