"""The home page in real Chromium: the run list renders, and a run the simulator writes shows up live."""

from playwright.sync_api import Page, expect

from tests.app_server import AppServer


def test_home_shows_runs_heading_and_a_simulated_run_appears(app: AppServer, page: Page) -> None:
    page.goto(app.url("/"))
    expect(page.get_by_role("heading", name="Runs", exact=True)).to_be_visible(timeout=30_000)

    # Written after the page loaded: it must arrive over the page's live connection, with no reload.
    run_id = app.simulate(instances=40, rate=400, fail_rate=0.1, seed=11)

    expect(page.get_by_text(run_id, exact=True).first).to_be_visible(timeout=20_000)
