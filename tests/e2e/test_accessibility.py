"""WCAG 2 A/AA by axe-core (pinned npm package, installed by `make setup`) on every page, light and dark,
with a run streaming.

axe-core is the accessibility engine from npm, not ours: the test injects it into the real page and fails
on any violation it reports, naming the rule and the elements.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.api.runbuilder import instance, open_run
from tests.app_server import ARTIFACTS, ROOT, AppServer

AXE = ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LOAD_TIMEOUT = 30_000


def _violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
        WCAG_AA,
    )
    return [
        {"rule": v["id"], "impact": v["impact"], "nodes": [(n["target"], n.get("failureSummary", "")[:160]) for n in v["nodes"]][:8]} for v in result
    ]


@pytest.fixture(params=["light", "dark"])
def scheme_page(browser: Browser, request: pytest.FixtureRequest):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=request.param)
    page = context.new_page()
    yield page
    context.close()


def test_every_page_has_no_wcag_violations_while_a_run_streams(app: AppServer, scheme_page: Page) -> None:
    page = scheme_page
    run = open_run(app.runs_dir, planned=100)
    run.write_batch(instances=[instance(n, ("passed", "failed", "error")[n % 3]) for n in range(1, 30)])
    found = {}
    page.goto(app.url("/"))
    expect(page.locator(f"[data-run-id='{run.run_id}']").first).to_be_visible(timeout=LOAD_TIMEOUT)
    found["run list"] = _violations(page)
    page.goto(app.url(f"/runs/{run.run_id}"))
    expect(page.get_by_test_id("instance-grid")).to_be_visible(timeout=LOAD_TIMEOUT)
    run.write_batch(instances=[instance(n) for n in range(30, 35)])
    expect(page.get_by_test_id("filter-all-count")).to_have_text("34", timeout=LOAD_TIMEOUT)
    found["run detail"] = _violations(page)
    page.goto(app.url(f"/runs/{run.run_id}/instances/inst_00003"))
    expect(page.get_by_text("inst_00003").first).to_be_visible(timeout=LOAD_TIMEOUT)
    found["instance"] = _violations(page)
    bad = {name: v for name, v in found.items() if v}
    assert not bad, json.dumps(bad, indent=1)


def test_narrow_screens_keep_every_card_number_whole_and_scroll_the_grid_sideways(
    app: AppServer, browser: Browser
) -> None:
    """At 390 px (a phone) no card clips its text; the grid keeps its columns and scrolls inside its box."""
    run = open_run(app.runs_dir, planned=1000)
    run.write_batch(instances=[instance(n, "failed" if n % 5 == 0 else "passed", duration_ms=1234.5 * n) for n in range(1, 40)])
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(app.url(f"/runs/{run.run_id}"))
        expect(page.get_by_test_id("filter-all-count")).to_have_text("39", timeout=LOAD_TIMEOUT)
        clipped = page.evaluate(
            """() => [...document.querySelectorAll('.wt-summary-card, .wt-tabs')].flatMap(box => {
                 const edge = box.getBoundingClientRect();
                 return [...box.querySelectorAll('*')]
                   .filter(e => e.children.length === 0 && e.textContent.trim())
                   .filter(e => { const r = e.getBoundingClientRect();
                                  return r.right > Math.min(edge.right, innerWidth) + 1 || r.left < edge.left - 1
                                         || e.scrollWidth > e.clientWidth + 1; })
                   .map(e => e.textContent.trim());
               })"""
        )
        assert clipped == [], f"card or filter text cut off at 390 px: {clipped}"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page itself scrolls sideways"
        scroller = page.locator(".wt-instance-scroll")
        assert scroller.evaluate("e => e.scrollWidth > e.clientWidth"), "the grid should scroll inside its box"
        page.screenshot(path=ARTIFACTS / "run_detail_390px.png", full_page=True, animations="disabled")
    finally:
        context.close()


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches `selector` (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus after {limit} Tabs")


def test_the_detail_page_works_from_the_keyboard_alone(app: AppServer, page: Page) -> None:
    """'/' focuses the search; Tab and Enter filter to Failed, open the first failure, and come back."""
    run = open_run(app.runs_dir)
    run.write_batch(instances=[instance(n, "failed" if n in (4, 7) else "passed") for n in range(1, 12)])
    page.goto(app.url(f"/runs/{run.run_id}"))
    expect(page.get_by_test_id("filter-all-count")).to_have_text("11", timeout=LOAD_TIMEOUT)

    page.keyboard.press("/")
    expect(page.locator("#instances-search")).to_be_focused()
    expect(page.locator("#instances-search")).to_have_value("")  # the slash itself is not typed
    page.keyboard.press("Escape")
    page.locator("body").focus()

    _tab_to(page, "[data-testid=filter-failed]")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused filter shows no focus ring"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"status=failed"), timeout=LOAD_TIMEOUT)
    expect(page.locator("[data-testid=instance-grid] tbody tr")).to_have_count(2, timeout=LOAD_TIMEOUT)

    _tab_to(page, ".wt-rowlink")
    assert page.evaluate("document.activeElement.textContent") == "inst_00007"  # newest failure first
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/instances/inst_00007$"), timeout=LOAD_TIMEOUT)

    _tab_to(page, f"a[href='/runs/{run.run_id}']")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/runs/{run.run_id}$"), timeout=LOAD_TIMEOUT)
    expect(page.get_by_test_id("filter-all-count")).to_have_text("11", timeout=LOAD_TIMEOUT)

    page.goto(app.url("/"))  # the run list's search answers to '/' too
    expect(page.locator(f"[data-run-id='{run.run_id}']").first).to_be_visible(timeout=LOAD_TIMEOUT)
    page.keyboard.press("/")
    expect(page.locator("#runs-search")).to_be_focused()


def test_reduced_motion_stills_the_row_highlight_and_the_live_dot(app: AppServer, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    page = context.new_page()
    try:
        run = open_run(app.runs_dir)
        run.write_instance(instance(1))
        page.goto(app.url(f"/runs/{run.run_id}"))
        expect(page.get_by_test_id("filter-all-count")).to_have_text("1", timeout=LOAD_TIMEOUT)
        run.write_instance(instance(2))
        fresh = page.locator("tr.wt-flash")
        expect(fresh).to_have_count(1, timeout=LOAD_TIMEOUT)
        assert fresh.evaluate("e => getComputedStyle(e).animationName") == "none"
        dot = page.locator(".wt-live-dot").first
        assert dot.evaluate("e => getComputedStyle(e, '::after').animationName") == "none"
    finally:
        context.close()



def test_the_offline_pill_passes_too(app: AppServer, page: Page) -> None:
    """While the socket is down the header shows the offline state; it must pass the same rules."""
    run = open_run(app.runs_dir)
    run.write_instance(instance(1))
    page.goto(app.url(f"/runs/{run.run_id}"))
    expect(page.get_by_test_id("filter-all-count")).to_have_text("1", timeout=LOAD_TIMEOUT)
    page.context.set_offline(True)
    try:
        expect(page.locator("[data-connection=offline]").first).to_be_visible(timeout=LOAD_TIMEOUT)
        assert _violations(page) == []
    finally:
        page.context.set_offline(False)


def test_live_regions_say_the_summary_and_the_connection_politely(app: AppServer, page: Page) -> None:
    """A screen reader hears the run's summary (rewritten at most every few seconds, not per batch)
    and the connection's state, from polite live regions."""
    run = open_run(app.runs_dir, planned=10)
    run.write_batch(instances=[instance(n, "failed" if n == 2 else "passed") for n in range(1, 5)])
    page.goto(app.url(f"/runs/{run.run_id}"))
    summary = page.locator("[role=status][aria-live=polite]").filter(has_text="instances")
    expect(summary).to_have_text("Failing: 75.0% passed, 4 of 10 instances, 1 failed, 0 errors.", timeout=LOAD_TIMEOUT)
    expect(page.locator(".wt-sr-only[role=status]").filter(has_text="Connected")).to_have_count(1)
