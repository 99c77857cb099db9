"""Failure signatures (docs/design.md §9) on the fixtures' real error strings, and their incremental tally."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.unit.pipeline_support import FIXTURE_RUNS, append, instance_line, make_catalog, tail, write_manifest
from windtunnel_dash.analysis.signatures import (
    ASSERTION_KIND,
    ERROR_KIND,
    HTTP_KIND,
    NOTHING_RECORDED,
    FailedAssertion,
    FailedStep,
    Signature,
    failed_signature,
    normalize_error,
)
from windtunnel_dash.catalog.compare import read_figures
from windtunnel_dash.catalog.failures import Tallies

NEWER = "run_20261126_151613"  # written by the real turbulence runner
OLDER = "run_20240122_001"


def _fixture_errors(run_id: str) -> set[str]:
    lines = (FIXTURE_RUNS / run_id / "instances.jsonl").read_text().splitlines()
    return {json.loads(line)["error"] for line in lines if json.loads(line).get("error")}


def test_the_fixtures_error_texts_normalise_to_stable_signatures() -> None:
    errors = _fixture_errors(OLDER) | _fixture_errors(NEWER)
    assert {e: normalize_error(e) for e in errors} == {
        "AssertionError: Expected 200, got 503 Service Unavailable":
            "AssertionError: Expected <n>, got <n> Service Unavailable",
        "httpx.ConnectTimeout: Connection to checkout-service timed out":
            "httpx.ConnectTimeout: Connection to checkout-service timed out",  # a name, not an id: kept
        "Variable 'total' not found in context": "Variable 'total' not found in context",
    }


def test_ids_and_numbers_become_placeholders() -> None:
    a = normalize_error("timeout after 5012 ms on inst_00cdbc8213bc (corr_abc_123), trace 3f2a9c1b77d0")
    b = normalize_error("timeout after  870.5 ms on inst_e844e22d06cb (corr_def_456), trace 0e22ead8a3ec")
    assert a == b == "timeout after <n> ms on inst_<id> (corr_<id>), trace <id>"
    assert normalize_error("job 123e4567-e89b-12d3-a456-426614174000 lost") == "job <id> lost"
    assert len(normalize_error("x" * 1000)) == 160


def test_a_failed_instance_is_its_first_failing_http_step_or_assertion() -> None:
    http_500 = FailedStep(step_index=2, status_code=500)
    captured = FailedAssertion(step_index=4, name="payment_captured")
    assert failed_signature([http_500], [captured]) == Signature(HTTP_KIND, "500")
    assert failed_signature([FailedStep(5, 502)], [captured]) == Signature(ASSERTION_KIND, "payment_captured")
    assert failed_signature([FailedStep(4, 503)], [captured]) == Signature(HTTP_KIND, "503")  # same step: request first
    assert failed_signature([FailedStep(0, None)], []) == Signature(HTTP_KIND, "no response")
    assert failed_signature([], []) is None


def test_the_real_runners_run_tallies_its_three_failure_kinds(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    for run_id in (NEWER, OLDER):
        tail(catalog, FIXTURE_RUNS / run_id)
    tallies = Tallies()
    kinds = {(k.signature, k.count) for k in tallies.kinds(catalog.engine, read_figures(catalog.engine, NEWER).position)}
    # 9 errored (a 503 on create_cart, then a missing variable); of 23 failed, 11 got a 500 from
    # process_payment first and 12 a declined payment (the payment_captured assertion)
    assert kinds == {
        (Signature(ERROR_KIND, "Variable 'total' not found in context"), 9),
        (Signature(HTTP_KIND, "500"), 11),
        (Signature(ASSERTION_KIND, "payment_captured"), 12),
    }
    older = tallies.kinds(catalog.engine, read_figures(catalog.engine, OLDER).position)
    assert {(k.signature.text, k.count, k.example_instance_id) for k in older} == {
        ("AssertionError: Expected <n>, got <n> Service Unavailable", 2, "inst_002"),
        ("httpx.ConnectTimeout: Connection to checkout-service timed out", 1, "inst_003"),
    }


def _assertion_line(n: int, name: str, passed: bool) -> bytes:
    return (json.dumps({"instance_id": f"inst_{n:06d}", "step_index": 1, "assertion_name": name,
                        "passed": passed}) + "\n").encode()


def test_the_tally_moves_with_the_run_and_waits_for_trailing_assertion_lines(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    run_dir = tmp_path / "runs" / "live"
    write_manifest(run_dir)
    append(run_dir / "instances.jsonl", instance_line(1) + instance_line(2, status="error", error="db 17 down"))
    append(run_dir / "assertions.jsonl", _assertion_line(1, "ok", True))
    tail(catalog, run_dir)
    tallies = Tallies()

    def kinds() -> dict[Signature, int]:
        return {k.signature: k.count for k in tallies.kinds(catalog.engine, read_figures(catalog.engine, "live").position)}

    assert kinds() == {Signature(ERROR_KIND, "db <n> down"): 1}
    # a failed instance whose assertion line is not there yet is not counted as anything...
    append(run_dir / "instances.jsonl", instance_line(3, status="failed") + instance_line(4, status="error", error="db 9 down"))
    tail(catalog, run_dir)
    assert kinds() == {Signature(ERROR_KIND, "db <n> down"): 2}
    # ...until its line lands
    append(run_dir / "assertions.jsonl", _assertion_line(3, "stock reserved", False))
    tail(catalog, run_dir)
    assert kinds() == {Signature(ERROR_KIND, "db <n> down"): 2, Signature(ASSERTION_KIND, "stock reserved"): 1}
    # a failure that never gets a cause counts as such once the run is complete
    append(run_dir / "instances.jsonl", instance_line(5, status="failed"))
    (run_dir / "summary.json").write_text("{}")
    tail(catalog, run_dir)
    assert kinds()[NOTHING_RECORDED] == 1


def test_a_rebuilt_run_is_tallied_again(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    run_dir = tmp_path / "runs" / "r"
    write_manifest(run_dir)
    append(run_dir / "instances.jsonl", instance_line(1, status="error", error="first"))
    tail(catalog, run_dir)
    tallies = Tallies()
    first = tallies.kinds(catalog.engine, read_figures(catalog.engine, "r").position)
    assert [k.signature.text for k in first] == ["first"]
    shutil.move(run_dir / "instances.jsonl", tmp_path / "old.jsonl")
    append(run_dir / "instances.jsonl", instance_line(1, status="error", error="second"))
    tail(catalog, run_dir)
    again = tallies.kinds(catalog.engine, read_figures(catalog.engine, "r").position)
    assert [k.signature.text for k in again] == ["second"]
