"""Runs > run > instance: the trail shown in the app shell's top bar on the detail pages."""

from __future__ import annotations

import reflex as rx


def breadcrumb(*trail: tuple[rx.Var | str, rx.Var | str], here: rx.Var | str) -> rx.Component:
    """`trail` is (label, href) pairs leading to `here`, the current page (plain text)."""
    parts: list[rx.Component] = []
    for label, href in trail:
        parts.append(rx.link(label, href=href, class_name="wt-crumb-link"))
        parts.append(rx.icon("chevron-right", size=14, class_name="wt-crumb-sep"))
    parts.append(rx.text(here, class_name="wt-crumb-here"))
    return rx.hstack(*parts, spacing="1", align="center", wrap="wrap", class_name="wt-crumb")
