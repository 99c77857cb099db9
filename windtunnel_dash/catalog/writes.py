"""The catalog's write side: one transaction per ingested batch (rows, run aggregates and offsets together).

Because a batch's rows and the byte offsets that produced them commit
atomically, a restart resumes exactly where the last commit ended: nothing is
lost and nothing is read twice. Inserts ignore rows whose `(run_key, seq)`
already exists, so two workers tailing the same run never double count.

On Postgres, line rows that all come after the run's stored ones (every batch
but a new leader's first, docs/design.md §7) go in with COPY, several times faster
than row-by-row INSERTs; the others take the INSERT … ON CONFLICT DO NOTHING
path. A writer that raced in between makes the COPY fail its transaction,
which the tailer retries from what the catalog then holds.

On SQLite, step and assertion rows a parse worker staged as a database image (ingest_rows.rows_image)
are attached as an in-memory database and copied with one INSERT … SELECT per image.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Dialect, Engine, Table, bindparam, delete, func, insert, or_, select, update

from windtunnel_dash.artifacts.ingest_rows import (
    IMAGE_TABLE,
    ROWS_PER_STATEMENT,
    AssertionLineRow,
    InstanceLineRow,
    StepLineRow,
    row_groups,
)

from .tables import AssertionTable, FileOffsetTable, InstanceTable, RunKeyTable, RunTable, StepTable, table_of

if TYPE_CHECKING:
    import psycopg  # the Postgres driver, for COPY

RUNS = table_of(RunTable)
RUN_KEYS = table_of(RunKeyTable)
INSTANCES = table_of(InstanceTable)
STEPS = table_of(StepTable)
ASSERTIONS = table_of(AssertionTable)
OFFSETS = table_of(FileOffsetTable)
LINE_TABLES = (INSTANCES, STEPS, ASSERTIONS)

# Line rows travel as tuples in their ingest_rows field order, bound by position: building a dict per
# row and binding it by name costs more than parsing the line.
INSTANCE_FIELDS = InstanceLineRow._fields
STEP_FIELDS = StepLineRow._fields
ASSERTION_FIELDS = AssertionLineRow._fields


@dataclass(slots=True)
class IngestBatch:
    """Everything one tailer pass produced for one run, committed as a unit."""

    run_id: str
    run_key: int
    run: dict[str, Any]  # absolute values for the run's row (never increments: idempotent)
    instances: list[tuple] = field(default_factory=list)  # InstanceLineRow fields
    steps: list[tuple] = field(default_factory=list)  # StepLineRow fields
    assertions: list[tuple] = field(default_factory=list)  # AssertionLineRow fields
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (line table, rows_image of its rows): SQLite only
    offsets: dict[str, tuple[int, int]] = field(default_factory=dict)  # file → (offset, inode)
    reset: bool = False  # a file shrank or was replaced: drop the run's rows first


@dataclass(slots=True)
class StoredRun:
    """What a tailer needs from the catalog to resume a run after a restart."""

    run: dict[str, Any] | None
    offsets: dict[str, tuple[int, int]]


def _insert_statement(dialect: Dialect, table: Table, fields: tuple[str, ...], rows: int = 1) -> Any:
    """INSERT of `rows` rows that skips those whose primary key exists (SQLite, Postgres); a plain INSERT elsewhere."""
    stmt: Any
    if dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).on_conflict_do_nothing()
    elif dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        stmt = postgres_insert(table).on_conflict_do_nothing()
    else:
        stmt = insert(table)
    if rows == 1:
        return stmt.values({f: bindparam(f) for f in fields})
    return stmt.values([{f: bindparam(f"{f}_{i}") for f in fields} for i in range(rows)])


@lru_cache(maxsize=64)
def _positional_sql(dialect: Dialect, table: Table, fields: tuple[str, ...], rows: int = 1) -> str | None:
    """SQL inserting `rows` rows when the driver binds by position (the rows' fields in order), else None."""
    compiled = _insert_statement(dialect, table, fields, rows).compile(dialect=dialect)
    order = [f"{f}_{i}" for i in range(rows) for f in fields] if rows > 1 else list(fields)
    return str(compiled) if compiled.positiontup == order else None


def insert_rows(conn: Connection, table: Table, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Core-level executemany of tuple rows, duplicates of the primary key ignored."""
    if not rows:
        return
    sql = _positional_sql(conn.dialect, table, fields)
    if sql is None:
        conn.execute(_insert_statement(conn.dialect, table, fields), [dict(zip(fields, r, strict=True)) for r in rows])
        return
    k = ROWS_PER_STATEMENT if conn.dialect.name == "sqlite" else 1
    many = _positional_sql(conn.dialect, table, fields, k) if len(rows) >= k else None
    if many is not None:
        groups, rows = row_groups(rows, k)
        conn.exec_driver_sql(many, groups)
    if rows:
        conn.exec_driver_sql(sql, rows)


def key_of(run_id: Any) -> Any:
    """The run's key as a scalar subquery: line-table queries take a run id and SQLite looks the key up once."""
    return select(RUN_KEYS.c.run_key).where(RUN_KEYS.c.run_id == run_id).scalar_subquery()


def run_key(engine: Engine, run_id: str) -> int:
    """The run's key, made on first use; workers racing to make it agree on one (the run id is unique)."""
    find = select(key_of(run_id))
    with engine.begin() as conn:
        key = conn.execute(find).scalar()
        if key is None:
            insert_rows(conn, RUN_KEYS, ("run_id",), [(run_id,)])
            key = conn.execute(find).scalar_one()
    return key


def load_run(engine: Engine, run_id: str) -> StoredRun:
    with engine.connect() as conn:
        row = conn.execute(select(RUNS).where(RUNS.c.run_id == run_id)).mappings().first()
        offsets = {
            r.file: (r.offset, r.inode)
            for r in conn.execute(select(OFFSETS).where(OFFSETS.c.run_id == run_id))
        }
    return StoredRun(dict(row) if row else None, offsets)


def load_aggregate_rows(engine: Engine, run_id: str) -> list[tuple[str | None, str, float | None]]:
    """(scenario_id, status, duration_ms) of every instance of a run, for rebuilding its aggregates."""
    c = INSTANCES.c
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(c.scenario_id, c.status, c.duration_ms).where(c.run_key == key_of(run_id)).order_by(c.seq)
        )]


