"""The public API as one FastAPI app, mounted in front of Reflex on the app's port.

Reflex mounts itself at "" behind this app's routes, so anything under
/api that no route here claims would fall through to the frontend; the
catch-alls at the end answer it instead (api/fallback.py: HEAD, 405, 404).
Every /api route gets this fallback and documented errors (api/spec.py);
routes on the API's routers also get bounded integers (api/bounds.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket

from windtunnel_dash.api import compare, docs, export, rest, stream
from windtunnel_dash.api.errors import NOT_FOUND, install_error_handlers
from windtunnel_dash.api.fallback import ApiFallback, match_newlines_in_paths
from windtunnel_dash.api.spec import document_errors
from windtunnel_dash.api.wire import Wire

DESCRIPTION = """\
Runs, instances and a live stream of results, as in docs/design.md §5.

**WS `/api/runs/{run_id}/stream`** (`?since=N` resumes after seq N; `?steps=1` adds step events).
Every message is `{"type", "data"}`: `instance_complete` (one per instance, in file order),
`stats_update` (after each flush that brought instances; at most 10 flushes a second),
`step_complete`, `heartbeat` `{ts, seq}` after a quiet interval, `run_complete`
`{completedAt, finalStats}` then close 1000; `error` `{message, code}` then close 4000+code
(4404 for an unknown run id). `?batch=1` sends each flush as one frame: a JSON array of its messages.
"""


async def _no_such_socket(ws: WebSocket, path: str) -> None:
    await ws.accept()
    await Wire(ws).close_with_error(NOT_FOUND, f"no endpoint /api/{path}")


# Every router of the API, in order: a router added here gets the fallback's 405/HEAD and the documented
# errors; one made with route_class=BoundedRoute (as rest.router is) also gets bounded integers.
ROUTERS: tuple[APIRouter, ...] = (rest.router, export.router, compare.router, stream.router)


def build_api(routers: Sequence[APIRouter] = ROUTERS) -> FastAPI:
    match_newlines_in_paths()
    local_docs = docs.have_local_swagger_ui()
    api = FastAPI(title="windtunnel_dash API", version="1", description=DESCRIPTION,
                  docs_url=None if local_docs else "/docs")
    install_error_handlers(api)
    if local_docs:
        docs.serve_local_swagger_ui(api)
    for router in routers:
        api.include_router(router)
    api.router.routes.append(ApiFallback(api.router).route)
    api.add_api_websocket_route("/api/{path:path}", _no_such_socket)
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        return document_errors(generate())

    api.openapi = openapi  # type: ignore[method-assign]
    return api
