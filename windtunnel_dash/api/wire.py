"""How stream messages go onto the socket.

The contract (docs/design.md §5) sends every message as its own JSON object, one
WebSocket frame each. Each frame costs the server a fixed ~30-100 µs in
Granian here, whatever its size, so 50 readers of a 1,000 instances/s run
would need 50,000 frames a second. `?batch=1` lets a reader opt into one
frame per flush instead: a JSON array of that flush's messages, in order
(at most ten frames a second). Every frame is then an array, errors included.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.websockets import WebSocket

from windtunnel_dash.api.jsonsafe import dumps

WS_CLOSE_NORMAL = 1000


def frame(kind: str, data: Mapping[str, Any]) -> str:
    """One message: `{"type", "data"}` as compact JSON."""
    return dumps({"type": kind, "data": data})


class Wire:
    def __init__(self, ws: WebSocket, *, batch: bool = False) -> None:
        self.ws = ws
        self.batch = batch

    async def send(self, messages: Iterable[str]) -> bool:
        """Send one flush's messages, each send awaited (back-pressure); False when there was none."""
        if self.batch:
            body = ",".join(messages)
            if body:
                await self.ws.send_text(f"[{body}]")
            return bool(body)
        sent = False
        for message in messages:
            await self.ws.send_text(message)
            sent = True
        return sent

    async def close_with_error(self, code: int, message: str) -> None:
        """The `error` message, then a close with 4000 + code (4404 for an unknown run)."""
        await self.send([frame("error", {"message": message, "code": code})])
        await self.ws.close(4000 + code)

    async def close_complete(self, final: Mapping[str, Any]) -> None:
        await self.send([frame("run_complete", final)])
        await self.ws.close(WS_CLOSE_NORMAL)
