"""Display formatting done once on the server, so pages ship ready-to-show strings.

The browser only formats what must move without the server (ticking durations,
relative start times); `DURATION_FORMAT` keeps that ticking text identical to
`format_duration` so a run's duration does not change shape when it completes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

Tone = Literal["good", "warn", "bad", "none"]

# moment-duration-format pattern (with trim="large") that renders like format_duration.
DURATION_FORMAT = "h[h] mm[m] ss[s]"


def format_duration(ms: float | None) -> str:
    """'3s', '1m 07s', '1h 02m 03s'; an em dash when unknown."""
    if ms is None or ms < 0:
        return "—"
    seconds = int(ms // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def format_count(n: int) -> str:
    """Thousands separators: '12,345'."""
    return f"{n:,}"


def pass_rate_tone(rate: float, total: int) -> Tone:
    """Green 95–100, yellow 80–94.9, red below 80; 'none' before any result."""
    if total <= 0:
        return "none"
    if rate >= 95.0:
        return "good"
    if rate >= 80.0:
        return "warn"
    return "bad"


def format_pass_rate(rate: float, total: int) -> str:
    """'97.5%' with one decimal, as docs/design.md §3 rounds it; an em dash before any result."""
    return f"{rate:.1f}%" if total > 0 else "—"


def parse_utc(value: str | None) -> datetime | None:
    """An ISO-8601 time from a file as an aware UTC datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:  # the artifact format writes UTC; naive stamps mean UTC too
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def epoch_ms(value: datetime | None) -> int:
    """Milliseconds since the Unix epoch (what the browser's moments take fastest); 0 when None."""
    return 0 if value is None else round(value.timestamp() * 1000)


def iso_utc(value: datetime | None) -> str:
    """Canonical '2026-11-26T15:16:13.123Z' that every browser's Date parses; '' when None."""
    if value is None:
        return ""
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")

