"""Rows of a run's turbulence.db → the catalog fields of each readable row. Pure, so a worker process can run it.

The SQLite tailer's counterpart of lineparse.parse_block, and like it importing only artifacts/ (and
lineparse's row builders), so a parse worker does not load the catalog or SQLAlchemy. A row becomes
the tuple its JSONL line would: `pos` is its rowid (what the instance page reads back) and `size` 0;
steps and assertions take their rowid as seq (AUTOINCREMENT: increasing, never reused).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.sqlite_reader import TABLE_OF, RunDatabase, assertion_record, instance_record, step_record

from .lineparse import Parsed, assertion_row, instance_row, step_row


def _instance(key: int, record: Any, rowid: int) -> tuple:
    return instance_row(key, record, rowid, 0)


def _step(key: int, record: Any, rowid: int) -> tuple:
    return step_row(key, rowid, record, rowid, 0)


def _assertion(key: int, record: Any, rowid: int) -> tuple:
    return assertion_row(key, rowid, record, rowid, 0)


_KINDS: dict[str, tuple[Callable[[tuple], Any], Callable[[int, Any, int], tuple]]] = {
    layout.INSTANCES: (instance_record, _instance),
    layout.STEPS: (step_record, _step),
    layout.ASSERTIONS: (assertion_record, _assertion),
}


def parse_rows(name: str, rows: list[tuple], key: int) -> Parsed:
    """Rows of the table standing for `name` → catalog tuples, unreadable ones counted (record None)."""
    record, row = _KINDS[name]
    out, unreadable = [], 0
    for r in rows:
        rec = record(r)
        if rec is None:
            unreadable += 1
        else:
            out.append(row(key, rec, r[0]))
    return Parsed(out, unreadable)


def read_and_parse(path: str, name: str, after: int, upto: int, key: int) -> Parsed:
    """parse_rows of the rows with rowid in (after, upto], read here: a parse worker reads its own chunk, so
    the rows' text never crosses the process boundary (as a JSONL block is read once, by the tailer)."""
    with RunDatabase(Path(path)) as db:
        rows = db.rows_after(TABLE_OF[name], after, upto - after, upto)
    return parse_rows(name, rows, key)

