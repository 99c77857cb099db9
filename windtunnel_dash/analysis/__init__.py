"""Comparing a run with its baseline (DESIGN.md §9): interval maths, failure signatures, deltas."""
