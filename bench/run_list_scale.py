"""Run list with 1,000 runs in the catalog: navigation → table visible in Chromium, and the live delta rate.

    .venv/bin/python bench/run_list_scale.py [--runs 1000] [--samples 7] [--seconds 5]

Targets (issue 6): the first 100 rows usable within 1 s of navigation; "show
more" brings the next 100; while results land in running runs the page gets
at most 10 state deltas a second whatever the write rate.

Figures (timed in the page, so they hold what a user sees, not Playwright's overhead):
  * cold load: a fresh browser context (no cache, new Reflex token), from the navigation's start
    (performance.timeOrigin) to the first frame showing 100 rows with their data, the browser-ticked
    Started times included;
  * client-side navigation: from the click on the brand link on a run's detail page to that frame;
  * show more: click → 200 rows;
  * websocket frames/s and bytes/s on the list while 10 running runs take `--rate` lines/s.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
from detail_support import _T0, chromium, instance_record, summary

from tests.app_server import AppServer, running_app
from windtunnel_dash.artifacts.writer import RunWriter

ROWS = ".wt-row"
RUNNING = 10
# Installed before the app's scripts (and kept across client-side navigations): on each DOM change,
# checks whether `window.__wantRows` rows show their data (the last one's Started cell is filled in by
# the browser-side moment) and stamps performance.now() in the next animation frame, the one that
# paints them. An observer rather than Playwright's polling in every animation frame: that loop
# costs ~100 ms of CPU a second here, which a user's page does not pay, and it slowed what it timed.
# Clicks are stamped too (capture phase: before React handles them).
SHOWN_PROBE = """(() => {
  window.__wantRows = 100; window.__rowsShownAt = null;
  let pending = false;
  const check = () => {
    if (pending || window.__rowsShownAt !== null) return;
    const n = window.__wantRows, rows = document.querySelectorAll('.wt-row');
    if (rows.length < n || !rows[n - 1].querySelector('.wt-started')?.textContent.trim()) return;
    pending = true;
    requestAnimationFrame(() => { window.__rowsShownAt = performance.now(); pending = false; });
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, characterData: true});
  document.addEventListener('click', e => { window.__clickAt = e.timeStamp; }, true);
})()"""


def new_page(browser):
    """A page in a fresh context (empty cache, new Reflex token) with the probe installed."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(SHOWN_PROBE)
    return context, context.new_page()


def expect_rows(page, n: int) -> None:
    """Arm the probe for `n` rows; call before the action that brings them."""
    page.evaluate(f"() => {{ window.__wantRows = {n}; window.__rowsShownAt = null; }}")


def rows_shown(page) -> float:
    """Wait for the armed rows to show; returns the performance.now() (ms) of the frame painting them."""
    page.wait_for_function("() => window.__rowsShownAt !== null", polling=100, timeout=60_000)
    return page.evaluate("window.__rowsShownAt")


def make_runs(runs_dir: Path, count: int, rng: random.Random) -> list[RunWriter]:
    """`count` small runs an hour apart in start time; the newest RUNNING stay open (running)."""
    writers = []
    for k in range(count):
        run_id = f"run_bench_{k:05d}"
        started = _T0 - timedelta(minutes=10 * (count - k))
        writer = RunWriter(runs_dir, run_id, sut_name=f"sut-{k % 7}", scenario_ids=("checkout-flow", "browse"),
                           planned=20, started_at=started).open()
        writer.write_batch(instances=[instance_record(n, rng) for n in range(1, 1 + rng.randint(3, 20))])
        if k < count - RUNNING:
            writer.finalize(completed_at=started + timedelta(seconds=40), duration_ms=40_000.0)
        else:
            writers.append(writer)
    return writers


def wait_catalog(app: AppServer, count: int, timeout_s: float = 600.0) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        r = httpx.get(app.url("/api/runs?limit=1"), timeout=10)
        if r.status_code == 200 and r.json()["total"] >= count:
            return time.monotonic() - t0
        time.sleep(0.25)
    raise TimeoutError(f"catalog did not reach {count} runs in {timeout_s} s")


def cold_loads(browser, app: AppServer, samples: int) -> None:
    times = []
    for _ in range(samples):
        context, page = new_page(browser)
        page.goto(app.url("/"), wait_until="commit")
        times.append(rows_shown(page))  # performance.now() counts from the navigation's start
        context.close()
    print(summary("cold load: navigation start → 100 rows shown (fresh context, no cache)", times))


def client_navigations(browser, app: AppServer, samples: int) -> None:
    context, page = new_page(browser)
    page.goto(app.url("/"))
    rows_shown(page)
    times = []
    for k in range(samples):
        page.locator(ROWS).nth(k).click()
        page.wait_for_url("**/runs/**")
        page.wait_for_function(f"() => document.querySelectorAll('{ROWS}').length === 0")
        expect_rows(page, 100)
        page.locator(".wt-brand").first.click()
        times.append(rows_shown(page) - page.evaluate("window.__clickAt"))
    print(summary("client-side navigation: click on detail page → list with 100 rows shown", times))

    expect_rows(page, 200)
    page.locator("#runs-more").click()
    print(f"show more: click → 200 rows shown: {rows_shown(page) - page.evaluate('window.__clickAt'):.1f}ms")
    context.close()


def live_deltas(browser, app: AppServer, writers: list[RunWriter], rate: int, seconds: float) -> None:
    context, page = new_page(browser)
    frames: list[int] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(len(payload))))
    page.goto(app.url("/"))
    rows_shown(page)
    page.wait_for_timeout(1000)

    stop = threading.Event()
    written = [0]

    def write() -> None:
        rng = random.Random(7)
        n = 1000
        while not stop.is_set():
            t0 = time.perf_counter()
            per_slice = max(1, rate // 100 // len(writers))
            for writer in writers:
                writer.write_batch(instances=[instance_record(n + i, rng) for i in range(per_slice)])
                n += per_slice
                written[0] += per_slice
            time.sleep(max(0.0, 0.01 - (time.perf_counter() - t0)))

    thread = threading.Thread(target=write)
    frames.clear()
    thread.start()
    page.wait_for_timeout(seconds * 1000)
    stop.set()
    thread.join()
    print(f"live: {written[0] / seconds:.0f} lines/s into {len(writers)} running runs for {seconds:.0f} s → "
          f"{len(frames) / seconds:.1f} websocket frames/s, {sum(frames) / seconds / 1024:.1f} KiB/s, "
          f"mean frame {sum(frames) / max(1, len(frames)) / 1024:.1f} KiB")
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=int, default=2000, help="instance lines/s during the live phase")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="run-list-bench-") as tmp:
        base = Path(tmp)
        (base / "runs").mkdir()
        t0 = time.perf_counter()
        writers = make_runs(base / "runs", args.runs, random.Random(1))
        print(f"wrote {args.runs} runs ({len(writers)} running) in {time.perf_counter() - t0:.1f}s")
        with running_app(base, name="list-bench") as app:
            print(f"catalog holds {args.runs} runs {wait_catalog(app, args.runs):.1f}s after the app answered")
            with chromium() as browser:
                cold_loads(browser, app, args.samples)
                client_navigations(browser, app, args.samples)
                live_deltas(browser, app, writers, args.rate, args.seconds)
        for writer in writers:
            writer.finalize()


if __name__ == "__main__":
    main()
