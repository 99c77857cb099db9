"""Runs written the way a runner writes them (RunWriter), with content the tests can predict."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from windtunnel_dash.artifacts.records import Assertion, Instance, Step
from windtunnel_dash.artifacts.status import InstanceStatus
from windtunnel_dash.artifacts.writer import RunWriter
from windtunnel_dash.timefmt import utc_iso

_run_numbers = itertools.count(1)


def open_run(
    runs_dir: Path,
    *,
    planned: int | None = None,
    scenarios: tuple[str, ...] = ("checkout", "browse"),
    started_at: datetime | None = None,
) -> RunWriter:
    run_id = f"run_api_{next(_run_numbers):04d}_{datetime.now(UTC):%H%M%S%f}"
    return RunWriter(
        runs_dir, run_id, sut_name="api-test-sut", scenario_ids=scenarios, planned=planned, started_at=started_at
    ).open()


def instance(n: int, status: InstanceStatus = "passed", duration_ms: float | None = 10.0,
             scenario: str = "checkout") -> Instance:
    done = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)
    return Instance(
        instance_id=f"inst_{n:05d}",
        correlation_id=f"CORR_{n:05d}",
        scenario_id=scenario,
        started_at=utc_iso(done - timedelta(milliseconds=duration_ms or 0)),
        completed_at=utc_iso(done),
        duration_ms=duration_ms,
        passed=True if status == "passed" else False,
        entry_data={"n": n},
        error="boom" if status == "error" else None,
    )


def step(inst: Instance, index: int, *, ok: bool = True, latency_ms: float = 5.0) -> Step:
    return Step(
        instance_id=inst.instance_id,
        correlation_id=inst.correlation_id,
        step_index=index,
        step_name=f"step-{index}",
        step_type="http",
        timestamp=inst.started_at,
        observation={"ok": ok, "status_code": 200 if ok else 500, "latency_ms": latency_ms, "body": {"i": index}},
    )


def assertion(inst: Instance, step_index: int, *, passed: bool) -> Assertion:
    return Assertion(
        instance_id=inst.instance_id,
        step_index=step_index,
        assertion_name="status is 200",
        passed=passed,
        expected=200,
        actual=200 if passed else 500,
        message=None if passed else "expected 200, got 500",
        timestamp=inst.completed_at,
    )
