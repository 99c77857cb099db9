"""Opening the catalog database: any SQLAlchemy URL; SQLite gets WAL and a busy timeout.

WAL lets page and API queries (threads) read while the single ingest thread
writes; `synchronous=NORMAL` is safe under WAL and keeps a commit per batch cheap.
"""

from __future__ import annotations

import errno
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, select
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
)

TABLES = [t.__table__ for t in (RunTable, RunKeyTable, InstanceTable, StepTable, AssertionTable, FileOffsetTable, MetaTable)]


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # 16 KB pages (only a new file takes them): shallower b-trees make ingest's index inserts ~15% cheaper.
    cursor.execute("PRAGMA page_size=16384")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-32000")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def make_engine(db_url: str) -> Engine:
    """An engine for `db_url`, its tables created; an older schema is dropped (the catalog is derived)."""
    if db_url.startswith("sqlite"):
        path = db_url.split("///", 1)[1] if "///" in db_url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(db_url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(db_url, pool_pre_ping=True)
    _ensure_schema(engine)
    return engine


def _ensure_schema(engine: Engine) -> None:
    metadata = SQLModel.metadata
    metadata.create_all(engine, tables=TABLES)
    meta = MetaTable.__table__
    with engine.begin() as conn:
        version = conn.execute(select(meta.c.value).where(meta.c.key == "schema")).scalar()
    if version == str(SCHEMA_VERSION):
        return
    if version is not None:
        metadata.drop_all(engine, tables=TABLES)
        metadata.create_all(engine, tables=TABLES)
    with engine.begin() as conn:
        conn.execute(meta.insert().values(key="schema", value=str(SCHEMA_VERSION)))


# -- faults: a catalog deleted, corrupted or unwritable under a running app ----------------------------
# The catalog is derived from the files (DESIGN §1), so a lost or corrupt SQLite file is recreated
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


def fault_of(exc: BaseException) -> str | None:
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
    _ensure_schema(engine)


def probe_write(engine: Engine) -> None:
    """Raise unless the catalog takes a write now (a one-row transaction that changes nothing)."""
    meta = MetaTable.__table__
    with engine.begin() as conn:
        conn.execute(meta.update().where(meta.c.key == "schema").values(value=meta.c.value))
