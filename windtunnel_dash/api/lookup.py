"""Finding the run a request names, safely (docs/design.md §4 "A run that exists is served", §5 ids).

Run ids are directory names under the runs root and nothing else. The
catalog is asked first; a safe id it does not know yet is looked up on disk
through the engine before the answer is "not found".
"""

from __future__ import annotations

import asyncio

from starlette.requests import HTTPConnection

from windtunnel_dash.artifacts.layout import is_safe_run_id
from windtunnel_dash.catalog.rows import RunRow
from windtunnel_dash.pipeline.engine import Pipeline

# Percent-encoded separators are decoded by the server before routing, so
# `a%2Finstances` would otherwise reach a different route than the client wrote.
_ENCODED_SEPARATORS = (b"%2f", b"%5c", b"%00")


def has_encoded_separator(conn: HTTPConnection) -> bool:
    raw = (conn.scope.get("raw_path") or b"").lower()
    return any(enc in raw for enc in _ENCODED_SEPARATORS)


async def find_run(engine: Pipeline, conn: HTTPConnection, run_id: str) -> RunRow | None:
    """The run `run_id` names, or None for unknown and hostile ids."""
    if not is_safe_run_id(run_id) or has_encoded_separator(conn):
        return None
    row = await asyncio.to_thread(engine.catalog.get_run, run_id)
    if row is None and await engine.ensure_run(run_id):
        row = await asyncio.to_thread(engine.catalog.get_run, run_id)
    return row
