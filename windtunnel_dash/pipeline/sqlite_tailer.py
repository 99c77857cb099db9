"""Tailing a run stored in the runner's `turbulence.db` into the catalog (docs/design.md §2, §4).

A RunTailer whose "lines" are table rows: each table is read after the rowid
last committed (kept in the catalog's offsets, under the name of the JSONL file
the table stands for, with the database's inode), and the rows become exactly
the tuples JSONL lines become, so numbering, aggregates, batching, completion
by `summary.json` and restarts are the JSONL tailer's own code. What differs:
the run's metadata comes from the `runs` row; an instance id already seen
(`INSERT OR REPLACE` under a new rowid) takes no new seq; a writer's lock means
"poll again", never a skipped row; a database that cannot be read makes the
run an `error` run with the reason, and stays watched.
"""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.ingest_rows import InstanceLineRow
from windtunnel_dash.artifacts.records import Manifest
from windtunnel_dash.artifacts.sqlite_reader import TABLE_OF, BadDatabase, Busy, RunDatabase

from ..catalog import writes
from .lineparse import Parsed
from .rowparse import parse_rows, read_and_parse
from .tailer import RunTailer, _Chunk, _Replaced, _submit, manifest_values

ROWS = 5000  # rows read per table per transaction: bounds memory and keeps the hub fed during a backfill
POOL_MIN_ROWS = 1000  # fewer rows are parsed inline


def tailer_class(path: Path) -> type[RunTailer]:
    """The tailer for a run directory: its database's, unless JSONL files are there (they are the truth)."""
    return SqliteRunTailer if layout.uses_database(path) else RunTailer


class SqliteRunTailer(RunTailer):
    METADATA_FILE = layout.DATABASE
    FILES = (layout.SUMMARY, *layout.DATABASE_FILES)

    def __init__(self, run_id: str, path: Path, engine: Engine, parse_pool: Executor | None = None,
                 commit_thread: Executor | None = None) -> None:
        super().__init__(run_id, path, engine, parse_pool, commit_thread)
        self._db = RunDatabase(path / layout.DATABASE)
        self._ids: set[str] | None = None  # instance ids with a seq; loaded from the catalog at first need

    def _manifest_values(self, present: bool) -> dict[str, Any]:
        self._manifest_completed_at = None  # the runner never fills runs.completed_at: summary.json ends a run
        if not present:
            return {"manifest_error": None}
        try:
            self._db.refresh()
            fields = self._db.run()
        except BadDatabase as exc:
            return {"manifest_error": str(exc)}
        except (Busy, OSError):
            self._manifest_key = None  # read it at the next poll
            return {}
        if fields is None:
            return {"manifest_error": None}
        return manifest_values(Manifest.from_dict(fields, self.run_id))

    def _read_round(self, offsets: dict[str, tuple[int, int]]) -> list[_Chunk]:
        """The next rows of every table after the committed rowids; advances `offsets` past them."""
        try:
            inode = self._db.refresh()
        except FileNotFoundError:
            if not self.path.is_dir():  # the run went away mid-poll: poll() reports it gone, not emptied
                raise _Replaced from None
            inode = 0
        chunks = []
        for name, table in TABLE_OF.items():
            rowid, stored_inode = offsets.get(name, (0, 0))
            if rowid and stored_inode != inode:
                raise _Replaced  # another database file now
            count, last = self._db.span_after(table, rowid, ROWS) if inode else (0, rowid)
            if rowid and not count and self._db.last_rowid(table) < rowid:
                raise _Replaced  # rewritten: fewer rows than were read
            offset = (last, inode)
            offsets[name] = offset
            if count >= POOL_MIN_ROWS and self._pool is not None:  # a backlog: a worker reads and parses it
                piece = self._pool.submit(read_and_parse, str(self._db.path), name, rowid, last, self._key)
            else:  # a few live rows: read and parsed here, no inter-process hop
                rows = self._db.rows_after(table, rowid, ROWS, last) if count else []
                piece = _submit(None, parse_rows, name, rows, self._key)
            chunks.append(_Chunk(name, offset, count < ROWS, [piece]))
        return chunks

    def _drain(self, meta: dict[str, Any], deadline: float | None) -> tuple[bool, bool]:
        """The JSONL drain; a held lock ends it with `more` (poll again), a bad database records its reason."""
        before = self._run
        try:
            return super()._drain(meta, deadline)
        except Busy:
            return self._run is not before, True
        except BadDatabase as exc:
            meta["manifest_error"] = str(exc)
            batch = self._batch(meta, [], complete=meta["complete"])
            if batch is not None:
                writes.commit(self._engine, batch)
                self._run = batch.run
            return self._run is not before, False

    def _start_over(self) -> None:
        super()._start_over()
        self._ids = set()

    def _known_ids(self) -> set[str]:
        if self._ids is None:
            c = writes.INSTANCES.c
            self._ids = set()
            if self._run["head"]:
                with self._engine.connect() as conn:
                    self._ids.update(conn.execute(select(c.instance_id).where(c.run_key == self._key)).scalars())
        return self._ids

    def _instances(self, batch: writes.IngestBatch, parsed: Parsed) -> None:
        """Only ids not seen yet take a seq: a replaced row is the same instance (docs/design.md §2)."""
        ids, new = self._known_ids(), list[tuple]()
        for row in map(InstanceLineRow._make, parsed.rows):
            if row.instance_id:
                if row.instance_id in ids:
                    continue
                ids.add(row.instance_id)
            new.append(row)
        if new:
            RunTailer._instances(self, batch, Parsed(new, parsed.unreadable))

    _number = {**RunTailer._number, layout.INSTANCES: _instances}
