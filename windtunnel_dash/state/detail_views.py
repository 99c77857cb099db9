"""Typed, display-ready rows for the run detail page, and its URL scheme.

The page's state holds only these small views (a 50-row page, ten failures,
60 chart buckets), so a viewer's state does not grow with the run. Strings are
formatted here once, server-side, so the browser only renders text.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from windtunnel_dash.catalog.rows import InstanceRow, LatencyBucket, RunRow, ScenarioStats, Stats, TimelineBucket
from windtunnel_dash.format import format_duration, format_pass_rate, pass_rate_tone

PAGE_SIZE = 50
FAILURES_SHOWN = 10
SORTS = ("-seq", "seq", "-durationMs", "durationMs", "status")
FILTERS = ("", "passed", "failed", "error")  # "" = All


@dataclasses.dataclass(frozen=True)
class InstanceView:
    """One grid row; `flash` marks rows that arrived live (CSS highlight once, keyed by seq).

    Frozen: one view of a row is shared by every page that shows it (see `instance_view`)."""

    seq: int
    instance_id: str
    correlation_id: str
    scenario_id: str
    duration: str
    status: str
    error: str
    href: str
    flash: bool = False


@dataclasses.dataclass
class ScenarioView:
    scenario_id: str
    total: int
    passed: int
    failed: int
    errors: int
    rate_text: str
    rate_tone: str


@dataclasses.dataclass
class TimelinePoint:
    """One bucket of the results-over-time chart: its start (HH:MM:SS) and completions by status."""

    t: str
    passed: int
    failed: int
    errors: int


@dataclasses.dataclass
class LatencyPoint:
    """One bar of the latency histogram: its lower bound, formatted, and how many instances."""

    label: str
    count: int


@dataclasses.dataclass(frozen=True)
class View:
    """What the grid shows; kept in the URL query so it survives reloads and can be shared."""

    status: str = ""
    sort: str = "-seq"
    page: int = 1
    q: str = ""
    baseline: str = ""  # ?baseline= of the comparison (state/compare.py): kept by every link of the view

    @classmethod
    def from_query(cls, params: dict[str, str]) -> View:
        status = params.get("status", "")
        sort = params.get("sort", "-seq")
        try:
            page = max(1, int(params.get("page", "1")))
        except ValueError:
            page = 1
        return cls(
            status=status if status in FILTERS else "",
            sort=sort if sort in SORTS else "-seq",
            page=page,
            q=params.get("q", "").replace("\x00", "").strip()[:200],  # no NUL: Postgres text cannot hold it
            baseline=params.get("baseline", "").strip()[:255],
        )

    @property
    def is_live_head(self) -> bool:
        """Page 1, newest first: the only view where new rows may enter in place."""
        return self.page == 1 and self.sort == "-seq"

    def matches(self, row: InstanceRow) -> bool:
        if self.status and row.status != self.status:
            return False
        return matches_query(row, self.q)

    def href(self, run_id: str, **changes: Any) -> str:
        view = dataclasses.replace(self, **changes)
        params: dict[str, object] = {}
        if view.status:
            params["status"] = view.status
        if view.sort != "-seq":
            params["sort"] = view.sort
        if view.page != 1:
            params["page"] = view.page
        if view.q:
            params["q"] = view.q
        if view.baseline:
            params["baseline"] = view.baseline
        base = f"/runs/{quote(run_id, safe='')}"
        return f"{base}?{urlencode(params)}" if params else base


def matches_query(row: InstanceRow, q: str) -> bool:
    """Case-insensitive substring of the instance id or correlation id (as the catalog's `q`)."""
    if not q:
        return True
    needle = q.lower()
    return needle in row.instance_id.lower() or needle in (row.correlation_id or "").lower()


def instance_href(run_id: str, instance_id: str) -> str:
    return f"/runs/{quote(run_id, safe='')}/instances/{quote(instance_id, safe='')}"


@functools.lru_cache(maxsize=4096)
def instance_view(run_id: str, row: InstanceRow, *, flash: bool = False) -> InstanceView:
    """Built once per row, not once per page: pages on one live run show the same new rows."""
    return InstanceView(
        seq=row.seq,
        instance_id=row.instance_id,
        correlation_id=row.correlation_id or "",
        scenario_id=row.scenario_id or "",
        duration=format_duration(row.duration_ms, sub_second=True),
        status=row.status,
        error=(row.error or "")[:200],
        href=instance_href(run_id, row.instance_id),
        flash=flash,
    )


def few_enough_to_flash(new: int, shown: int) -> bool:
    """Whether rows entering a list of `shown` get the entry highlight: up to a fifth of the list.
    When a batch replaces much of it there is nothing to pick out, and 50 rows fading 10 times a
    second would keep the page repainting every frame."""
    return new <= max(1, shown // 5)


def prepend_newest(
    current: list[InstanceView], incoming: Iterable[InstanceView], limit: int
) -> tuple[list[InstanceView], int]:
    """Newest-first merge of live rows above the current ones; returns (rows, how many were new)."""
    top = max((r.seq for r in current), default=0)
    new = sorted((r for r in incoming if r.seq > top), key=lambda r: r.seq, reverse=True)
    return (new + current)[:limit], len(new)


def count_fields(s: Stats, view: View, run_id: str, planned: int) -> dict[str, object]:
    """The counts as the page shows them, and what derives from them (rate, progress, pages).

    Plain values computed here rather than computed vars: they live in the live substate,
    and the view and planned total they also depend on live in its parent.
    """
    shown = {"passed": s.passed, "failed": s.failed, "error": s.errors}.get(view.status, s.total)
    page_count = max(1, -(-shown // PAGE_SIZE))
    return {
        "passed": s.passed,
        "failed": s.failed,
        "errors": s.errors,
        "all_count": s.passed + s.failed + s.errors,  # the three partition the instances: All is their sum
        "pass_rate": s.pass_rate,
        "rate_text": format_pass_rate(s.pass_rate, s.total),
        "rate_tone": pass_rate_tone(s.pass_rate, s.total),
        "p50": format_duration(s.p50_ms, sub_second=True),
        "p95": format_duration(s.p95_ms, sub_second=True),
        "p99": format_duration(s.p99_ms, sub_second=True),
        "progress_pct": min(100, round(100 * s.total / planned)) if planned > 0 else 0,
        "page_count": page_count,
        "href_last": view.href(run_id, page=page_count),
    }


def scenario_view(s: ScenarioStats) -> ScenarioView:
    return ScenarioView(
        s.scenario_id,
        s.total,
        s.passed,
        s.failed,
        s.errors,
        format_pass_rate(s.pass_rate, s.total),
        pass_rate_tone(s.pass_rate, s.total),
    )


def timeline_points(buckets: Sequence[TimelineBucket]) -> list[TimelinePoint]:
    """Bucket starts as wall-clock HH:MM:SS, with tenths when buckets are shorter than a
    second (a run of a few seconds would otherwise repeat every label)."""
    starts = [datetime.fromisoformat(b.start) for b in buckets]
    tenths = len(starts) > 1 and (starts[1] - starts[0]).total_seconds() < 1
    return [
        TimelinePoint(_clock(start, tenths), b.passed, b.failed, b.errors)
        for start, b in zip(starts, buckets, strict=True)
    ]


def latency_points(buckets: Iterable[LatencyBucket]) -> list[LatencyPoint]:
    """Each bar is labelled by its lower bound (a histogram's usual axis), e.g. "150 ms"."""
    return [LatencyPoint(format_duration(b.low_ms, sub_second=True), b.count) for b in buckets]


def _clock(t: datetime, tenths: bool) -> str:
    return f"{t:%H:%M:%S}.{t.microsecond // 100_000}" if tenths else f"{t:%H:%M:%S}"


@dataclasses.dataclass
class ViewLinks:
    """Hrefs for the filter bar, sort headers and pager of one view (they are plain links)."""

    all: str
    passed: str
    failed: str
    errors: str
    head: str  # page 1, newest first: where "N new results" leads
    first: str
    prev: str
    next: str
    sort_seq: str
    sort_duration: str
    sort_status: str


def view_links(run_id: str, view: View) -> ViewLinks:
    def to(**changes: object) -> str:
        return view.href(run_id, **changes)

    return ViewLinks(
        all=to(status="", page=1),
        passed=to(status="passed", page=1),
        failed=to(status="failed", page=1),
        errors=to(status="error", page=1),
        head=to(sort="-seq", page=1),
        first=to(page=1),
        prev=to(page=max(1, view.page - 1)),
        next=to(page=view.page + 1),
        sort_seq=to(sort="seq" if view.sort == "-seq" else "-seq", page=1),
        sort_duration=to(sort="durationMs" if view.sort == "-durationMs" else "-durationMs", page=1),
        sort_status=to(sort="status", page=1),
    )


def summary_announcement(run: RunRow) -> str:
    """The run's state in one sentence, for the polite live region a screen reader reads out."""
    s = run.stats
    if not s.total:
        return f"{run.status.capitalize()}: no results yet."
    done = f"{s.total:,} of {run.planned:,}" if run.planned else f"{s.total:,}"
    return (f"{run.status.capitalize()}: {format_pass_rate(s.pass_rate, s.total)} passed, {done} instances, "
            f"{s.failed:,} failed, {s.errors:,} errors.")
