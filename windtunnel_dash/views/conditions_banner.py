"""The pipeline's warnings under the top bar of every page: what is wrong and what fixes it."""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar

from windtunnel_dash.state.conditions import ConditionsState, WarningView


def _warning(warning: ObjectVar[WarningView]) -> rx.Component:
    return rx.el.div(
        rx.icon("triangle-alert", size=16, class_name="wt-condition-icon"),
        rx.el.div(
            rx.el.strong(warning.message),
            rx.el.span(warning.fix, class_name="wt-condition-fix"),
            class_name="wt-condition-text",
        ),
        class_name="wt-condition",
        role="alert",
        data_condition=warning.key,
    )


def conditions_banner() -> rx.Component:
    """Nothing while all is well; one line per condition otherwise."""
    return rx.el.div(rx.foreach(ConditionsState.warnings, _warning), class_name="wt-conditions")
