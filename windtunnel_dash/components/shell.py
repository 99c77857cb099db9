"""The frame around every page: brand, breadcrumb slot, the connection indicator and the pipeline's warnings.

Plain elements laid out in assets/dash.css (`wt-app`, `wt-topbar-*`, `wt-brand`): every
page mounts this on first paint, and Radix layout components (Box, Flex, Text) each parse
their props in the browser for what a CSS class does.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.react_router.dom import ReactRouterLink

from windtunnel_dash.components.conditions_banner import conditions_banner
from windtunnel_dash.components.live import connection_indicator


def app_shell(*content: rx.Component, crumbs: rx.Component | None = None) -> rx.Component:
    """A sticky top bar over a centred content column; `crumbs` sits beside the brand."""
    return rx.el.div(
        rx.el.div(
            rx.el.div(
                ReactRouterLink.create(
                    rx.icon("wind", size=18, class_name="wt-brand-mark"),
                    "windtunnel",
                    to="/",
                    class_name="wt-brand",
                ),
                crumbs if crumbs is not None else rx.fragment(),
                rx.el.div(class_name="wt-spacer"),
                connection_indicator(),
                class_name="wt-topbar-inner",
            ),
            conditions_banner(),
            class_name="wt-topbar",
        ),
        rx.el.div(*content, class_name="wt-main"),
        class_name="wt-app",
    )
