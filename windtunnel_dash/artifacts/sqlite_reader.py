"""Reading the runner's SQLite backend (`turbulence.db`, docs/design.md §2) without ever writing to it.

The database is opened read-only (`mode=ro`): no journal, lock file or WAL is
ever created, so a runs root on a read-only filesystem works. The runner commits
one row per transaction with a rollback journal, so a read can meet its lock:
SQLite's busy handler waits, and a lock still held afterwards raises `Busy`
for the caller to retry later; a read never skips a row. New rows are found by
rowid (steps and assertions are AUTOINCREMENT; instances are written with
`INSERT OR REPLACE`, so a known id can come back under a new rowid).
Rows become the same records the JSONL reader makes (records.py), so every
rule downstream is the JSONL one; a row whose `observation` or `entry_data` is
not JSON is unreadable, as a bad line is.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec

from ..timefmt import parse_utc
from . import layout
from .records import Assertion, Instance, Step, as_dict, as_int, as_str

_MICROSECOND = timedelta(microseconds=1)
BUSY_TIMEOUT_S = 1.0  # SQLite's own wait for a writer's lock, per statement, before `Busy`

# Columns read from each table, in this order (rowid first): what the runner writes (docs/design.md §2).
COLUMNS = {
    "runs": ("id", "started_at", "sut_name", "scenario_ids", "seed", "config"),
    "instances": ("id", "scenario_id", "correlation_id", "status", "started_at", "completed_at", "entry_data", "error"),
    "steps": ("instance_id", "correlation_id", "step_index", "step_name", "step_type", "timestamp", "observation"),
    "assertions": ("instance_id", "step_index", "assertion_name", "passed", "expected", "actual", "message", "timestamp"),
}
TABLE_OF = {layout.INSTANCES: "instances", layout.STEPS: "steps", layout.ASSERTIONS: "assertions"}


class BadDatabase(Exception):
    """`turbulence.db` cannot be read as the runner's database; the message says why (shown on the run)."""


class Busy(Exception):
    """A writer held its lock longer than the busy timeout: nothing was read, try again."""


def _failure(exc: sqlite3.Error) -> Exception:
    """The sqlite3 error as Busy (wait and retry) or BadDatabase (a reason to show)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc):
        return Busy(str(exc))
    if name.startswith("SQLITE_NOTADB"):
        return BadDatabase(f"{layout.DATABASE} is not a SQLite database")
    if name.startswith("SQLITE_CORRUPT"):
        return BadDatabase(f"{layout.DATABASE} is corrupt ({exc})")
    return BadDatabase(f"{layout.DATABASE} cannot be read ({exc})")


def _loads(text: Any) -> Any:
    """A JSON text column's value; raises msgspec.DecodeError when it is not JSON (NULL stays None)."""
    if text is None:
        return None
    if isinstance(text, bytes | str):
        return msgspec.json.decode(text)
    return text  # SQLite typed it as a number: already a value


def _loads_or_text(value: Any) -> Any:
    """`expected`/`actual` are JSON-encoded by the runner; anything else is shown as it is."""
    try:
        return _loads(value)
    except msgspec.DecodeError:
        return value


