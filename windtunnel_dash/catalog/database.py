"""Opening the catalog database: any SQLAlchemy URL; SQLite gets WAL and a busy timeout.

WAL lets page and API queries (threads) read while the single ingest thread
writes; `synchronous=NORMAL` is safe under WAL and keeps a commit per batch cheap.
Several workers (docs/design.md §7) may open one database at the same moment, so the
schema is created or migrated in one transaction under a lock: the first creates
it, the others wait and find it current.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, select, text
from sqlmodel import SQLModel

from .tables import (
    SCHEMA_VERSION,
    AssertionTable,
    FileOffsetTable,
    InstanceTable,
    MetaTable,
    RunKeyTable,
    RunTable,
    StepTable,
    table_of,
)

TABLES = [table_of(t) for t in (RunTable, RunKeyTable, InstanceTable, StepTable, AssertionTable, FileOffsetTable, MetaTable)]


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # 16 KB pages (only a new file takes them): shallower b-trees make ingest's index inserts ~15% cheaper.
    cursor.execute("PRAGMA page_size=16384")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A small page cache (4 MiB) per connection. In WAL mode a connection drops its cache whenever another
    # one has committed since its last transaction, which the ingest thread does several times a second, so
    # a bigger cache serves only the query that fills it; a full-run scan (as the charts once were) allocated and
    # freed up to its 32 MB on whichever pooled thread ran it, and each thread's malloc arena kept that
    # peak: +16-28 MB/min of RSS in the soak (bench/soak.py).
    cursor.execute("PRAGMA cache_size=-4096")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


# pg_advisory_xact_lock key held while the schema is created or migrated ("wtschema").
SCHEMA_LOCK_KEY = 0x7774736368656D61


def is_postgres(db_url: str) -> bool:
    return make_url(db_url).get_backend_name() == "postgresql"


def display_url(db_url: str) -> str:
    """The URL as logs and pages may show it: without its password."""
    url = make_url(db_url)
    return URL.create(url.drivername, url.username, None, url.host, url.port, url.database,
                      url.query).render_as_string(hide_password=False)


def libpq_conninfo(db_url: str) -> str:
    """The Postgres URL as a libpq connection string, for psycopg connections outside SQLAlchemy's pool."""
    from psycopg.conninfo import make_conninfo

    url = make_url(db_url)
    params: dict[str, Any] = {"host": url.host, "port": url.port, "user": url.username, "password": url.password,
                              "dbname": url.database, **url.query}
    return make_conninfo(**{k: v for k, v in params.items() if v is not None})


def make_engine(db_url: str, *, schema: bool = True) -> Engine:
    """An engine for `db_url`, its tables created (unless `schema` is false: the caller runs `ensure_schema`
    when the database answers); an older schema is dropped (the catalog is derived)."""
    if db_url.startswith("sqlite"):
        path = db_url.split("///", 1)[1] if "///" in db_url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(db_url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(db_url, pool_pre_ping=True)
    if schema:
        ensure_schema(engine)
    return engine


def ensure_schema(engine: Engine) -> None:
    """Create the tables, or rebuild an older schema, exactly once however many workers start together."""
    with engine.connect() as conn:
        _lock_schema(conn)
        _create_or_migrate(conn)
        conn.commit()


def _lock_schema(conn: Connection) -> None:
    """Begin the schema transaction holding a lock that every other worker's schema transaction waits for.

    Postgres: an advisory transaction lock (its DDL is transactional, so waiters see the finished schema).
    SQLite: BEGIN IMMEDIATE takes the database's write lock (waiters queue on the busy timeout).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _create_or_migrate(conn: Connection) -> None:
    metadata = SQLModel.metadata
    metadata.create_all(conn, tables=TABLES)
    meta = table_of(MetaTable)
    version = conn.execute(select(meta.c.value).where(meta.c.key == "schema")).scalar()
    if version == str(SCHEMA_VERSION):
        return
    if version is not None:
        metadata.drop_all(conn, tables=TABLES)
        metadata.create_all(conn, tables=TABLES)
    conn.execute(meta.insert().values(key="schema", value=str(SCHEMA_VERSION)))


# -- faults: a catalog deleted, corrupted or unwritable under a running app ----------------------------
# The catalog is derived from the files (docs/design.md §1), so a lost or corrupt SQLite file is recreated
# empty and refilled by re-reading the runs; an unwritable one is waited out (its offsets commit
# with its rows, so nothing is lost or read twice when writes work again).

CORRUPT, UNWRITABLE = "corrupt", "unwritable"
_CORRUPT_CODES = frozenset(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
_UNWRITABLE_CODES = frozenset(("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_PERM"))


def sqlite_file(db_url: str) -> Path | None:
    """The database file of a SQLite URL (None for other databases and in-memory ones)."""
    if not db_url.startswith("sqlite") or "///" not in db_url:
        return None
    path = db_url.split("///", 1)[1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file, None when it is gone: a deleted or replaced catalog changes it."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def fault_of(exc: BaseException | None) -> str | None:
    """CORRUPT (recreate it), UNWRITABLE (wait), or None for anything else (a bug, a lock timeout)."""
    while exc is not None:
        name = getattr(exc, "sqlite_errorname", "") or ""  # extended, e.g. SQLITE_IOERR_WRITE
        code = "_".join(name.split("_")[:2])
        if code in _CORRUPT_CODES or name == "SQLITE_READONLY_DBMOVED":  # DBMOVED: the file was deleted
            return CORRUPT
        if code in _UNWRITABLE_CODES:
            return UNWRITABLE
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT):
            return UNWRITABLE
        exc = getattr(exc, "orig", None) or exc.__cause__
    return None


def remove_sqlite(path: Path) -> None:
    """The database file and its companions (WAL, shared memory, journal)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def recreate_sqlite(engine: Engine, path: Path) -> None:
    """Drop every connection to the old file (deleted or corrupt) and start an empty catalog in its place."""
    engine.dispose()
    remove_sqlite(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ensure_schema(engine)


def probe_write(engine: Engine) -> None:
    """Raise unless the catalog takes a write now (a one-row transaction that changes nothing)."""
    meta = table_of(MetaTable)
    with engine.begin() as conn:
        conn.execute(meta.update().where(meta.c.key == "schema").values(value=meta.c.value))
