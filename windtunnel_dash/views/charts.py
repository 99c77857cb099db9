"""The run's two pictures: completions over time by status, and the latency distribution.

Recharts, kept cheap to re-render because a live row arriving while a chart
re-renders waits for it (bench/detail_live.py):
  * results over time is a stacked area chart: three paths, where stacked bars
    would be 180 rectangles (on each refresh recharts re-keys every bar whose
    value moved, so the DOM is rebuilt: about twice the main-thread time);
  * animations are off everywhere (the data changes on each refresh; a replayed
    animation would flicker and cost frames);
  * fixed tick intervals and unwrapped tick labels (recharts would measure every label in the DOM);
  * the charts read only RunChartsState, so they re-render with a chart refresh,
    never with a live batch of rows.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from windtunnel_dash.state.run_detail import LATENCY_BUCKETS, TIMELINE_BUCKETS
from windtunnel_dash.state.run_detail import RunChartsState as C

# The status palette of the grid's pills and the filter tabs (assets/dash.css), bottom to top.
_SERIES = (("passed", "Passed", "green"), ("failed", "Failed", "red"), ("errors", "Errors", "orange"))
# width 0: recharts' tick Text otherwise measures every word of every label in the DOM (forced
# layout, each render) to wrap labels that never need wrapping.
_TICK = {"fontSize": 11, "fill": "var(--gray-10)", "width": 0}
_AXIS_LABEL = {"fill": "var(--gray-10)", "fontSize": 11}
_HEIGHT = 220


def _panel(title: str, chart: rx.Component, testid: str) -> rx.Component:
    return rx.card(
        rx.text(title, class_name="wt-section-title"),
        chart,
        class_name="wt-panel wt-chart",
        custom_attrs={"data-testid": testid},
    )


def _axes(x_key: str, x_label: str, y_label: str, every: int) -> tuple[rx.Component, ...]:
    return (
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False, stroke="var(--gray-a5)"),
        rx.recharts.x_axis(
            data_key=x_key,
            interval=every,
            tick=_TICK,
            stroke="var(--gray-a7)",
            height=38,
            label={"value": x_label, "position": "insideBottom", "offset": 0, **_AXIS_LABEL},
        ),
        rx.recharts.y_axis(
            allow_decimals=False,
            interval=0,
            width=52,
            tick=_TICK,
            stroke="var(--gray-a7)",
            label={"value": y_label, "angle": -90, "position": "insideLeft", "offset": 10, **_AXIS_LABEL},
        ),
        rx.recharts.graphing_tooltip(
            is_animation_active=False,
            cursor={"stroke": "var(--gray-a8)", "fill": "var(--gray-a3)"},
            content_style={"background": "var(--color-panel-solid)", "borderColor": "var(--gray-a6)",
                           "borderRadius": "8px", "fontSize": 12, "padding": "6px 10px"},
            item_style={"padding": "1px 0"},
        ),
    )


def _legend() -> rx.Component:
    return rx.recharts.legend(icon_size=10, icon_type="square", height=24, vertical_align="top", align="right")


def _chart_props(data: rx.Var) -> dict[str, Any]:
    return {
        "data": data.to(list[dict[str, Any]]),  # recharts takes its rows as plain objects
        "width": "100%",
        "height": _HEIGHT,
        "margin": {"top": 4, "right": 8, "left": 0, "bottom": 4},
    }


def results_over_time() -> rx.Component:
    return _panel(
        "Results over time",
        rx.recharts.area_chart(
            *_axes("t", "Completed at (UTC)", "Completions", TIMELINE_BUCKETS // 6 - 1),
            _legend(),
            *(
                rx.recharts.area(
                    data_key=key,
                    name=name,
                    stack_id="s",
                    type_="monotone",
                    stroke=f"var(--{colour}-9)",
                    fill=f"var(--{colour}-9)",
                    custom_attrs={"fillOpacity": 0.75},
                    active_dot={"r": 3, "stroke": "var(--color-panel-solid)", "fill": f"var(--{colour}-9)"},
                    is_animation_active=False,
                )
                for key, name, colour in _SERIES
            ),
            **_chart_props(C.timeline),
        ),
        "chart-timeline",
    )


def latency_distribution() -> rx.Component:
    return _panel(
        "Latency distribution",
        rx.recharts.bar_chart(
            *_axes("label", "Duration (bucket start)", "Instances", LATENCY_BUCKETS // 5 - 1),
            _legend(),  # also lines its plot up with the timeline's
            rx.recharts.bar(data_key="count", name="Instances", fill="var(--accent-9)", radius=[2, 2, 0, 0],
                            is_animation_active=False),
            **_chart_props(C.latency),
        ),
        "chart-latency",
    )
