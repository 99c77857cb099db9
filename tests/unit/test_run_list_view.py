"""The run list's view model: URL → query coercion, links, and rows preformatted for display."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

from windtunnel_dash.catalog.rows import RunRow, Stats
from windtunnel_dash.components.live import relative_time, ticking_duration
from windtunnel_dash.format import format_duration, pass_rate_tone
from windtunnel_dash.state.run_list import MAX_ROWS, PAGE_SIZE, ListQuery, live_cells, to_list_row


def _run(status: str = "complete", *, total: int = 40, passed: int = 38, planned: int | None = 50) -> RunRow:
    rate = round(100 * passed / total, 1) if total else 0.0
    return RunRow(
        run_id="run a/b#1",
        sut_name="<b>shop</b>",
        scenario_ids=["login", "checkout", "search", "pay"],
        started_at="2026-11-26T15:16:13.123456",
        completed_at=None,
        status=status,
        planned=planned,
        stats=Stats(total=total, passed=passed, failed=total - passed, pass_rate=rate, planned=planned),
        duration_ms=67_000.0,
    )


def test_query_from_url_coerces_bad_values_to_defaults() -> None:
    assert ListQuery.from_params({}) == ListQuery()
    assert ListQuery.from_params({"sort": "DROP TABLE", "limit": "lots"}) == ListQuery()
    assert ListQuery.from_params({"limit": "5"}).limit == PAGE_SIZE
    assert ListQuery.from_params({"limit": "99999"}).limit == MAX_ROWS
    assert ListQuery.from_params({"sort": "passRate", "q": "shop", "limit": "300"}) == ListQuery("passRate", "shop", 300)


def test_href_keeps_only_what_differs_from_the_default_and_round_trips() -> None:
    assert ListQuery().href() == "/"
    link = ListQuery().href(sort="-passRate", q="a&b c")
    assert link == "/?sort=-passRate&q=a%26b+c"
    assert ListQuery.from_params(dict(parse_qsl(urlsplit(link).query))) == ListQuery("-passRate", "a&b c")


def test_settled_row_is_preformatted_and_links_to_an_encoded_detail_url() -> None:
    row = to_list_row(_run())
    assert row.href == "/runs/run%20a%2Fb%231"
    assert row.sut == "<b>shop</b>"  # text; the page renders it as text, never as HTML
    assert (row.scenarios, row.scenarios_title) == ("login, checkout +2", "login, checkout, search, pay")
    assert row.started_ms == 1_795_706_173_123  # 2026-11-26T15:16:13.123Z
    assert not row.active and row.duration == "1m 07s"
    assert row.cells.instances == "40 / 50" and not row.cells.show_progress
    assert (row.cells.pass_rate, row.cells.pass_rate_tone) == ("95.0%", "good")


def test_unreadable_start_time_is_zero_so_the_page_shows_a_dash() -> None:
    assert to_list_row(replace(_run(), started_at="not a time")).started_ms == 0
    assert to_list_row(replace(_run(), started_at=None)).started_ms == 0


def test_moments_ship_with_the_page_rather_than_client_only() -> None:
    """rx.moment imports react-moment per instance after mounting and renders twice: 100 rows, 100 imports."""
    for moment in (relative_time(1_795_706_173_123), ticking_duration(1_795_706_173_123)):
        assert moment._get_all_dynamic_imports() == set()
        assert any(var.tag == "Moment" for var in moment._get_all_imports()["react-moment@2.0.2"])


def test_active_row_leaves_its_changing_cells_to_the_live_substate() -> None:
    run = _run("running", total=1234, passed=1000, planned=5000)
    row = to_list_row(run)
    assert row.active and row.cells.instances == ""
    cells = live_cells(run)
    assert cells.instances == "1,234 / 5,000"
    assert cells.show_progress and cells.progress_pct == 100 * 1234 / 5000
    assert (cells.pass_rate, cells.pass_rate_tone) == ("81.0%", "warn")


def test_no_results_yet_shows_a_dash_not_zero_percent() -> None:
    cells = live_cells(_run("running", total=0, passed=0, planned=None))
    assert (cells.instances, cells.pass_rate, cells.pass_rate_tone) == ("0", "—", "none")
    assert not cells.show_progress


def test_tone_boundaries_and_duration_format() -> None:
    assert [pass_rate_tone(r, 1) for r in (100.0, 95.0, 94.9, 80.0, 79.9)] == ["good", "good", "warn", "warn", "bad"]
    assert [format_duration(ms) for ms in (None, 999, 3_000, 67_000, 3_723_000)] == ["—", "0s", "3s", "1m 07s", "1h 02m 03s"]
