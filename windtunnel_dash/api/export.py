"""Exports of a run's instances as CSV and JSON Lines (docs/design.md §10).

`GET /api/runs/{id}/instances.csv` and `…/instances.jsonl` take the instances
endpoint's `status`, `sort` and `q` (the view on screen) and return every matching
instance, not one page. Rows are streamed from one catalog statement in chunks, so
a 100,000-instance export never holds the run in memory.

A JSONL line is exactly an item of the instances endpoint. CSV columns, in this
fixed order: seq, instanceId, correlationId, scenarioId, status, passed,
durationMs, startedAt, completedAt, error (`passed` is true/false/empty, a missing
value is an empty cell). Text cells that a spreadsheet would run as a formula
(starting with `=`, `+`, `-`, `@`, tab or carriage return) get a leading `'`;
so do text cells already starting with `'`, which keeps the escape reversible:
drop one leading `'` from a text cell to get the original value back.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator, Callable, Generator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from windtunnel_dash.api.bounds import BoundedRoute
from windtunnel_dash.api.jsonsafe import dumps
from windtunnel_dash.api.rest import InstanceSort, RunId, Search, run_or_404
from windtunnel_dash.artifacts.status import InstanceStatus
from windtunnel_dash.catalog.rows import InstanceRow
from windtunnel_dash.pipeline.engine import get_engine

CSV_COLUMNS = (
    "seq", "instanceId", "correlationId", "scenarioId", "status", "passed", "durationMs", "startedAt",
    "completedAt", "error",
)
TEXT_COLUMNS = frozenset(("instanceId", "correlationId", "scenarioId", "status", "startedAt", "completedAt", "error"))
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
CHUNK_ROWS = 1000

# As rest.router: errors documented (spec.py), 405/HEAD (fallback.py), through app.ROUTERS.
router = APIRouter(prefix="/api", route_class=BoundedRoute, tags=["instances"])


def csv_safe(text: str) -> str:
    """A text cell no spreadsheet evaluates: formula-like values (and ones starting with `'`) get a leading `'`."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_cell(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return csv_safe(value) if column in TEXT_COLUMNS else value


def csv_lines(rows: list[InstanceRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        item = row.to_api()
        writer.writerow([_csv_cell(c, item[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def csv_header() -> str:
    return ",".join(CSV_COLUMNS) + "\r\n"


def jsonl_lines(rows: list[InstanceRow]) -> str:
    return "".join(dumps(row.to_api()) + "\n" for row in rows)


async def _chunks(rows: Generator[list[InstanceRow]]) -> AsyncIterator[list[InstanceRow]]:
    """The catalog's chunks, each fetched in a worker thread; the query is closed when the client goes."""
    try:
        while (chunk := await asyncio.to_thread(next, rows, None)) is not None:
            yield chunk
    finally:
        await asyncio.to_thread(rows.close)


async def _encoded(head: str, rows: Generator[list[InstanceRow]], render: Callable[[list[InstanceRow]], str]) -> AsyncIterator[bytes]:
    if head:
        yield head.encode("utf-8")
    async for chunk in _chunks(rows):
        yield render(chunk).encode("utf-8")


async def _export(
    request: Request, run_id: str, status: InstanceStatus | None, sort: str, q: str, suffix: str
) -> StreamingResponse:
    await run_or_404(request, run_id)
    rows = get_engine().catalog.iter_instances(run_id, status=status, sort=sort, q=q, chunk=CHUNK_ROWS)
    if suffix == "csv":
        body, media = _encoded(csv_header(), rows, csv_lines), "text/csv; charset=utf-8"
    else:
        body, media = _encoded("", rows, jsonl_lines), "application/x-ndjson"
    filename = f"{run_id}-instances.{suffix}"
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return StreamingResponse(body, media_type=media, headers={"Content-Disposition": disposition})


Sort = Annotated[InstanceSort, Query(description="as the instances endpoint")]


@router.get("/runs/{run_id}/instances.csv", response_class=StreamingResponse)
async def export_csv(
    request: Request, run_id: RunId, status: InstanceStatus | None = None, sort: Sort = "-seq", q: Search = ""
) -> StreamingResponse:
    """Every instance of the view as CSV, streamed; columns: seq, instanceId, correlationId, scenarioId,
    status, passed, durationMs, startedAt, completedAt, error. Formula-like text cells start with `'`."""
    return await _export(request, run_id, status, sort, q, "csv")


@router.get("/runs/{run_id}/instances.jsonl", response_class=StreamingResponse)
async def export_jsonl(
    request: Request, run_id: RunId, status: InstanceStatus | None = None, sort: Sort = "-seq", q: Search = ""
) -> StreamingResponse:
    """Every instance of the view as JSON Lines (one instances-endpoint item per line), streamed."""
    return await _export(request, run_id, status, sort, q, "jsonl")
