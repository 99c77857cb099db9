"""The run's two pictures: completions over time by status, and the latency distribution.

Animations are off: the data changes up to once a second and a replayed
animation would make the chart flicker instead of grow.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from windtunnel_dash.state.run_detail import LATENCY_BUCKETS, TIMELINE_BUCKETS
from windtunnel_dash.state.run_detail import RunChartsState as C

_PASS, _FAIL, _ERR = "var(--green-9)", "var(--red-9)", "var(--orange-9)"
_AXIS = {"stroke": "var(--gray-9)", "font_size": 11}


def _panel(title: str, chart: rx.Component, testid: str) -> rx.Component:
    return rx.card(
        rx.text(title, class_name="wd-section-title"),
        chart,
        class_name="wd-panel wd-chart",
        custom_attrs={"data-testid": testid},
    )


def _bar_chart(data: rx.Var, x_key: str, every: int, gap: str, *parts: rx.Component) -> rx.Component:
    """Fixed tick intervals: recharts' automatic ones measure every label in the DOM on each render."""
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False, stroke="var(--gray-a5)"),
        rx.recharts.x_axis(data_key=x_key, interval=every, **_AXIS),
        rx.recharts.y_axis(allow_decimals=False, width=44, interval=0, **_AXIS),
        rx.recharts.graphing_tooltip(cursor={"fill": "var(--gray-a3)"}),
        *parts,
        data=data.to(list[dict[str, Any]]),  # recharts takes its rows as plain objects
        width="100%",
        height=220,
        bar_category_gap=gap,
    )


def results_over_time() -> rx.Component:
    return _panel(
        "Results over time",
        _bar_chart(
            C.timeline,
            "t",
            TIMELINE_BUCKETS // 6 - 1,
            "10%",
            rx.recharts.legend(icon_size=10, height=24),
            rx.recharts.bar(data_key="passed", name="Passed", stack_id="s", fill=_PASS, is_animation_active=False),
            rx.recharts.bar(data_key="failed", name="Failed", stack_id="s", fill=_FAIL, is_animation_active=False),
            rx.recharts.bar(data_key="errors", name="Errors", stack_id="s", fill=_ERR, is_animation_active=False),
        ),
        "chart-timeline",
    )


def latency_distribution() -> rx.Component:
    return _panel(
        "Latency distribution",
        _bar_chart(
            C.latency,
            "label",
            LATENCY_BUCKETS // 5 - 1,
            "6%",
            rx.recharts.bar(data_key="count", name="Instances", fill="var(--accent-9)", is_animation_active=False),
        ),
        "chart-latency",
    )
