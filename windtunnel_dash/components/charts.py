"""The run's two pictures: completions over time by status, and the latency distribution.

Plain elements sized by CSS percentages computed server-side (detail_views), not
recharts: a recharts re-render of these two charts took 50-230 ms of main thread
on each once-a-second refresh, and a live row arriving meanwhile waited for it
(bench/detail_live.py). Hover a bar for its numbers (a native title).
"""

from __future__ import annotations

import reflex as rx

from windtunnel_dash.state.detail_views import LatencyPoint, TimelinePoint
from windtunnel_dash.state.run_detail import RunChartsState as C


def _panel(title: str, chart: rx.Component, testid: str, legend: rx.Component | None = None) -> rx.Component:
    return rx.card(
        rx.hstack(rx.text(title, class_name="wd-section-title"), rx.spacer(), legend or rx.fragment(), width="100%"),
        chart,
        class_name="wd-panel wd-chart",
        custom_attrs={"data-testid": testid},
    )


def _bars(points: rx.Var, column, label_every: str) -> rx.Component:
    return rx.el.div(
        rx.foreach(points, column),
        class_name="wd-bars",
        custom_attrs={"data-label-every": label_every},
    )


def _timeline_column(p: TimelinePoint) -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.div(class_name="wd-seg", style={"height": p.h_errors}, custom_attrs={"data-status": "error"}),
            rx.el.div(class_name="wd-seg", style={"height": p.h_failed}, custom_attrs={"data-status": "failed"}),
            rx.el.div(class_name="wd-seg", style={"height": p.h_passed}, custom_attrs={"data-status": "passed"}),
            class_name="wd-bar",
            style={"height": p.height},
        ),
        rx.el.span(p.t, class_name="wd-bar-label"),
        class_name="wd-col",
        title=p.title,
    )


def _latency_column(p: LatencyPoint) -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.div(class_name="wd-seg", style={"height": "100%"}, custom_attrs={"data-status": "latency"}),
            class_name="wd-bar",
            style={"height": p.height},
        ),
        rx.el.span(p.label, class_name="wd-bar-label"),
        class_name="wd-col",
        title=p.title,
    )


def _legend() -> rx.Component:
    return rx.hstack(
        *(
            rx.el.span(rx.el.i(class_name="wd-swatch", custom_attrs={"data-status": status}), label, class_name="wd-legend-item")
            for status, label in (("passed", "Passed"), ("failed", "Failed"), ("error", "Errors"))
        ),
        spacing="3",
    )


def results_over_time() -> rx.Component:
    return _panel("Results over time", _bars(C.timeline, _timeline_column, "10"), "chart-timeline", _legend())


def latency_distribution() -> rx.Component:
    return _panel("Latency distribution", _bars(C.latency, _latency_column, "4"), "chart-latency")
