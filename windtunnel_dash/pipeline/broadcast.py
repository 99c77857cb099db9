"""Leader → every other worker: "run R now has head H (generation G)", or "run R is gone" (docs/design.md §7).

A worker that does not ingest learns of new rows here. A message carries the run as committed and
its newest rows, as many as fit in a NOTIFY payload (`PAYLOAD_BYTES`): the follower's hub serves its
readers at the head from them, as the leader's does, without a catalog query per reader (issue 12:
that query was most of a follower's extra latency). Readers further behind, and every reader after a
message that could not carry them, pull by cursor from the catalog, exactly as they do for any row
they are behind on. Postgres catalog: `LISTEN/NOTIFY`; SQLite with Redis: Redis pub/sub; one
process: nothing to say.

Sending never blocks the event loop: changes wait in a dict keyed by run (the newest per run wins, so
a backlog's many commits coalesce into few messages) for a sender task that ships them in one round
trip. A listener that (re)connects calls `on_resync`: whatever it missed meanwhile is read from the
catalog, not replayed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..catalog.database import is_postgres, libpq_conninfo
from ..catalog.rows import InstanceRow
from ..settings import Settings
from .conditions import Conditions
from .leadership import RETRY_S, Leadership, PostgresLeadership, RedisLeadership, catalog_reachable, catalog_unreachable

log = logging.getLogger(__name__)

CHANNEL = "windtunnel_runs"
PAYLOAD_BYTES = 7900  # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
_ROW_FIELDS = tuple(f.name for f in dataclasses.fields(InstanceRow))


@dataclass(frozen=True, slots=True)
class Change:
    """What a follower's hub needs to wake its readers (generation: of the run's rows, 0 when not known).

    `run`: the run row's values as committed (`Catalog.run_row_from_values`), and `rows`: its newest
    instances, ending at `head`; with them the follower serves readers at the head without a query.
    `origin` names the sending worker's broadcast, so a worker skips its own messages (and only those: a
    leader hears a former leader's late commits too)."""

    run_id: str
    head: int = 0
    generation: int = 0
    gone: bool = False
    origin: str = ""
    run: dict[str, Any] | None = None
    rows: tuple[InstanceRow, ...] = ()

    def encode(self) -> str:
        """JSON under PAYLOAD_BYTES: the newest rows that fit; without run and rows if the run alone does not."""
        base = [self.run_id, self.head, self.generation, self.gone, self.origin]
        bare = json.dumps(base)
        if self.run is None:
            return bare
        prefix = json.dumps([*base, self.run, []])[:-3]  # ..., run,   (then the rows' list and the closing bracket)
        budget = PAYLOAD_BYTES - len(prefix.encode()) - len("[]]")
        if budget < 0:
            return bare
        rows: list[str] = []
        for row in reversed(self.rows):
            encoded = json.dumps([getattr(row, name) for name in _ROW_FIELDS])
            budget -= len(encoded.encode()) + 2
            if budget < 0:
                break
            rows.append(encoded)
        return f"{prefix}[{', '.join(reversed(rows))}]]"

    @classmethod
    def decode(cls, payload: str | bytes) -> Change | None:
        try:
            run_id, head, generation, gone, origin, *snapshot = json.loads(payload)
            change = cls(str(run_id), int(head), int(generation), bool(gone), str(origin))
            if snapshot:
                run, rows = snapshot
                change = dataclasses.replace(change, run=dict(run), rows=tuple(InstanceRow(*row) for row in rows))
            return change
        except (ValueError, TypeError):
            log.warning("ignoring a malformed broadcast: %r", payload[:200])
            return None


OnChange = Callable[[Change], None]
OnResync = Callable[[], Awaitable[None]]


