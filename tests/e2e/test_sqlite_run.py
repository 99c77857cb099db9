"""A run stored in the runner's turbulence.db, watched live in real Chromium (docs/design.md §2)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from tests.api.runbuilder import assertion, instance, step
from tests.app_server import ARTIFACTS, AppServer
from windtunnel_dash.artifacts.sqlite_writer import SqliteRunWriter

LOAD_TIMEOUT = 30_000
LIVE_TIMEOUT = 10_000


def status_of(n: int) -> str:
    return "error" if n % 13 == 0 else "failed" if n % 5 == 0 else "passed"


def _count(page: Page, name: str) -> int:
    return int(page.get_by_test_id(f"filter-{name}-count").inner_text())


def test_a_live_sqlite_run_fills_the_detail_page_to_exact_counts(app: AppServer, page: Page) -> None:
    run = SqliteRunWriter(app.runs_dir, f"run_sqlite_live_{datetime.now(UTC):%H%M%S%f}", sut_name="sqlite-sut",
                          scenario_ids=["checkout"], planned=120).open()
    run.write_batch(instances=[instance(n, status_of(n), duration_ms=10.0 * n) for n in range(1, 4)])
    page.goto(app.url(f"/runs/{run.run_id}"))
    expect(page.get_by_test_id("filter-all-count")).to_have_text("3", timeout=LOAD_TIMEOUT)
    expect(page.get_by_test_id("progress")).to_contain_text("3 / 120 planned")

    for first in range(4, 121, 9):  # one row per transaction, as the runner commits, a batch at a time
        batch = [instance(n, status_of(n), duration_ms=10.0 * n) for n in range(first, min(first + 9, 121))]
        run.write_batch(steps=[step(i, 0) for i in batch], instances=batch)
        top = page.locator("[data-testid=instance-grid] tbody tr").first
        expect(top).to_have_attribute("data-instance", batch[-1].instance_id, timeout=LIVE_TIMEOUT)
        if first == 58:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / "sqlite_run_live.png", full_page=True, animations="disabled")
        time.sleep(0.05)  # pacing the writer only: every check waits for its condition

    statuses = [status_of(n) for n in range(1, 121)]
    expect(page.get_by_test_id("filter-all-count")).to_have_text("120", timeout=LIVE_TIMEOUT)
    expected = (statuses.count("passed"), statuses.count("failed"), statuses.count("error"))
    assert (_count(page, "passed"), _count(page, "failed"), _count(page, "errors")) == expected
    expect(page.get_by_test_id("card-pass-rate")).to_contain_text(f"{100 * expected[0] / 120:.1f}%")
    rows = page.locator("[data-testid=instance-grid] tbody tr")
    assert [rows.nth(i).get_attribute("data-seq") for i in range(3)] == ["120", "119", "118"]
    run.finalize()
    expect(page.locator("[data-status=complete]").first).to_be_visible(timeout=LIVE_TIMEOUT)


def test_an_instance_of_a_sqlite_run_shows_its_steps_and_assertions(app: AppServer, page: Page) -> None:
    run = SqliteRunWriter(app.runs_dir, f"run_sqlite_detail_{datetime.now(UTC):%H%M%S%f}").open()
    inst = instance(7, "failed", duration_ms=250.0)
    http = step(inst, 0)
    http.observation.update(status_code=500, attempts=[
        {"attempt": 1, "status_code": 503, "ok": False, "latency_ms": 30.0},
        {"attempt": 2, "status_code": 500, "ok": False, "latency_ms": 40.0},
    ])
    run.write_batch(steps=[http], assertions=[assertion(inst, 0, passed=False)], instances=[inst])
    run.finalize()
    page.goto(app.url(f"/runs/{run.run_id}/instances/{inst.instance_id}"))
    steps = page.get_by_test_id("step")
    expect(steps).to_have_count(1, timeout=LOAD_TIMEOUT)
    expect(page.get_by_test_id("entry-data")).to_contain_text('"n": 7')
    expect(steps.first).to_contain_text("HTTP 500")
    expect(steps.first.locator("tbody tr")).to_have_count(2)  # the attempts
    check = steps.first.get_by_test_id("assertion")
    expect(check).to_contain_text("status is 200")
    expect(check).to_contain_text("500")


def test_the_real_sqlite_run_is_listed_like_any_other(app: AppServer, page: Page) -> None:
    run_id = app.copy_fixture("run_20261205_143438", "run_sqlite_listed")
    page.goto(app.url("/"))
    row = page.locator(f'.wt-row[data-run-id="{run_id}"]')
    expect(row).to_be_visible(timeout=LOAD_TIMEOUT)
    expect(row).to_contain_text("fake-shop-local")
    expect(row.locator(".wt-instances")).to_contain_text("150")
    expect(row.locator(".wt-rate-text")).to_have_text("94.0%")
    expect(row).to_contain_text("Complete")
