"""Comparing a run with its baseline while it streams, in real Chromium against the real app (docs/design.md §9)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from tests.api.runbuilder import instance, step
from tests.app_server import ARTIFACTS, AppServer
from windtunnel_dash.artifacts.writer import RunWriter

LOAD_TIMEOUT = 30_000
LIVE_TIMEOUT = 10_000
SCENARIOS = ("checkout", "browse")
_numbers = itertools.count(1)


def _writer(app: AppServer, sut: str, day: int) -> RunWriter:
    """A run of `sut` started on `day` (the default baseline is the latest complete one started before)."""
    started = datetime(2026, 5, day, 9, 0, tzinfo=UTC)
    return RunWriter(app.runs_dir, f"cmp_{sut}_{day:02d}_{next(_numbers)}", sut_name=sut, scenario_ids=SCENARIOS,
                     started_at=started).open()


def _write(run: RunWriter, start: int, statuses: list[str]) -> int:
    """Instances `start`, `start`+1, … with these statuses; failed ones got a 500 from their first step."""
    for n, status in enumerate(statuses, start=start):
        inst = instance(n, status, 100.0 + n % 13, SCENARIOS[n % 2])
        run.write_batch(steps=[step(inst, 0, ok=status != "failed")], instances=[inst])
    return start + len(statuses)


def _like_baseline(count: int) -> list[str]:
    """95% passed, 5% errors, evenly spread: a run written like the baseline."""
    return ["error" if k % 20 == 19 else "passed" for k in range(count)]


def _baseline(app: AppServer, sut: str) -> RunWriter:
    base = _writer(app, sut, 1)
    _write(base, 1, _like_baseline(400))
    base.finalize()
    return base


def _open(page: Page, app: AppServer, run_id: str) -> None:
    page.goto(app.url(f"/runs/{run_id}"))
    expect(page.get_by_test_id("compare-bar")).to_be_visible(timeout=LOAD_TIMEOUT)


def _watch_new_run(app: AppServer, page: Page, sut: str) -> tuple[RunWriter, int]:
    """A baseline of `sut`, then a run of it begun like the baseline, open on the page; (run, next n)."""
    base = _baseline(app, sut)
    run = _writer(app, sut, 2)
    n = _write(run, 1, _like_baseline(20))
    _open(page, app, run.run_id)
    expect(page.get_by_test_id("compare-baseline")).to_have_text(base.run_id, timeout=LIVE_TIMEOUT)
    expect(page.get_by_test_id("compare-verdict")).to_have_text("no clear change")
    return run, n


def test_a_run_written_worse_than_its_baseline_turns_regressed_live(app: AppServer, page: Page) -> None:
    run, n = _watch_new_run(app, page, "cmp-worse")
    verdict = page.get_by_test_id("compare-verdict")
    expect(page.get_by_test_id("new-failure-kinds")).to_contain_text("None")

    # failures pour in while the page is open: 500s the baseline never had
    for _ in range(6):
        n = _write(run, n, ["failed"] * 8 + ["passed"] * 2)
        page.wait_for_timeout(150)
    expect(verdict).to_have_text("regressed", timeout=LIVE_TIMEOUT)
    expect(verdict.locator("[data-verdict]")).to_have_attribute("data-verdict", "regressed")
    pass_delta = page.get_by_test_id("delta-pass-rate")
    expect(pass_delta).to_have_attribute("data-verdict", "regressed")
    expect(pass_delta).to_contain_text(re.compile(r"−\d+\.\d pts"))
    expect(pass_delta).to_contain_text("95% CI")
    expect(page.get_by_test_id("delta-error-rate")).to_be_visible()
    expect(page.get_by_test_id("scenario-delta").first).to_have_attribute(
        "data-verdict", "regressed")
    kinds = page.get_by_test_id("new-failure-kinds")
    expect(kinds.locator("[data-kind=http]")).to_contain_text("HTTP 500", timeout=LIVE_TIMEOUT)
    expect(kinds.locator("[data-kind=http]")).to_contain_text("48")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "compare_regressing.png", full_page=True, animations="disabled")

    kinds.locator("[data-kind=http] a").click()  # an example instance, one click away
    expect(page).to_have_url(re.compile(rf"/runs/{run.run_id}/instances/inst_\d+$"))
    expect(page.get_by_text("failed").first).to_be_visible(timeout=LOAD_TIMEOUT)


def test_a_run_written_like_its_baseline_stays_no_clear_change(app: AppServer, page: Page) -> None:
    run, n = _watch_new_run(app, page, "cmp-like")
    verdict = page.get_by_test_id("compare-verdict")
    for _ in range(8):
        n = _write(run, n, _like_baseline(40))
        expect(page.get_by_test_id("card-instances")).to_contain_text(str(n - 1), timeout=LIVE_TIMEOUT)
        expect(verdict).to_have_text("no clear change")
        expect(page.get_by_test_id("delta-pass-rate")).to_have_attribute("data-verdict", "no clear change")
    expect(page.get_by_test_id("new-failure-kinds")).to_contain_text("None")  # "boom" errors are no news


def test_the_baseline_choice_lives_in_the_url(app: AppServer, page: Page) -> None:
    base = _baseline(app, "cmp-choice")
    run = _writer(app, "cmp-choice", 2)
    _write(run, 1, _like_baseline(10))
    _open(page, app, run.run_id)
    expect(page.get_by_test_id("compare-baseline")).to_have_text(base.run_id, timeout=LIVE_TIMEOUT)

    page.get_by_test_id("compare-select").click()
    page.get_by_role("option", name="No comparison").click()
    expect(page).to_have_url(re.compile(r"\?baseline=none$"))
    expect(page.get_by_test_id("compare-reason")).to_have_text("Comparison is turned off.", timeout=LIVE_TIMEOUT)
    expect(page.get_by_test_id("delta-pass-rate")).to_have_count(0)
    expect(page.get_by_test_id("new-failure-kinds")).to_have_count(0)

    page.reload()  # the URL alone restores the choice, and the view's links keep it
    expect(page.get_by_test_id("compare-reason")).to_have_text("Comparison is turned off.", timeout=LOAD_TIMEOUT)
    page.get_by_test_id("filter-errors").click()
    expect(page).to_have_url(re.compile(r"\?status=error&baseline=none$"))
    expect(page.get_by_test_id("compare-reason")).to_have_text("Comparison is turned off.", timeout=LIVE_TIMEOUT)
    page.get_by_test_id("compare-select").click()
    page.get_by_role("option", name="Default baseline").click()
    expect(page).to_have_url(re.compile(rf"/runs/{run.run_id}\?status=error$"))
    expect(page.get_by_test_id("compare-baseline")).to_have_text(base.run_id, timeout=LIVE_TIMEOUT)

    first = _writer(app, "cmp-lonely", 3)  # a SUT with no earlier run: the page says so plainly
    _write(first, 1, _like_baseline(5))
    _open(page, app, first.run_id)
    expect(page.get_by_test_id("compare-reason")).to_have_text(
        "No complete run with the same SUT and scenarios started before this one.", timeout=LIVE_TIMEOUT)


def test_the_run_list_shows_each_runs_pass_rate_delta_with_its_verdict(app: AppServer, page: Page) -> None:
    base = _baseline(app, "cmp-list")
    like = _writer(app, "cmp-list", 2)
    _write(like, 1, _like_baseline(100))
    like.finalize()
    live = _writer(app, "cmp-list", 3)
    n = _write(live, 1, _like_baseline(20))
    page.goto(app.url("/?q=cmp-list"))
    row = page.locator(f"[data-run-id='{live.run_id}']")
    expect(row.locator(".wt-delta")).to_have_attribute("data-verdict", "no clear change", timeout=LOAD_TIMEOUT)
    expect(page.locator(f"[data-run-id='{like.run_id}'] .wt-delta")).to_have_attribute(
        "data-verdict", "no clear change")
    expect(page.locator(f"[data-run-id='{base.run_id}'] .wt-delta")).to_have_text("—")  # nothing before it
    _write(live, n, ["failed"] * 60)  # the live run's cell follows it
    expect(row.locator(".wt-delta")).to_have_attribute("data-verdict", "regressed", timeout=LIVE_TIMEOUT)
    expect(row.locator(".wt-delta")).to_contain_text(re.compile(r"−\d+\.\d pts"))
    expect(row.locator(".wt-delta")).to_have_attribute("title", re.compile(rf"^vs {like.run_id} "))
