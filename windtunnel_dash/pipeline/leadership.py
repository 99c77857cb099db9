"""Who ingests: one leader for the whole cluster, elected through the shared engines (docs/design.md §7).

One leader for every run, not one per run: each line is then read, parsed and written by exactly one
worker, the CPU an instance line costs does not grow with the number of workers, and hand-over is one
lock. (One lock per run would spread ingest over workers, but on a 2-core machine it only adds parse
pools competing for the same cores.)

- Postgres catalog: a session advisory lock on a dedicated connection. A waiting worker blocks in
  `pg_advisory_lock`, which returns the moment the holder's session ends (a SIGKILLed worker's socket
  closes), so hand-over needs no polling. The holder checks its connection every `check_s` and gives
  up leadership as soon as it fails (no split brain beyond that).
- SQLite catalog with `REFLEX_REDIS_URL`: a Redis lock with an expiry, renewed by its holder; a dead
  holder's lock expires after `ttl_s`.
- Otherwise the one process always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import TYPE_CHECKING

from ..catalog.database import display_url, libpq_conninfo
from .conditions import Conditions

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

LOCK_KEY = 0x77746C656164  # pg_advisory_lock key of the ingest leader ("wtlead")
REDIS_KEY = "windtunnel:ingest-leader"
RETRY_S = 1.0
UNREACHABLE = "The catalog database"  # how the condition `catalog_unreachable` sets begins


def catalog_unreachable(conditions: Conditions, db_url: str, exc: BaseException) -> None:
    """Say (once per outage, in the log and on every page) that the catalog database cannot be reached, and
    why; the first reason stands (a server going down says "shutting down", then "refused", ...)."""
    if conditions.get("catalog") is not None:
        return
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    conditions.set(
        "catalog",
        f"{UNREACHABLE} {display_url(db_url)} cannot be reached ({reason}): pages show the data as it "
        "was, and ingest resumes where it stopped when the database is back.",
        "Check that the database is running and accepts this worker's connections.",
    )


def catalog_reachable(conditions: Conditions) -> None:
    """The database answers again: clear what `catalog_unreachable` said (and nothing else said under
    the same key, such as a SQLite catalog being rebuilt)."""
    current = conditions.get("catalog")
    if current is not None and current.message.startswith(UNREACHABLE):
        conditions.clear("catalog")


class Leadership:
    """A single process: always the leader."""

    holder = f"{socket.gethostname()}:{os.getpid()}"
    contested = False  # other workers may hold it

    async def acquire(self) -> None:
        """Return once this worker leads."""

    async def hold(self) -> None:
        """Return when leadership is lost; never, for the sole process."""
        await asyncio.Event().wait()

    async def release(self) -> None:
        """Let another worker lead (after `acquire`)."""


class PostgresLeadership(Leadership):
    contested = True

    def __init__(self, db_url: str, conditions: Conditions, *, check_s: float = 0.5) -> None:
        self._db_url = db_url
        self._conninfo = libpq_conninfo(db_url)
        self._conditions = conditions
        self._check_s = check_s
        self._conn: psycopg.AsyncConnection | None = None

    async def acquire(self) -> None:
        import psycopg

        while True:
            try:
                # A backend waiting for the lock notices its client went away only if asked to check.
                conn = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, application_name=f"windtunnel leader {os.getpid()} on "
                    f"{socket.gethostname()}",  # the pid first: Postgres cuts a name at 63 bytes
                    options="-c client_connection_check_interval=1000", connect_timeout=5,
                )
            except psycopg.OperationalError as exc:
                catalog_unreachable(self._conditions, self._db_url, exc)
                await asyncio.sleep(RETRY_S)
                continue
            try:
                await conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            except psycopg.OperationalError as exc:
                await conn.close()
                catalog_unreachable(self._conditions, self._db_url, exc)
                await asyncio.sleep(RETRY_S)
                continue
            except BaseException:
                await conn.close()
                raise
            self._conn = conn
            catalog_reachable(self._conditions)
            return

    async def hold(self) -> None:
        import psycopg

        conn = self._conn
        assert conn is not None, "hold() before acquire()"
        while True:
            await asyncio.sleep(self._check_s)
            try:
                await asyncio.wait_for(conn.execute("SELECT 1"), timeout=max(2.0, 4 * self._check_s))
            except (psycopg.Error, TimeoutError) as exc:
                catalog_unreachable(self._conditions, self._db_url, exc)
                return

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # closing the session releases its lock, reachable or not
                await conn.close()


class RedisLeadership(Leadership):
    contested = True

    def __init__(self, redis_url: str, conditions: Conditions, *, ttl_s: float = 3.0, key: str = REDIS_KEY) -> None:
        import redis.asyncio as redis

        self._client = redis.Redis.from_url(redis_url, socket_timeout=ttl_s / 2, socket_connect_timeout=ttl_s / 2)
        self._lock = self._client.lock(key, timeout=ttl_s, sleep=0.1, thread_local=False)
        self._conditions = conditions
        self._ttl_s = ttl_s

    async def acquire(self) -> None:
        import redis

        while True:
            try:
                await self._lock.acquire(blocking=True)
                self._conditions.clear("redis")
                return
            except redis.RedisError as exc:
                self._conditions.set("redis", f"Redis cannot be reached ({exc}): no worker may be ingesting.",
                                     "Check that redis-server is running and reachable.")
                await asyncio.sleep(RETRY_S)

    async def hold(self) -> None:
        import redis

        while True:
            await asyncio.sleep(self._ttl_s / 3)
            try:
                await self._lock.reacquire()  # raises once another worker holds it (ours expired)
            except redis.RedisError as exc:
                log.warning("ingest leadership lost (%s)", exc)
                return

    async def release(self) -> None:
        with contextlib.suppress(Exception):  # an expired lock is released already
            await self._lock.release()

