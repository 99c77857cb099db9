"""Run detail page while a run is being written: browser latency, how far the counts trail, delta rate and size.

    .venv/bin/python bench/detail_live.py [--samples 200] [--rate 5000] [--seconds 5]

Targets (issue 7):
  * quiet rates: one instance line appended → its row in Chromium's DOM,
    200 samples, p50 ≤ 60 ms, p95 ≤ 120 ms;
  * 5,000 instances/s: the All count on screen trails the file by ≤ 250 ms p95;
  * state deltas (websocket frames to the page) ≤ 10/s averaged over 5 s, and
    their bytes per second, while 5,000 instances/s are written.

Times are wall-clock epoch milliseconds on one machine: the writer stamps each
write, a MutationObserver in the page stamps each row and count it sees.
"""

from __future__ import annotations

import argparse
import bisect
import random
import tempfile
import threading
import time
from pathlib import Path

from detail_support import DOM_PROBE, WS_PROBE, bench_app, chromium, instance_record, open_writer, summary, wait_ingested

RUN_ID = "bench_detail_live"


def quiet_latency(page, writer, rng: random.Random, samples: int, start: int) -> int:
    """Append one line at a time (~4/s) and wait for its row; returns the next instance number.

    Splits the figure with the page's own stamps (WS_PROBE): write → websocket frame naming
    the instance arrives in the page (server side), and that frame → row in the DOM (browser).
    """
    latencies, to_frame, frame_to_dom = [], [], []
    t_first = time.time() * 1000
    n = start
    for _ in range(samples):
        n += 1
        written_at = time.time() * 1000
        writer.write_instance(instance_record(n, rng))
        seen, framed = page.wait_for_function(
            f"() => window.__rowSeen['inst_{n:07d}'] && [window.__rowSeen['inst_{n:07d}'], "
            f"window.__frameSeen['inst_{n:07d}'] ?? null]",
            timeout=30_000,
        ).json_value()
        latencies.append(seen - written_at)
        if framed is not None:
            to_frame.append(framed - written_at)
            frame_to_dom.append(seen - framed)
        page.wait_for_timeout(150 + rng.random() * 150)  # quiet: a few lines a second, unevenly
    print(summary(f"line appended → row in DOM, quiet rate ({samples} samples)", latencies))
    print(summary("  of which line appended → frame naming it arrives in the page", to_frame))
    print(summary("  of which that frame → row in the DOM (browser)", frame_to_dom))
    long_tasks = [(t, d) for t, d in page.evaluate("window.__longTasks") if t >= t_first]
    charts = page.evaluate("window.__chartFrames")
    after_chart = sum(1 for t, _ in long_tasks if any(0 <= t - c <= 30 for c in charts))
    print(f"  long tasks (> 50 ms) in the page meanwhile: {len(long_tasks)} ({after_chart} right after a chart "
          f"update; {len([c for c in charts if c >= t_first])} chart updates), "
          f"longest {max((d for _, d in long_tasks), default=0):.0f} ms")
    return n


def record_frames(page) -> list[tuple[float, int]]:
    """(epoch ms, bytes) of every websocket frame the page receives from now on."""
    frames: list[tuple[float, int]] = []

    def on_ws(ws) -> None:
        ws.on("framereceived", lambda payload: frames.append((time.time() * 1000, len(payload))))

    page.on("websocket", on_ws)
    return frames


