"""Reflex states: what each page shows, fed by background tasks (DESIGN.md §6)."""
