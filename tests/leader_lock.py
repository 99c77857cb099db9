"""The Postgres session that holds the cluster's ingest lock (pipeline/leadership.py), for tests that find or end it."""

from __future__ import annotations

from typing import Any

import psycopg

from windtunnel_dash.catalog.database import libpq_conninfo
from windtunnel_dash.pipeline.leadership import LOCK_KEY

# In the current database only: the test session's other servers (the API tier's) lead in theirs.
_HOLDER = ("FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
           "WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = %s "
           "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")


def lock_holders(db_url: str, column: str) -> list[tuple[Any, ...]]:
    """`SELECT column` over the sessions holding the lock (e.g. a.application_name, pg_terminate_backend(a.pid))."""
    with psycopg.connect(libpq_conninfo(db_url), autocommit=True) as conn:
        return conn.execute(f"SELECT {column} {_HOLDER}", (LOCK_KEY,)).fetchall()
