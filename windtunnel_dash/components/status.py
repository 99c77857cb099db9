"""How a run status and a pass rate look, defined once for every page.

Both take Vars (state fields or foreach items) so the list and the detail page
render the same run the same way. Colours come from `assets/dash.css`
(`wt-` classes keyed by data attributes), which follow the light/dark theme.

These render plain elements, not Radix components: a table of 100 runs holds
hundreds of them, and Radix's per-component prop parsing dominated its render
time. Badges reuse Radix Themes' own badge classes, so they look the same, and
the settled states' icons are CSS masks keyed by `data-status` rather than SVG
icon components (three to five DOM nodes and a component each, per row).
"""

from __future__ import annotations

import reflex as rx


def pill(icon: rx.Component | None, label: str, color: str, **data: str) -> rx.Component:
    """A rounded soft badge with a leading icon; `data` become data-* attributes for tests and CSS."""
    return rx.el.span(
        *([icon] if icon is not None else []),
        label,
        class_name="rt-reset rt-Badge rt-r-size-1 rt-variant-soft wt-pill",
        custom_attrs={"data-accent-color": color, "data-radius": "full"}
        | {f"data-{key}": value for key, value in data.items()},
    )


def spinner() -> rx.Component:
    """A small CSS spinner (paused and dimmed inside `.wt-offline`)."""
    return rx.el.span(class_name="wt-spinner", aria_hidden="true")


def _badge(label: str, status: str, color: str, icon: rx.Component | None = None) -> rx.Component:
    """Without `icon`, assets/dash.css draws the status's icon (`.wt-pill[data-status]::before`)."""
    return pill(icon, label, color, status=status)


def status_badge(status: rx.Var[str] | str) -> rx.Component:
    """Running and Failing spin (the run is still writing); the rest are settled states."""
    return rx.match(
        status,
        ("running", _badge("Running", "running", "blue", spinner())),
        ("failing", _badge("Failing", "failing", "orange", spinner())),
        ("complete", _badge("Complete", "complete", "green")),
        ("stalled", _badge("Stalled", "stalled", "amber")),
        ("error", _badge("Error", "error", "red")),
        _badge("Unknown", "unknown", "gray"),
    )


def meter_bar(percent: rx.Var | float, tone: rx.Var[str] | str = "accent") -> rx.Component:
    """A thin horizontal bar, `percent` (0–100) filled; changes animate in CSS (a scale transition).

    The scale is an inline style (custom_attrs), not a Reflex style: those become one
    generated CSS class per distinct value, and live progress has hundreds of values.
    """
    return rx.el.div(
        # Var.create keeps the state var's data: a plain dict in custom_attrs loses it, and a
        # state-bound bar then renders outside its state context (ReferenceError in the browser).
        rx.el.div(class_name="wt-bar-fill", custom_attrs={"style": rx.Var.create({"transform": f"scaleX({percent}%)"})}),
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
