"""The one way times are written and read as text: ISO-8601 in UTC with a Z (docs/design.md §2).

Plain Python with no imports from the project, so the artifact writer, the catalog and the pages can
all use it.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(moment: datetime | None, timespec: str = "microseconds") -> str:
    """'2026-11-26T15:16:13.123456Z' (microseconds, as the turbulence runner writes it; the pages use
    "milliseconds", which every browser's Date parses); '' for None. A naive moment is taken as UTC."""
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec=timespec) + "Z"


def parse_utc(value: str | None) -> datetime | None:
    """An ISO-8601 time from a file as an aware UTC datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:  # the artifact format writes UTC; naive stamps mean UTC too
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def epoch_ms(value: datetime | None) -> int:
    """Milliseconds since the Unix epoch (what the browser's moments take fastest); 0 when None."""
    return 0 if value is None else round(value.timestamp() * 1000)
