"""The run detail page in real Chromium, fed by a run written line by line while the page is open."""

from __future__ import annotations

import re
import time

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.api.runbuilder import instance, open_run, step
from tests.app_server import ARTIFACTS, AppServer

LOAD_TIMEOUT = 30_000  # first navigation also waits for the socket and first paint on a busy machine
LIVE_TIMEOUT = 10_000


def _count(page: Page, name: str) -> int:
    return int(page.get_by_test_id(f"filter-{name}-count").inner_text())


def _counts_add_up(page: Page) -> bool:
    return _count(page, "all") == _count(page, "passed") + _count(page, "failed") + _count(page, "errors")


def _open(page: Page, app: AppServer, run_id: str, query: str = "") -> None:
    page.goto(app.url(f"/runs/{run_id}{query}"))
    expect(page.get_by_test_id("instance-grid").or_(page.get_by_text("No instances yet."))).to_be_visible(
        timeout=LOAD_TIMEOUT
    )


def test_rows_arrive_live_and_filter_counts_sum_to_all(app: AppServer, page: Page) -> None:
    run = open_run(app.runs_dir, planned=40)
    run.write_batch(instances=[instance(n) for n in range(1, 4)])
    _open(page, app, run.run_id)
    expect(page.get_by_test_id("filter-all-count")).to_have_text("3", timeout=LIVE_TIMEOUT)
    expect(page.get_by_test_id("progress")).to_contain_text("3 / 40 planned")

    statuses = ["passed", "failed", "error", "passed", "failed", "passed"]
    for n, status in enumerate(statuses, start=4):
        run.write_instance(instance(n, status, duration_ms=100.0 * n))
        # each line shows up on its own, newest at the top of page 1, without a reload, highlighted
        top = page.locator("[data-testid=instance-grid] tbody tr").first
        expect(top).to_have_attribute("data-instance", f"inst_{n:05d}", timeout=LIVE_TIMEOUT)
        expect(top).to_have_class(re.compile(r"\bwt-flash\b"))
    expect(page.get_by_test_id("filter-all-count")).to_have_text("9", timeout=LIVE_TIMEOUT)
    assert (_count(page, "passed"), _count(page, "failed"), _count(page, "errors")) == (6, 2, 1)
    assert _counts_add_up(page)
    expect(page.get_by_test_id("card-instances")).to_contain_text("9")
    expect(page.get_by_test_id("card-errors")).to_contain_text("1")
    expect(page.get_by_test_id("card-pass-rate")).to_contain_text("66.7%")

    # the live page is what a user watches: keep a picture of it mid-run
    run.write_batch(instances=[instance(n, "failed" if n % 7 == 0 else "passed") for n in range(10, 60)])
    expect(page.get_by_test_id("filter-all-count")).to_have_text("59", timeout=LIVE_TIMEOUT)
    assert _counts_add_up(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "run_detail_live.png", full_page=True, animations="disabled")
    run.finalize()
    expect(page.locator("[data-status=complete]").first).to_be_visible(timeout=LIVE_TIMEOUT)


def test_a_fast_stream_ends_with_its_newest_rows_on_top(app: AppServer, page: Page) -> None:
    """At the hub's cap rows go out less often than counts; when writing stops, the held rows still show."""
    run = open_run(app.runs_dir)
    run.write_instance(instance(1))
    _open(page, app, run.run_id)
    expect(page.get_by_test_id("filter-all-count")).to_have_text("1", timeout=LIVE_TIMEOUT)
    n = 1
    for _ in range(40):  # ~2 s of back-to-back batches
        run.write_batch(instances=[instance(k, "failed" if k % 9 == 0 else "passed") for k in range(n + 1, n + 51)])
        n += 50
        time.sleep(0.05)
    expect(page.get_by_test_id("filter-all-count")).to_have_text(str(n), timeout=LIVE_TIMEOUT)
    rows = page.locator("[data-testid=instance-grid] tbody tr")
    expect(rows.first).to_have_attribute("data-instance", f"inst_{n:05d}", timeout=LIVE_TIMEOUT)
    expect(rows).to_have_count(50)
    assert [rows.nth(i).get_attribute("data-seq") for i in range(50)] == [str(n - i) for i in range(50)]
    expect(rows.first).not_to_have_class(re.compile(r"\bwt-flash\b"))  # a whole page at once: no flash
    newest_failure = max(k for k in range(1, n + 1) if k % 9 == 0)
    expect(page.get_by_test_id("latest-failures").locator("[data-instance]").first).to_have_attribute(
        "data-instance", f"inst_{newest_failure:05d}"
    )
    assert _counts_add_up(page)


