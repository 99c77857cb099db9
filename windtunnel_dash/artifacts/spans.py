"""Reading back the records the catalog points at: the lines at stored (pos, size) spans of a run's files.

The catalog keeps where each line is, not the line (the files stay the source of truth), so detail
views and failure signatures re-read the few records they show from here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import layout
from .reader import parse_line
from .sqlite_reader import BadDatabase, Busy, RunDatabase


def read_spans(path: Path, spans: Sequence[Any]) -> list[dict[str, Any]]:
    """The objects of the lines at (`pos`, `size`) in a run file; {} where the file no longer holds them."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return [{} for _ in spans]
    try:
        return [parse_line(os.pread(fd, span.size, span.pos)) or {} for span in spans]
    finally:
        os.close(fd)


def records_at(run_path: Path, name: str, spans: Sequence[Any]) -> list[dict[str, Any]]:
    """The records of `name` at `spans`: lines of the JSONL file, or rows of the runner's database (docs/design.md §2)."""
    if not layout.uses_database(run_path):
        return read_spans(run_path / name, spans)
    keys = [span.instance_id if name == layout.INSTANCES else span.pos for span in spans]
    try:
        with RunDatabase(run_path / layout.DATABASE) as db:
            return db.records(name, keys)
    except (BadDatabase, Busy, OSError):
        return [{} for _ in spans]
