"""`GET /api/runs/{id}/compare` over a real socket (docs/design.md §9): default baseline, a running one, 404s."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.api.runbuilder import instance, open_run, step
from tests.api.test_rest import wait_for
from windtunnel_dash.api.compare import Compare
from windtunnel_dash.artifacts.writer import RunWriter

SCENARIOS = ("cmp-checkout", "cmp-browse")  # a scenario set of this module's own: other tests' runs are never its baselines


def _write(run: RunWriter, passed: int, errors: int, http_500: int = 0, start: int = 1) -> int:
    """`passed` passes, `errors` errors ("boom"), then `http_500` failures whose step got a 500."""
    n = start
    for count, status in ((passed, "passed"), (errors, "error"), (http_500, "failed")):
        for _ in range(count):
            inst = instance(n, status, 100.0 + n % 7, SCENARIOS[n % 2])
            run.write_batch(steps=[step(inst, 0, ok=status != "failed")], instances=[inst])
            n += 1
    return n


def _started(day: int) -> datetime:
    return datetime(2020, 3, day, tzinfo=UTC)


def _compare(client: httpx.Client, run_id: str, **params: str) -> dict:
    answer = client.get(f"/api/runs/{run_id}/compare", params=params)
    assert answer.status_code == 200, answer.text
    Compare.model_validate(answer.json())
    return answer.json()


def test_a_worse_running_run_regresses_against_its_default_baseline(app_server, client) -> None:
    base = open_run(app_server.runs_dir, scenarios=SCENARIOS, started_at=_started(1))
    _write(base, passed=190, errors=10)
    base.finalize()
    run = open_run(app_server.runs_dir, scenarios=SCENARIOS, started_at=_started(2))
    _write(run, passed=60, errors=20, http_500=20)
    wait_for(client, f"/api/runs/{run.run_id}", lambda r: r["stats"]["total"] == 100)
    wait_for(client, f"/api/runs/{base.run_id}", lambda r: r["status"] == "complete")
    body = _compare(client, run.run_id)
    assert body["choice"] == "default" and body["baseline"]["runId"] == base.run_id and body["reason"] is None
    overall = body["overall"]
    assert overall["verdict"] == "regressed" and (overall["runTotal"], overall["baselineTotal"]) == (100, 200)
    rate = overall["passRate"]
    assert (rate["run"], rate["baseline"], rate["delta"]) == (60.0, 95.0, -35.0)
    assert rate["low"] < rate["delta"] < rate["high"] < 0
    assert overall["errorRate"]["verdict"] == "regressed"
    assert {s["scenarioId"] for s in body["scenarios"]} == set(SCENARIOS)
    # "boom" errors are old news; the 500s are new, each kind with an example that exists
    [kind] = body["newFailureKinds"]
    assert (kind["kind"], kind["signature"], kind["count"]) == ("http", "500", 20) and body["newFailureCount"] == 20
    example = client.get(f"/api/runs/{run.run_id}/instances/{kind['exampleInstanceId']}").json()
    assert example["status"] == "failed"
    # the same run against nothing, and the baseline against its own past: nothing suitable
    off = _compare(client, run.run_id, baseline="none")
    assert off["choice"] == "none" and off["overall"] is None and off["baseline"] is None and off["reason"]
    first = _compare(client, base.run_id)
    assert first["baseline"] is None and "No complete run" in first["reason"]


def test_a_baseline_that_is_still_running_is_compared_as_it_stands(app_server, client) -> None:
    run = open_run(app_server.runs_dir, scenarios=SCENARIOS, started_at=_started(10))
    _write(run, passed=50, errors=0)
    running = open_run(app_server.runs_dir, scenarios=SCENARIOS, started_at=_started(9))
    n = _write(running, passed=10, errors=0)
    wait_for(client, f"/api/runs/{run.run_id}", lambda r: r["stats"]["total"] == 50)
    wait_for(client, f"/api/runs/{running.run_id}", lambda r: r["stats"]["total"] == 10)
    body = _compare(client, run.run_id, baseline=running.run_id)
    assert body["choice"] == "chosen" and body["baseline"] == {
        "runId": running.run_id, "sutName": "api-test-sut", "startedAt": running.manifest.started_at, "complete": False}
    assert body["overall"]["baselineTotal"] == 10 and body["overall"]["verdict"] == "no clear change"
    _write(running, passed=0, errors=30, start=n)  # the baseline moves on: so does the comparison
    moved = wait_for(client, f"/api/runs/{run.run_id}/compare?baseline={running.run_id}",
                     lambda b: b["overall"]["baselineTotal"] == 40)
    assert moved["overall"]["verdict"] == "improved" and moved["newFailureKinds"] == []
    back = _compare(client, running.run_id, baseline=run.run_id)
    assert [(k["signature"], k["count"]) for k in back["newFailureKinds"]] == [("boom", 30)]


@pytest.mark.parametrize("baseline", ["no_such_run", "..", "../etc", "a/b", "%2e%2e%2fetc", "x\x00y"])
def test_an_unknown_or_hostile_baseline_is_a_404_with_the_error_body(app_server, client, baseline: str) -> None:
    run = open_run(app_server.runs_dir, scenarios=SCENARIOS, started_at=_started(20))
    run.finalize()
    wait_for(client, f"/api/runs/{run.run_id}", lambda r: r["status"] == "complete")
    answer = client.get(f"/api/runs/{run.run_id}/compare", params={"baseline": baseline})
    assert answer.status_code == 404
    assert answer.json() == {"error": {"message": f"baseline run {baseline!r} not found", "code": 404}}


def test_an_unknown_run_is_a_404(client) -> None:
    answer = client.get("/api/runs/no_such_run/compare")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == 404


def test_the_comparison_is_typed_in_the_openapi_schema(client) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/runs/{run_id}/compare"]["get"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Compare"}
    assert {"Compare", "RowDelta", "Delta", "FailureKind"} <= set(spec["components"]["schemas"])
    assert [p["name"] for p in op["parameters"]] == ["run_id", "baseline"]
