"""The run page's Export button downloads the view on screen, and its tab title follows a live run."""

from __future__ import annotations

import csv
import io
import json

import httpx
from playwright.sync_api import Page, expect

from tests.api.runbuilder import instance, open_run
from tests.app_server import ARTIFACTS, AppServer

LOAD_TIMEOUT = 30_000
LIVE_TIMEOUT = 10_000


def _view_ids(app: AppServer, run_id: str, **params: str) -> list[str]:
    """The instances endpoint's answer for the view, every page of it: what the export must hold."""
    body = httpx.get(app.url(f"/api/runs/{run_id}/instances"), params={**params, "limit": 500}).json()
    assert body["total"] <= 500
    return [item["instanceId"] for item in body["items"]]


def test_export_downloads_the_view_on_screen(app: AppServer, page: Page) -> None:
    run = open_run(app.runs_dir, planned=80)
    run.write_batch(instances=[instance(n, ("passed", "failed", "error")[n % 3], float(n % 17)) for n in range(1, 61)])
    page.goto(app.url(f"/runs/{run.run_id}?status=failed&sort=durationMs&q=inst_000"))
    expect(page.get_by_test_id("filter-failed-count")).to_have_text("20", timeout=LOAD_TIMEOUT)
    expected = _view_ids(app, run.run_id, status="failed", sort="durationMs", q="inst_000")
    assert len(expected) == 20  # n % 3 == 1 among 1..60, all matching the search

    with page.expect_download() as csv_download:
        page.get_by_test_id("export-csv").click()
    assert csv_download.value.suggested_filename == f"{run.run_id}-instances.csv"
    rows = list(csv.DictReader(io.StringIO(open(csv_download.value.path(), encoding="utf-8").read(), newline="")))
    assert [r["instanceId"] for r in rows] == expected
    assert {r["status"] for r in rows} == {"failed"}

    with page.expect_download() as jsonl_download:
        page.get_by_test_id("export-jsonl").click()
    lines = open(jsonl_download.value.path(), encoding="utf-8").read().splitlines()
    assert [json.loads(line)["instanceId"] for line in lines] == expected
    ARTIFACTS.mkdir(exist_ok=True)
    page.get_by_test_id("export-csv").hover()
    page.screenshot(path=ARTIFACTS / "export_buttons.png")


def test_the_tab_title_follows_a_live_run(app: AppServer, page: Page) -> None:
    run = open_run(app.runs_dir, planned=2000)
    run.write_batch(instances=[instance(n, "failed" if n % 16 == 0 else "passed") for n in range(1, 1235)])
    page.goto(app.url(f"/runs/{run.run_id}"))
    passed = sum(1 for n in range(1, 1235) if n % 16)
    expect(page).to_have_title(f"{100 * passed / 1234:.1f}% · 1,234/2,000 · {run.run_id}", timeout=LOAD_TIMEOUT)
    run.write_batch(instances=[instance(n) for n in range(1235, 1301)])
    expect(page).to_have_title(f"{100 * (passed + 66) / 1300:.1f}% · 1,300/2,000 · {run.run_id}", timeout=LIVE_TIMEOUT)
    run.finalize()
    expect(page).to_have_title(f"{run.run_id} · windtunnel", timeout=LIVE_TIMEOUT)
