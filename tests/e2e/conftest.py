"""E2E fixtures: one real app per session (tests/app_server.py) and Playwright on the configured Chromium.

The browser is the one WINDTUNNEL_DASH_BROWSER names (see app_server.launch_chromium). Every test leaves
a screenshot in test-artifacts/ (suffix -FAILED when it failed), plus the page's console errors if any.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.app_server import ARTIFACTS, AppServer, launch_chromium, running_app

# An assertion without a timeout of its own waits this long, not Playwright's 5 s: much of what it checks
# arrives through a server round trip and a re-render, which a busy two-core machine can stretch past 5 s.
# A wait that comes true early costs nothing; speed targets live in bench/.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with running_app(tmp_path_factory.mktemp("e2e")) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Remember each phase's outcome on the item, so the page fixture can mark failed screenshots."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    call = getattr(request.node, "report_call", None)
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    name += "-FAILED" if call is None or call.failed else ""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    if errors:
        (ARTIFACTS / f"{name}.console.txt").write_text("\n".join(errors) + "\n")
    context.close()
