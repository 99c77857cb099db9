"""WCAG 2 A/AA by axe-core (pinned npm package, installed by `make setup`) on every page, light and dark,
with a run streaming.

axe-core is the accessibility engine from npm, not ours: the test injects it into the real page and fails
on any violation it reports, naming the rule and the elements.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.api.runbuilder import instance, open_run
from tests.app_server import ROOT, AppServer

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
