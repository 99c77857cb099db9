"""How one instance's status looks (passed / failed / error) wherever an instance is listed."""

from __future__ import annotations

import reflex as rx


def _badge(label: str, color: str, icon: str, status: str) -> rx.Component:
    return rx.badge(
        rx.icon(icon, size=12),
        label,
        color_scheme=color,
        variant="soft",
        radius="full",
        class_name="wt-status",
        custom_attrs={"data-status": status},
    )


def instance_status_badge(status: rx.Var[str] | str) -> rx.Component:
    return rx.match(
        status,
        ("passed", _badge("Passed", "green", "circle-check", "passed")),
        ("failed", _badge("Failed", "red", "circle-x", "failed")),
        ("error", _badge("Error", "orange", "octagon-alert", "error")),
        _badge("Unknown", "gray", "circle-help", "unknown"),
    )
