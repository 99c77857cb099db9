"""State of the run detail page: what one viewer sees of one run, kept live by one task.

The URL query (status, sort, page, q) is the source of truth for the grid: the
filter bar, sort headers and pager are plain links, so every change navigates,
Reflex re-runs `on_load`, the old `follow` is cancelled and a new one starts
for the new view. That keeps one task per tab, no races between handlers, and
the task dies with the tab (docs/reflex.md §1).

`follow` applies each hub batch in ONE `async with self:` block (one delta).
Catalog calls run in threads outside the lock. Slow aggregates (charts, header,
per-scenario counts) refresh at most once a second in a background task and go
out between batches, or with one when batches come back to back, so deltas stay
at the hub's ≤ 10/s. When rows may wait (batches back to back, each replacing
much of the grid) is decided by `state/cadence.DetailCadence`.

Three states, because the browser re-renders every component reading a state
when any of its vars changes: RunDetailState (view and header), RunLiveState
(what each batch changes) and RunChartsState (what each refresh changes).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import time
from typing import TYPE_CHECKING, Any

import reflex as rx

from windtunnel_dash.artifacts.status import ACTIVE_STATUSES
from windtunnel_dash.background_tasks import counted
from windtunnel_dash.catalog.rows import InstanceRow, RunRow, Stats
from windtunnel_dash.format import browser_time, format_duration
from windtunnel_dash.pipeline.engine import get_engine
from windtunnel_dash.pipeline.hub import Batch
from windtunnel_dash.state.cadence import CHARTS, DetailCadence
from windtunnel_dash.state.deltas import assign_changed
from windtunnel_dash.state.detail_views import (
    FAILURES_SHOWN,
    PAGE_SIZE,
    InstanceView,
    LatencyPoint,
    ScenarioView,
    TimelinePoint,
    View,
    ViewLinks,
    count_fields,
    few_enough_to_flash,
    instance_view,
    latency_points,
    prepend_newest,
    scenario_view,
    summary_announcement,
    timeline_points,
    view_links,
)
from windtunnel_dash.state.shared_reads import SharedReads

if TYPE_CHECKING:
    from windtunnel_dash.state.compare import ComparisonUpdate

# The live summary is read out politely at most this often: never per batch.
ANNOUNCE_EVERY_S = 5.0
TIMELINE_BUCKETS = 60
LATENCY_BUCKETS = 20


@dataclasses.dataclass
class _Refresh:
    """Slow aggregates read in a thread; applied with the next delta."""

    run: RunRow | None
    timeline: list[TimelinePoint] | None  # None: not read this time
    latency: list[LatencyPoint] | None
    q_counts: Stats | None
    took_s: float = 0.0


def _read_refresh(run_id: str, q: str, charts: tuple[str, ...] = CHARTS) -> _Refresh:
    cat = get_engine().catalog
    t0 = time.perf_counter()
    refresh = _Refresh(
        run=cat.get_run(run_id),
        timeline=timeline_points(cat.timeline(run_id, buckets=TIMELINE_BUCKETS)) if "timeline" in charts else None,
        latency=latency_points(cat.latency_histogram(run_id, buckets=LATENCY_BUCKETS)) if "latency" in charts else None,
        q_counts=cat.status_counts(run_id, q) if q else None,
    )
    refresh.took_s = time.perf_counter() - t0
    return refresh


# Pages of one run share their refresh reads: at most one read per chart every this many seconds,
# however many pages are open (state/shared_reads.py).
_REFRESHES: SharedReads[tuple[str, str, tuple[str, ...]], _Refresh] = SharedReads(fresh_s=0.5)


async def _refresh(run_id: str, q: str, charts: tuple[str, ...] = CHARTS) -> _Refresh:
    return await _REFRESHES.get((run_id, q, charts), functools.partial(_read_refresh, run_id, q, charts))


@dataclasses.dataclass
class _Held:
    """Rows that arrived since the grid and the failures list were last updated, newest first:
    only what can still be on screen (a page of matches, the latest failures), and how many came."""

    hits: list[InstanceRow] = dataclasses.field(default_factory=list)
    failed: list[InstanceRow] = dataclasses.field(default_factory=list)
    hit_count: int = 0
    failed_count: int = 0

    def take(self, batch: Batch, view: View, cadence: DetailCadence) -> tuple[list[InstanceRow], bool]:
        """Keep what `batch` brings for the grid (when it shows the live head) and the failures
        list; returns the batch's rows that match the view, newest first, and whether it floods."""
        newest_first = batch.instances[::-1]
        hits = [r for r in newest_first if view.matches(r)]
        failed = [r for r in newest_first if r.status != "passed"]
        shown = hits if view.is_live_head else []
        self.hits = (shown + self.hits)[:PAGE_SIZE]
        self.failed = (failed + self.failed)[:FAILURES_SHOWN]
        self.hit_count += len(shown)
        self.failed_count += len(failed)
        return hits, cadence.floods(len(shown), len(failed))

    @property
    def rows_flash(self) -> bool:
        return few_enough_to_flash(self.hit_count, PAGE_SIZE)

    @property
    def failures_flash(self) -> bool:
        return few_enough_to_flash(self.failed_count, FAILURES_SHOWN)

    def __bool__(self) -> bool:
        return bool(self.hits or self.failed)


