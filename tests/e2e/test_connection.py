"""Losing the server and getting it back, in real Chromium against the real app (stopped and restarted).

Each page records when it opens a socket to Reflex's /_event (an init script wraps WebSocket, with the
page's own monotonic clock), so the retry schedule is measured where it runs: delays doubling from
0.5 s, each times a random factor in [0.5, 1.5) (windtunnel_dash/reconnect.py). Every wait polls a
condition with a deadline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.api.runbuilder import instance, open_run
from tests.app_server import ARTIFACTS, AppServer

LOAD_TIMEOUT = 30_000
FIRST_DELAY_S, JITTER = 0.5, (0.5, 1.5)
SLACK_S = 1.0  # a busy two-core machine may report a refusal or run a timer late (never early)
# Init script: the page-clock time (ms) of every socket opened to Reflex's /_event, and of the last
# click on "Reconnect now".
RECORD_SOCKETS = """
(() => {
  window.__eventSockets = [];
  const Native = window.WebSocket;
  window.WebSocket = function (url, ...rest) {
    if (String(url).includes('/_event')) window.__eventSockets.push(performance.now());
    return new Native(url, ...rest);
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  document.addEventListener('click', (e) => {
    if (e.target.closest('[data-testid=reconnect-now]')) window.__reconnectClickAt = performance.now();
  }, true);
})();
"""


@contextmanager
def _recorded_page(browser: Browser, name: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(RECORD_SOCKETS)
    page = context.new_page()
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"connection-{name}-last.png", full_page=True)
        context.close()


def _openings_s(page: Page) -> list[float]:
    return [ms / 1000 for ms in page.evaluate("window.__eventSockets")]


def _until(check, page: Page, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s:.0f} s: {what}"
        page.wait_for_timeout(100)


def _health(app: AppServer) -> dict:
    return httpx.get(app.url("/api/health"), timeout=5).json()


def _countdown(page: Page) -> int | None:
    box = page.get_by_test_id("reconnect-countdown")
    if not box.is_visible():
        return None
    text = box.inner_text()  # "next attempt in 7 s"
    digits = "".join(c for c in text if c.isdigit())
    return int(digits) if digits else None


def test_attempts_back_off_with_jitter_and_reconnect_now_starts_over(app: AppServer, browser: Browser) -> None:
    with _recorded_page(browser, "a") as a, _recorded_page(browser, "b") as b:
        for page in (a, b):
            page.goto(app.url("/"))
            expect(page.locator('[data-connection="live"]')).to_be_visible(timeout=LOAD_TIMEOUT)
        before = {id(p): len(_openings_s(p)) for p in (a, b)}

        app.stop()
        try:
            expect(a.locator('[data-connection="reconnecting"], [data-connection="offline"]')).to_be_visible(
                timeout=10_000
            )
            # While it waits, the countdown shows whole seconds going down, and Reflex's own toast stays away.
            seen: list[int] = []

            def six_attempts_each() -> bool:
                seen.append(_countdown(a) or -1)
                return all(len(_openings_s(p)) - before[id(p)] >= 6 for p in (a, b))

            _until(six_attempts_each, a, 60, "six attempts on each page")
            expect(a.locator('[data-connection="offline"]')).to_be_visible()
            a.screenshot(path=ARTIFACTS / "connection-offline-countdown.png")
            assert any(x > y >= 0 for x, y in zip(seen, seen[1:], strict=False)), f"countdown never went down: {seen}"
            expect(a.get_by_text("Cannot connect to server")).to_have_count(0)

            gaps = {}
            for page in (a, b):
                opened = _openings_s(page)[before[id(page)]:]
                gaps[id(page)] = [later - earlier for earlier, later in zip(opened, opened[1:6], strict=False)]
                for n, gap in enumerate(gaps[id(page)]):
                    base = FIRST_DELAY_S * 2**n
                    assert base * JITTER[0] - 0.05 <= gap <= base * JITTER[1] + SLACK_S, (n, gaps[id(page)])
            # Roughly twofold each time, and the two pages' schedules do not coincide (jitter).
            ga, gb = gaps[id(a)], gaps[id(b)]
            (ARTIFACTS / "connection-gaps.json").write_text(json.dumps({"a": ga, "b": gb}))
            assert all(g2 > g0 for g0, g2 in zip(ga, ga[2:], strict=False)) and all(g2 > g0 for g0, g2 in zip(gb, gb[2:], strict=False))
            assert max(abs(x - y) for x, y in zip(ga, gb, strict=False)) > 0.1, (ga, gb)

            # "Reconnect now" several seconds before the next attempt: one at once, then the schedule's first step.
            _until(lambda: (_countdown(b) or 0) >= 4, b, 40, "a long wait on page b")
            count = len(_openings_s(b))
            b.get_by_test_id("reconnect-now").click()
            _until(lambda: len(_openings_s(b)) >= count + 2, b, 10, "the immediate attempt and the next")
            clicked = b.evaluate("window.__reconnectClickAt") / 1000
            now_attempt, next_attempt = _openings_s(b)[count:count + 2]
            assert 0 <= now_attempt - clicked < 2.0, (clicked, now_attempt)  # seconds before the schedule's
            assert next_attempt - now_attempt <= FIRST_DELAY_S * JITTER[1] + SLACK_S, (now_attempt, next_attempt)
        finally:
            app.start()

        # Back: each page heals on its own schedule (at most one long wait away).
        for page in (a, b):
            expect(page.locator('[data-connection="live"]')).to_be_visible(timeout=60_000)
    _nothing_left_running(app)


def _nothing_left_running(app: AppServer) -> None:
    """After the pages closed: no live subscriber and no page task left, within a few seconds."""
    deadline = time.monotonic() + 20
    while (h := _health(app))["liveSubscribers"] or h["backgroundTasks"]:
        assert time.monotonic() < deadline, f"pages' subscriptions and tasks still running after they closed: {h}"
        time.sleep(0.2)


def _file_counts(path) -> dict[str, int]:
    """docs/design.md §3 over the file itself: passed, error (a non-empty error string), failed (the rest)."""
    counts = {"passed": 0, "failed": 0, "error": 0}
    for line in path.read_text().splitlines():
        if line.strip():
            rec = json.loads(line)
            status = "passed" if rec["passed"] is True else "error" if rec.get("error") else "failed"
            counts[status] += 1
    return counts


def test_a_restart_mid_run_heals_every_page_to_the_files(app: AppServer, browser: Browser) -> None:
    planned = 60
    run = open_run(app.runs_dir, planned=planned)
    run.write_batch(instances=[instance(n, "failed" if n % 5 == 0 else "passed") for n in range(1, 11)])
    with (_recorded_page(browser, "list") as listing, _recorded_page(browser, "detail") as detail,
          _recorded_page(browser, "instance") as one):
        listing.goto(app.url("/"))
        detail.goto(app.url(f"/runs/{run.run_id}"))
        one.goto(app.url(f"/runs/{run.run_id}/instances/inst_00003"))
        expect(detail.get_by_test_id("filter-all-count")).to_have_text("10", timeout=LOAD_TIMEOUT)
        row = listing.locator(f'.wt-row[data-run-id="{run.run_id}"]')
        expect(row.locator(".wt-instances")).to_have_text(f"10 / {planned}", timeout=LOAD_TIMEOUT)
        expect(one.get_by_text("CORR_00003").first).to_be_visible(timeout=LOAD_TIMEOUT)
        assert _health(app)["liveSubscribers"] >= 2

        app.stop()
        try:
            for page in (listing, detail, one):  # every page says so, with its countdown
                expect(page.locator('[data-connection="live"]')).to_have_count(0, timeout=10_000)
                expect(page.get_by_test_id("reconnect-countdown")).to_be_visible(timeout=10_000)
            detail.screenshot(path=ARTIFACTS / "connection-detail-offline.png")
            # The run goes on and completes while every page is offline.
            for first in range(11, planned + 1, 10):
                run.write_batch(instances=[
                    instance(n, "error" if n % 13 == 0 else "failed" if n % 5 == 0 else "passed")
                    for n in range(first, first + 10)
                ])
            run.finalize()
        finally:
            app.start()

        truth = _file_counts(app.runs_dir / run.run_id / "instances.jsonl")
        assert sum(truth.values()) == planned
        for page in (listing, detail, one):
            expect(page.locator('[data-connection="live"]')).to_be_visible(timeout=60_000)
        expect(detail.get_by_test_id("filter-all-count")).to_have_text(str(planned), timeout=10_000)
        assert (int(detail.get_by_test_id("filter-passed-count").inner_text()),
                int(detail.get_by_test_id("filter-failed-count").inner_text()),
                int(detail.get_by_test_id("filter-errors-count").inner_text())) == (
            truth["passed"], truth["failed"], truth["error"])
        expect(detail.locator("[data-status=complete]").first).to_be_visible(timeout=10_000)
        rows = detail.locator("[data-testid=instance-grid] tbody tr")
        expect(rows.first).to_have_attribute("data-instance", f"inst_{planned:05d}")
        expect(rows).to_have_count(50)
        assert len({rows.nth(i).get_attribute("data-seq") for i in range(50)}) == 50  # nothing twice
        expect(row.locator(".wt-instances")).to_have_text(f"{planned} / {planned}", timeout=10_000)
        expect(row.locator('[data-status="complete"]')).to_be_visible()
        expect(one.get_by_text("CORR_00003").first).to_be_visible()
        detail.screenshot(path=ARTIFACTS / "connection-healed-detail.png", full_page=True)
    _nothing_left_running(app)
