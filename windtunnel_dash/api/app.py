"""The public API as one FastAPI app, mounted in front of Reflex on the app's port.

Reflex mounts itself at "" behind this app's routes, so anything under
/api that no route here claims would fall through to the frontend; the
catch-alls at the end answer it with the contract's 404 instead.
"""

from __future__ import annotations

from fastapi import FastAPI, WebSocket

from windtunnel_dash.api import compare, docs, rest, stream
from windtunnel_dash.api.errors import NOT_FOUND, error_response, install_error_handlers
from windtunnel_dash.api.jsonsafe import SafeJSONResponse
from windtunnel_dash.api.wire import Wire

DESCRIPTION = """\
Runs, instances and a live stream of results, as in DESIGN.md §5.

**WS `/api/runs/{run_id}/stream`** (`?since=N` resumes after seq N; `?steps=1` adds step events).
Every message is `{"type", "data"}`: `instance_complete` (one per instance, in file order),
`stats_update` (after each flush that brought instances; at most 10 flushes a second),
`step_complete`, `heartbeat` `{ts, seq}` after a quiet interval, `run_complete`
`{completedAt, finalStats}` then close 1000; `error` `{message, code}` then close 4000+code
(4404 for an unknown run id). `?batch=1` sends each flush as one frame: a JSON array of its messages.
"""


async def _no_such_endpoint(path: str) -> SafeJSONResponse:
    return error_response(NOT_FOUND, f"no endpoint /api/{path}")


async def _no_such_socket(ws: WebSocket, path: str) -> None:
    await ws.accept()
    await Wire(ws).close_with_error(NOT_FOUND, f"no endpoint /api/{path}")


def build_api() -> FastAPI:
    local_docs = docs.have_local_swagger_ui()
    api = FastAPI(title="windtunnel_dash API", version="1", description=DESCRIPTION,
                  docs_url=None if local_docs else "/docs")
    install_error_handlers(api)
    if local_docs:
        docs.serve_local_swagger_ui(api)
    api.include_router(rest.router)
    api.include_router(compare.router)
    api.include_router(stream.router)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    api.add_api_route("/api/{path:path}", _no_such_endpoint, methods=methods, include_in_schema=False)
    api.add_api_websocket_route("/api/{path:path}", _no_such_socket)
    return api
