"""Shared set-up for the run detail benches: a real app, runs written fast, and browser probes.

Not a bench itself. The app is started exactly as the e2e tests start it
(tests/app_server.running_app, its own web dir), and instance lines are written
with the project's RunWriter, so the figures cover file → tailer → catalog →
hub → Reflex state → websocket → DOM.
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.app_server import AppServer, launch_chromium, running_app  # noqa: E402
from windtunnel_dash.artifacts.writer import RunWriter  # noqa: E402
from windtunnel_dash.timefmt import utc_iso  # noqa: E402

SCENARIOS = ("checkout-flow", "browse-catalog", "user-signup")
_T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

# Records the first time (epoch ms) each row and each All-count value appears in the DOM.
DOM_PROBE = """
() => {
  window.__rowSeen = {}; window.__counts = [];
  const mark = () => {
    const now = Date.now();
    for (const tr of document.querySelectorAll('[data-testid=instance-grid] tbody tr[data-instance]')) {
      const id = tr.getAttribute('data-instance');
      if (!(id in window.__rowSeen)) window.__rowSeen[id] = now;
    }
    const c = document.querySelector('[data-testid=filter-all-count]');
    if (c) {
      const n = parseInt(c.textContent, 10);
      const last = window.__counts[window.__counts.length - 1];
      if (!last || last[1] !== n) window.__counts.push([now, n]);
    }
  };
  new MutationObserver(mark).observe(document.body, {subtree: true, childList: true, characterData: true});
  mark();
}
"""


# Init script (before the app's code): stamps (epoch ms) the first websocket frame naming each
# instance, each chart update and each All count sent, and collects long tasks, so the DOM latency splits into server side and browser side.
WS_PROBE = """
(() => {
  window.__frameSeen = {}; window.__longTasks = []; window.__chartFrames = []; window.__countFrames = [];
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') return;
      const now = Date.now();
      if (/"(timeline|latency)_rx_state_"/.test(ev.data)) window.__chartFrames.push(now);
      const count = /"all_count_rx_state_":(\\d+)/.exec(ev.data);
      if (count) window.__countFrames.push([now, +count[1]]);
      for (const m of ev.data.matchAll(/inst_\\d{7}/g)) if (!(m[0] in window.__frameSeen)) window.__frameSeen[m[0]] = now;
    });
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push([performance.timeOrigin + e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: true});
  } catch (e) {}
})();
"""


def instance_record(n: int, rng: random.Random) -> dict:
    """One instance line; ~85% pass, 10% fail, 5% error, log-normal durations."""
    r = rng.random()
    status = "passed" if r < 0.85 else "failed" if r < 0.95 else "error"
    duration = round(rng.lognormvariate(5.3, 0.5), 3)
    done = _T0 + timedelta(milliseconds=n * 10)
    return {
        "instance_id": f"inst_{n:07d}",
        "correlation_id": f"corr_{rng.getrandbits(48):012x}",
        "scenario_id": SCENARIOS[n % len(SCENARIOS)],
        "started_at": utc_iso(done - timedelta(milliseconds=duration)),
        "completed_at": utc_iso(done),
        "duration_ms": duration,
        "passed": status == "passed",
        "entry_data": {"n": n},
        "error": "upstream timed out" if status == "error" else None,
    }


def open_writer(runs_dir: Path, run_id: str, planned: int | None = None) -> RunWriter:
    return RunWriter(runs_dir, run_id, sut_name="bench-sut", scenario_ids=SCENARIOS, planned=planned).open()


def write_instances(writer: RunWriter, start: int, count: int, rng: random.Random, chunk: int = 5000) -> None:
    for first in range(start, start + count, chunk):
        writer.write_batch(instances=[instance_record(n, rng) for n in range(first, min(first + chunk, start + count))])


def wait_ingested(app: AppServer, run_id: str, total: int, timeout_s: float = 600.0) -> float:
    """Poll the API until the run's total reaches `total`; returns seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        r = httpx.get(app.url(f"/api/runs/{run_id}"), timeout=10)
        if r.status_code == 200 and r.json()["stats"]["total"] >= total:
            return time.monotonic() - t0
        time.sleep(0.25)
    raise TimeoutError(f"{run_id} not ingested to {total} within {timeout_s} s")


@contextmanager
def bench_app(base: Path) -> Iterator[AppServer]:
    with running_app(base, name="detail-bench") as app:
        yield app


@contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)  # WINDTUNNEL_DASH_BROWSER, as in the e2e tests
        try:
            yield browser
        finally:
            browser.close()


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1] if ordered else float("nan")


def summary(label: str, values: list[float], unit: str = "ms") -> str:
    if not values:
        return f"{label}: no samples"
    return (f"{label}: n={len(values)} p50={pct(values, 50):.1f}{unit} p95={pct(values, 95):.1f}{unit} "
            f"max={max(values):.1f}{unit} mean={statistics.fmean(values):.1f}{unit}")
