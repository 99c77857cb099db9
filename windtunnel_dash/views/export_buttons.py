"""Export buttons of the instance grid's toolbar: the current view as CSV or JSON Lines, one click each."""

from __future__ import annotations

import reflex as rx

from windtunnel_dash.state.export import ExportState


def _button(label: str, fmt: str, hint: str) -> rx.Component:
    return rx.button(
        rx.icon("download", size=14), label,
        # mypy types @rx.event's result as EventNamespace (it ignores __new__'s overloads returning an EventCallback)
        on_click=ExportState.download(fmt),  # type: ignore[operator]
        size="1",
        variant="soft",
        title=hint,
        custom_attrs={"data-testid": f"export-{fmt}"},
    )


def export_buttons() -> rx.Component:
    return rx.hstack(
        _button("CSV", "csv", "Download the instances of this view (filter, search, sort) as CSV"),
        _button("JSONL", "jsonl", "Download the instances of this view (filter, search, sort) as JSON Lines"),
        spacing="1",
        align="center",
    )
