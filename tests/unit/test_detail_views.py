"""The run detail page's pure pieces: URL scheme, live merge, filtering, formatting."""

from windtunnel_dash.catalog.rows import (
    InstanceRow,
    LatencyBucket,
    RunRow,
    Stats,
    TimelineBucket,
)
from windtunnel_dash.format import format_duration
from windtunnel_dash.state.detail_views import (
    LatencyPoint,
    TimelinePoint,
    View,
    count_fields,
    few_enough_to_flash,
    instance_view,
    latency_points,
    matches_query,
    prepend_newest,
    summary_announcement,
    timeline_points,
    view_links,
)


def _row(seq: int, status: str = "passed", cid: str | None = None) -> InstanceRow:
    return InstanceRow(
        seq=seq,
        instance_id=f"inst_{seq:04d}",
        correlation_id=cid if cid is not None else f"corr_{seq:04d}",
        scenario_id="checkout",
        passed=status == "passed",
        duration_ms=100.0 + seq,
        status=status,
        error="boom" if status == "error" else None,
        completed_at=None,
    )


def test_view_from_query_rejects_unknown_values():
    v = View.from_query({"status": "weird", "sort": "drop table", "page": "-3", "q": "  abc "})
    assert v == View(status="", sort="-seq", page=1, q="abc")
    assert View.from_query({"page": "x"}).page == 1
    assert View.from_query({"status": "error", "sort": "durationMs", "page": "4"}) == View("error", "durationMs", 4, "")


def test_href_round_trips_through_from_query():
    from urllib.parse import parse_qsl, urlsplit

    v = View(status="failed", sort="-durationMs", page=3, q="a b&c")
    href = v.href("run 1/x")
    parts = urlsplit(href)
    assert parts.path == "/runs/run%201%2Fx"
    assert View.from_query(dict(parse_qsl(parts.query))) == v
    assert View().href("r1") == "/runs/r1"  # defaults stay out of the URL


def test_links_reset_page_when_filter_or_sort_changes():
    links = view_links("r1", View(status="passed", sort="seq", page=5))
    assert links.failed == "/runs/r1?status=failed&sort=seq"
    assert links.all == "/runs/r1?sort=seq"
    assert links.prev == "/runs/r1?status=passed&sort=seq&page=4"
    assert links.next == "/runs/r1?status=passed&sort=seq&page=6"
    assert links.head == "/runs/r1?status=passed"
    assert links.sort_seq == "/runs/r1?status=passed"  # seq -> -seq (default)
    assert view_links("r1", View()).sort_duration == "/runs/r1?sort=-durationMs"


def test_only_page_one_newest_first_is_live_head():
    assert View().is_live_head
    assert not View(page=2).is_live_head
    assert not View(sort="durationMs").is_live_head
    assert View(status="failed", q="x").is_live_head


def test_matches_uses_status_and_case_insensitive_ids():
    row = _row(7, "failed", cid="Corr_ABC")
    assert View(status="failed").matches(row)
    assert not View(status="passed").matches(row)
    assert matches_query(row, "abc") and matches_query(row, "INST_0007")
    assert not matches_query(row, "zzz")
    assert matches_query(_row(1, cid=""), "")


def test_prepend_newest_orders_dedupes_and_caps():
    current = [instance_view("r", _row(s)) for s in (5, 4, 3)]
    incoming = [instance_view("r", _row(s), flash=True) for s in (4, 5, 6, 7, 8)]
    rows, added = prepend_newest(current, incoming, limit=5)
    assert [r.seq for r in rows] == [8, 7, 6, 5, 4]
    assert added == 3
    assert rows[0].flash and not rows[3].flash


def test_instance_view_links_and_formats():
    v = instance_view("run/1", _row(12, "error"))
    assert v.href == "/runs/run%2F1/instances/inst_0012"
    assert v.duration == "112 ms" and v.status == "error" and v.error == "boom"


def test_latencies_read_below_a_second_then_as_durations():
    latency = [format_duration(ms, sub_second=True) for ms in (None, -1, 12.4, 1234, 125_000, 3_726_000)]
    assert latency == ["—", "—", "12 ms", "1.23 s", "2m 05s", "1h 02m 06s"]


def test_chart_points_are_the_buckets_with_display_labels():
    buckets = [TimelineBucket("2026-11-26T12:00:00Z", 5, 1, 0), TimelineBucket("2026-11-26T12:00:30.500000Z", 3, 0, 2)]
    assert timeline_points(buckets) == [TimelinePoint("12:00:00", 5, 1, 0), TimelinePoint("12:00:30", 3, 0, 2)]
    assert latency_points([LatencyBucket(12.4, 80.0, 7), LatencyBucket(1500.0, 1600.0, 1)]) == [
        LatencyPoint("12 ms", 7),
        LatencyPoint("1.50 s", 1),
    ]
    assert timeline_points([]) == [] and latency_points([]) == []


def test_sub_second_buckets_are_labelled_with_tenths():
    starts = ["2026-11-26T12:00:00Z", "2026-11-26T12:00:00.250000Z", "2026-11-26T12:00:00.500000Z"]
    points = timeline_points([TimelineBucket(t, 1, 0, 0) for t in starts])
    assert [p.t for p in points] == ["12:00:00.0", "12:00:00.2", "12:00:00.5"]


def test_count_fields_add_up_and_page_the_filtered_set():
    s = Stats(total=120, passed=100, failed=15, errors=5, pass_rate=100 / 120, planned=240, p50_ms=12.0)
    shown = count_fields(s, View(), "r1", 240)
    assert shown["all_count"] == shown["passed"] + shown["failed"] + shown["errors"] == 120
    assert (shown["page_count"], shown["href_last"]) == (3, "/runs/r1?page=3")
    assert (shown["progress_pct"], shown["p50"], shown["p95"]) == (50, "12 ms", "—")
    failed = count_fields(s, View(status="failed", page=2), "r1", 0)
    assert (failed["page_count"], failed["href_last"], failed["progress_pct"]) == (1, "/runs/r1?status=failed", 0)
    assert count_fields(Stats(), View(), "r1", 10)["page_count"] == 1  # an empty run still has its page 1


def test_only_a_few_new_rows_flash():
    assert few_enough_to_flash(1, 50) and few_enough_to_flash(10, 50)
    assert not few_enough_to_flash(11, 50) and not few_enough_to_flash(500, 50)
    assert few_enough_to_flash(2, 10) and not few_enough_to_flash(3, 10)
    assert few_enough_to_flash(1, 3)  # a short list still flashes a single newcomer


def test_the_live_summary_reads_as_one_sentence() -> None:
    run = RunRow("r", "sut", [], None, None, "failing", 2000, Stats(1234, 1160, 60, 14, 94.0))
    assert summary_announcement(run) == "Failing: 94.0% passed, 1,234 of 2,000 instances, 60 failed, 14 errors."
    empty = RunRow("r", "sut", [], None, None, "running", None, Stats())
    assert summary_announcement(empty) == "Running: no results yet."
