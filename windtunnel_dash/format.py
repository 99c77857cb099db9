"""Display formatting done once on the server, so pages ship ready-to-show strings.

Plain Python that the states and the components both use (it imports neither). The browser
only formats what must move without the server (ticking durations, relative start times);
`DURATION_FORMAT` keeps that ticking text identical to `format_duration` so a run's duration
does not change shape when it completes.
"""

from __future__ import annotations

from typing import Literal

from windtunnel_dash.timefmt import parse_utc, utc_iso

Tone = Literal["good", "warn", "bad", "none"]

# moment-duration-format pattern (with trim="large") that renders like format_duration.
DURATION_FORMAT = "h[h] mm[m] ss[s]"


def format_duration(ms: float | None, *, sub_second: bool = False) -> str:
    """'3s', '1m 07s', '1h 02m 03s'; an em dash when unknown. With `sub_second` (instance
    latencies, which need the precision run durations do not) under a minute reads '216 ms', '1.24 s'."""
    if ms is None or ms < 0:
        return "—"
    if sub_second and ms < 1000:
        return f"{ms:.0f} ms"
    if sub_second and ms < 60_000:
        return f"{ms / 1000:.2f} s"
    seconds = int(ms // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def browser_time(value: str | None) -> str:
    """A time from a file as '2026-11-26T15:16:13.123Z', which every browser's Date parses; '' when
    absent or unreadable."""
    return utc_iso(parse_utc(value), "milliseconds")


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
