"""The on-disk artifact format of a windtunnel run (DESIGN.md §2–3)."""
