"""The run list's "Start demo run" button: there only with DEMO on, and what it starts is the app's demo
keeper's run, in the data directory's demo folder, live on the list.

Each case gets a fresh server with an empty list (the button sits in the list's empty state).
With DEMO on the keeper would start a run by itself at once; a runner at work keeps it waiting:
a directory whose steps.jsonl was just written counts as one (demo.has_running_run) but is no run
yet (no manifest, no instances.jsonl), so the list stays empty until the button is pressed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.app_server import ARTIFACTS, running_app

LOAD_TIMEOUT = 30_000
DEMO_TIMEOUT = 30_000


@contextmanager
def runner_at_work(runs_dir: Path) -> Iterator[None]:
    """A runner appending steps.jsonl every second, before its manifest (so: no run to list yet)."""
    steps = runs_dir / "run_starting_up" / "steps.jsonl"
    steps.parent.mkdir(parents=True)
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            with steps.open("a") as out:
                out.write("\n")
            stop.wait(1.0)

    writer = threading.Thread(target=work)
    writer.start()
    try:
        yield
    finally:
        stop.set()
        writer.join()


def test_no_button_with_demo_off(tmp_path: Path, page: Page) -> None:
    with running_app(tmp_path, name="extra", DEMO="0") as app:
        page.goto(app.url("/"))
        expect(page.get_by_text("No runs yet")).to_be_visible(timeout=LOAD_TIMEOUT)
        expect(page.locator("#start-demo")).to_have_count(0)


def test_the_button_starts_a_demo_run_in_the_data_dir(tmp_path: Path, page: Page) -> None:
    runs_dir = tmp_path / "runs"
    with runner_at_work(runs_dir), running_app(tmp_path, name="extra", DEMO="1") as app:
        page.goto(app.url("/"))
        button = page.locator("#start-demo")
        expect(button).to_be_visible(timeout=LOAD_TIMEOUT)
        demo_runs = app.data_dir / "demo-runs"
        assert not list(demo_runs.iterdir())  # the keeper waited for the runner at work
        button.click()
        row = page.get_by_role("row", name=re.compile(r"run_\d{8}_\d{6}_"))
        expect(row).to_be_visible(timeout=DEMO_TIMEOUT)
        [demo_run] = list(demo_runs.iterdir())
        expect(row).to_contain_text(demo_run.name)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "demo_started_by_button.png")
    assert sorted(p.name for p in runs_dir.iterdir()) == ["run_starting_up"]
