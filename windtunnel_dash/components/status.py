"""How a run status and a pass rate look, defined once for every page.

Both take Vars (state fields or foreach items) so the list and the detail page
render the same run the same way. Colours come from `assets/dash.css`
(`wt-` classes keyed by data attributes), which follow the light/dark theme.

These render plain elements, not Radix components: a table of 100 runs holds
hundreds of them, and Radix's per-component prop parsing dominated its render
time. Badges reuse Radix Themes' own badge classes, so they look the same.
"""

from __future__ import annotations

import reflex as rx

_ICON_SIZE = 12


def pill(icon: rx.Component, label: str, color: str, **data: str) -> rx.Component:
    """A rounded soft badge with a leading icon; `data` become data-* attributes for tests and CSS."""
    return rx.el.span(
        icon,
        label,
        class_name="rt-reset rt-Badge rt-r-size-1 rt-variant-soft wt-pill",
        custom_attrs={"data-accent-color": color, "data-radius": "full"}
        | {f"data-{key}": value for key, value in data.items()},
    )


def spinner() -> rx.Component:
    """A small CSS spinner (paused and dimmed inside `.wt-offline`)."""
    return rx.el.span(class_name="wt-spinner", aria_hidden="true")


def _badge(label: str, status: str, color: str, icon: rx.Component) -> rx.Component:
    return pill(icon, label, color, status=status)


def status_badge(status: rx.Var[str] | str) -> rx.Component:
    """Running and Failing spin (the run is still writing); the rest are settled states."""
    return rx.match(
        status,
        ("running", _badge("Running", "running", "blue", spinner())),
        ("failing", _badge("Failing", "failing", "orange", spinner())),
        ("complete", _badge("Complete", "complete", "green", rx.icon("circle-check", size=_ICON_SIZE))),
        ("stalled", _badge("Stalled", "stalled", "amber", rx.icon("circle-pause", size=_ICON_SIZE))),
        ("error", _badge("Error", "error", "red", rx.icon("triangle-alert", size=_ICON_SIZE))),
        _badge("Unknown", "unknown", "gray", rx.icon("circle-help", size=_ICON_SIZE)),
    )


def meter_bar(percent: rx.Var[float] | float, tone: rx.Var[str] | str = "accent") -> rx.Component:
    """A thin horizontal bar, `percent` (0–100) filled; width changes animate in CSS.

    The width is an inline style (custom_attrs), not a Reflex style: those become one
    generated CSS class per distinct value, and live progress has hundreds of values.
    """
    return rx.el.div(
        # Var.create keeps the state var's data: a plain dict in custom_attrs loses it, and a
        # state-bound bar then renders outside its state context (ReferenceError in the browser).
        rx.el.div(class_name="wt-bar-fill", custom_attrs={"style": rx.Var.create({"width": f"{percent}%"})}),
        class_name="wt-bar",
        custom_attrs={"data-tone": tone},
    )


def pass_rate_meter(
    text: rx.Var[str] | str, tone: rx.Var[str] | str, percent: rx.Var[float] | float
) -> rx.Component:
    """The pass rate as coloured text over a small bar (tone from `format.pass_rate_tone`)."""
    return rx.el.div(
        rx.el.span(text, class_name="wt-rate-text"),
        meter_bar(percent, tone),
        class_name="wt-rate",
        custom_attrs={"data-tone": tone},
    )