class Broadcast:
    """One process: nobody to tell, nothing to hear."""

    def __init__(self) -> None:
        self.origin = uuid.uuid4().hex[:16]
        self._pending: dict[str, Change] = {}
        self._ready = asyncio.Event()

    def send(self, change: Change) -> None:
        """Queue `change` for the other workers (on the event loop; returns at once)."""
        self._pending[change.run_id] = dataclasses.replace(change, origin=self.origin)
        self._ready.set()

    def _deliver(self, payload: str | bytes, on_change: OnChange) -> None:
        change = Change.decode(payload)
        if change is not None and change.origin != self.origin:
            on_change(change)

    async def run(self, on_change: OnChange, on_resync: OnResync) -> None:
        """Deliver what others send to `on_change` and ship what `send` queued, until cancelled. When either
        dies, so does the other: the engine restarts the pair (a sender left running would be shipping
        alongside the restarted one's)."""
        parts = [asyncio.ensure_future(self._listen(on_change, on_resync)), asyncio.ensure_future(self._ship())]
        try:
            await asyncio.gather(*parts)
        finally:
            for part in parts:
                part.cancel()
            await asyncio.gather(*parts, return_exceptions=True)

    async def _listen(self, on_change: OnChange, on_resync: OnResync) -> None:
        await asyncio.Event().wait()

    async def _ship(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            self._pending.clear()

    async def _next_batch(self) -> list[Change]:
        await self._ready.wait()
        self._ready.clear()
        changes, self._pending = list(self._pending.values()), {}
        return changes


class PostgresBroadcast(Broadcast):
    def __init__(self, db_url: str, conditions: Conditions) -> None:
        super().__init__()
        self._db_url = db_url
        self._conninfo = libpq_conninfo(db_url)
        self._conditions = conditions

    async def _connect(self):
        import psycopg

        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True, connect_timeout=5)
                catalog_reachable(self._conditions)
                return conn
            except psycopg.OperationalError as exc:
                catalog_unreachable(self._conditions, self._db_url, exc)
                await asyncio.sleep(RETRY_S)

    async def _listen(self, on_change: OnChange, on_resync: OnResync) -> None:
        import psycopg

        while True:
            conn = await self._connect()
            try:
                await conn.execute(f"LISTEN {CHANNEL}")
                await on_resync()
                async for notify in conn.notifies():
                    self._deliver(notify.payload, on_change)
            except psycopg.OperationalError as exc:
                catalog_unreachable(self._conditions, self._db_url, exc)
                await asyncio.sleep(RETRY_S)
            finally:
                await conn.close()

    async def _ship(self) -> None:
        import psycopg

        conn = None
        while True:
            payloads = [c.encode() for c in await self._next_batch()]
            while True:  # a connection the server dropped fails its next use: the same batch on a new one
                conn = conn or await self._connect()
                try:
                    await conn.execute("SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p", (CHANNEL, payloads))
                    break
                except psycopg.OperationalError as exc:
                    catalog_unreachable(self._conditions, self._db_url, exc)
                    await conn.close()
                    conn = None


class RedisBroadcast(Broadcast):
    def __init__(self, redis_url: str, conditions: Conditions) -> None:
        super().__init__()
        import redis.asyncio as redis

        self._client = redis.Redis.from_url(redis_url)
        self._conditions = conditions

    def _unreachable(self, exc: Exception) -> None:
        self._conditions.set("redis", f"Redis cannot be reached ({exc}): other workers' pages may be stale.",
                             "Check that redis-server is running and reachable.")

    async def _listen(self, on_change: OnChange, on_resync: OnResync) -> None:
        import redis

        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self._conditions.clear("redis")
                await on_resync()
                async for message in pubsub.listen():
                    self._deliver(message["data"], on_change)
            except redis.RedisError as exc:
                self._unreachable(exc)
                await asyncio.sleep(RETRY_S)
            finally:
                await pubsub.aclose()

    async def _ship(self) -> None:
        import redis

        while True:
            changes = await self._next_batch()
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for change in changes:
                        pipe.publish(CHANNEL, change.encode())
                    await pipe.execute()
            except redis.RedisError as exc:
                self._unreachable(exc)


def coordination_for(settings: Settings, conditions: Conditions) -> tuple[Leadership, Broadcast]:
    """Who leads and how the others hear of it, through the engines the deployment already shares:
    Postgres catalog → advisory lock and LISTEN/NOTIFY; SQLite with Redis → a Redis lock and pub/sub;
    else the sole process leads and has nobody to tell."""
    if is_postgres(settings.db_url):
        return PostgresLeadership(settings.db_url, conditions), PostgresBroadcast(settings.db_url, conditions)
    if settings.redis_url:
        return RedisLeadership(settings.redis_url, conditions), RedisBroadcast(settings.redis_url, conditions)
    return Leadership(), Broadcast()
