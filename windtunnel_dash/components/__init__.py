"""Stateless UI building blocks shared by the views and pages; they import no state (tests/unit/test_layers.py)."""
