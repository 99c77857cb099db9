"""Keeping live deltas small: a var is only set when its value really changed."""

from __future__ import annotations

from typing import Any

import reflex as rx


def assign_changed(state: rx.State, **values: Any) -> None:
    """Assign only what changed, so unchanged vars stay out of the delta."""
    for name, value in values.items():
        if getattr(state, name) != value:
            setattr(state, name, value)
