"""Files → watcher → tailer → catalog → hub: the live engine (DESIGN.md §4)."""
