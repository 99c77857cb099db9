"""Reflex page layouts; they read state and never touch the catalog."""
