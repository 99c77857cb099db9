"""WS /api/runs/{run_id}/stream: a run's results as they land (docs/design.md §5).

The socket reads from a hub subscription, which pulls from the catalog by
cursor: nothing queues per client. Every send is awaited, so a client that
stops reading stalls only its own pump (TCP back-pressure) and its cursor
simply falls behind; it catches up from the catalog when it reads again.

The stream is for programs (docs/design.md §4 "Cadence"): by default its
subscription is uncapped, so each commit's `instance_complete` messages go at
once, and only `stats_update` is paced to the hub's rate (the latest counts,
at most 10 a second). With `?batch=1` every flush is one frame, so the
subscription keeps the hub's cap and each frame carries its counts.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Coroutine, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlalchemy.exc import OperationalError
from starlette.websockets import WebSocketDisconnect

from windtunnel_dash.api.bounds import MAX_INT
from windtunnel_dash.api.errors import BAD_REQUEST, CONFLICT, DATABASE_AWAY, NOT_FOUND, SERVICE_UNAVAILABLE
from windtunnel_dash.api.lookup import find_run
from windtunnel_dash.api.wire import Wire, frame
from windtunnel_dash.catalog.rows import InstanceRow, Stats
from windtunnel_dash.pipeline.engine import get_engine
from windtunnel_dash.pipeline.hub import Batch, Subscription
from windtunnel_dash.pipeline.pacing import Paced
from windtunnel_dash.timefmt import utc_iso

router = APIRouter()

_TRUE = ("1", "true", "yes")
_FALSE = ("", "0", "false", "no")


def _now_iso() -> str:
    return utc_iso(datetime.now(UTC), "milliseconds")


def _flag(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name, "").strip().lower()
    if raw not in _TRUE + _FALSE:
        raise ValueError(f"{name} must be 1 or 0, not {raw!r}")
    return raw in _TRUE


def _parse_query(query: Mapping[str, str]) -> tuple[int, bool]:
    """`since` (a seq, default 0) and `steps` (a flag), or ValueError saying which is wrong.

    `since` is ASCII digits (str.isdigit also takes "²" and "٣") and at most MAX_INT, like every
    integer the REST side takes (api/bounds.py): a larger one would overflow the catalog's query.
    """
    since_raw = query.get("since", "0").strip() or "0"
    digits = since_raw.isascii() and since_raw.isdigit()
    if not digits or len(since_raw) > len(str(MAX_INT)) or int(since_raw) > MAX_INT:
        raise ValueError(f"since must be an integer from 0 to {MAX_INT}, not {since_raw[:40]!r}")
    return int(since_raw), _flag(query, "steps")


@functools.lru_cache(maxsize=2048)  # a couple of seconds of a fast run
def _instance_message(row: InstanceRow) -> str:
    """Encoded once per row, not once per reader: readers of one run pull equal rows at about the same time."""
    return frame("instance_complete", row.to_api())


def _flush_messages(batch: Batch, stats: Stats | None) -> Iterator[str]:
    """One flush: its steps, its instances in file order, then `stats` (the counts, when they may go).

    A generator, so a stalled client holds one encoded message, not a whole chunk of them.
    """
    for step in batch.steps:
        yield frame("step_complete", step.to_api())
    for row in batch.instances:
        yield _instance_message(row)
    if stats is not None:
        yield _stats_message(stats)


def _stats_message(stats: Stats) -> str:
    return frame("stats_update", stats.to_api())


async def _pump(wire: Wire, sub: Subscription, run_id: str, heartbeat_s: float, stats_every_s: float) -> None:
    """Send each flush as it comes, a heartbeat after each quiet interval, and close after run_complete.

    `stats` holds the counts of flushes that came too soon after the last stats_update; the latest
    goes out when its interval has passed, with a flush or on its own.
    """
    head = 0  # the run's head as of the last pull (the first pull comes at once: the replay)
    stats: Paced[Stats] = Paced(stats_every_s)
    last_sent = time.monotonic()
    while True:
        now = time.monotonic()
        wake_in, counts_in = last_sent + heartbeat_s - now, stats.due_in(now)
        batch = await sub.next_batch(timeout=max(0.0, wake_in if counts_in is None else min(wake_in, counts_in)))
        now = time.monotonic()
        if batch is None:
            held = stats.take(now)
            if held is not None or now >= last_sent + heartbeat_s:
                beat = frame("heartbeat", {"ts": _now_iso(), "seq": head})
                await wire.send([beat if held is None else _stats_message(held)])
                last_sent = time.monotonic()
        elif batch.run is None:
            await wire.close_with_error(NOT_FOUND, f"run {run_id!r} was removed")
            return
        elif batch.reset:  # the files were replaced: what the client holds is void, and seqs restart at 1
            await wire.close_with_error(CONFLICT, f"run {run_id!r} was rebuilt from its files; reconnect with since=0")
            return
        else:
            head = batch.head
            counts = stats.offer(batch.stats, now) if batch.instances else stats.take(now)
            if await wire.send(_flush_messages(batch, counts)):
                last_sent = time.monotonic()
            if batch.complete:
                while (wait := stats.due_in(time.monotonic())) is not None:  # the last counts, within the cap
                    await asyncio.sleep(wait)
                    if (last := stats.take(time.monotonic())) is not None:
                        await wire.send([_stats_message(last)])
                await wire.close_complete({"completedAt": batch.run.completed_at, "finalStats": batch.stats.to_api()})
                return


async def _until_client_leaves(ws: WebSocket) -> None:
    """Read (and ignore) client frames until the client disconnects, so a gone client ends the pump at once."""
    while (await ws.receive())["type"] != "websocket.disconnect":
        pass


async def _first_of(*coros: Coroutine[Any, Any, None]) -> None:
    """Run the coroutines until one ends; cancel the rest. A client hanging up mid-send is not an error."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        exc = task.exception()
        if exc is not None and not isinstance(exc, (WebSocketDisconnect, OSError)):
            raise exc


@router.websocket("/api/runs/{run_id:path}/stream")
async def run_stream(ws: WebSocket, run_id: str) -> None:
    """`{run_id:path}` so ids with slashes reach this handler and get the 404 error, not a bare refusal."""
    await ws.accept()
    try:
        wire = Wire(ws, batch=_flag(ws.query_params, "batch"))
    except ValueError as exc:
        await Wire(ws).close_with_error(BAD_REQUEST, str(exc))
        return
    try:
        await _serve(ws, wire, run_id)
    except OperationalError:  # the catalog server went away: nothing was sent past what the client holds
        await wire.close_with_error(SERVICE_UNAVAILABLE, DATABASE_AWAY + "reconnect shortly with since=<the last seq>.")


async def _serve(ws: WebSocket, wire: Wire, run_id: str) -> None:
    engine = get_engine()
    try:
        since, steps = _parse_query(ws.query_params)
    except ValueError as exc:
        await wire.close_with_error(BAD_REQUEST, str(exc))
        return
    if await find_run(engine, ws, run_id) is None:
        await wire.close_with_error(NOT_FOUND, f"run {run_id!r} not found")
        return
    hub = engine.hub
    # One frame per flush (?batch=1) keeps the hub's cap, counts in every frame; otherwise messages go at once.
    cap, stats_every_s = (None, 0.0) if wire.batch else (0, hub.min_interval)
    async with hub.subscribe(run_id, since=since, steps=steps, max_per_s=cap) as sub:
        await _first_of(_pump(wire, sub, run_id, engine.settings.heartbeat_s, stats_every_s),
                        _until_client_leaves(ws))
