"""/runs/[run_id]/instances/[instance_id]: what one instance did, step by step.

All file-derived strings are rendered as text nodes (never as markup), and
bodies arrive already truncated by `state.instance_views`.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from windtunnel_dash.components.breadcrumb import breadcrumb
from windtunnel_dash.components.instance_status import status_pill
from windtunnel_dash.components.live import relative_time, tick_provider
from windtunnel_dash.state.instance import InstanceState as S
from windtunnel_dash.state.instance_views import AssertionView, AttemptView, StepView
from windtunnel_dash.views.shell import app_shell


def _crumbs() -> rx.Component:
    return breadcrumb(("Runs", "/"), (S.shown_run, S.run_href), here=S.shown_instance)


def _field(label: str, value: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, class_name="wt-meta-label"), value, spacing="1")


def _code(text: rx.Var, testid: str = "") -> rx.Component:
    return rx.el.pre(text, class_name="wt-code", custom_attrs={"data-testid": testid} if testid else {})


def _attempt(a: ObjectVar[AttemptView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(a.number, class_name="wt-num-right"),
        rx.table.cell(a.status_code, class_name="wt-num-right"),
        rx.table.cell(a.latency, class_name="wt-num-right"),
        rx.table.cell(a.outcome),
    )


def _assertion(a: ObjectVar[AssertionView]) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.cond(
                a.passed,
                rx.icon("circle-check", size=14, class_name="wt-c-pass"),
                rx.icon("circle-x", size=14, class_name="wt-c-fail"),
            ),
            rx.text(a.name, weight="medium", size="2"),
            rx.text(a.message, size="1", color_scheme="gray"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.grid(
            rx.vstack(rx.text("expected", class_name="wt-meta-label"), _code(a.expected), spacing="1"),
            rx.vstack(rx.text("actual", class_name="wt-meta-label"), _code(a.actual), spacing="1"),
            columns="2",
            spacing="3",
            width="100%",
        ),
        class_name=rx.cond(a.passed, "wt-assert", "wt-assert wt-assert-fail"),
        custom_attrs={"data-testid": "assertion"},
    )


def _section(title: str, body: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(title, class_name="wt-meta-label"), body, spacing="1", width="100%")


def _step(s: ObjectVar[StepView]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(s.index.to_string(), class_name="wt-step-index"),
                rx.text(s.name, weight="bold"),
                rx.badge(s.type, variant="outline", color_scheme="gray"),
                rx.match(
                    s.ok,
                    ("ok", rx.badge("ok", color_scheme="green", variant="soft")),
                    ("failed", rx.badge("failed", color_scheme="red", variant="soft")),
                    rx.fragment(),
                ),
                rx.spacer(),
                rx.cond(s.status_code != "", rx.badge("HTTP ", s.status_code, variant="soft", color_scheme="gray")),
                rx.text(s.latency, class_name="wt-num-right wt-faint", size="2"),
                align="center",
                spacing="2",
                width="100%",
            ),
            rx.cond(
                (s.method != "") | (s.url != ""),
                rx.hstack(rx.code(s.method), rx.text(s.url, class_name="wt-mono-small"), spacing="2", align="center"),
            ),
            rx.cond(s.errors != "", _section("Errors", _code(s.errors))),
            rx.cond(s.headers != "", _section("Headers", _code(s.headers))),
            rx.cond(
                s.body != "",
                _section(
                    "Body",
                    rx.vstack(
                        _code(s.body, "step-body"),
                        rx.cond(s.body_note != "", rx.text(s.body_note, size="1", color_scheme="amber")),
                        spacing="1",
                        width="100%",
                    ),
                ),
            ),
            rx.cond(
                s.attempts.length() > 0,
                _section(
                    "Attempts",
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("#", class_name="wt-num-right"),
                                rx.table.column_header_cell("Status", class_name="wt-num-right"),
                                rx.table.column_header_cell("Latency", class_name="wt-num-right"),
                                rx.table.column_header_cell("Outcome"),
                            )
                        ),
                        rx.table.body(rx.foreach(s.attempts, _attempt)),
                        size="1",
                    ),
                ),
            ),
            rx.cond(s.turbulence != "", _section("Turbulence", _code(s.turbulence))),
            rx.cond(
                s.assertions.length() > 0,
                _section("Assertions", rx.vstack(rx.foreach(s.assertions, _assertion), spacing="2", width="100%")),
            ),
            spacing="3",
            width="100%",
        ),
        class_name="wt-step",
        width="100%",
        custom_attrs={"data-testid": "step"},
    )


def _content() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(S.shown_instance, size="6", class_name="wt-page-title"),
            status_pill(S.status),
            align="center",
            spacing="3",
        ),
        rx.cond(
            S.error != "",
            rx.callout(rx.text(S.error), icon="octagon_alert", color_scheme="orange", size="1", width="100%"),
        ),
        rx.card(
            rx.grid(
                _field("Correlation ID", rx.text(S.correlation_id, class_name="wt-mono-small")),
                _field("Scenario", rx.text(S.scenario_id)),
                _field("Duration", rx.text(S.duration, class_name="wt-lat")),
                _field("Completion #", rx.text(S.seq.to_string())),
                _field("Started", rx.cond(S.started_at != "", relative_time(S.started_at), rx.text("—"))),
                _field("Completed", rx.cond(S.completed_at != "", relative_time(S.completed_at), rx.text("—"))),
                columns=rx.breakpoints(initial="2", md="3", lg="6"),
                spacing="4",
                width="100%",
            ),
            width="100%",
        ),
        rx.cond(
            S.entry_data != "",
            rx.card(
                rx.text("Entry data", class_name="wt-section-title"),
                _code(S.entry_data, "entry-data"),
                rx.cond(S.entry_note != "", rx.text(S.entry_note, size="1", color_scheme="amber")),
                width="100%",
            ),
        ),
        rx.text("Steps", class_name="wt-section-title"),
        rx.cond(
            S.steps.length() > 0,
            rx.vstack(rx.foreach(S.steps, _step), spacing="3", width="100%"),
            rx.text("No steps recorded for this instance.", color_scheme="gray", size="2"),
        ),
        spacing="4",
        width="100%",
    )


def _not_found() -> rx.Component:
    return rx.vstack(
        rx.callout(
            rx.text("No instance ", rx.code(S.shown_instance), " in run ", rx.code(S.shown_run), "."),
            icon="search_x",
            color_scheme="gray",
        ),
        spacing="4",
    )


def instance_page() -> rx.Component:
    return tick_provider(
        app_shell(
            rx.box(
                rx.cond(
                    S.loaded,
                    rx.cond(S.found, _content(), _not_found()),
                    rx.skeleton(rx.box(height="240px", width="100%")),
                ),
                class_name="wt-page",
            ),
            crumbs=_crumbs(),
        )
    )
