"""The rows ingest makes of a run: each line's catalog row and the run's values, named once.

The line parser builds these rows, the tailer numbers them, the writer binds them and the
store reads the newest back, all by these names. A row travels as a plain tuple in field
order (a worker process pickles it, executemany binds it): wrapping every row of a backlog
in its class would cost a fifth of ingest, so hot loops read a row through `_make` only
where they need a name, and the parser's builders are tied to these fields by a test.
No SQLAlchemy here: parse workers import it.
"""

from __future__ import annotations

from collections.abc import Callable
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