def duration_ms(started_at: str | None, completed_at: str | None) -> float | None:
    """completed_at - started_at in ms (the database has no duration column); None when either is not a time."""
    start, end = parse_utc(started_at), parse_utc(completed_at)
    if start is None or end is None:
        return None
    return ((end - start) // _MICROSECOND) / 1000.0  # whole microseconds, then ms: no float noise


def instance_record(row: Sequence[Any], *, entry_data: bool = False) -> Instance | None:
    """An `instances` row (rowid, COLUMNS...) as the JSONL record; None when entry_data is not JSON."""
    _, iid, scenario_id, correlation_id, status, started_at, completed_at, entry, error = row
    try:
        entry_value = _loads(entry)
    except msgspec.DecodeError:
        return None
    started_at, completed_at = as_str(started_at), as_str(completed_at)
    return Instance(
        instance_id=as_str(iid) or "", correlation_id=as_str(correlation_id), scenario_id=as_str(scenario_id),
        started_at=started_at, completed_at=completed_at, duration_ms=duration_ms(started_at, completed_at),
        passed=status == "pass", entry_data=entry_value if entry_data else None,
        error=error if isinstance(error, str) or error is None else str(error),
    )


class _Observation(msgspec.Struct, frozen=True, gc=False):
    """The two observation keys a catalog row needs; the rest (headers, bodies) is skipped, not built."""

    ok: bool | None = None
    latency_ms: float | None = None


_decode_observation = msgspec.json.Decoder(_Observation).decode


def step_record(row: Sequence[Any], *, full: bool = False) -> Step | None:
    """A `steps` row as the JSONL record (observation only `ok`/`latency_ms` unless `full`); None when not JSON."""
    _, instance_id, correlation_id, step_index, step_name, step_type, timestamp, observation = row
    try:
        if full or not isinstance(observation, str | bytes):
            value = _loads(observation)
        else:
            try:
                fast = _decode_observation(observation)
                value = {"ok": fast.ok, "latency_ms": fast.latency_ms}
            except msgspec.ValidationError:  # JSON, but not in the usual shape: the tolerant record decides
                value = _loads(observation)
    except msgspec.DecodeError:
        return None
    return Step(
        instance_id=as_str(instance_id) or "", step_index=as_int(step_index), step_name=as_str(step_name),
        step_type=as_str(step_type), correlation_id=as_str(correlation_id), timestamp=as_str(timestamp),
        observation=as_dict(value),
    )


def assertion_record(row: Sequence[Any]) -> Assertion:
    _, instance_id, step_index, name, passed, expected, actual, message, timestamp = row
    return Assertion(
        instance_id=as_str(instance_id) or "", step_index=as_int(step_index), assertion_name=as_str(name),
        passed=None if passed is None else bool(passed), expected=_loads_or_text(expected),
        actual=_loads_or_text(actual), message=as_str(message), timestamp=as_str(timestamp),
    )


class RunDatabase:
    """One run's `turbulence.db`, read-only. Not thread-safe: one tailer, or one call, uses it at a time."""

    def __init__(self, path: Path, *, busy_timeout_s: float | None = None) -> None:
        self.path = Path(path)
        self._busy_timeout_s = BUSY_TIMEOUT_S if busy_timeout_s is None else busy_timeout_s
        self._conn: sqlite3.Connection | None = None
        self._inode = 0
        self._schema_ok = False

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> RunDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refresh(self) -> int:
        """The database file's inode, (re)connecting when it is another file now; FileNotFoundError when gone."""
        inode = os.stat(self.path).st_ino
        if inode != self._inode:
            self.close()
            self._inode, self._schema_ok = inode, False
        return inode

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        if self._conn is None:
            self.refresh()
            try:
                self._conn = sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro", uri=True, isolation_level=None,
                                             timeout=self._busy_timeout_s, check_same_thread=False)
            except sqlite3.Error as exc:
                raise _failure(exc) from None
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            failure = _failure(exc)
            if isinstance(failure, BadDatabase):  # connect afresh next time: the file may be fixed (or replaced in place)
                self.close()
                self._inode = 0
            raise failure from None

    def ready(self) -> bool:
        """Has the runner made its tables? False while none exists yet (a database being created).

        Raises BadDatabase when the file is not a database, or lacks a table or column the runner writes.
        """
        if self._schema_ok:
            return True
        tables = {name for (name,) in self._execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables & COLUMNS.keys():
            return False
        for table, wanted in COLUMNS.items():
            if table not in tables:
                raise BadDatabase(f"{layout.DATABASE} has no table {table!r}")
            have = {row[1] for row in self._execute(f"PRAGMA table_info({table})")}
            missing = [c for c in wanted if c not in have]
            if missing:
                raise BadDatabase(f"{layout.DATABASE} table {table!r} has no column {', '.join(map(repr, missing))}")
        self._schema_ok = True
        return True

    def run(self) -> dict[str, Any] | None:
        """The `runs` row as manifest.json's fields, or None before the runner wrote it."""
        if not self.ready():
            return None
        rows = self._execute(f"SELECT {', '.join(COLUMNS['runs'])} FROM runs ORDER BY rowid LIMIT 1")
        if not rows:
            return None
        run_id, started_at, sut_name, scenario_ids, seed, config = rows[0]
        return {"run_id": run_id, "timestamp": started_at, "sut_name": sut_name,
                "scenario_ids": _loads_or_text(scenario_ids), "seed": seed, "config": _loads_or_text(config)}

    def rows_after(self, table: str, rowid: int, limit: int, upto: int = 2**63 - 1) -> list[tuple]:
        """Up to `limit` rows (rowid, COLUMNS[table]...) with rowid above `rowid` (and at most `upto`), in rowid order."""
        if not self.ready():
            return []
        return self._execute(
            f"SELECT rowid, {', '.join(COLUMNS[table])} FROM {table} WHERE rowid > ? AND rowid <= ? "
            "ORDER BY rowid LIMIT ?",
            (rowid, upto, limit),
        )

    def span_after(self, table: str, rowid: int, limit: int) -> tuple[int, int]:
        """(how many, last rowid) of the next `limit` rows after `rowid`, from the rowid b-tree alone (no row read)."""
        if not self.ready():
            return 0, rowid
        count, last = self._execute(
            f"SELECT count(*), max(rowid) FROM (SELECT rowid FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?)",
            (rowid, limit),
        )[0]
        return count, last or rowid

    def last_rowid(self, table: str) -> int:
        """The highest rowid of `table` (0 when empty): below a cursor means the database was rewritten."""
        if not self.ready():
            return 0
        return self._execute(f"SELECT coalesce(max(rowid), 0) FROM {table}")[0][0]

    def records(self, name: str, keys: Sequence[Any]) -> list[dict[str, Any]]:
        """Whole records of `name` (a line file's name) as its JSONL lines would hold them, {} where missing.

        Instances are found by id (an `INSERT OR REPLACE` gives a known id a new rowid), steps and
        assertions by rowid.
        """
        table = TABLE_OF[name]
        key = "id" if table == "instances" else "rowid"
        found: dict[Any, tuple] = {}
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            part = keys[start:start + 500]
            marks = ", ".join("?" * len(part))
            sql = f"SELECT {key}, rowid, {', '.join(COLUMNS[table])} FROM {table} WHERE {key} IN ({marks})"
            found.update((row[0], row[1:]) for row in self._execute(sql, list(part)))
        out = []
        for k in keys:
            row = found.get(k)
            record = None if row is None else (
                instance_record(row, entry_data=True) if table == "instances"
                else step_record(row, full=True) if table == "steps" else assertion_record(row)
            )
            out.append({} if record is None else record.to_dict())
        return out