# Records, at each change of the All count, the instance on top of the grid in the same DOM commit.
_COUNT_AND_TOP = """
() => {
  window.__pairs = [];
  const mark = () => {
    const count = document.querySelector('[data-testid=filter-all-count]')?.textContent;
    const top = document.querySelector('[data-testid=instance-grid] tbody tr')?.getAttribute('data-instance');
    const last = window.__pairs[window.__pairs.length - 1];
    if (count && (!last || last[0] !== count)) window.__pairs.push([count, top]);
  };
  new MutationObserver(mark).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def test_at_a_hundred_a_second_rows_come_with_their_counts(app: AppServer, page: Page) -> None:
    """Batches at the hub's cap bring ten rows each, some of them failures: not enough to replace much of
    the grid, so every batch's rows go in its own delta (state/cadence.py) and the newest row is on top
    whenever the count moves. (They used to wait for the 0.4 s row cadence once a batch held 3 failures.)"""
    run = open_run(app.runs_dir)
    run.write_instance(instance(1))
    _open(page, app, run.run_id)
    expect(page.get_by_test_id("filter-all-count")).to_have_text("1", timeout=LIVE_TIMEOUT)
    page.evaluate(_COUNT_AND_TOP)
    statuses = ("passed", "failed", "passed", "error", "passed")  # 4 failures in a batch of 10
    for n in range(2, 302):  # ~100 a second, a line at a time, for ~3 s
        run.write_instance(instance(n, statuses[n % len(statuses)]))
        page.wait_for_timeout(10)
    # what is judged is what each count change brought, not how soon: a starved page may catch up late
    expect(page.get_by_test_id("filter-all-count")).to_have_text("301", timeout=60_000)
    pairs = [(int(count), top) for count, top in page.evaluate("window.__pairs")]
    # A starved server can fall behind and catch up in batches of 15 rows or more, whose rows may wait
    # (state/cadence.py): judged are the count changes that came in batches of fewer.
    ten_a_batch = [(count, top) for (before, _), (count, top) in zip(pairs, pairs[1:], strict=False) if count - before < 15]
    with_their_rows = [count for count, top in ten_a_batch if top == f"inst_{count:05d}"]
    assert len(ten_a_batch) >= 10
    assert len(with_their_rows) >= 0.9 * len(ten_a_batch), f"counts shown without their newest row: {pairs}"
    run.finalize()


def test_charts_draw_the_runs_results_and_latencies(app: AppServer, page: Page) -> None:
    run = open_run(app.runs_dir)
    # one a second: 90 fast passes, then 30 slow failures (the histogram's first and last buckets)
    run.write_batch(instances=[instance(n, duration_ms=100.0) for n in range(1, 91)])
    run.write_batch(instances=[instance(n, "failed", duration_ms=300.0) for n in range(91, 121)])
    run.finalize()
    _open(page, app, run.run_id)

    timeline = page.get_by_test_id("chart-timeline")
    expect(timeline.locator("path.recharts-area-area")).to_have_count(3, timeout=LIVE_TIMEOUT)  # stacked by status
    expect(timeline.locator(".recharts-legend-item")).to_have_count(3)
    box = timeline.locator(".recharts-wrapper > svg").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)  # late in the run: failures
    expect(timeline.locator(".recharts-tooltip-wrapper")).to_contain_text(re.compile(r"Failed : [1-9]"))

    latency = page.get_by_test_id("chart-latency")
    bars = latency.locator("path.recharts-rectangle")
    expect(bars.first).to_be_visible()
    bars.first.hover()
    expect(latency.locator(".recharts-tooltip-wrapper")).to_contain_text("100 ms")
    expect(latency.locator(".recharts-tooltip-wrapper")).to_contain_text("Instances : 90")
    bars.last.hover()
    expect(latency.locator(".recharts-tooltip-wrapper")).to_contain_text("Instances : 30")


def test_filter_sort_page_and_search_live_in_the_url(app: AppServer, page: Page) -> None:
    run = open_run(app.runs_dir)
    run.write_batch(instances=[instance(n, "failed" if n % 5 == 0 else "passed") for n in range(1, 121)])
    run.finalize()
    _open(page, app, run.run_id)
    expect(page.get_by_test_id("filter-all-count")).to_have_text("120", timeout=LIVE_TIMEOUT)

    page.get_by_test_id("filter-failed").click()
    expect(page).to_have_url(re.compile(r"\?status=failed$"))
    expect(page.get_by_test_id("filter-failed")).to_have_attribute("data-active", "true")
    rows = page.locator("[data-testid=instance-grid] tbody tr")
    expect(rows).to_have_count(24, timeout=LIVE_TIMEOUT)
    expect(rows.first).to_have_attribute("data-instance", "inst_00120")

    page.get_by_test_id("filter-all").click()
    expect(rows).to_have_count(50, timeout=LIVE_TIMEOUT)
    page.get_by_test_id("page-next").click()
    expect(page).to_have_url(re.compile(r"\?page=2$"))
    expect(rows.first).to_have_attribute("data-instance", "inst_00070", timeout=LIVE_TIMEOUT)
    expect(page.get_by_test_id("page-info")).to_have_text("Page 2 of 3")

    page.reload()  # the URL alone restores the view
    expect(rows.first).to_have_attribute("data-instance", "inst_00070", timeout=LOAD_TIMEOUT)

    page.get_by_test_id("search").fill("corr_00042")  # correlation ids match case-insensitively
    page.get_by_test_id("search").press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=corr_00042$"))
    expect(rows).to_have_count(1, timeout=LIVE_TIMEOUT)
    expect(rows.first).to_have_attribute("data-instance", "inst_00042")
    expect(page.get_by_test_id("filter-all-count")).to_have_text("1")

    _open(page, app, run.run_id, "?sort=-durationMs")
    expect(page.get_by_role("link", name=re.compile("Duration"))).to_contain_text("↓")


def test_new_results_pill_instead_of_moving_rows_off_page_one(app: AppServer, page: Page) -> None:
    run = open_run(app.runs_dir)
    run.write_batch(instances=[instance(n) for n in range(1, 61)])
    _open(page, app, run.run_id, "?page=2")
    rows = page.locator("[data-testid=instance-grid] tbody tr")
    expect(rows.first).to_have_attribute("data-instance", "inst_00010", timeout=LIVE_TIMEOUT)

    run.write_batch(instances=[instance(n) for n in range(61, 64)])
    expect(page.get_by_test_id("new-results")).to_have_text(re.compile("3 new results"), timeout=LIVE_TIMEOUT)
    expect(rows.first).to_have_attribute("data-instance", "inst_00010")  # nothing moved under the reader

    page.get_by_test_id("new-results").click()
    expect(rows.first).to_have_attribute("data-instance", "inst_00063", timeout=LIVE_TIMEOUT)
    expect(page.get_by_test_id("new-results")).to_have_count(0)


def test_pause_keeps_rows_still_and_counts_what_arrived(app: AppServer, page: Page) -> None:
    run = open_run(app.runs_dir)
    run.write_batch(instances=[instance(n) for n in range(1, 6)])
    _open(page, app, run.run_id)
    rows = page.locator("[data-testid=instance-grid] tbody tr")
    expect(rows.first).to_have_attribute("data-instance", "inst_00005", timeout=LIVE_TIMEOUT)

    page.get_by_test_id("pause").click()
    expect(page.get_by_test_id("pause")).to_have_attribute("data-state", "checked")
    for n in range(6, 9):
        run.write_instance(instance(n))
    expect(page.get_by_test_id("new-results")).to_have_text(re.compile("3 new results"), timeout=LIVE_TIMEOUT)
    expect(page.get_by_test_id("filter-all-count")).to_have_text("8")  # counts stay live
    expect(rows.first).to_have_attribute("data-instance", "inst_00005")  # rows do not

    page.get_by_test_id("pause").click()  # resume: the view reloads with what arrived
    expect(rows.first).to_have_attribute("data-instance", "inst_00008", timeout=LIVE_TIMEOUT)
    expect(page.get_by_test_id("new-results")).to_have_count(0)


def test_clicking_a_live_failure_opens_the_instance(app: AppServer, page: Page) -> None:
    run = open_run(app.runs_dir)
    run.write_batch(instances=[instance(n) for n in range(1, 6)])
    _open(page, app, run.run_id)
    failures = page.get_by_test_id("latest-failures")
    expect(failures).to_contain_text("No failures so far.", timeout=LIVE_TIMEOUT)

    bad = instance(6, "error")
    run.write_batch(steps=[step(bad, 0, ok=False)], instances=[bad])
    link = failures.locator("[data-instance=inst_00006]")
    expect(link).to_be_visible(timeout=LIVE_TIMEOUT)
    link.click()
    expect(page).to_have_url(re.compile(rf"/runs/{run.run_id}/instances/inst_00006$"))
    expect(page.get_by_test_id("step")).to_have_count(1, timeout=LOAD_TIMEOUT)


def test_unreadable_lines_warning_shows_their_count(app: AppServer, page: Page) -> None:
    run = open_run(app.runs_dir)
    run.write_batch(instances=[instance(1)])
    _open(page, app, run.run_id)
    expect(page.get_by_test_id("unreadable-warning")).to_have_count(0)
    with open(run.dir / "instances.jsonl", "ab") as f:
        f.write(b"{not json\n\xff\xfe\n[1, 2]\n")
    run.write_batch(instances=[instance(2)])
    expect(page.get_by_test_id("unreadable-warning")).to_contain_text("3 unreadable line", timeout=LIVE_TIMEOUT)
    expect(page.get_by_test_id("filter-all-count")).to_have_text("2")


def test_html_in_files_renders_as_text(app: AppServer, page: Page) -> None:
    run = open_run(app.runs_dir, scenarios=("<b>bold</b>",))
    hostile = instance(1, "error", scenario="<img src=x onerror=alert(1)>")
    run.write_batch(instances=[hostile])
    _open(page, app, run.run_id)
    expect(page.get_by_text("<img src=x onerror=alert(1)>").first).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(page.get_by_text("<b>bold</b>").first).to_be_visible()
    assert page.locator("img[src=x]").count() == 0


def _live_subscribers(app: AppServer) -> int:
    return httpx.get(app.url("/api/health"), timeout=5).json()["liveSubscribers"]


def _wait_for_subscribers(app: AppServer, want: int, deadline_s: float) -> int:
    deadline = time.monotonic() + deadline_s
    seen = _live_subscribers(app)
    while seen != want and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = _live_subscribers(app)
    return seen


def test_closing_twenty_pages_releases_their_subscriptions(app: AppServer, browser: Browser) -> None:
    run = open_run(app.runs_dir)
    run.write_batch(instances=[instance(n) for n in range(1, 11)])
    assert _wait_for_subscribers(app, 0, 10) == 0
    context = browser.new_context()
    pages = []
    for _ in range(20):
        p = context.new_page()
        p.goto(app.url(f"/runs/{run.run_id}"))
        pages.append(p)
    for p in pages:
        expect(p.get_by_test_id("filter-all-count")).to_have_text("10", timeout=LOAD_TIMEOUT)
    assert _wait_for_subscribers(app, 20, 10) == 20
    closed_at = time.monotonic()
    for p in pages:
        p.close()
    assert _wait_for_subscribers(app, 0, 20) == 0, "live subscriptions outlived their tabs"
    print(f"20 tabs closed: subscribers back to 0 after {time.monotonic() - closed_at:.2f} s")
    context.close()


def test_navigating_away_ends_the_subscription(app: AppServer, page: Page) -> None:
    run = open_run(app.runs_dir)
    run.write_batch(instances=[instance(1, "failed")])
    assert _wait_for_subscribers(app, 0, 10) == 0
    _open(page, app, run.run_id)
    assert _wait_for_subscribers(app, 1, 10) == 1
    page.get_by_role("link", name="inst_00001").first.click()  # client-side navigation, the tab stays open
    expect(page).to_have_url(re.compile(r"/instances/inst_00001$"))
    assert _wait_for_subscribers(app, 0, 20) == 0
