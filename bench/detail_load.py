"""Run detail page on a 100,000-instance run: time to a usable page, and the server time of view changes.

    .venv/bin/python bench/detail_load.py [--instances 100000]

Targets (issue 7): page usable ≤ 1.5 s after navigation (first rows and the
full count on screen); a filter, sort or page change ≤ 300 ms server time.

"Server time" is the catalog work `RunDetailState.follow` does for a view
(`_read_page`, the same function, against the app's own catalog file), timed
in this process; the browser column is click → new first row in the DOM, which
adds the navigation, the websocket round trip and React's render.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

from detail_support import bench_app, chromium, open_writer, summary, wait_ingested, write_instances

RUN_ID = "bench_detail_100k"
FIRST_ROW = "[data-testid=instance-grid] tbody tr >> nth=0"


def server_times(app, run_id: str, repeats: int = 7) -> None:
    os.environ["WINDTUNNEL_DATA_DIR"] = str(app.data_dir)
    os.environ["WINDTUNNEL_RUNS_DIR"] = str(app.runs_dir)
    from windtunnel_dash.state.detail_views import View
    from windtunnel_dash.state.run_detail import _read_page, _read_refresh

    views = {
        "default (page 1, newest first)": View(),
        "filter failed": View(status="failed"),
        "filter errors, page 20": View(status="error", page=20),
        "sort duration desc": View(sort="-durationMs"),
        "sort duration asc, page 500": View(sort="durationMs", page=500),
        "sort status": View(sort="status"),
        "page 1000 (deep)": View(page=1000),
        "search correlation id": View(q="corr_00"),
    }
    print("server time per view change (catalog reads of RunDetailState.follow, ms):")
    for label, view in views.items():
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            _read_page(run_id, view)
            samples.append((time.perf_counter() - t0) * 1000)
        print("  " + summary(label, samples))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _read_refresh(run_id, "")
        samples.append((time.perf_counter() - t0) * 1000)
    print("  " + summary("charts+header refresh (off the critical path)", samples))


def browser_times(app, run_id: str, total: int, repeats: int = 5) -> None:
    with chromium() as browser:
        usable = []
        for _ in range(repeats):
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(app.url(f"/runs/{run_id}"))
            page.wait_for_function(
                "(n) => document.querySelector('[data-testid=filter-all-count]')?.textContent === String(n)"
                " && document.querySelectorAll('[data-testid=instance-grid] tbody tr').length === 50",
                arg=total, timeout=60_000,
            )
            usable.append((time.perf_counter() - t0) * 1000)
            context.close()
        print(summary("navigation → usable page (50 rows + full count) in Chromium", usable))

        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.goto(app.url(f"/runs/{run_id}"))
        page.wait_for_selector(FIRST_ROW, timeout=60_000)
        clicks = [
            ("filter Failed", lambda: page.get_by_test_id("filter-failed").click()),
            ("filter All", lambda: page.get_by_test_id("filter-all").click()),
            ("sort Duration", lambda: page.get_by_role("link", name="Duration").click()),
            ("next page", lambda: page.get_by_test_id("page-next").click()),
            ("sort Status", lambda: page.get_by_role("link", name="Status").click()),
            ("last page", lambda: page.get_by_test_id("page-last").click()),
            ("first page", lambda: page.get_by_test_id("page-first").click()),
        ]
        print("browser: click → first row changed (ms):")
        for label, click in clicks:
            before = page.locator(FIRST_ROW).get_attribute("data-seq")
            t0 = time.perf_counter()
            click()
            page.wait_for_function(
                "(b) => { const r = document.querySelector('[data-testid=instance-grid] tbody tr');"
                " return r && r.getAttribute('data-seq') !== b; }",
                arg=before, timeout=30_000,
            )
            print(f"  {label}: {(time.perf_counter() - t0) * 1000:.0f} ms")
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="detail-load-") as tmp, bench_app(Path(tmp)) as app:
        t0 = time.perf_counter()
        writer = open_writer(app.runs_dir, RUN_ID, planned=args.instances)
        write_instances(writer, 1, args.instances, random.Random(7))
        writer.finalize()
        print(f"wrote {args.instances:,} instance lines in {time.perf_counter() - t0:.1f} s")
        print(f"ingested in {wait_ingested(app, RUN_ID, args.instances):.1f} s more")
        server_times(app, RUN_ID)
        browser_times(app, RUN_ID, args.instances)


if __name__ == "__main__":
    main()
