"""The run list in real Chromium against the real app, with the simulator writing runs as files.

Everything live is checked without a reload (a window marker survives), and
every wait polls for a condition with a deadline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

import httpx
from playwright.sync_api import Locator, Page, WebSocketRoute, expect

from tests.app_server import ARTIFACTS, AppServer
from windtunnel_dash.simulator import simulate

APPEAR_S = 30_000  # ms: a new run reaches the page (file event → catalog → hub → socket)
# Engine.IO's open packet and Socket.IO's CONNECT_ERROR for Reflex's /_event namespace: what a client
# sees from a server that refuses it, served by Playwright while the test says the server is down.
_EIO_OPEN = '0{"sid":"offline","upgrades":[],"pingInterval":25000,"pingTimeout":60000,"maxPayload":1000000}'
_SIO_REFUSE = '44/_event,{"message":"server down (test)"}'


def _row(page: Page, run_id: str) -> Locator:
    return page.locator(f'.wt-row[data-run-id="{run_id}"]')


def _eventually(check: Callable[[], bool], page: Page, timeout_ms: int = 20_000) -> None:
    """Poll `check` between browser ticks until it holds or the deadline passes."""
    for _ in range(timeout_ms // 100):
        if check():
            return
        page.wait_for_timeout(100)
    assert check(), "condition not met before the deadline"


def _pass_rates(page: Page) -> list[float]:
    """Every row's pass rate as shown, read in one go ('—' before any result counts as 0)."""
    texts = page.locator(".wt-row .wt-rate-text").all_inner_texts()
    return [float(t.rstrip("%")) if t.endswith("%") else 0.0 for t in texts]


def test_running_row_updates_live_then_flips_to_complete(app: AppServer, page: Page) -> None:
    page.goto(app.url("/"))
    expect(page.get_by_role("heading", name="Runs", exact=True)).to_be_visible(timeout=APPEAR_S)
    page.evaluate("window.__sameDocument = true")

    run_id = app.simulate(wait=False, instances=300, rate=12, fail_rate=0.2, error_rate=0.0, seed=5)
    row = _row(page, run_id)
    expect(row).to_be_visible(timeout=APPEAR_S)
    expect(row.locator(".wt-pill .wt-spinner")).to_be_visible()  # Running / Failing spin

    count, rate = row.locator(".wt-instances"), row.locator(".wt-rate-text")
    first_count, first_rate = count.inner_text(), rate.inner_text()
    expect(count).not_to_have_text(first_count, timeout=20_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "run-list-live.png", full_page=True)
    expect(rate).not_to_have_text(first_rate, timeout=20_000)
    expect(row.locator(".wt-bar-fill").first).to_be_visible()  # progress while running
    assert httpx.get(app.url("/api/health")).json()["liveSubscribers"] >= 1

    expect(row.locator('[data-status="complete"]')).to_be_visible(timeout=60_000)
    expect(row.locator(".wt-spinner")).to_have_count(0)
    expect(count).to_have_text("300 / 300")
    assert page.evaluate("window.__sameDocument") is True


def test_running_duration_ticks_in_the_browser(app: AppServer, page: Page) -> None:
    run_id = app.simulate(wait=False, instances=600, rate=10, fail_rate=0.0, error_rate=0.0, seed=7)
    page.goto(app.url("/"))
    duration = _row(page, run_id).locator(".wt-duration")
    expect(duration).to_be_visible(timeout=APPEAR_S)

    first = duration.inner_text()
    page.wait_for_timeout(1500)
    assert duration.inner_text() != first


