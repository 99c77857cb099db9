"""How one instance's status looks (passed / failed / error) wherever an instance is shown.

A bare span coloured by `data-status` in assets/dash.css rather than a Radix
badge with an icon: the grid re-renders up to 10 times a second, 50 rows at a
time, and a plain element is what keeps that cheap.
"""

from __future__ import annotations

import reflex as rx


def status_pill(status: rx.Var[str] | str) -> rx.Component:
    return rx.el.span(status, class_name="wt-status", custom_attrs={"data-status": status})
