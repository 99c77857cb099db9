"""The catalog's tables (sqlmodel), indexed for exactly the queries the pages and the API make.

Per-line rows keep where their line is (`pos`, `size` in the run's file), not
the line: detail views re-read the few lines they show from the files, which
stay the source of truth, so ingest neither re-serialises nor stores bodies
twice. The columns beside are what lists filter and sort on. `(run_key, seq)` is the primary key of every
line table, which makes ingest idempotent (docs/design.md §7); `run_key` is the run's small integer from
`run_keys`, so line rows and their index entries do not repeat the run id's text (a fifth of ingest's
SQLite time). Seqs, byte positions and offsets are 64-bit (BIGINT): on Postgres an INTEGER stops at 2 GB
of file (SQLite stores both alike).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Table, Text
from sqlmodel import Field, SQLModel

SCHEMA_VERSION = 5
# Line tables are clustered on their (run_key, seq) key in SQLite: one b-tree less to update per inserted row.
WITHOUT_ROWID = {"sqlite_with_rowid": False}


class RunTable(SQLModel, table=True):
    """One run: its manifest, status inputs and running aggregates (one row read answers `run_stats`)."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_start", "start_key", "run_id"),
        Index("ix_runs_pass_rate", "pass_rate", "run_id"),
        Index("ix_runs_duration", "duration_ms", "run_id"),
    )

    run_id: str = Field(primary_key=True)
    path: str = ""  # the run's directory: where detail views re-read lines from
    sut_name: str | None = None
    scenario_ids: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    started_at: str | None = None
    start_key: str = ""  # started_at, else when the directory was first seen: sortable ISO text
    completed_at: str | None = None
    planned: int | None = None
    config: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    manifest_error: str | None = None
    complete: bool = False
    duration_ms: float | None = None
    last_modified: float = 0.0  # newest mtime among the run's files: stalled survives a restart
    generation: int = 0  # bumped when a truncated/replaced file makes the run's rows be rebuilt
    head: int = Field(default=0, sa_type=BigInteger)  # last instance seq
    step_head: int = Field(default=0, sa_type=BigInteger)  # last step seq (steps and assertions: the line's byte position + 1)
    assertion_head: int = Field(default=0, sa_type=BigInteger)
    total: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    pass_rate: float = 0.0
    unreadable: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    scenarios: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))


class RunKeyTable(SQLModel, table=True):
    """Each run's integer key, made once and kept (a run removed and written again gets its old key back)."""

    __tablename__ = "run_keys"

    run_key: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(sa_column=Column(Text, nullable=False, unique=True))


class InstanceTable(SQLModel, table=True):
    """Every index costs each ingested line a b-tree insert: only those a query uses (filters and searches
    by text go through status_rank or scan the run's rows)."""

    __tablename__ = "instances"
    __table_args__ = (
        Index("ix_instances_rank", "run_key", "status_rank", "seq"),
        Index("ix_instances_dur_asc", "run_key", "dur_asc", "seq"),
        Index("ix_instances_dur_desc", "run_key", "dur_desc", "seq"),
        Index("ix_instances_instance_id", "run_key", "instance_id"),
        WITHOUT_ROWID,
    )

    run_key: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    instance_id: str
    correlation_id: str | None = None
    scenario_id: str | None = None
    passed: bool | None = None
    status: str
    status_rank: int  # status.STATUS_RANK: the order of sort=status, and (1:1 with status) what filters use
    error: str | None = None
    duration_ms: float | None = None
    dur_asc: float  # duration, missing → +huge: "missing sorts last" stays an index scan
    dur_desc: float  # -duration, missing → +huge
    started_at: str | None = None
    completed_at: str | None = None
    completed_ts: float | None = None  # epoch seconds of completed_at, for the timeline
    pos: int = Field(sa_type=BigInteger)  # byte offset of the line in its file
    size: int = Field(sa_type=BigInteger)


class StepTable(SQLModel, table=True):
    __tablename__ = "steps"
    __table_args__ = (Index("ix_steps_instance", "run_key", "instance_id", "step_seq"), WITHOUT_ROWID)

    run_key: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    step_seq: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    instance_id: str
    correlation_id: str | None = None
    step_index: int
    step_name: str | None = None
    step_type: str | None = None
    ok: bool | None = None
    latency_ms: float | None = None
    pos: int = Field(sa_type=BigInteger)  # byte offset of the line in its file
    size: int = Field(sa_type=BigInteger)


class AssertionTable(SQLModel, table=True):
    __tablename__ = "assertions"
    __table_args__ = (Index("ix_assertions_instance", "run_key", "instance_id", "assertion_seq"), WITHOUT_ROWID)

    run_key: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    assertion_seq: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    instance_id: str
    step_index: int | None = None
    pos: int = Field(sa_type=BigInteger)  # byte offset of the line in its file
    size: int = Field(sa_type=BigInteger)


class FileOffsetTable(SQLModel, table=True):
    """How far each line file has been consumed; written in the same transaction as its rows."""

    __tablename__ = "file_offsets"

    run_id: str = Field(primary_key=True)
    file: str = Field(primary_key=True)
    offset: int = Field(default=0, sa_type=BigInteger)
    inode: int = Field(default=0, sa_type=BigInteger)


class MetaTable(SQLModel, table=True):
    """Schema version: the catalog is derived, so a mismatch means drop and rebuild from the files."""

    __tablename__ = "catalog_meta"

    key: str = Field(primary_key=True)
    value: str


def table_of(model: type[SQLModel]) -> Table:
    """The SQLAlchemy Table behind a table model, for Core statements (bulk inserts, schema work)."""
    return model.__table__  # type: ignore[attr-defined]  # SQLModel sets it on table=True classes; its stubs don't say so
