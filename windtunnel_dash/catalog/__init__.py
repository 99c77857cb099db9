"""The catalog: a derived, queryable index of every run's lines (DESIGN.md §4)."""
