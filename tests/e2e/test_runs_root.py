"""A runs root the watcher cannot fully watch, in real Chromium: never silently stale (issue #19).

The server gets room for one inotify watch (WINDTUNNEL_MAX_WATCHES=1, the project's own
setting): the root is watched and every run is polled, exactly what happens past the
system's limit. Pages must keep updating, and every page header must say why and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.api.runbuilder import instance, open_run
from tests.app_server import ARTIFACTS, AppServer, running_app

LOAD_TIMEOUT = 30_000
POLLED_TIMEOUT = 5_000  # polling trails by ≤ 0.55 s; the rest is a busy machine's rendering


@pytest.fixture(scope="module")
def starved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with running_app(tmp_path_factory.mktemp("starved"), name="starved", WINDTUNNEL_MAX_WATCHES="1") as server:
        yield server


def _banner(page: Page):
    return page.locator("[data-condition=watch]")


def test_past_the_watch_limit_pages_stay_live_and_every_header_says_why(starved: AppServer, page: Page) -> None:
    run = open_run(starved.runs_dir, planned=20)
    run.write_batch(instances=[instance(n) for n in range(1, 3)])
    page.goto(starved.url(f"/runs/{run.run_id}"))
    expect(page.get_by_test_id("filter-all-count")).to_have_text("2", timeout=LOAD_TIMEOUT)
    expect(_banner(page)).to_contain_text("File watches ran out")
    expect(_banner(page)).to_contain_text("fs.inotify.max_user_watches")
    health = httpx.get(starved.url("/api/health")).json()
    assert health["watch"] == "mixed" and [w["key"] for w in health["warnings"]] == ["watch"]

    for n in range(3, 9):  # each polled append reaches the page on its own
        run.write_instance(instance(n, "failed" if n % 3 == 0 else "passed"))
        expect(page.get_by_test_id("filter-all-count")).to_have_text(str(n), timeout=POLLED_TIMEOUT)
    expect(page.get_by_test_id("filter-failed-count")).to_have_text("2")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "watch_limit_banner.png", animations="disabled")

    page.goto(starved.url("/"))
    expect(page.locator(f"[data-run-id='{run.run_id}']")).to_be_visible(timeout=LOAD_TIMEOUT)
    expect(_banner(page)).to_be_visible()
    page.goto(starved.url(f"/runs/{run.run_id}/instances/inst_00003"))
    expect(page.get_by_text("CORR_00003").first).to_be_visible(timeout=LOAD_TIMEOUT)
    expect(_banner(page)).to_be_visible()
    run.finalize()
