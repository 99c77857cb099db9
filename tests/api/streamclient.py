"""A small reader for WS /api/runs/{id}/stream, shared by the API tests and the benchmarks."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

Message = dict[str, Any]


def stream_url(ws_base: str, run_id: str, **query: Any) -> str:
    """`run_id` goes in as written (tests pass hostile, pre-encoded ids on purpose)."""
    qs = f"?{urlencode(query)}" if query else ""
    return f"{ws_base}/api/runs/{run_id}/stream{qs}"


class StreamReader:
    """Keeps every message received, in order, with its arrival time.

    A frame holds one message, or (with ?batch=1) a JSON array of them; `frames` records how many
    messages each frame held.
    """

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[Message] = []
        self.arrived: list[float] = []
        self.frames: list[int] = []
        self.close_code: int | None = None
        self._pending: deque[Message] = deque()

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str, **kwargs: Any) -> AsyncIterator[StreamReader]:
        async with connect(url, **kwargs) as ws:
            yield cls(ws)

    async def next(self, timeout: float = 10.0) -> Message | None:
        """The next message, or None once the server has closed (close_code is then set)."""
        if not self._pending:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), timeout)
            except ConnectionClosed:
                self.close_code = self.ws.close_code
                return None
            now = time.perf_counter()
            decoded = json.loads(raw)
            messages = decoded if isinstance(decoded, list) else [decoded]
            self.frames.append(len(messages))
            self._pending.extend(messages)
            self.received.extend(messages)
            self.arrived.extend([now] * len(messages))
        return self._pending.popleft()

    async def until(self, done: Callable[[Message], bool], timeout: float = 10.0) -> Message:
        """Read until a message satisfies `done`; fail if the deadline passes or the stream closes first."""
        deadline = time.monotonic() + timeout
        while True:
            message = await self.next(max(0.0, deadline - time.monotonic()))
            if message is None:
                raise AssertionError(f"stream closed ({self.close_code}) before the expected message")
            if done(message):
                return message

    async def until_closed(self, timeout: float = 15.0) -> int | None:
        deadline = time.monotonic() + timeout
        while await self.next(max(0.0, deadline - time.monotonic())) is not None:
            pass
        return self.close_code

    def data(self, kind: str) -> list[Message]:
        return [m["data"] for m in self.received if m["type"] == kind]

    def seqs(self) -> list[int]:
        return [d["seq"] for d in self.data("instance_complete")]


def is_instance(seq: int) -> Callable[[Message], bool]:
    return lambda m: m["type"] == "instance_complete" and m["data"]["seq"] >= seq


def is_type(kind: str) -> Callable[[Message], bool]:
    return lambda m: m["type"] == kind


def has_total(total: int) -> Callable[[Message], bool]:
    return lambda m: m["type"] == "stats_update" and m["data"]["total"] == total
