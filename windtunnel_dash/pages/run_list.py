"""The run list (`/`): every run at a glance, live.

A CSS grid of real links rather than a <table>, so a whole row is one anchor
(client-side navigation; middle-click opens a tab) and rows scroll sideways on
narrow screens.
All ticking happens in the browser under one pooled moment provider.

Only the controls are Radix components; the layout around them is plain elements
carrying Radix Themes' classes: the page must be usable within a second of a cold
navigation, and each Radix component parses its props in the browser on mount.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar
from reflex_components_core.react_router.dom import ReactRouterLink

from windtunnel_dash.components.live import offline_class, relative_time, tick_provider, ticking_duration
from windtunnel_dash.components.status import meter_bar, pass_rate_meter, status_badge
from windtunnel_dash.state.run_list import LiveCells, RunListLive, RunListRow, RunListState
from windtunnel_dash.views.compare import list_delta
from windtunnel_dash.views.shell import app_shell

_SKELETON_ROWS = 8
_COLUMNS = ("Run ID", "SUT", "Scenarios", "Started", "Duration", "Instances", "Pass rate", "vs baseline", "Status")
_SORTABLE = {"Started": "started", "Duration": "duration", "Pass rate": "passRate"}


def _sort_arrow(key: str) -> rx.Component:
    return rx.match(
        RunListState.sort,
        (f"-{key}", rx.icon("arrow-down", size=12)),
        (key, rx.icon("arrow-up", size=12)),
        rx.icon("arrow-down-up", size=12, class_name="wt-sort-idle"),
    )


def _header_cell(label: str) -> rx.Component:
    key = _SORTABLE.get(label)
    if key is None:
        return rx.el.div(label, class_name="wt-th", role="columnheader")
    return ReactRouterLink.create(
        label,
        _sort_arrow(key),
        to=RunListState.links[key],
        class_name="wt-th wt-th-sort",
        role="columnheader",
        custom_attrs={"data-sort-key": key},
    )


def _cell(*children: rx.Component | rx.Var, cls: str = "", **props) -> rx.Component:
    return rx.el.div(*children, class_name=f"wt-td {cls}".strip(), role="cell", **props)


def _duration(row: ObjectVar[RunListRow]) -> rx.Component:
    return rx.cond(row.active & (row.started_ms.to(int) > 0), ticking_duration(row.started_ms), row.duration)


def _instances(cells: ObjectVar[LiveCells]) -> rx.Component:
    return rx.el.div(
        rx.el.span(cells.instances, class_name="wt-num wt-instances"),
        rx.cond(cells.show_progress, meter_bar(cells.progress_pct)),
        class_name="wt-stack",
    )


def _pass_rate(cells: ObjectVar[LiveCells]) -> rx.Component:
    return pass_rate_meter(cells.pass_rate, cells.pass_rate_tone, cells.pass_rate_pct)


def _delta(cells: ObjectVar[LiveCells]) -> rx.Component:
    return list_delta(cells.delta, cells.delta_verdict, cells.delta_title)


# mypy reads a dict field's Var as ArrayVar[Never] (Field.__get__'s sequence overload): cast once.
LIVE_CELLS = RunListLive.cells.to(dict[str, LiveCells])


def _live(run_id: rx.Var[str]) -> ObjectVar[LiveCells]:
    return LIVE_CELLS[run_id].to(ObjectVar, LiveCells)


# Active runs' changing cells: memo components reading RunListLive, so a batch of
# results re-renders these few cells instead of the whole foreach of rows.
@rx.memo
def live_instances(run_id: rx.Var[str]) -> rx.Component:
    return _instances(_live(run_id))


@rx.memo
def live_pass_rate(run_id: rx.Var[str]) -> rx.Component:
    return _pass_rate(_live(run_id))


@rx.memo
def live_delta(run_id: rx.Var[str]) -> rx.Component:
    return _delta(_live(run_id))


def _row(row: ObjectVar[RunListRow]) -> rx.Component:
    """One run as one client-side link; plain elements, since 100 rows render at once."""
    cells = row.cells.to(ObjectVar, LiveCells)
    return ReactRouterLink.create(
        _cell(row.run_id, cls="wt-ellipsis wt-mono wt-run-id", title=row.run_id),
        _cell(row.sut, cls="wt-ellipsis", title=row.sut),
        _cell(row.scenarios, cls="wt-ellipsis wt-dim", title=row.scenarios_title),
        _cell(rx.cond(row.started_ms.to(int) > 0, relative_time(row.started_ms), "—"), cls="wt-dim wt-started"),
        _cell(_duration(row), cls="wt-num"),
        _cell(rx.cond(row.active, live_instances(run_id=row.run_id), _instances(cells))),
        _cell(rx.cond(row.active, live_pass_rate(run_id=row.run_id), _pass_rate(cells))),
        _cell(rx.cond(row.active, live_delta(run_id=row.run_id), _delta(cells))),
        _cell(status_badge(row.status), title=row.status_title),
        to=row.href,
        class_name="wt-tr wt-row",
        role="row",
        custom_attrs={"data-run-id": row.run_id, "data-status": row.status},
    )


def _skeleton_rows() -> rx.Component:
    return rx.el.div(
        *(
            rx.el.div(
                *(_cell(rx.el.div(class_name="wt-skeleton-line")) for _ in _COLUMNS),
                class_name="wt-tr wt-skeleton-row",
            )
            for _ in range(_SKELETON_ROWS)
        ),
        class_name="wt-skeleton",
    )


def _empty_state() -> rx.Component:
    return rx.vstack(
        rx.icon("wind", size=36, class_name="wt-empty-icon"),
        rx.heading("No runs yet", size="4"),
        rx.text(
            "Runs show up here the moment a runner starts writing into ",
            rx.code(RunListState.runs_dir),
            ". Run a load test with the turbulence runner, or simulate one:",
            size="2",
            color_scheme="gray",
            align="center",
        ),
        rx.el.pre("python -m windtunnel_dash simulate", class_name="wt-empty-cmd"),
        rx.cond(
            RunListState.demo_on,
            rx.button(rx.icon("play", size=14), "Start demo run", on_click=RunListState.start_demo, size="2",
                      id="start-demo"),
        ),
        align="center",
        spacing="3",
        class_name="wt-empty",
    )


def _no_match() -> rx.Component:
    return rx.vstack(
        rx.icon("search-x", size=28, class_name="wt-empty-icon"),
        rx.text("No runs match ", rx.text(RunListState.q, as_="span", weight="bold"), size="2"),
        rx.link("Clear search", href=RunListState.links["clear"], size="2"),
        align="center",
        spacing="2",
        class_name="wt-empty",
    )


def _rows() -> rx.Component:
    return rx.cond(RunListState.loaded, rx.foreach(RunListState.rows, _row), _skeleton_rows())


def _table() -> rx.Component:
    return rx.el.div(
        tick_provider(
            rx.el.div(
                rx.el.div(*(_header_cell(label) for label in _COLUMNS), class_name="wt-tr wt-thead", role="row"),
                _rows(),
                class_name=offline_class("wt-grid"),
                role="table",
                id="runs-table",
            ),
        ),
        class_name="wt-scroll",
    )


def _content() -> rx.Component:
    """The table, or (once loaded with nothing to show) why it is empty and what to do."""
    return rx.cond(
        RunListState.loaded & (RunListState.total == 0),
        rx.cond(RunListState.q != "", _no_match(), _empty_state()),
        _table(),
    )


def _toolbar() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.h1("Runs", class_name="rt-Heading rt-r-size-6 rt-r-weight-bold"),
            rx.el.span(
                RunListState.total_label,
                id="runs-count",
                class_name="rt-reset rt-Badge rt-r-size-2 rt-variant-surface",
                custom_attrs={"data-radius": "full"},
            ),
            class_name="wt-title",
        ),
        rx.el.div(class_name="wt-spacer"),
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            placeholder="Search run ID or SUT",
            aria_label="Search run ID or SUT",
            default_value=RunListState.q,
            # mypy types @rx.event's result as EventNamespace (it ignores __new__'s overloads returning an EventCallback)
            on_change=RunListState.search.debounce(250),  # type: ignore[attr-defined]
            key=RunListState.search_epoch,
            size="2",
            type="search",
            id="runs-search",
            class_name="wt-search",
        ),
        rx.tooltip(
            rx.icon_button(
                rx.icon("refresh-cw", size=14),
                on_click=RunListState.refresh,
                variant="soft",
                color_scheme="gray",
                size="2",
                id="runs-refresh",
                aria_label="Refresh",
            ),
            content="Refresh now",
        ),
        class_name="wt-toolbar",
    )


def _footer() -> rx.Component:
    return rx.cond(
        RunListState.loaded & (RunListState.total > 0),
        rx.el.div(
            rx.el.p(
                "Showing ",
                rx.el.span(RunListState.rows.length(), class_name="wt-num"),
                " of ",
                rx.el.span(RunListState.total_label, class_name="wt-num"),
                class_name="rt-Text rt-r-size-1 wt-dim",
            ),
            rx.el.div(class_name="wt-spacer"),
            rx.cond(
                RunListState.has_more,
                rx.button(
                    "Show 100 more",
                    on_click=rx.redirect(RunListState.links["more"], replace=True),
                    variant="soft",
                    size="1",
                    id="runs-more",
                ),
            ),
            class_name="wt-footer",
        ),
    )


def run_list_page() -> rx.Component:
    card = "rt-reset rt-BaseCard rt-Card rt-r-size-1 rt-variant-surface wt-card"  # Radix Card's look, no component
    return app_shell(_toolbar(), rx.el.div(_content(), _footer(), class_name=card), search_id="runs-search")
