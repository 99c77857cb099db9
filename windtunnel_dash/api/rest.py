"""REST endpoints of docs/design.md §5: runs, one run, its instances, one instance, health.

Answers are the catalog rows' own `to_api()` JSON; the pydantic models in
schemas.py only type them for the OpenAPI docs. Catalog calls are sync, so
they run in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from windtunnel_dash.api import schemas
from windtunnel_dash.api.bounds import BoundedRoute
from windtunnel_dash.api.errors import not_found
from windtunnel_dash.api.jsonsafe import SafeJSONResponse
from windtunnel_dash.api.lookup import find_run
from windtunnel_dash.artifacts.status import InstanceStatus
from windtunnel_dash.background_tasks import background_tasks
from windtunnel_dash.catalog.rows import RunRow
from windtunnel_dash.catalog.store import MAX_PAGE  # larger limits are capped, not refused
from windtunnel_dash.pipeline.engine import get_engine

InstanceSort = Literal["seq", "-seq", "durationMs", "-durationMs", "status"]
RunId = Annotated[str, Path(description="The run's directory name under the runs root",
                            examples=["run_20261126_151613"])]
InstanceId = Annotated[str, Path(description="The instance's id, as its runner wrote it", examples=["inst_c609abfd4f82"])]
# Every route: integer parameters bounded (bounds.py), errors documented (spec.py), 405/HEAD (fallback.py).
# Any text but NUL: Postgres can neither store nor compare it in text (the fuzzer's 500 on a Postgres catalog).
Search = Annotated[str, Query(description="case-insensitive substring of instance or correlation id",
                              pattern=r"^[^\x00]*$")]
router = APIRouter(prefix="/api", route_class=BoundedRoute)


async def run_or_404(request: Request, run_id: str) -> RunRow:
    run = await find_run(get_engine(), request, run_id)
    if run is None:
        raise not_found(f"run {run_id!r}")
    return run


@router.get("/health", response_model=schemas.Health, tags=["health"])
async def health() -> SafeJSONResponse:
    """`liveSubscribers`: open stream connections plus open live pages; `backgroundTasks`: the pages' running
    tasks. `watch`: how file changes are noticed ("mixed": some runs are polled). `warnings`: what keeps the
    pipeline from its job right now. `pid`: the answering worker's process id; `ingesting`: the runs this
    worker ingests now (empty unless it leads, docs/design.md §7)."""
    engine = get_engine()
    return SafeJSONResponse({
        "status": "ok",
        "liveSubscribers": engine.hub.live_readers(),
        "backgroundTasks": background_tasks.running(),
        "watch": engine.watch_mode,
        "warnings": [c.to_api() for c in engine.conditions.items()],
        "pid": os.getpid(),
        "ingesting": engine.ingesting(),
    })


@router.get("/runs", response_model=schemas.RunPage, tags=["runs"])
async def list_runs(
    limit: Annotated[int, Query(ge=1, description=f"larger values are capped at {MAX_PAGE}")] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SafeJSONResponse:
    """Runs, newest first."""
    runs, total = await asyncio.to_thread(
        get_engine().catalog.list_runs, limit=min(limit, MAX_PAGE), offset=offset, sort="-started"
    )
    return SafeJSONResponse({"runs": [r.to_api() for r in runs], "total": total})


@router.get("/runs/{run_id}", response_model=schemas.RunDetail, tags=["runs"])
async def get_run(request: Request, run_id: RunId) -> SafeJSONResponse:
    """One run with its stats, per-scenario breakdown, unreadable line count and config."""
    run = await run_or_404(request, run_id)
    return SafeJSONResponse(run.to_api(detail=True))


@router.get("/runs/{run_id}/instances", response_model=schemas.InstancePage, tags=["instances"])
async def list_instances(
    request: Request,
    run_id: RunId,
    status: InstanceStatus | None = None,
    sort: Annotated[InstanceSort, Query(description="ties break by seq; status: error, failed, passed")] = "-seq",
    page: Annotated[int, Query(ge=1, description="1-based")] = 1,
    limit: Annotated[int, Query(ge=1, description=f"larger values are capped at {MAX_PAGE}")] = 50,
    q: Search = "",
) -> SafeJSONResponse:
    """One page of a run's instances, filtered and sorted; `total` counts the filtered set."""
    await run_or_404(request, run_id)
    limit = min(limit, MAX_PAGE)
    items, total = await asyncio.to_thread(
        get_engine().catalog.list_instances, run_id, status=status, sort=sort, page=page, limit=limit, q=q
    )
    return SafeJSONResponse({"items": [i.to_api() for i in items], "total": total, "page": page, "limit": limit})


@router.get("/runs/{run_id}/instances/{instance_id}", response_model=schemas.InstanceDetail, tags=["instances"])
async def get_instance(request: Request, run_id: RunId, instance_id: InstanceId) -> SafeJSONResponse:
    """One instance with its entry data and steps (observations and assertions)."""
    await run_or_404(request, run_id)
    detail = await get_engine().find_instance(run_id, instance_id)
    if detail is None:
        raise not_found(f"instance {instance_id!r} of run {run_id!r}")
    return SafeJSONResponse(detail.to_api())