def _plain(rows: list[InstanceView]) -> list[InstanceView]:
    """The list behind a state var: read through Reflex's change-tracking proxy, every row touched
    is wrapped in a proxy of its own (a quarter of a page's CPU at 200/s). Only for reading."""
    return getattr(rows, "__wrapped__", rows)


@dataclasses.dataclass
class _Page:
    head: int
    run: RunRow | None
    counts: Stats
    rows: list[InstanceRow]
    failures: list[InstanceRow]


def _read_page(run_id: str, view: View) -> _Page:
    """Everything the first paint needs. The run is read first: its total is the head (seqs are
    1..total), so subscribing after it replays nothing the page already shows."""
    cat = get_engine().catalog
    run = cat.get_run(run_id)
    rows, _total = cat.list_instances(
        run_id,
        status=view.status or None,
        sort=view.sort,
        page=view.page,
        limit=PAGE_SIZE,
        q=view.q,
    )
    counts = cat.status_counts(run_id, view.q) if view.q else (run.stats if run else Stats())
    failures = cat.latest_failures(run_id, FAILURES_SHOWN)
    return _Page(head=run.stats.total if run else 0, run=run, counts=counts, rows=rows, failures=failures)


class RunDetailState(rx.State):
    """One viewer's window on one run: header, counts, one page of rows, small chart arrays."""

    if TYPE_CHECKING:
        run_id: str  # the route's [run_id]: a computed var Reflex adds to the root state (docs/reflex.md §7)

    shown_run: rx.Field[str] = rx.field("")
    found: rx.Field[bool] = rx.field(True)
    loaded: rx.Field[bool] = rx.field(False)

    sut_name: rx.Field[str] = rx.field("")
    scenario_ids: rx.Field[list[str]] = rx.field(default_factory=list)
    started_at: rx.Field[str] = rx.field("")
    completed_at: rx.Field[str] = rx.field("")
    run_status: rx.Field[str] = rx.field("running")
    planned: rx.Field[int] = rx.field(0)
    final_duration: rx.Field[str] = rx.field("")
    unreadable_lines: rx.Field[int] = rx.field(0)

    v_status: rx.Field[str] = rx.field("")
    v_sort: rx.Field[str] = rx.field("-seq")
    v_page: rx.Field[int] = rx.field(1)
    v_q: rx.Field[str] = rx.field("")
    v_baseline: rx.Field[str] = rx.field("")
    paused: rx.Field[bool] = rx.field(False)

    # ---- derived for the page -------------------------------------------------
    @rx.var(deps=["run_status"], auto_deps=False)
    def is_running(self) -> bool:
        return self.run_status in ACTIVE_STATUSES

    @rx.var(deps=["shown_run", "v_status", "v_sort", "v_page", "v_q", "v_baseline"], auto_deps=False)
    def links(self) -> ViewLinks:
        """Every link the filter bar, sort headers and pager need; changes only with the view."""
        return view_links(self.shown_run, self._view())

    def _view(self) -> View:
        return View(self.v_status, self.v_sort, self.v_page, self.v_q, self.v_baseline)

    # ---- user events -------------------------------------------------------------
    @rx.event
    def search(self, form: dict[str, Any]):
        """Search is a navigation too, so it lands in the URL like the other view settings."""
        q = str(form.get("q", "")).strip()[:200]
        return rx.redirect(self._view().href(self.shown_run, q=q, page=1))

    @rx.event
    async def toggle_pause(self):
        self.paused = not self.paused
        live = await self.get_state(RunLiveState)
        if not self.paused and live.new_count:
            return rx.redirect(self._view().href(self.shown_run))  # catch up: reload the view with what arrived
        return None

    # ---- the live task -------------------------------------------------------------
    @rx.event(background=True)
    @counted
    async def follow(self):
        """on_load task: first paint, then apply hub batches until the tab goes away."""
        async with self:
            run_id = self.run_id
            view = View.from_query(dict(self.router.url.query_parameters))
            if run_id != self.shown_run:
                self.reset()
                self.shown_run = run_id
            self.v_status, self.v_sort, self.v_page, self.v_q = view.status, view.sort, view.page, view.q
            self.v_baseline = view.baseline
            (await self.get_state(RunLiveState)).new_count = 0
        engine = get_engine()
        if not await engine.ensure_run(run_id):
            async with self:
                self.found = False
                self.loaded = True
            return
        page = await self._repaint(run_id, view)
        # Charts only: _read_page has just counted the search's matches (a scan of the run at 100k).
        refresh = await _refresh(run_id, "")
        async with self:
            await self._apply_refresh(refresh)
        await self._stream(run_id, view, page.head)

    async def _repaint(self, run_id: str, view: View) -> _Page:
        page = await asyncio.to_thread(_read_page, run_id, view)
        async with self:
            if page.run is not None:
                self._apply_header(page.run)
                charts = await self.get_state(RunChartsState)
                assign_changed(charts, scenarios=[scenario_view(s) for s in page.run.scenarios])
            live = await self.get_state(RunLiveState)
            self._apply_counts(live, page.counts)
            live.rows = [instance_view(run_id, r) for r in page.rows]
            live.failures = [instance_view(run_id, r) for r in page.failures]
            self.found = page.run is not None
            self.loaded = True
        return page

    async def _stream(self, run_id: str, view: View, head: int) -> None:
        """Apply hub batches as they come; slow aggregates are read in a thread meanwhile.

        `cadence` (state/cadence.py) decides what goes when. A read refresh usually goes out in a
        delta of its own right after the batch's, so the page puts the rows in the DOM before it
        re-renders the charts (tens of ms of main thread) instead of after. Only when batches come
        back to back (the hub's cap) does it ride along with one, so that cap on deltas holds.
        The baseline comparison is read the same way, after each batch, and goes out with the next
        delta: its read never holds a batch's rows back (issue 12: it cost 10 ms of append→DOM).
        """
        from windtunnel_dash.state.compare import read_comparison  # that substate imports this module

        hub = get_engine().hub
        loop = asyncio.get_running_loop()
        cadence = DetailCadence(hub.min_interval, PAGE_SIZE, FAILURES_SHOWN, refresh_at=loop.time())
        pending: asyncio.Task[_Refresh] | None = None
        comparing: asyncio.Task[ComparisonUpdate | None] | None = None
        uncompared: Batch | None = None  # the newest batch no comparison read has started for
        held = _Held()
        try:
            async with hub.subscribe(run_id, since=head) as sub:
                while True:
                    batch = await sub.next_batch(timeout=cadence.wait_s(
                        loop.time(), refresh_pending=pending is not None or comparing is not None, rows_held=bool(held)))
                    now = loop.time()
                    back_to_back = batch is not None and cadence.batch_came(now)
                    refresh = comparison = None
                    if pending is not None and pending.done():
                        refresh, pending = pending.result(), None
                        cadence.refresh_read(refresh.took_s)
                    if comparing is not None and comparing.done():
                        comparison, comparing = comparing.result(), None
                    if batch is not None and batch.reset:
                        held = _Held()
                        await self._repaint(run_id, view)  # files were rewritten: start over
                    elif batch is not None or held:
                        hits, flood = held.take(batch, view, cadence) if batch is not None else ([], False)
                        rows_due = cadence.rows_due(now, batch=batch is not None, back_to_back=back_to_back,
                                                    flood=flood)
                        along = refresh if back_to_back else None
                        await self._apply_batch(run_id, view, batch, hits, along, comparison,
                                                held if rows_due else None)
                        refresh, comparison = None if along else refresh, None
                        if rows_due and held:
                            held = _Held()
                            cadence.rows_sent(now)
                    if refresh is not None or comparison is not None:
                        async with self:
                            await self._apply_reads(refresh, comparison)
                    chart = None if pending is not None else cadence.refresh_due(loop.time(), batch=batch is not None)
                    if chart is not None:
                        pending = asyncio.create_task(_refresh(run_id, view.q, (chart,)))
                    if batch is not None and batch.run is not None:
                        uncompared = batch
                    if comparing is None and uncompared is not None:
                        comparing = asyncio.create_task(read_comparison(self, run_id, uncompared))
                        uncompared = None
        finally:
            for task in (pending, comparing):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task

    async def _apply_batch(
        self, run_id: str, view: View, batch: Batch | None, hits: list[InstanceRow], refresh: _Refresh | None,
        comparison: ComparisonUpdate | None, held: _Held | None,
    ) -> None:
        """One hub batch (plus any ready refresh and comparison) as exactly one delta; views built before the lock.

        The batch's counts always go out; the rows held for the grid and the failures list
        (`held`, the batch's among them) go out too when given. With no batch, this is that
        later delta. A batch can hold thousands of instances: only the newest that can still
        be on screen became held rows. Matches that do not enter the grid (another page or sort,
        or paused) are counted for the "N new results" pill: `hits` when the batch comes, held
        rows when they would have entered.
        """
        matching = failures = None
        if held:
            matching = [instance_view(run_id, r, flash=held.rows_flash) for r in held.hits]
            failures = [instance_view(run_id, r, flash=held.failures_flash) for r in held.failed]
        async with self:
            await self._apply_reads(refresh, comparison)
            live = await self.get_state(RunLiveState)
            if batch is not None:
                if batch.run is None:  # the run's directory was removed
                    assign_changed(self, found=False)
                    return
                self._apply_header(batch.run)
                if not view.q:
                    self._apply_counts(live, batch.stats)
                if hits and not view.is_live_head:
                    live.new_count += len(hits)  # rows stay put under the reader: a pill counts them
            if held and matching and self.paused:
                live.new_count += held.hit_count
            elif matching:
                live.rows, _ = prepend_newest(_plain(live.rows), matching, PAGE_SIZE)
            if failures:
                live.failures, _ = prepend_newest(_plain(live.failures), failures, FAILURES_SHOWN)

    # ---- applying data (called inside `async with self`) -----------------------------
    def _apply_counts(self, live: RunLiveState, s: Stats) -> None:
        if s.planned is not None:
            assign_changed(self, planned=s.planned)
        assign_changed(live, **count_fields(s, self._view(), self.shown_run, self.planned))

    def _apply_header(self, run: RunRow) -> None:
        assign_changed(
            self,
            sut_name=run.sut_name or "",
            scenario_ids=list(run.scenario_ids),
            started_at=browser_time(run.started_at),
            completed_at=browser_time(run.completed_at),
            run_status=run.status,
            planned=run.planned or 0,
            final_duration=format_duration(run.duration_ms),
            unreadable_lines=run.unreadable_lines,
        )

    async def _apply_reads(self, refresh: _Refresh | None, comparison: ComparisonUpdate | None) -> None:
        """What the slow reads brought, when ready: with a batch's delta or in one of its own."""
        from windtunnel_dash.state.compare import apply_comparison  # that substate imports this module

        await apply_comparison(self, comparison)
        if refresh is not None:
            await self._apply_refresh(refresh)

    async def _apply_refresh(self, refresh: _Refresh) -> None:
        charts = await self.get_state(RunChartsState)
        if refresh.run is not None:
            self._apply_header(refresh.run)
            assign_changed(charts, scenarios=[scenario_view(s) for s in refresh.run.scenarios])
            now = time.monotonic()
            if now - charts._announced_at >= ANNOUNCE_EVERY_S:  # a screen reader hears the summary now and then
                charts._announced_at = now
                assign_changed(charts, announcement=summary_announcement(refresh.run))
        read = {"timeline": refresh.timeline, "latency": refresh.latency}
        assign_changed(charts, **{name: points for name, points in read.items() if points is not None})
        if refresh.q_counts is not None:
            self._apply_counts(await self.get_state(RunLiveState), refresh.q_counts)


