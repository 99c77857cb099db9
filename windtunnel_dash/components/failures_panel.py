"""The latest failures beside the grid: the newest failed or errored instances, one click away."""

from __future__ import annotations

import reflex as rx

from windtunnel_dash.components.instance_status import instance_status_badge
from windtunnel_dash.state.detail_views import InstanceView
from windtunnel_dash.state.run_detail import RunDetailState as S


def _failure(r: InstanceView) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.hstack(
                rx.text(r.instance_id, class_name="wd-mono", weight="medium"),
                rx.spacer(),
                instance_status_badge(r.status),
                width="100%",
                align="center",
            ),
            rx.text(r.scenario_id, " · ", r.duration, size="1", color_scheme="gray"),
            rx.cond(r.error != "", rx.text(r.error, size="1", class_name="wd-failure-error")),
            spacing="1",
            width="100%",
        ),
        href=r.href,
        key=r.seq,
        underline="none",
        width="100%",
        class_name=rx.cond(r.fresh, "wd-failure wd-row-new", "wd-failure"),
        custom_attrs={"data-instance": r.instance_id},
    )


def failures_panel() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon("flame", size=16, class_name="wd-c-fail"),
            rx.text("Latest failures", class_name="wd-section-title"),
            align="center",
            spacing="2",
        ),
        rx.cond(
            S.failures.length() > 0,
            rx.vstack(rx.foreach(S.failures, _failure), spacing="2", width="100%"),
            rx.text("No failures so far.", size="2", color_scheme="gray", class_name="wd-empty-small"),
        ),
        class_name="wd-panel wd-failures",
        custom_attrs={"data-testid": "latest-failures"},
    )
