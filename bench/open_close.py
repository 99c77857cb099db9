"""Open and close a live run page many times: does anything stay behind in the server?

    .venv/bin/python bench/open_close.py [--cycles 200] [--rate 20]

Targets (issue 14): after 200 open/close cycles of a run page while its run is being written,
/api/health reports 0 live subscribers and 0 background tasks, and the server's RSS (the whole
process tree: Reflex CLI plus its worker) is within +20 MB of where it was after a warm-up.

Each cycle is a new tab (a new Reflex token and page task): open the run page, wait for its
live count, close the tab. Prints the figures with the load average; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

from detail_support import chromium, instance_record, open_writer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from tests.api.procstats import rss_bytes  # noqa: E402
from tests.app_server import running_app  # noqa: E402
from windtunnel_dash.closed_tabs import GRACE_S, SWEEP_S  # noqa: E402

RUN_ID = "bench_open_close"
WARM_UP = 10
SETTLE_S = 30.0  # how long the subscriber and task counts may take to reach 0 once the tabs are closed
FORGET_S = GRACE_S + 2 * SWEEP_S


def _write_live(writer, rate: float, stop: threading.Event) -> None:
    """Append instance lines at `rate` a second until stopped: the page stays live throughout."""
    rng, n = random.Random(14), 0
    while not stop.wait(1.0 / rate):
        n += 1
        writer.write_instance(instance_record(n, rng))


def _cycle(browser, url: str) -> None:
    page = browser.new_page()
    page.goto(url)
    page.get_by_test_id("filter-all-count").wait_for(timeout=60_000)
    page.close()


def _health(base_url: str) -> dict:
    return httpx.get(base_url + "/api/health", timeout=10).json()


def _settle(base_url: str) -> tuple[dict, float]:
    """Poll /api/health until both counts are 0 (or SETTLE_S passed); returns the last answer and the wait."""
    t0 = time.monotonic()
    while True:
        health = _health(base_url)
        if (health["liveSubscribers"] == 0 and health["backgroundTasks"] == 0) or time.monotonic() - t0 > SETTLE_S:
            return health, time.monotonic() - t0
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="instance lines a second while the tabs cycle")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp), name="open-close-bench") as app:
        writer = open_writer(app.runs_dir, RUN_ID)
        stop = threading.Event()
        feeder = threading.Thread(target=_write_live, args=(writer, args.rate, stop), daemon=True)
        feeder.start()
        url = app.url(f"/runs/{RUN_ID}")
        try:
            with chromium() as browser:
                for _ in range(WARM_UP):
                    _cycle(browser, url)
                health, _ = _settle(app.base_url)
                rss_start = rss_bytes(app.pid)
                print(f"after {WARM_UP} warm-up cycles: RSS {rss_start / 2**20:.1f} MB, health {health}")
                t0 = time.monotonic()
                peak = rss_start
                for i in range(1, args.cycles + 1):
                    _cycle(browser, url)
                    if i % 20 == 0:
                        rss = rss_bytes(app.pid)
                        peak = max(peak, rss)
                        print(f"  {i} cycles, {time.monotonic() - t0:.0f} s: RSS {rss / 2**20:.1f} MB "
                              f"(+{(rss - rss_start) / 2**20:.1f}), health {_health(app.base_url)}", flush=True)
                took = time.monotonic() - t0
        finally:
            stop.set()
            feeder.join()
        health, waited = _settle(app.base_url)
        rss_settled = rss_bytes(app.pid)
        time.sleep(FORGET_S)  # closed tabs' Reflex states are dropped GRACE_S after their socket went
        rss_end = rss_bytes(app.pid)
        print(f"{args.cycles} open/close cycles of a live run page in {took:.0f} s "
              f"({took / args.cycles * 1000:.0f} ms each), {args.rate:g} lines/s written meanwhile")
        print(f"afterwards (settled in {waited:.1f} s): liveSubscribers={health['liveSubscribers']} "
              f"backgroundTasks={health['backgroundTasks']}")
        print(f"server RSS: {rss_start / 2**20:.1f} MB after warm-up -> {rss_settled / 2**20:.1f} MB when the "
              f"counts settled -> {rss_end / 2**20:.1f} MB {FORGET_S:.0f} s later "
              f"({(rss_end - rss_start) / 2**20:+.1f} MB; peak {peak / 2**20:.1f} MB; target within +20 MB)")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        writer.finalize()


if __name__ == "__main__":
    main()
