"""Files → watcher → tailer → catalog → hub: the live engine (docs/design.md §4)."""