def load_step_instance_ids(engine: Engine, run_id: str) -> list[str]:
    """Instance ids of a run's stored steps in file order (re-numbers older-layout steps after a restart)."""
    c = STEPS.c
    with engine.connect() as conn:
        return list(conn.execute(select(c.instance_id).where(c.run_key == key_of(run_id)).order_by(c.step_seq)).scalars())


@lru_cache(maxsize=8)
def _last_seq(table: Table) -> Any:
    """The highest line key stored for a run (`run_key` bound), or NULL."""
    seq = list(table.primary_key.columns)[1]
    return select(func.max(seq)).where(table.c.run_key == bindparam("run_key"))


def insert_lines(conn: Connection, table: Table, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """One run's line rows (each line row starts with run_key and its seq; ascending): COPY on Postgres when
    all are new, else INSERT."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        run_key, first_seq = rows[0][:2]
        last = conn.execute(_last_seq(table), {"run_key": run_key}).scalar()
        if last is None or first_seq > last:
            with cast("psycopg.Connection", conn.connection.driver_connection).cursor() as cursor:
                with cursor.copy(f"COPY {table.name} ({', '.join(fields)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            return
    insert_rows(conn, table, fields, rows)


_FIELDS = {INSTANCES.name: INSTANCE_FIELDS, STEPS.name: STEP_FIELDS, ASSERTIONS.name: ASSERTION_FIELDS}


@contextlib.contextmanager
def _attached(conn: Connection, images: list[tuple[str, bytes]]) -> Iterator[list[tuple[str, str]]]:
    """(line table, schema) of each image, attached to the SQLite connection as an in-memory database.

    Attached before the transaction begins (SQLite refuses ATTACH inside one), detached after it ends. A
    connection that cannot detach one (its database file gone or broken) is dropped from the pool instead,
    and the error that ended the commit is the one raised (the catalog guard tells faults by it).
    """
    raw = cast(sqlite3.Connection, conn.connection.driver_connection)
    schemas: list[tuple[str, str]] = []
    try:
        for table, image in images:
            schema = f"staged_{len(schemas)}"
            raw.execute(f"ATTACH ':memory:' AS {schema}")
            schemas.append((table, schema))
            raw.deserialize(image, name=schema)
        yield schemas
    finally:
        try:
            for _, schema in schemas:
                raw.execute(f"DETACH {schema}")
        except sqlite3.Error:
            conn.invalidate()


@lru_cache(maxsize=64)
def _copy_sql(table: str, schema: str) -> str:
    """INSERT of an attached image's rows into its line table, rows whose key exists skipped."""
    fields = ", ".join(_FIELDS[table])
    return f"INSERT INTO {table} ({fields}) SELECT * FROM {schema}.{IMAGE_TABLE} WHERE true ON CONFLICT DO NOTHING"


def commit(engine: Engine, batch: IngestBatch) -> None:
    run_id = batch.run_id
    with engine.connect() as conn, _attached(conn, batch.images) as staged, conn.begin():
        if batch.reset:
            for table in LINE_TABLES:
                conn.execute(delete(table).where(table.c.run_key == batch.run_key))
        _write_run(conn, run_id, batch.run)
        insert_lines(conn, INSTANCES, INSTANCE_FIELDS, batch.instances)
        insert_lines(conn, STEPS, STEP_FIELDS, batch.steps)
        insert_lines(conn, ASSERTIONS, ASSERTION_FIELDS, batch.assertions)
        for line_table, schema in staged:
            conn.exec_driver_sql(_copy_sql(line_table, schema))
        for file, (offset, inode) in batch.offsets.items():
            params = {"key_run": run_id, "key_file": file, "offset": offset, "inode": inode}
            if not conn.execute(_OFFSET_UPDATE, params).rowcount:
                insert_rows(conn, OFFSETS, ("run_id", "file", "offset", "inode"), [(run_id, file, offset, inode)])


# Built once with bind parameters: a live append commits several times a second, and building
# these statements anew each time cost more than the database work itself.
_OFFSET_UPDATE = (
    update(OFFSETS)
    .where((OFFSETS.c.run_id == bindparam("key_run")) & (OFFSETS.c.file == bindparam("key_file")))
    .values(offset=bindparam("offset"), inode=bindparam("inode"))
)
RUN_COLUMNS = tuple(c.name for c in RUNS.c if c.name != "run_id")
_RUN_UPDATE = (
    update(RUNS)
    .where(RUNS.c.run_id == bindparam("key_run"))
    .where(or_(RUNS.c.generation < bindparam("key_generation"),
               (RUNS.c.generation == bindparam("key_generation")) & (RUNS.c.head <= bindparam("key_head"))))
    .values({name: bindparam(name) for name in RUN_COLUMNS})
)


def _write_run(conn: Connection, run_id: str, values: dict[str, Any]) -> None:
    """Set the run's row (every column); a worker behind another (older generation or head) does not move it back."""
    params = {name: values[name] for name in RUN_COLUMNS}
    params.update(key_run=run_id, key_generation=values["generation"], key_head=values["head"])
    if not conn.execute(_RUN_UPDATE, params).rowcount:
        insert_rows(conn, RUNS, ("run_id", *RUN_COLUMNS), [(run_id, *(values[name] for name in RUN_COLUMNS))])


def delete_run(engine: Engine, run_id: str) -> None:
    """Forget a run whose directory is gone (the catalog mirrors the runs root); its key stays for a comeback."""
    with engine.begin() as conn:
        for table in LINE_TABLES:
            conn.execute(delete(table).where(table.c.run_key == key_of(run_id)))
        for table in (OFFSETS, RUNS):
            conn.execute(delete(table).where(table.c.run_id == run_id))