def firehose(page, frames: list[tuple[float, int]], writer, rng: random.Random, rate: int, seconds: float,
             start: int) -> int:
    """Write `rate` lines/s for `seconds` in 10 ms slices; measure count trail, deltas/s and bytes/s."""
    page.reload()
    page.wait_for_selector("[data-testid=instance-grid] tbody tr", timeout=60_000)
    page.evaluate(DOM_PROBE)
    page.wait_for_timeout(1000)
    frames.clear()

    written: list[tuple[float, int]] = []  # (epoch ms after the write, file total)
    base_total = start
    done = threading.Event()
    slice_s, per_slice = 0.01, max(1, rate // 100)

    def write() -> None:
        n = start
        t_end = time.monotonic() + seconds
        next_at = time.monotonic()
        while time.monotonic() < t_end:
            writer.write_batch(instances=[instance_record(i, rng) for i in range(n + 1, n + 1 + per_slice)])
            n += per_slice
            written.append((time.time() * 1000, n))
            next_at += slice_s
            time.sleep(max(0.0, next_at - time.monotonic()))
        done.set()

    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    busy_before = main_thread_busy_s(cdp)
    t_start = time.time() * 1000
    thread = threading.Thread(target=write)
    thread.start()
    while not done.is_set():
        page.wait_for_timeout(100)  # pump Playwright's events (websocket frames) while writing
    thread.join()
    t_stop = time.time() * 1000
    busy = main_thread_busy_s(cdp) - busy_before
    final = written[-1][1]
    page.wait_for_function(
        f"() => document.querySelector('[data-testid=filter-all-count]')?.textContent === '{final}'", timeout=60_000
    )
    achieved = (final - base_total) / ((t_stop - t_start) / 1000)
    print(f"wrote {final - base_total:,} lines in {(t_stop - t_start) / 1000:.1f} s ({achieved:,.0f}/s)")

    times = [t for t, _ in written]
    totals = [c for _, c in written]

    def trail(stamps: list[list[float]]) -> dict[int, float]:
        """count → ms from the write that brought the file to it until the stamp that shows it."""
        out = {}
        for at, shown in stamps:
            if shown <= base_total or at < t_start or shown in out:
                continue
            i = bisect.bisect_left(totals, shown)  # first write that brought the file to this count
            if i < len(totals):
                out[shown] = at - times[i]
        return out

    on_screen = trail(page.evaluate("window.__counts"))
    in_frame = trail(page.evaluate("window.__countFrames"))
    print(summary(f"All count on screen trails the file, {rate:,}/s", list(on_screen.values())))
    print(summary("  of which the write → the frame carrying that count arrives in the page", list(in_frame.values())))
    print(summary("  of which that frame → the count on screen (browser)",
                  [on_screen[c] - in_frame[c] for c in on_screen if c in in_frame]))

    window = [(t, size) for t, size in frames if t_start <= t <= t_stop]
    span_s = (t_stop - t_start) / 1000
    print(f"state deltas to the page while writing: {len(window) / span_s:.1f} frames/s over {span_s:.1f} s, "
          f"{sum(s for _, s in window) / span_s / 1024:.1f} KiB/s, "
          f"mean frame {sum(s for _, s in window) / max(1, len(window)) / 1024:.1f} KiB")
    print(f"the page's main thread was busy {100 * busy / span_s:.0f}% of the time while writing "
          f"({1000 * busy / max(1, len(window)):.0f} ms per frame received)")
    return final


def main_thread_busy_s(cdp) -> float:
    """Seconds the page's main thread has spent running tasks (script, style, layout, paint) so far."""
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "TaskDuration")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="detail-live-") as tmp, bench_app(Path(tmp)) as app:
        writer = open_writer(app.runs_dir, RUN_ID)
        writer.write_batch(instances=[instance_record(n, rng) for n in range(1, 101)])
        wait_ingested(app, RUN_ID, 100)
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            frames = record_frames(page)
            page.add_init_script(WS_PROBE)
            page.goto(app.url(f"/runs/{RUN_ID}"))
            page.wait_for_selector("[data-testid=instance-grid] tbody tr", timeout=60_000)
            page.evaluate(DOM_PROBE)
            n = quiet_latency(page, writer, rng, args.samples, 100)
            firehose(page, frames, writer, rng, args.rate, args.seconds, n)
        writer.finalize()


if __name__ == "__main__":
    main()
