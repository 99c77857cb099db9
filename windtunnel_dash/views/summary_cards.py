"""Summary cards (pass rate, duration, counts, errors, latency) and the per-scenario breakdown."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from windtunnel_dash.components.live import ticking_duration
from windtunnel_dash.components.status import meter_bar
from windtunnel_dash.state.detail_views import ScenarioView
from windtunnel_dash.state.run_detail import RunChartsState as C
from windtunnel_dash.state.run_detail import RunDetailState as S
from windtunnel_dash.state.run_detail import RunLiveState as L
from windtunnel_dash.views.compare import OVERALL, card_delta, scenario_delta


def _card(label: str, value: rx.Component, foot: rx.Component, testid: str, *delta: rx.Component) -> rx.Component:
    """`delta`: the figure's change against the baseline (views/compare.py), when compared."""
    return rx.card(
        rx.vstack(
            rx.text(label, class_name="wt-card-label"),
            value,
            foot,
            *delta,
            spacing="1",
            width="100%",
        ),
        class_name="wt-summary-card",
        custom_attrs={"data-testid": testid},
    )


def _big(value, class_name: str | rx.Var = "wt-card-value") -> rx.Component:
    return rx.text(value, class_name=class_name)


def summary_cards() -> rx.Component:
    return rx.grid(
        _card(
            "Pass rate",
            rx.box(_big(L.rate_text), custom_attrs={"data-tone": L.rate_tone}, class_name="wt-toned"),
            meter_bar(L.pass_rate, L.rate_tone),
            "card-pass-rate",
            card_delta(OVERALL.pass_rate, "delta-pass-rate"),
        ),
        _card(
            "Duration",
            _big(rx.cond(S.is_running & (S.started_at != ""), ticking_duration(S.started_at), S.final_duration)),
            rx.text(rx.cond(S.is_running, "running", "wall clock"), class_name="wt-card-foot"),
            "card-duration",
        ),
        _card(
            "Instances",
            _big(L.all_count.to_string()),
            rx.hstack(
                rx.text(L.passed.to_string(), " passed", class_name="wt-c-pass"),
                rx.text(L.failed.to_string(), " failed", class_name="wt-c-fail"),
                spacing="3",
                class_name="wt-card-foot",
            ),
            "card-instances",
        ),
        _card(
            "Errors",
            _big(L.errors.to_string(), class_name=rx.cond(L.errors > 0, "wt-card-value wt-c-err", "wt-card-value")),
            rx.text("could not finish", class_name="wt-card-foot"),
            "card-errors",
            card_delta(OVERALL.error_rate, "delta-error-rate", "rate"),
        ),
        _card(
            "Latency",
            rx.hstack(
                rx.vstack(rx.text("p50", class_name="wt-card-foot"), rx.text(L.p50, class_name="wt-lat"), spacing="0"),
                rx.vstack(rx.text("p95", class_name="wt-card-foot"), rx.text(L.p95, class_name="wt-lat"), spacing="0"),
                rx.vstack(rx.text("p99", class_name="wt-card-foot"), rx.text(L.p99, class_name="wt-lat"), spacing="0"),
                spacing="3",
                wrap="wrap",
            ),
            rx.text("instance duration", class_name="wt-card-foot"),
            "card-latency",
            card_delta(OVERALL.p50, "delta-p50", "p50"),
            card_delta(OVERALL.p95, "delta-p95", "p95"),
        ),
        # The summary for screen readers: a polite live region, rewritten at most every few seconds.
        rx.el.div(C.announcement, class_name="wt-sr-only", role="status", custom_attrs={"aria-live": "polite"}),
        columns=rx.breakpoints(initial="2", sm="3", lg="5"),
        spacing="3",
        width="100%",
        class_name="wt-cards",
    )


def _scenario_row(s: ObjectVar[ScenarioView]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(s.scenario_id, weight="medium")),
        rx.table.cell(s.total.to_string(), class_name="wt-num-right"),
        rx.table.cell(s.passed.to_string(), class_name="wt-num-right wt-c-pass"),
        rx.table.cell(s.failed.to_string(), class_name="wt-num-right wt-c-fail"),
        rx.table.cell(s.errors.to_string(), class_name="wt-num-right wt-c-err"),
        rx.table.cell(
            rx.text(s.rate_text, class_name="wt-rate-text"),
            scenario_delta(scenario_id=s.scenario_id),  # against the baseline, when compared
            custom_attrs={"data-tone": s.rate_tone},
            class_name="wt-num-right",
        ),
    )


def scenario_breakdown() -> rx.Component:
    return rx.card(
        rx.text("By scenario", class_name="wt-section-title"),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Scenario"),
                    rx.table.column_header_cell("Total", class_name="wt-num-right"),
                    rx.table.column_header_cell("Pass", class_name="wt-num-right"),
                    rx.table.column_header_cell("Fail", class_name="wt-num-right"),
                    rx.table.column_header_cell("Err", class_name="wt-num-right"),
                    rx.table.column_header_cell("Rate", class_name="wt-num-right"),
                )
            ),
            rx.table.body(rx.foreach(C.scenarios, _scenario_row)),
            size="1",
            width="100%",
            class_name="wt-scenarios",
        ),
        class_name="wt-panel",
        custom_attrs={"data-testid": "scenario-breakdown"},
    )
