"""The on-disk artifact format of a windtunnel run (docs/design.md §2–3)."""
