"""The frame around every page: brand, breadcrumb slot, the connection indicator and the pipeline's warnings.

Plain elements laid out in assets/dash.css (`wt-app`, `wt-topbar-*`, `wt-brand`): every
page mounts this on first paint, and Radix layout components (Box, Flex, Text) each parse
their props in the browser for what a CSS class does.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.react_router.dom import ReactRouterLink

from windtunnel_dash.components.live import connection_indicator
from windtunnel_dash.views.conditions_banner import conditions_banner


def slash_focuses(search_id: str) -> rx.Component:
    """'/' anywhere on the page puts the cursor in its search box (the usual shortcut of list pages).

    rx.set_focus would move the focus inside the key's own handling, and the slash would then be typed
    into the box; Reflex has no Python API to defer it, so a one-line call_script moves it once the
    key is done.
    """
    script = f"setTimeout(() => document.getElementById({search_id!r})?.focus(), 0)"
    return rx.window_event_listener(
        on_key_down=lambda key, _info: rx.cond(key == "/", rx.call_script(script), rx.noop()),
    )


def app_shell(*content: rx.Component, crumbs: rx.Component | None = None, search_id: str = "") -> rx.Component:
    """A sticky top bar over a centred content column; `crumbs` sits beside the brand; `search_id`
    names the page's search box, which '/' focuses."""
    return rx.el.div(
        slash_focuses(search_id) if search_id else rx.fragment(),
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
