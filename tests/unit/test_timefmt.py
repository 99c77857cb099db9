"""Times as text: one writer (ISO-8601 UTC with a Z) and one reader for every module."""

from datetime import UTC, datetime, timedelta, timezone

from windtunnel_dash.format import browser_time
from windtunnel_dash.timefmt import epoch_ms, parse_utc, utc_iso

MOMENT = datetime(2026, 11, 26, 15, 16, 13, 123456, tzinfo=UTC)


def test_written_in_utc_with_a_z_naive_meaning_utc():
    assert utc_iso(MOMENT) == "2026-11-26T15:16:13.123456Z"
    assert utc_iso(MOMENT.astimezone(timezone(timedelta(hours=2)))) == "2026-11-26T15:16:13.123456Z"
    assert utc_iso(MOMENT.replace(tzinfo=None), "milliseconds") == "2026-11-26T15:16:13.123Z"
    assert utc_iso(None) == ""


def test_read_back_as_aware_utc_or_none():
    assert parse_utc(utc_iso(MOMENT)) == MOMENT
    assert parse_utc("2026-11-26T17:16:13.123456+02:00") == MOMENT
    assert parse_utc("2026-11-26T15:16:13.123456") == MOMENT  # naive stamps mean UTC
    assert [parse_utc(v) for v in (None, "", "yesterday")] == [None, None, None]
    assert epoch_ms(parse_utc("1970-01-01T00:00:01.5Z")) == 1500 and epoch_ms(None) == 0


def test_pages_get_milliseconds():
    assert browser_time(" 2026-11-26T17:16:13.123456+02:00") == "2026-11-26T15:16:13.123Z"
    assert browser_time("not a time") == ""
