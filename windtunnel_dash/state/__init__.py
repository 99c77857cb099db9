"""Reflex states: what each page shows, fed by background tasks (docs/design.md §6)."""
