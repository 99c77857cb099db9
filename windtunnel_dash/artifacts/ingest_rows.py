"""The rows ingest makes of a run: each line's catalog row and the run's values, named once.

The line parser builds these rows, the tailer numbers them, the writer binds them and the
store reads the newest back, all by these names. A row travels as a plain tuple in field
order (a worker process pickles it, executemany binds it): wrapping every row of a backlog
in its class would cost a fifth of ingest, so hot loops read a row through `_make` only
where they need a name, and the parser's builders are tied to these fields by a test.
No SQLAlchemy here: parse workers import it.

For a SQLite catalog a parse worker hands over a block's step and assertion rows as a SQLite
database image instead (`rows_image`): the ingest process then copies them in with one
INSERT … SELECT, in SQLite's own code, instead of unpickling and binding every value under
the GIL, which was most of what limited backlog ingest (issue #13).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from itertools import chain
from operator import itemgetter
from typing import Any, NamedTuple


class InstanceLineRow(NamedTuple):
    """An instances.jsonl line (or runner database row) as the catalog's `instances` row."""

    run_key: int
    seq: int  # dense position among the run's readable instances; 0 until the tailer numbers it
    instance_id: str
    correlation_id: str | None
    scenario_id: str | None
    passed: bool | None
    status: str
    status_rank: int
    error: str | None
    duration_ms: float | None
    dur_asc: float
    dur_desc: float
    started_at: str | None
    completed_at: str | None
    completed_ts: float | None
    pos: int
    size: int


def fields_of(row_type: type[tuple], *names: str) -> Callable[[tuple], Any]:
    """A getter of the named fields of plain-tuple rows of `row_type` (one value, or a tuple of several)."""
    return itemgetter(*(row_type._fields.index(name) for name in names))  # type: ignore[attr-defined]


_ID = InstanceLineRow._fields.index("instance_id")
assert InstanceLineRow._fields[:_ID] == ("run_key", "seq")  # what numbered_instances replaces


def numbered_instances(rows: list[tuple], run_key: int, head: int) -> list[tuple]:
    """Parsed instance rows (seq 0) at seqs head + 1, head + 2, … of the run keyed `run_key`, as plain tuples;
    an instance without an id is named after its seq."""
    return [(run_key, seq, row[_ID] or f"#{seq}", *row[_ID + 1:]) for seq, row in enumerate(rows, head + 1)]


class StepLineRow(NamedTuple):
    """A steps.jsonl line as the catalog's `steps` row; its seq is the line's byte position + 1."""

    run_key: int
    step_seq: int
    instance_id: str
    correlation_id: str | None
    step_index: int | None  # None in the older layout until the tailer numbers it
    step_name: str | None
    step_type: str | None
    ok: bool | None
    latency_ms: float | None
    pos: int
    size: int


class AssertionLineRow(NamedTuple):
    """An assertions.jsonl line as the catalog's `assertions` row."""

    run_key: int
    assertion_seq: int
    instance_id: str
    step_index: int | None
    pos: int
    size: int


# Rows bound per INSERT statement into SQLite: a fifth less CPU per row than one row per statement
# (64 rather than 32 takes another ~7% off, more gains nothing).
ROWS_PER_STATEMENT = 64
IMAGE_TABLE = "line_rows"  # the one table of a rows_image: the rows' fields in order, columns c0, c1, …


def row_groups(rows: list[tuple], k: int) -> tuple[list[tuple], list[tuple]]:
    """The leading rows joined k at a time into one flat tuple each (a k-row INSERT's values), and the rest."""
    whole = len(rows) - len(rows) % k
    return [tuple(chain.from_iterable(rows[i:i + k])) for i in range(0, whole, k)], rows[whole:]


def _insert_sql(width: int, k: int) -> str:
    one = f"({', '.join('?' * width)})"
    return f"INSERT INTO {IMAGE_TABLE} VALUES {', '.join([one] * k)}"


def rows_image(rows: list[tuple]) -> bytes:
    """`rows` (tuples of one width, at least one) as the image of an in-memory SQLite database holding them
    in IMAGE_TABLE, in order; its columns have no type, so each value keeps the type it was bound with."""
    width = len(rows[0])
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute(f"CREATE TABLE {IMAGE_TABLE} ({', '.join(f'c{i}' for i in range(width))})")
        groups, rest = row_groups(rows, ROWS_PER_STATEMENT)
        db.execute("BEGIN")
        db.executemany(_insert_sql(width, ROWS_PER_STATEMENT), groups)
        db.executemany(_insert_sql(width, 1), rest)
        db.execute("COMMIT")
        return db.serialize()
    finally:
        db.close()


def image_rows(image: bytes) -> list[tuple]:
    """The rows a rows_image holds, in order."""
    db = sqlite3.connect(":memory:")
    try:
        db.deserialize(image)
        return db.execute(f"SELECT * FROM {IMAGE_TABLE} ORDER BY rowid").fetchall()
    finally:
        db.close()


# The run row's values that come from its lines: what a rebuild from byte 0 starts again from.
RUN_LINE_VALUES: dict[str, Any] = {
    "head": 0, "step_head": 0, "assertion_head": 0, "total": 0, "passed": 0, "failed": 0, "errors": 0,
    "pass_rate": 0.0, "unreadable": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "scenarios": "[]",
}
# Every value of a run's row (its key, run_id, aside) as a run seen for the first time has them.
NEW_RUN_VALUES: dict[str, Any] = {
    "path": "", "sut_name": None, "scenario_ids": "[]", "started_at": None, "start_key": "", "completed_at": None,
    "planned": None, "config": "{}", "manifest_error": None, "complete": False, "duration_ms": None,
    "last_modified": 0.0, "generation": 0, **RUN_LINE_VALUES,
}
