"""Top of the run detail page: breadcrumb, title, status, SUT/scenarios, times, progress, warnings."""

from __future__ import annotations

import reflex as rx

from windtunnel_dash.components.live import relative_time
from windtunnel_dash.components.status import meter_bar, status_badge
from windtunnel_dash.state.run_detail import RunDetailState as S
from windtunnel_dash.state.run_detail import RunLiveState as L


def _meta(label: str, value: rx.Component) -> rx.Component:
    return rx.hstack(rx.text(label, class_name="wt-meta-label"), value, spacing="2", align="center")


def run_header() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(S.shown_run, size="6", class_name="wt-page-title"),
            status_badge(S.run_status),
            align="center",
            width="100%",
            spacing="3",
        ),
        rx.hstack(
            _meta("SUT", rx.text(rx.cond(S.sut_name != "", S.sut_name, "—"), weight="medium")),
            _meta(
                "Scenarios",
                rx.hstack(
                    rx.foreach(S.scenario_ids, lambda s: rx.badge(s, variant="outline", color_scheme="gray")),
                    spacing="1",
                    wrap="wrap",
                ),
            ),
            _meta("Started", rx.cond(S.started_at != "", relative_time(S.started_at), rx.text("—"))),
            rx.cond(
                S.completed_at != "",
                _meta("Completed", relative_time(S.completed_at)),
            ),
            spacing="5",
            wrap="wrap",
            class_name="wt-meta",
        ),
        rx.cond(
            S.is_running & (S.planned > 0),
            rx.vstack(
                rx.hstack(
                    rx.text("Progress", class_name="wt-meta-label"),
                    rx.spacer(),
                    rx.text(
                        L.all_count.to_string(), " / ", S.planned.to_string(), " planned · ",
                        L.progress_pct.to_string(), "%",
                        class_name="wt-progress-text",
                    ),
                    width="100%",
                ),
                meter_bar(L.progress_pct),
                width="100%",
                spacing="1",
                class_name="wt-progress",
                custom_attrs={"data-testid": "progress"},
            ),
        ),
        rx.cond(
            S.unreadable_lines > 0,
            rx.callout(
                rx.text(
                    S.unreadable_lines.to_string(),
                    " unreadable line(s) in this run's files were skipped (not valid UTF-8 JSON objects).",
                ),
                icon="triangle_alert",
                color_scheme="amber",
                size="1",
                width="100%",
                custom_attrs={"data-testid": "unreadable-warning"},
            ),
        ),
        spacing="3",
        width="100%",
    )
