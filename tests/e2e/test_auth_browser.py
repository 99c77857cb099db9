"""WINDTUNNEL_AUTH in real Chromium: with the credentials the pages are live (Reflex's socket opened
with them); without, the page is a 401 and a socket opened from it never connects."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Response, expect
from playwright.sync_api import Error as PlaywrightError

from tests.api.runbuilder import instance, open_run
from tests.app_server import ARTIFACTS, AppServer, running_app

USER, PASSWORD = "alice", "s3cr3t"
LOAD_TIMEOUT = 30_000
LIVE_TIMEOUT = 10_000
# Resolves with what became of a socket to the app's own socket endpoint: "open" or "refused".
SOCKET_OUTCOME = """url => new Promise(resolve => {
    const ws = new WebSocket(url);
    ws.onopen = () => { ws.close(); resolve("open"); };
    ws.onclose = () => resolve("refused");
})"""


@pytest.fixture(scope="module")
def guarded_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with running_app(tmp_path_factory.mktemp("e2e-auth"), name="extra", WINDTUNNEL_AUTH=f"{USER}:{PASSWORD}") as server:
        yield server


def _screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def test_with_credentials_the_run_page_is_live(guarded_app: AppServer, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  http_credentials={"username": USER, "password": PASSWORD})
    page = context.new_page()
    try:
        run = open_run(guarded_app.runs_dir, planned=10)
        run.write_instance(instance(1))
        page.goto(guarded_app.url(f"/runs/{run.run_id}"))
        expect(page.get_by_test_id("filter-all-count")).to_have_text("1", timeout=LOAD_TIMEOUT)
        for n in range(2, 5):  # each line reaches the page through Reflex's socket: it is open
            run.write_instance(instance(n, "failed" if n == 3 else "passed"))
            top = page.locator("[data-testid=instance-grid] tbody tr").first
            expect(top).to_have_attribute("data-instance", f"inst_{n:05d}", timeout=LIVE_TIMEOUT)
        expect(page.get_by_test_id("filter-failed-count")).to_have_text("1")
        _screenshot(page, "auth_with_credentials")
        outcome = page.evaluate(SOCKET_OUTCOME, guarded_app.ws_url + "/_event/?EIO=4&transport=websocket")
        assert outcome == "open"
    finally:
        context.close()


def test_without_credentials_nothing_is_served_and_sockets_are_refused(guarded_app: AppServer, page: Page) -> None:
    run = open_run(guarded_app.runs_dir)
    run.write_instance(instance(1))
    challenges: list[Response] = []
    page.on("response", lambda r: challenges.append(r) if r.status == 401 else None)
    for path in ("/", f"/runs/{run.run_id}", "/docs"):
        # With no credentials to give, Chromium under Playwright abandons the challenged navigation.
        with pytest.raises(PlaywrightError, match="ERR_INVALID_AUTH_CREDENTIALS"):
            page.goto(guarded_app.url(path))
    assert [r.url for r in challenges] == [guarded_app.url(p) for p in ("/", f"/runs/{run.run_id}", "/docs")]
    assert all(r.headers["www-authenticate"].startswith("Basic realm=") for r in challenges)
    # A blank page of the app's own origin (served by the test, not the app) opens the sockets.
    page.route(guarded_app.url("/blank"), lambda route: route.fulfill(body="<html><body></body></html>",
                                                                     content_type="text/html"))
    page.goto(guarded_app.url("/blank"))
    for socket in ("/_event/?EIO=4&transport=websocket", f"/api/runs/{run.run_id}/stream"):
        assert page.evaluate(SOCKET_OUTCOME, guarded_app.ws_url + socket) == "refused"


def test_without_auth_configured_pages_need_no_credentials(app: AppServer, page: Page) -> None:
    answer = page.goto(app.url("/"))
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("heading", name=re.compile("Runs"))).to_be_visible(timeout=LOAD_TIMEOUT)
    assert page.evaluate(SOCKET_OUTCOME, app.ws_url + "/_event/?EIO=4&transport=websocket") == "open"
