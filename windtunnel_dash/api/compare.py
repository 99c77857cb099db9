"""`GET /api/runs/{id}/compare?baseline=`: the run against its baseline, as the run page shows it (docs/design.md §9).

The JSON is catalog/compare.py's `Comparison.to_api()`; the models here only
type it for the OpenAPI docs (and for tests, which validate real answers).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from windtunnel_dash.analysis.intervals import Verdict
from windtunnel_dash.api.bounds import BoundedRoute
from windtunnel_dash.api.errors import not_found
from windtunnel_dash.api.jsonsafe import SafeJSONResponse
from windtunnel_dash.api.lookup import find_run
from windtunnel_dash.api.rest import RunId, run_or_404
from windtunnel_dash.catalog.compare import NONE, Comparison, UnknownBaseline, compare, read_figures
from windtunnel_dash.pipeline.engine import get_engine

# As rest.router: errors documented (spec.py), 405/HEAD (fallback.py), through app.ROUTERS.
router = APIRouter(prefix="/api", route_class=BoundedRoute)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Delta(_Model):
    """Pass and error rates in percent (the delta in points), latencies in ms; low/high: the delta's 95%
    interval (null: open, too few instances to bound it)."""

    run: float | None
    baseline: float | None
    delta: float | None
    low: float | None
    high: float | None
    verdict: Verdict


class RowDelta(_Model):
    """The run overall (scenarioId null) or one scenario; `verdict` is the pass-rate delta's."""

    scenarioId: str | None
    verdict: Verdict
    runTotal: int
    baselineTotal: int
    passRate: Delta
    errorRate: Delta
    p50Ms: Delta
    p95Ms: Delta


class Baseline(_Model):
    runId: str
    sutName: str | None
    startedAt: str | None
    complete: bool


class FailureKind(_Model):
    kind: Literal["error", "http", "assertion", "failed"]
    signature: str
    label: str
    count: int
    exampleInstanceId: str


class Compare(_Model):
    runId: str
    choice: Literal["default", "chosen", "none"]
    baseline: Baseline | None
    reason: str | None
    overall: RowDelta | None
    scenarios: list[RowDelta]
    newFailureKinds: list[FailureKind]
    newFailureCount: int


def _compare(run_id: str, baseline: str | None) -> Comparison | None:
    engine = get_engine().catalog.engine
    run = read_figures(engine, run_id)
    return None if run is None else compare(engine, run, baseline)


@router.get("/runs/{run_id}/compare", response_model=Compare, tags=["runs"])
async def compare_run(
    request: Request,
    run_id: RunId,
    baseline: Annotated[str, Query(description=f"a run id; empty: the default baseline; `{NONE}`: no comparison")] = "",
) -> SafeJSONResponse:
    """Deltas (pass rate, error rate, p50, p95; overall and per scenario) with 95% intervals and verdicts,
    and the failure kinds the baseline did not have. Default baseline: the most recent complete run with
    the same SUT and scenario set that started before this one."""
    engine = get_engine()
    await run_or_404(request, run_id)
    if baseline not in ("", NONE) and await find_run(engine, request, baseline) is None:
        raise not_found(f"baseline run {baseline!r}")
    try:
        result = await asyncio.to_thread(_compare, run_id, baseline or None)
    except UnknownBaseline:  # removed between the two looks
        raise not_found(f"baseline run {baseline!r}") from None
    if result is None:
        raise not_found(f"run {run_id!r}")
    return SafeJSONResponse(result.to_api())