class RunLiveState(RunDetailState):
    """What every live batch changes: the counts and what derives from them, the grid's rows,
    the latest failures.

    A substate of its own because the browser re-renders every component that reads a state
    whenever any var of that state changes: kept apart, a batch re-renders what shows counts,
    rows and failures (27 components), not the rest of the header, the sort headers, search box,
    pause switch and links around them (56 before).
    """

    passed: rx.Field[int] = rx.field(0)
    failed: rx.Field[int] = rx.field(0)
    errors: rx.Field[int] = rx.field(0)
    all_count: rx.Field[int] = rx.field(0)
    pass_rate: rx.Field[float] = rx.field(0.0)
    rate_text: rx.Field[str] = rx.field("—")
    rate_tone: rx.Field[str] = rx.field("none")
    p50: rx.Field[str] = rx.field("—")
    p95: rx.Field[str] = rx.field("—")
    p99: rx.Field[str] = rx.field("—")
    progress_pct: rx.Field[int] = rx.field(0)
    page_count: rx.Field[int] = rx.field(1)
    href_last: rx.Field[str] = rx.field("")

    rows: rx.Field[list[InstanceView]] = rx.field(default_factory=list)
    failures: rx.Field[list[InstanceView]] = rx.field(default_factory=list)
    new_count: rx.Field[int] = rx.field(0)


class RunChartsState(RunDetailState):
    """The slow-moving parts (charts, per-scenario table), refreshed at most once a second.

    A substate of its own so the components that draw them (two recharts charts,
    the costliest render on the page) re-render only when these change, not with
    every live batch of the parent.
    """

    scenarios: rx.Field[list[ScenarioView]] = rx.field(default_factory=list)
    # the live summary as a polite live region reads it (at most every ANNOUNCE_EVERY_S)
    announcement: rx.Field[str] = rx.field("")
    _announced_at: float = 0.0
    timeline: rx.Field[list[TimelinePoint]] = rx.field(default_factory=list)
    latency: rx.Field[list[LatencyPoint]] = rx.field(default_factory=list)
