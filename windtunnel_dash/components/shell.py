"""The frame around every page: brand, breadcrumb slot and the connection indicator."""

from __future__ import annotations

import reflex as rx

from windtunnel_dash.components.live import connection_indicator


def app_shell(*content: rx.Component, crumbs: rx.Component | None = None) -> rx.Component:
    """A sticky top bar over a centred content column; `crumbs` sits beside the brand."""
    return rx.box(
        rx.box(
            rx.hstack(
                rx.link(
                    rx.hstack(
                        rx.icon("wind", size=18, class_name="wt-brand-mark"),
                        rx.text("windtunnel", weight="bold", size="3"),
                        spacing="2",
                        align="center",
                    ),
                    href="/",
                    underline="none",
                    class_name="wt-brand",
                ),
                crumbs if crumbs is not None else rx.fragment(),
                rx.spacer(),
                connection_indicator(),
                align="center",
                spacing="4",
                class_name="wt-topbar-inner",
            ),
            class_name="wt-topbar",
        ),
        rx.box(*content, class_name="wt-main"),
        class_name="wt-app",
    )
