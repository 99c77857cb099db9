"""Refresh docs/screenshot.png (the README's picture): a live demo run's detail page, mid-run, in Chromium.

Starts the real app with the test harness, so the picture shows exactly what `make run` serves.
Usage: .venv/bin/python scripts/readme_screenshot.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.app_server import launch_chromium, running_app  # noqa: E402
from windtunnel_dash.demo import DEMO_FLAGS  # noqa: E402

OUT = ROOT / "docs" / "screenshot.png"
SHOWN_INSTANCES = 300  # enough for full charts, early enough that the run is still live


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp)) as app:
        run_id = app.simulate(wait=False, **{**DEMO_FLAGS, "rate": 60})
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(app.url(f"/runs/{run_id}"))
            expect(page.get_by_text(run_id).first).to_be_visible(timeout=30_000)
            page.wait_for_function(  # the header's "N / 2000 planned"
                "n => { const m = document.body.innerText.match(/(\\d+) \\/ \\d+ planned/); return m && +m[1] >= n; }",
                arg=SHOWN_INSTANCES,
                timeout=60_000,
            )
            OUT.parent.mkdir(exist_ok=True)
            page.screenshot(path=OUT, timeout=120_000, animations="disabled")  # no half-faded row highlights
            browser.close()
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