def test_duration_freezes_and_greys_while_the_socket_is_down(app: AppServer, page: Page) -> None:
    online = {"yes": True}
    live: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        if online["yes"]:
            ws.connect_to_server()
            live.append(ws)
            return
        ws.on_message(lambda message: ws.send(_SIO_REFUSE) if str(message).startswith("40") else None)
        ws.send(_EIO_OPEN)

    page.route_web_socket(re.compile(r"/_event/"), route)
    run_id = app.simulate(wait=False, instances=600, rate=10, fail_rate=0.0, error_rate=0.0, seed=8)
    page.goto(app.url("/"))
    duration = _row(page, run_id).locator(".wt-duration")
    expect(duration).to_be_visible(timeout=APPEAR_S)
    expect(page.locator('[data-connection="live"]')).to_be_visible()

    online["yes"] = False
    for ws in live:
        ws.close()
    expect(page.locator('[data-connection="offline"]')).to_be_visible(timeout=10_000)
    frozen = duration.inner_text()
    page.wait_for_timeout(2500)  # Reflex retries meanwhile (re-rendering the page); the text must hold
    assert duration.inner_text() == frozen
    expect(duration).to_have_css("font-style", "italic")  # greyed and slanted: the time is not moving

    online["yes"] = True
    expect(page.locator('[data-connection="live"]')).to_be_visible(timeout=15_000)
    expect(duration).not_to_have_text(frozen, timeout=5_000)
    expect(duration).to_have_css("font-style", "normal")


def test_sort_by_pass_rate_orders_rows_and_lives_in_the_url(app: AppServer, page: Page) -> None:
    """Sorted within a search for this test's three runs (100%, ~70%, ~20%): the session's other tests
    leave runs of their own in the list, some still being written, whose rates move as it is read."""
    for seed, fail_rate in ((21, 0.0), (22, 0.8), (23, 0.3)):
        app.simulate(f"passrate-sort-{seed}", instances=40, rate=2000, fail_rate=fail_rate, error_rate=0.0, seed=seed)
    page.goto(app.url("/?q=passrate-sort"))
    expect(page.locator(".wt-row")).to_have_count(3, timeout=APPEAR_S)

    page.locator('[data-sort-key="passRate"]').click()
    expect(page).to_have_url(re.compile(r"[?&]sort=-passRate"))
    _eventually(lambda: (r := _pass_rates(page)) == sorted(r, reverse=True) and len(set(r)) == 3, page)

    page.locator('[data-sort-key="passRate"]').click()
    expect(page).to_have_url(re.compile(r"[?&]sort=passRate"))
    _eventually(lambda: (r := _pass_rates(page)) == sorted(r) and len(set(r)) == 3, page)

    page.reload()  # the link alone reproduces the view
    expect(page.locator(".wt-row")).to_have_count(3, timeout=APPEAR_S)
    _eventually(lambda: (r := _pass_rates(page)) == sorted(r) and len(r) == 3, page)


def test_search_filters_by_run_id_and_survives_reload(app: AppServer, page: Page) -> None:
    wanted = app.simulate(instances=5, rate=1000, seed=31)
    other = app.simulate(instances=5, rate=1000, seed=32)
    page.goto(app.url("/"))
    expect(_row(page, other)).to_be_visible(timeout=APPEAR_S)

    page.locator("#runs-search").fill(wanted)
    expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(quote(wanted))))
    expect(_row(page, other)).to_have_count(0)
    expect(page.locator(".wt-row")).to_have_count(1)

    page.reload()
    expect(_row(page, wanted)).to_be_visible(timeout=APPEAR_S)
    expect(page.locator(".wt-row")).to_have_count(1)
    expect(page.locator("#runs-search")).to_have_value(wanted)


def test_clicking_a_row_opens_its_detail_page(app: AppServer, page: Page) -> None:
    run_id = app.simulate(instances=10, rate=1000, seed=41)
    page.goto(app.url("/?q=" + quote(run_id)))
    row = _row(page, run_id)
    expect(row).to_be_visible(timeout=APPEAR_S)

    row.locator(".wt-rate").click()
    expect(page).to_have_url(app.url(f"/runs/{run_id}"))
    expect(page.get_by_text(run_id).first).to_be_visible(timeout=APPEAR_S)


def test_html_in_a_sut_name_renders_as_text(app: AppServer, page: Page) -> None:
    sut = "<b>bold</b><img src=x onerror=alert(1)>"
    run_id = simulate(app.runs_dir, instances=3, seed=51, sut_name=sut, pace=False).run_id
    page.goto(app.url("/?q=" + quote(run_id)))
    row = _row(page, run_id)
    expect(row).to_be_visible(timeout=APPEAR_S)
    expect(row.get_by_text(sut, exact=True)).to_be_visible()
    expect(row.locator("b, img")).to_have_count(0)
