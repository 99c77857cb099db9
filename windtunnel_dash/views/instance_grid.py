"""The run's instances: filter bar with live counts, search, pause, the 50-row grid and its pager.

Every view change is a plain link (or, for search, a redirect) to a new URL
query, so the browser's back button and shared links keep the view.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar
from reflex_components_core.react_router.dom import ReactRouterLink

from windtunnel_dash.components.instance_status import status_pill
from windtunnel_dash.state.detail_views import InstanceView
from windtunnel_dash.state.run_detail import RunDetailState as S
from windtunnel_dash.state.run_detail import RunLiveState as L
from windtunnel_dash.views.export_buttons import export_buttons

SEARCH_ID = "instances-search"  # '/' focuses it (views/shell.py)


def _tab(label: str, count: rx.Var, href: rx.Var, value: str, testid: str) -> rx.Component:
    return rx.link(
        rx.text(label),
        rx.text(count.to_string(), class_name="wt-tab-count", custom_attrs={"data-testid": f"{testid}-count"}),
        href=href,
        class_name="wt-tab",
        underline="none",
        custom_attrs={"data-active": rx.cond(S.v_status == value, "true", "false"), "data-testid": testid},
    )


def filter_bar() -> rx.Component:
    return rx.hstack(
        rx.hstack(
            _tab("All", L.all_count, S.links.all, "", "filter-all"),
            _tab("Passed", L.passed, S.links.passed, "passed", "filter-passed"),
            _tab("Failed", L.failed, S.links.failed, "failed", "filter-failed"),
            _tab("Errors", L.errors, S.links.errors, "error", "filter-errors"),
            spacing="1",
            class_name="wt-tabs",
        ),
        rx.spacer(),
        rx.form(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                name="q",
                default_value=S.v_q,
                key=S.v_q,
                placeholder="Instance or correlation id…",
                aria_label="Search instance or correlation id",
                id=SEARCH_ID,
                size="2",
                width="260px",
                custom_attrs={"data-testid": "search"},
            ),
            on_submit=S.search,
            reset_on_submit=False,
        ),
        rx.hstack(
            rx.switch(checked=S.paused, on_change=S.toggle_pause, size="1", aria_label="Pause live updates",
                      custom_attrs={"data-testid": "pause"}),
            rx.text("Pause live updates", size="2", color_scheme="gray"),
            spacing="2",
            align="center",
        ),
        export_buttons(),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",
    )


def _sort_header(label: str, href: rx.Var, active: rx.Var, arrow: rx.Var | str, extra: str = "") -> rx.Component:
    return rx.el.th(
        rx.link(
            label,
            rx.cond(active, rx.el.span(arrow, class_name="wt-sort-arrow"), rx.fragment()),
            href=href,
            underline="none",
            class_name="wt-sort",
        ),
        class_name=extra,
    )


def _row(r: ObjectVar[InstanceView]) -> rx.Component:
    """Plain elements and a bare router link, no Radix/emotion wrappers: at high rates every update
    brings 50 new rows, and each mount must stay cheap."""
    return rx.el.tr(
        rx.el.td(r.seq, class_name="wt-num-right wt-faint"),
        rx.el.td(ReactRouterLink.create(r.instance_id, to=r.href, class_name="wt-rowlink wt-mono-small"), title=r.instance_id),
        rx.el.td(r.correlation_id, class_name="wt-mono-small wt-faint", title=r.correlation_id),
        rx.el.td(r.scenario_id, title=r.scenario_id),
        rx.el.td(r.duration, class_name="wt-num-right"),
        rx.el.td(status_pill(r.status)),
        key=r.seq,
        class_name=rx.cond(r.flash, "wt-instance-row wt-flash", "wt-instance-row"),
        custom_attrs={"data-seq": r.seq, "data-instance": r.instance_id},
    )


def _grid() -> rx.Component:
    sort = S.v_sort
    return rx.el.table(
        rx.el.thead(
            rx.el.tr(
                _sort_header(
                    "#", S.links.sort_seq, (sort == "-seq") | (sort == "seq"),
                    rx.cond(sort == "seq", "↑", "↓"), "wt-num-right wt-col-seq",
                ),
                rx.el.th("Instance ID"),
                rx.el.th("Correlation ID"),
                rx.el.th("Scenario", class_name="wt-col-scenario"),
                _sort_header(
                    "Duration", S.links.sort_duration, (sort == "-durationMs") | (sort == "durationMs"),
                    rx.cond(sort == "durationMs", "↑", "↓"), "wt-num-right wt-col-duration",
                ),
                _sort_header("Status", S.links.sort_status, sort == "status", "↓", "wt-col-status"),
            )
        ),
        rx.el.tbody(rx.foreach(L.rows, _row)),
        class_name="wt-instance-table",
        custom_attrs={"data-testid": "instance-grid"},
    )


def _pager_button(label: rx.Component, href: rx.Var, disabled: rx.Var, testid: str, name: str) -> rx.Component:
    """`name` is what a screen reader says for it (two of them show only an icon)."""
    return rx.cond(
        disabled,
        rx.button(label, size="1", variant="soft", color_scheme="gray", disabled=True, aria_label=name),
        rx.link(
            rx.button(label, size="1", variant="soft", aria_label=name),
            href=href,
            custom_attrs={"data-testid": testid},
        ),
    )


def pager() -> rx.Component:
    first_page = S.v_page <= 1
    last_page = S.v_page >= L.page_count
    return rx.hstack(
        rx.text(
            "Page ", S.v_page.to_string(), " of ", L.page_count.to_string(),
            size="2",
            color_scheme="gray",
            custom_attrs={"data-testid": "page-info"},
        ),
        rx.spacer(),
        _pager_button(rx.icon("chevrons-left", size=14), S.links.first, first_page, "page-first", "First page"),
        _pager_button(rx.hstack(rx.icon("chevron-left", size=14), "Prev", spacing="1"), S.links.prev, first_page, "page-prev", "Prev page"),
        _pager_button(rx.hstack("Next", rx.icon("chevron-right", size=14), spacing="1"), S.links.next, last_page, "page-next", "Next page"),
        _pager_button(rx.icon("chevrons-right", size=14), L.href_last, last_page, "page-last", "Last page"),
        spacing="2",
        align="center",
        width="100%",
    )


def new_results_pill() -> rx.Component:
    return rx.cond(
        L.new_count > 0,
        rx.link(
            rx.badge(
                rx.icon("arrow-up", size=12),
                L.new_count.to_string(),
                " new results",
                color_scheme="blue",
                variant="solid",
                radius="full",
                size="2",
            ),
            href=S.links.head,
            class_name="wt-new-results",
            custom_attrs={"data-testid": "new-results"},
        ),
    )


def instance_grid() -> rx.Component:
    return rx.card(
        rx.vstack(
            filter_bar(),
            new_results_pill(),
            rx.cond(
                L.rows.length() > 0,
                rx.el.div(_grid(), class_name="wt-instance-scroll"),
                rx.center(
                    rx.text(rx.cond(S.v_q != "", "No instance matches this search.", "No instances yet."), color_scheme="gray"),
                    class_name="wt-empty-table",
                ),
            ),
            pager(),
            spacing="3",
            width="100%",
        ),
        class_name="wt-panel wt-instance-card",
    )
