"""The catalog: a derived, queryable index of every run's lines (docs/design.md §4)."""

from .store import Catalog, RunChanges

__all__ = ["Catalog", "RunChanges"]
