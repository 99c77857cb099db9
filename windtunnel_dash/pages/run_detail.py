"""/runs/[run_id]: one run, live — header, cards, charts, instance grid and latest failures."""

from __future__ import annotations

import reflex as rx

from windtunnel_dash.components.breadcrumb import breadcrumb
from windtunnel_dash.components.live import offline_class, tick_provider
from windtunnel_dash.state.run_detail import RunDetailState as S
from windtunnel_dash.views.charts import latency_distribution, results_over_time
from windtunnel_dash.views.compare import compare_bar, new_failure_kinds
from windtunnel_dash.views.failures_panel import failures_panel
from windtunnel_dash.views.instance_grid import SEARCH_ID, instance_grid
from windtunnel_dash.views.run_header import run_header
from windtunnel_dash.views.shell import app_shell
from windtunnel_dash.views.summary_cards import scenario_breakdown, summary_cards


def _not_found() -> rx.Component:
    return rx.vstack(
        rx.callout(
            rx.text("No run named ", rx.code(S.shown_run), " under the runs directory."),
            icon="search_x",
            color_scheme="gray",
        ),
        rx.link("Back to all runs", href="/"),
        spacing="4",
    )


def _loading() -> rx.Component:
    return rx.vstack(
        rx.skeleton(rx.box(height="32px", width="40%")),
        rx.skeleton(rx.box(height="96px", width="100%")),
        rx.skeleton(rx.box(height="320px", width="100%")),
        spacing="4",
        width="100%",
    )


def _content() -> rx.Component:
    return rx.vstack(
        run_header(),
        compare_bar(),
        summary_cards(),
        rx.grid(results_over_time(), latency_distribution(), columns=rx.breakpoints(initial="1", md="2"), spacing="3", width="100%"),
        rx.flex(
            rx.box(instance_grid(), class_name="wt-detail-main"),
            rx.vstack(failures_panel(), new_failure_kinds(), scenario_breakdown(), spacing="3", class_name="wt-side"),
            spacing="3",
            width="100%",
            direction=rx.breakpoints(initial="column", lg="row"),
            align="start",
        ),
        spacing="4",
        width="100%",
    )


def run_detail_page() -> rx.Component:
    return tick_provider(
        app_shell(
            rx.box(
                rx.cond(S.loaded, rx.cond(S.found, _content(), _not_found()), _loading()),
                class_name=offline_class("wt-page"),
            ),
            crumbs=breadcrumb(("Runs", "/"), here=S.shown_run),
            search_id=SEARCH_ID,
        )
    )
