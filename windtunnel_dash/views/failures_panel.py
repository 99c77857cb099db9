"""The latest failures beside the grid: the newest failed or errored instances, one click away."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar
from reflex_components_core.react_router.dom import ReactRouterLink

from windtunnel_dash.components.instance_status import status_pill
from windtunnel_dash.state.detail_views import InstanceView
from windtunnel_dash.state.run_detail import RunLiveState as L


def _failure(r: ObjectVar[InstanceView]) -> rx.Component:
    """Plain elements and a bare router link, as in the grid: this list re-renders with every live batch."""
    return ReactRouterLink.create(
        rx.el.div(
            rx.el.span(r.instance_id, class_name="wt-mono-small wt-failure-id"),
            status_pill(r.status),
            class_name="wt-failure-head",
        ),
        rx.el.div(r.scenario_id, " · ", r.duration, class_name="wt-failure-meta"),
        rx.cond(r.error != "", rx.el.div(r.error, class_name="wt-failure-error")),
        to=r.href,
        key=r.seq,
        class_name=rx.cond(r.flash, "wt-failure wt-flash", "wt-failure"),
        custom_attrs={"data-instance": r.instance_id},
    )


def failures_panel() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon("flame", size=16, class_name="wt-c-fail"),
            rx.text("Latest failures", class_name="wt-section-title"),
            align="center",
            spacing="2",
        ),
        rx.cond(
            L.failures.length() > 0,
            rx.vstack(rx.foreach(L.failures, _failure), spacing="2", width="100%"),
            rx.text("No failures so far.", size="2", color_scheme="gray", class_name="wt-empty-small"),
        ),
        class_name="wt-panel wt-failures",
        custom_attrs={"data-testid": "latest-failures"},
    )
