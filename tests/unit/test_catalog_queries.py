"""Catalog queries the pages and the API make: sorts, filters, paging, details, charts (docs/design.md §3, §5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.pipeline_support import append, instance_line, make_catalog, tail, write_manifest
from windtunnel_dash.artifacts.status import nearest_rank, pass_rate
from windtunnel_dash.catalog import Catalog

# Every test here runs on SQLite and on Postgres (docs/design.md §7).
pytestmark = pytest.mark.usefixtures("each_catalog")

# (n, status, duration): ties and a missing duration on purpose
INSTANCES = [(1, "passed", 30.0), (2, "failed", 10.0), (3, "error", None), (4, "passed", 10.0),
             (5, "error", 50.0), (6, "passed", 20.0), (7, "failed", None), (8, "passed", 10.0)]


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = make_catalog(tmp_path)
    root = tmp_path / "runs"
    for run_id, started, lines in (("run_old", "2026-01-01T00:00:00Z", 2), ("run_new", "2026-02-01T00:00:00Z", 8),
                                   ("run_mid", "2026-01-15T00:00:00Z", 0)):
        run_dir = root / run_id
        write_manifest(run_dir, timestamp=started, sut_name=f"SUT-{run_id[4:]}")
        append(run_dir / "instances.jsonl", b"".join(
            instance_line(n, status=s, duration_ms=d, scenario="a" if n % 2 else "b") for n, s, d in INSTANCES[:lines]))
    (root / "run_old" / "summary.json").write_text(json.dumps({"duration_ms": 5.0}))
    (root / "run_new" / "summary.json").write_text(json.dumps({"duration_ms": 9.0}))
    steps = root / "run_new" / "steps.jsonl"
    append(steps, b"".join(json.dumps({"instance_id": "inst_000003", "step_index": i, "step_name": f"s{i}",
                                       "observation": {"ok": i == 0, "latency_ms": 2.0}}).encode() + b"\n"
                           for i in range(2)))
    append(root / "run_new" / "assertions.jsonl", json.dumps(
        {"instance_id": "inst_000003", "step_index": 1, "assertion_name": "is 200", "passed": False,
         "expected": 200, "actual": 503, "message": "<b>no</b>"}).encode() + b"\n")
    for run_dir in root.iterdir():
        tail(catalog, run_dir)
    return catalog


def test_runs_list_newest_first_with_search_paging_and_sorts(catalog: Catalog) -> None:
    runs, total = catalog.list_runs()
    assert [r.run_id for r in runs] == ["run_new", "run_mid", "run_old"] and total == 3
    runs, total = catalog.list_runs(limit=1, offset=1)
    assert [r.run_id for r in runs] == ["run_mid"] and total == 3
    assert [r.run_id for r in catalog.list_runs(q="sut-OLD")[0]] == ["run_old"]
    assert [r.run_id for r in catalog.list_runs(sort="started")[0]] == ["run_old", "run_mid", "run_new"]
    assert [r.run_id for r in catalog.list_runs(sort="-duration")[0]] == ["run_new", "run_old", "run_mid"]
    assert [r.run_id for r in catalog.list_runs(sort="passRate")[0]][0] == "run_mid"  # 0 %, the others 50 %
    with pytest.raises(ValueError):
        catalog.list_runs(sort="bogus")


def test_a_runs_row_carries_its_stats_and_scenarios(catalog: Catalog) -> None:
    run = catalog.get_run("run_new")
    durations = sorted(d for _, _, d in INSTANCES if d is not None)
    assert (run.stats.total, run.stats.passed, run.stats.failed, run.stats.errors) == (8, 4, 2, 2)
    assert run.stats.pass_rate == pass_rate(4, 8) and run.stats.planned == 100
    assert run.stats.p95_ms == nearest_rank(durations, 95)
    assert {s.scenario_id: (s.total, s.passed) for s in run.scenarios} == {"a": (4, 1), "b": (4, 3)}
    assert run.config == {"instances": 100} and catalog.run_stats("run_new") == run.stats
    assert catalog.get_run("nope") is None


@pytest.mark.parametrize(("sort", "expected"), [
    ("seq", [1, 2, 3, 4, 5, 6, 7, 8]),
    ("-seq", [8, 7, 6, 5, 4, 3, 2, 1]),
    ("durationMs", [2, 4, 8, 6, 1, 5, 3, 7]),  # ties by seq, missing last
    ("-durationMs", [5, 1, 6, 2, 4, 8, 3, 7]),
    ("status", [3, 5, 2, 7, 1, 4, 6, 8]),  # error, failed, passed
])
def test_instance_sorts_break_ties_by_seq(catalog: Catalog, sort: str, expected: list[int]) -> None:
    rows, total = catalog.list_instances("run_new", sort=sort, limit=50)
    assert [r.seq for r in rows] == expected and total == 8


def test_instance_filters_and_pages_never_overlap(catalog: Catalog) -> None:
    pages = [catalog.list_instances("run_new", sort="durationMs", page=p, limit=3)[0] for p in (1, 2, 3)]
    assert sorted(r.seq for page in pages for r in page) == list(range(1, 9))
    rows, total = catalog.list_instances("run_new", status="error")
    assert [r.seq for r in rows] == [5, 3] and total == 2
    rows, total = catalog.list_instances("run_new", q="CORR_00000", status="passed", sort="seq")
    assert [r.seq for r in rows] == [1, 4, 6, 8] and total == 4
    assert catalog.list_instances("run_new", q="100%_")[1] == 0  # LIKE wildcards are literal
    counts = catalog.status_counts("run_new", q="inst_000001")
    assert (counts.total, counts.passed) == (1, 1)
    for bad in ({"status": "weird"}, {"sort": "name"}, {"page": 0}):
        with pytest.raises(ValueError):
            catalog.list_instances("run_new", **bad)


def test_live_reads_in_order_and_latest_failures(catalog: Catalog) -> None:
    assert [r.seq for r in catalog.changes_since("run_new", 5, None).instances] == [6, 7, 8]
    assert [r.seq for r in catalog.changes_since("run_new", 0, None, limit=2).instances] == [1, 2]
    steps = catalog.changes_since("run_new", 8, 0).steps
    assert [(s.step_index, s.ok) for s in steps] == [(0, True), (1, False)]
    later = catalog.changes_since("run_new", 8, steps[0].step_seq).steps
    assert [(s.step_index, s.ok) for s in later] == [(1, False)]
    assert [r.seq for r in catalog.latest_failures("run_new", limit=3)] == [7, 5, 3]


def test_instance_detail_reads_its_steps_and_assertions_back_from_the_files(catalog: Catalog) -> None:
    detail = catalog.get_instance("run_new", "inst_000003")
    assert detail.instance.status == "error" and detail.instance.duration_ms is None
    assert [s.step_name for s in detail.steps] == ["s0", "s1"]
    assert detail.steps[1].observation == {"ok": False, "latency_ms": 2.0}
    [assertion] = detail.steps[1].assertions
    assert (assertion.assertion_name, assertion.expected, assertion.actual, assertion.message) == (
        "is 200", 200, 503, "<b>no</b>")
    assert catalog.get_instance("run_new", "inst_404") is None


def test_timeline_and_latency_histogram(catalog: Catalog) -> None:
    buckets = catalog.timeline("run_new", buckets=4)
    assert len(buckets) == 4 and sum(b.passed + b.failed + b.errors for b in buckets) == 8
    assert sum(b.errors for b in buckets) == 2
    histogram = catalog.latency_histogram("run_new", buckets=4)
    assert [h.count for h in histogram] == [3, 1, 1, 1]  # 10,10,10 | 20 | 30 | 50 (the last bucket holds its top)
    assert histogram[0].low_ms == 10.0 and histogram[-1].high_ms == 50.0
    assert catalog.timeline("run_mid") == [] and catalog.latency_histogram("nope") == []
