"""Comparing a run with its baseline (docs/design.md §9): interval maths, failure signatures, deltas."""
