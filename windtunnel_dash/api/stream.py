"""WS /api/runs/{run_id}/stream: a run's results as they land (DESIGN.md §5).

The socket reads from a hub subscription, which pulls from the catalog by
cursor: nothing queues per client. Every send is awaited, so a client that
stops reading stalls only its own pump (TCP back-pressure) and its cursor
simply falls behind; it catches up from the catalog when it reads again.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine, Mapping
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from windtunnel_dash.api.errors import BAD_REQUEST, CONFLICT, NOT_FOUND, WS_CLOSE_NORMAL, send_stream_error
from windtunnel_dash.api.lookup import find_run
from windtunnel_dash.pipeline.engine import Engine, get_engine
from windtunnel_dash.pipeline.hub import Batch, Subscription

router = APIRouter()

_TRUE = ("1", "true", "yes")
_FALSE = ("", "0", "false", "no")


def _frame(kind: str, data: Mapping[str, Any]) -> str:
    return json.dumps({"type": kind, "data": data}, separators=(",", ":"))


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_query(query: Mapping[str, str]) -> tuple[int, bool]:
    """`since` (a seq, default 0) and `steps` (a flag) or ValueError saying which is wrong."""
    since_raw = query.get("since", "0").strip() or "0"
    if not since_raw.isdigit():
        raise ValueError(f"since must be a non-negative integer, not {since_raw!r}")
    steps_raw = query.get("steps", "").strip().lower()
    if steps_raw not in _TRUE + _FALSE:
        raise ValueError(f"steps must be 1 or 0, not {steps_raw!r}")
    return int(since_raw), steps_raw in _TRUE


def _batch_frames(batch: Batch) -> list[str]:
    """One flush: its steps, its instances in file order, then one stats_update if it brought instances."""
    frames = [_frame("step_complete", s.to_api()) for s in batch.steps]
    frames += [_frame("instance_complete", i.to_api()) for i in batch.instances]
    if batch.instances:
        frames.append(_frame("stats_update", batch.stats.to_api()))
    return frames


async def _pump(ws: WebSocket, engine: Engine, run_id: str, sub: Subscription) -> None:
    """Send each flush as it comes, a heartbeat after each quiet interval, and close after run_complete."""
    heartbeat_s = engine.settings.heartbeat_s
    last_sent = time.monotonic()
    while True:
        batch = await sub.next_batch(timeout=max(0.0, last_sent + heartbeat_s - time.monotonic()))
        if batch is None:
            await ws.send_text(_frame("heartbeat", {"ts": _now_iso(), "seq": engine.hub.head(run_id)}))
            last_sent = time.monotonic()
            continue
        if batch.run is None:
            await send_stream_error(ws, NOT_FOUND, f"run {run_id!r} was removed")
            return
        if batch.reset:  # the files were replaced: what the client holds is void, and seqs restart at 1
            await send_stream_error(ws, CONFLICT, f"run {run_id!r} was rebuilt from its files; reconnect with since=0")
            return
        frames = _batch_frames(batch)
        for frame in frames:
            await ws.send_text(frame)
        if frames:
            last_sent = time.monotonic()
        if batch.complete:
            final = {"completedAt": batch.run.completed_at, "finalStats": batch.stats.to_api()}
            await ws.send_text(_frame("run_complete", final))
            await ws.close(WS_CLOSE_NORMAL)
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
    engine = get_engine()
    try:
        since, steps = _parse_query(ws.query_params)
    except ValueError as exc:
        await send_stream_error(ws, BAD_REQUEST, str(exc))
        return
    if await find_run(engine, ws, run_id) is None:
        await send_stream_error(ws, NOT_FOUND, f"run {run_id!r} not found")
        return
    async with engine.hub.subscribe(run_id, since=since, steps=steps) as sub:
        await _first_of(_pump(ws, engine, run_id, sub), _until_client_leaves(ws))
