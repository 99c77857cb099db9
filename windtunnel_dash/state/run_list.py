"""State of the run list page: the visible slice of runs, kept live by one task per open tab.

The URL (`?sort=&q=&limit=`) is the only source of the view: sort headers,
"show more" and the search box navigate, navigation re-runs `on_load`, and
Reflex cancels the previous `follow` task and starts a new one that reads the
new query (docs/reflex.md §1, §7). Catalog reads happen outside `async with self:`;
each wake-up applies one batch in one block, at most `max_updates_per_s` a second.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import reflex as rx

from windtunnel_dash import demo
from windtunnel_dash.artifacts.status import ACTIVE_STATUSES
from windtunnel_dash.background_tasks import counted
from windtunnel_dash.catalog.compare import ListDelta, list_deltas
from windtunnel_dash.catalog.rows import RunRow
from windtunnel_dash.format import format_count, format_duration, format_pass_rate, pass_rate_tone
from windtunnel_dash.pipeline.engine import get_engine
from windtunnel_dash.state.compare_views import list_delta_cells
from windtunnel_dash.state.deltas import assign_changed
from windtunnel_dash.timefmt import epoch_ms, parse_utc

SORTS = ("-started", "started", "-passRate", "passRate", "-duration", "duration")
DEFAULT_SORT = "-started"
PAGE_SIZE = 100
MAX_ROWS = 1000  # the most runs the list shows: "show more" stops there
# A safety net only: the engine publishes every change, stall transitions included.
REQUERY_S = 30.0
_SCENARIOS_SHOWN = 2


@dataclass(frozen=True)
class LiveCells:
    """The cells of an active run that change as results land (kept out of RunListRow)."""

    instances: str
    show_progress: bool
    progress_pct: float
    pass_rate: str
    pass_rate_tone: str
    pass_rate_pct: float
    delta: str  # pass-rate delta against the default baseline (compare_views.list_delta_cells)
    delta_verdict: str
    delta_title: str


@dataclass(frozen=True)
class RunListRow:
    """One table row, every field ready to display (strings from files stay plain text).

    For an active run `cells` is blank: its live cells are in RunListLive, so results
    landing re-send (and re-render) a few cells, not all 100 rows.
    """

    run_id: str
    href: str
    sut: str
    scenarios: str
    scenarios_title: str
    started_ms: int  # epoch ms; 0 when the manifest gives no readable start time
    active: bool  # running or failing: the duration ticks in the browser
    duration: str  # settled runs only; active ones tick from started_ms
    cells: LiveCells
    status: str
    status_title: str


@dataclass(frozen=True)
class ListQuery:
    sort: str = DEFAULT_SORT
    q: str = ""
    limit: int = PAGE_SIZE

    @classmethod
    def from_params(cls, params: dict[str, str]) -> ListQuery:
        """Whatever the URL says, coerced to a valid query (unknown sort → default)."""
        sort = params.get("sort", DEFAULT_SORT)
        try:
            limit = int(params.get("limit", PAGE_SIZE))
        except ValueError:
            limit = PAGE_SIZE
        return cls(
            sort=sort if sort in SORTS else DEFAULT_SORT,
            q=params.get("q", "").replace("\x00", ""),  # no NUL: Postgres text cannot hold it
            limit=min(max(limit, PAGE_SIZE), MAX_ROWS),
        )

    def href(self, **changes) -> str:
        """The page URL for this query with `changes` applied; defaults are left out."""
        target = ListQuery(**{**self.__dict__, **changes})
        params = {
            key: value
            for key, value, default in (
                ("sort", target.sort, DEFAULT_SORT),
                ("q", target.q, ""),
                ("limit", target.limit, PAGE_SIZE),
            )
            if value != default
        }
        return "/?" + urlencode(params) if params else "/"


def live_cells(run: RunRow, delta: ListDelta | None = None) -> LiveCells:
    stats, planned = run.stats, run.planned
    return LiveCells(
        instances=(
            f"{format_count(stats.total)} / {format_count(planned)}" if planned else format_count(stats.total)
        ),
        show_progress=run.status in ACTIVE_STATUSES and bool(planned),
        progress_pct=min(100.0, 100.0 * stats.total / planned) if planned else 0.0,
        pass_rate=format_pass_rate(stats.pass_rate, stats.total),
        pass_rate_tone=pass_rate_tone(stats.pass_rate, stats.total),
        pass_rate_pct=stats.pass_rate if stats.total else 0.0,
        **list_delta_cells(delta),
    )


_BLANK = LiveCells("", False, 0.0, "", "none", 0.0, "", "", "")


def to_list_row(run: RunRow, delta: ListDelta | None = None) -> RunListRow:
    active = run.status in ACTIVE_STATUSES
    scenarios = list(run.scenario_ids)
    shown = ", ".join(scenarios[:_SCENARIOS_SHOWN])
    if len(scenarios) > _SCENARIOS_SHOWN:
        shown += f" +{len(scenarios) - _SCENARIOS_SHOWN}"
    return RunListRow(
        run_id=run.run_id,
        href=f"/runs/{quote(run.run_id, safe='')}",
        sut=run.sut_name or "—",
        scenarios=shown or "—",
        scenarios_title=", ".join(scenarios),
        started_ms=epoch_ms(parse_utc(run.started_at)),
        active=active,
        duration=format_duration(run.duration_ms),
        cells=_BLANK if active else live_cells(run, delta),
        status=run.status,
        status_title=run.status_reason or "",
    )


def _read_runs(query: ListQuery) -> tuple[list[RunRow], int, dict[str, ListDelta]]:
    """The page of runs, how many match, and their pass-rate deltas against their default baselines."""
    catalog = get_engine().catalog
    rows, total = catalog.list_runs(limit=query.limit, offset=0, sort=query.sort, q=query.q.strip())
    return rows, total, list_deltas(catalog.engine, [run.run_id for run in rows])


class RunListState(rx.State):
    rows: rx.Field[list[RunListRow]] = rx.field(default_factory=list)
    total: rx.Field[int] = rx.field(0)
    loaded: rx.Field[bool] = rx.field(False)
    sort: rx.Field[str] = rx.field(DEFAULT_SORT)
    q: rx.Field[str] = rx.field("")
    limit: rx.Field[int] = rx.field(PAGE_SIZE)
    demo_on: rx.Field[bool] = rx.field(False)  # DEMO=1: the "Start demo run" button is offered
    runs_dir: rx.Field[str] = rx.field("")
    # Bumped when the URL brings a search the box did not type (fresh load, back button),
    # so the uncontrolled search box remounts showing it.
    search_epoch: rx.Field[int] = rx.field(0)

    def _query(self) -> ListQuery:
        return ListQuery(sort=self.sort, q=self.q, limit=self.limit)

    @rx.var
    def total_label(self) -> str:
        return format_count(self.total)

    @rx.var
    def links(self) -> dict[str, str]:
        """Where the page's controls lead: each sort column (newest/highest first, a second
        click flips it), "more" (the next hundred) and "clear" (drop the search)."""
        query = self._query()
        sorts = {
            key: query.href(sort=key if query.sort == f"-{key}" else f"-{key}")
            for key in ("started", "passRate", "duration")
        }
        return {
            **sorts,
            "more": query.href(limit=min(self.limit + PAGE_SIZE, MAX_ROWS)),
            "clear": query.href(q="", limit=PAGE_SIZE),
        }

    @rx.var
    def has_more(self) -> bool:
        return len(self.rows) < self.total and self.limit < MAX_ROWS

    async def _fetch_and_apply(self, query: ListQuery) -> bool:
        """Query the catalog (off the event loop), then apply in one block unless the view moved on."""
        rows, total, deltas = await asyncio.to_thread(_read_runs, query)
        view = [to_list_row(run, deltas.get(run.run_id)) for run in rows]
        live = {run.run_id: live_cells(run, deltas.get(run.run_id)) for run in rows if run.status in ACTIVE_STATUSES}
        async with self:
            if self._query() != query:
                return False
            assign_changed(await self.get_state(RunListLive), cells=live)
            assign_changed(self, rows=view, total=total, loaded=True)
        return True

    @rx.event(background=True)
    @counted
    async def follow(self):
        """on_load: show the URL's view, then re-query whenever the hub reports a change."""
        engine = get_engine()
        async with self:
            query = ListQuery.from_params(dict(self.router.url.query_parameters))
            if query.q != self.q:
                self.search_epoch += 1
            self.sort, self.q, self.limit = query.sort, query.q, query.limit
            self.runs_dir = str(engine.settings.runs_dir)
            self.demo_on = engine.settings.demo
        min_gap = 1.0 / engine.settings.max_updates_per_s
        with engine.hub.track_reader():
            while True:
                version = engine.hub.version
                # Spaced from the start of one read to the next, so a change waits at most one interval
                # (plus the read) for its delta, however long the read takes (docs/design.md §4 "Cadence").
                next_allowed = time.monotonic() + min_gap
                await self._fetch_and_apply(query)
                await engine.hub.wait_changed(version, REQUERY_S)
                await asyncio.sleep(max(0.0, next_allowed - time.monotonic()))

    @rx.event(background=True)
    @counted
    async def refresh(self):
        async with self:
            query = self._query()
        await self._fetch_and_apply(query)

    @rx.event
    def search(self, text: str):
        self.q = text
        return rx.redirect(self._query().href(limit=PAGE_SIZE), replace=True)

    @rx.event
    def start_demo(self):
        """Ask the app's demo keeper for a run (requests coalesce); the list shows it once its files
        appear. With DEMO off there is no keeper and no button, and nothing starts."""
        demo.request_run()


class RunListLive(RunListState):
    """Live cells of the visible active runs, by run id.

    A substate of its own so its updates reach only the components that read it
    (the memoised live cells), not the foreach over all rows.
    """

    cells: rx.Field[dict[str, LiveCells]] = rx.field(default_factory=dict)
