"""Refresh the README's pictures: a live demo run's detail page mid-run (docs/screenshot.png), and a run
regressing against its baseline while it streams (docs/compare.png), in Chromium.

Starts the real app with the test harness, so the pictures show exactly what `make run` serves.
Usage: .venv/bin/python scripts/readme_screenshot.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, expect, sync_playwright  # noqa: E402

from tests.app_server import AppServer, launch_chromium, running_app  # noqa: E402
from windtunnel_dash.demo import DEMO_FLAGS  # noqa: E402

OUT = ROOT / "docs" / "screenshot.png"
COMPARE_OUT = ROOT / "docs" / "compare.png"
SHOWN_INSTANCES = 300  # enough for full charts, early enough that the run is still live


def _live_run_page(app: AppServer, browser: Browser, run_id: str, out: Path, ready: str = "",
                   full_page: bool = False) -> None:
    """The run's page once SHOWN_INSTANCES are in (and `ready`, a selector, is visible), as `out`."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(app.url(f"/runs/{run_id}"))
    expect(page.get_by_text(run_id).first).to_be_visible(timeout=30_000)
    page.wait_for_function(  # the header's "N / 2000 planned"
        "n => { const m = document.body.innerText.match(/(\\d+) \\/ \\d+ planned/); return m && +m[1] >= n; }",
        arg=SHOWN_INSTANCES,
        timeout=60_000,
    )
    if ready:
        expect(page.locator(ready)).to_be_visible(timeout=30_000)
    out.parent.mkdir(exist_ok=True)
    page.screenshot(path=out, timeout=120_000, animations="disabled", full_page=full_page)  # no half-faded highlights
    page.close()
    print(f"wrote {out.relative_to(ROOT)}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp)) as app:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            app.simulate(**{**DEMO_FLAGS, "instances": 1500, "rate": 3000})  # complete: the next runs' baseline
            regressing = app.simulate(wait=False, **{**DEMO_FLAGS, "rate": 60, "fail_rate": 0.2, "error_rate": 0.04})
            _live_run_page(app, browser, regressing, COMPARE_OUT,
                           ready="[data-testid=compare-verdict] [data-verdict=regressed]", full_page=True)
            _live_run_page(app, browser, app.simulate(wait=False, **{**DEMO_FLAGS, "rate": 60}), OUT)
            browser.close()


if __name__ == "__main__":
    main()
