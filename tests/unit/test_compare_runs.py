"""A run against its baseline from the catalog (docs/design.md §9): default choice, deltas, new failure kinds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.pipeline_support import append, instance_line, make_catalog, tail, write_manifest
from windtunnel_dash.analysis.intervals import IMPROVED, NO_CLEAR_CHANGE, REGRESSED
from windtunnel_dash.artifacts.status import nearest_rank
from windtunnel_dash.catalog import Catalog
from windtunnel_dash.catalog.aggregate import figures_from_json
from windtunnel_dash.catalog.compare import NONE, UnknownBaseline, compare, default_baseline, read_figures


def _run(catalog: Catalog, root: Path, run_id: str, started: str, statuses: list[str], *, sut: str = "shop",
         scenarios: tuple[str, ...] = ("checkout",), complete: bool = True, error: str = "boom") -> None:
    run_dir = root / run_id
    write_manifest(run_dir, timestamp=started, sut_name=sut, scenario_ids=list(scenarios))
    append(run_dir / "instances.jsonl", b"".join(
        instance_line(n, status=s, scenario=scenarios[n % len(scenarios)], duration_ms=100.0 + n % 10, error=error)
        for n, s in enumerate(statuses, start=1)))
    if complete:
        (run_dir / "summary.json").write_text("{}")
    tail(catalog, run_dir)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return make_catalog(tmp_path)


def test_the_default_baseline_is_the_latest_complete_run_of_the_same_sut_and_scenarios_before(
        catalog: Catalog, tmp_path: Path) -> None:
    root = tmp_path / "runs"
    ok = ["passed"] * 5
    _run(catalog, root, "old", "2026-01-01T00:00:00Z", ok)
    _run(catalog, root, "good", "2026-01-02T00:00:00Z", ok, scenarios=("checkout", "browse"))
    _run(catalog, root, "other_sut", "2026-01-03T00:00:00Z", ok, sut="bank", scenarios=("checkout", "browse"))
    _run(catalog, root, "other_set", "2026-01-04T00:00:00Z", ok, scenarios=("checkout",))
    _run(catalog, root, "unfinished", "2026-01-05T00:00:00Z", ok, scenarios=("browse", "checkout"), complete=False)
    _run(catalog, root, "this", "2026-01-06T00:00:00Z", ok, scenarios=("browse", "checkout"), complete=False)
    _run(catalog, root, "later", "2026-01-07T00:00:00Z", ok, scenarios=("checkout", "browse"))
    this = read_figures(catalog.engine, "this")
    assert default_baseline(catalog.engine, this) == "good"  # the scenario *set*: order does not matter
    assert default_baseline(catalog.engine, read_figures(catalog.engine, "old")) is None
    nothing = compare(catalog.engine, read_figures(catalog.engine, "old"), None)
    assert nothing.baseline is None and nothing.choice == "default" and "No complete run" in nothing.reason
    off = compare(catalog.engine, this, NONE)
    assert off.baseline is None and off.choice == "none" and off.overall is None
    picked = compare(catalog.engine, this, "later")  # any run can be picked
    assert picked.choice == "chosen" and picked.baseline.run_id == "later"
    for hostile in ("nope", "../etc", "a/b", ""):
        with pytest.raises(UnknownBaseline):
            compare(catalog.engine, this, hostile)


def test_a_worse_run_regresses_and_its_new_failure_kinds_are_listed(catalog: Catalog, tmp_path: Path) -> None:
    root = tmp_path / "runs"
    _run(catalog, root, "base", "2026-01-01T00:00:00Z", ["passed"] * 190 + ["error"] * 10, error="db 3 down")
    _run(catalog, root, "same", "2026-01-02T00:00:00Z", ["passed"] * 95 + ["error"] * 5, error="db 4 down",
         complete=False)
    _run(catalog, root, "worse", "2026-01-03T00:00:00Z", ["passed"] * 60 + ["error"] * 40, error="disk 99% full",
         complete=False)
    same = compare(catalog.engine, read_figures(catalog.engine, "same"), None)
    assert same.baseline.run_id == "base"
    assert same.overall.verdict == NO_CLEAR_CHANGE and same.overall.pass_rate.delta.value == pytest.approx(0.0)
    assert same.new_failure_kinds == ()  # "db <n> down" is not new
    worse = compare(catalog.engine, read_figures(catalog.engine, "worse"), "base")
    row = worse.overall
    assert row.verdict == REGRESSED and row.pass_rate.run == 60.0 and row.pass_rate.baseline == 95.0
    assert row.pass_rate.delta.value == pytest.approx(-35.0) and row.pass_rate.delta.high < 0
    assert row.error_rate.verdict == REGRESSED
    assert [(k.signature.text, k.count) for k in worse.new_failure_kinds] == [("disk <n>% full", 40)]
    assert worse.new_failure_count == 40
    assert [s.scenario_id for s in worse.scenarios] == ["checkout"]
    assert worse.scenarios[0].verdict == REGRESSED
    back = compare(catalog.engine, read_figures(catalog.engine, "base"), "worse")  # the other way round
    assert back.overall.verdict == IMPROVED and back.overall.error_rate.verdict == IMPROVED
    api = worse.to_api()
    assert api["overall"]["passRate"]["verdict"] == "regressed" and api["baseline"]["runId"] == "base"
    assert api["newFailureKinds"][0] == {"kind": "error", "signature": "disk <n>% full",
                                         "label": "Error: disk <n>% full", "count": 40,
                                         "exampleInstanceId": "inst_000061"}


def test_latency_percentiles_and_their_intervals_are_kept_per_scenario(catalog: Catalog, tmp_path: Path) -> None:
    root = tmp_path / "runs"
    run_dir = root / "lat"
    write_manifest(run_dir, scenario_ids=["a", "b"])
    durations = {"a": [float(d) for d in range(1, 201)], "b": [1000.0 + d for d in range(50)]}
    append(run_dir / "instances.jsonl", b"".join(
        instance_line(n, scenario=sid, duration_ms=d)
        for n, (sid, d) in enumerate(((s, d) for s in "ab" for d in durations[s]), start=1)))
    tail(catalog, run_dir)
    with catalog.engine.connect() as conn:
        text = conn.exec_driver_sql("select scenarios from runs where run_id = 'lat'").scalar_one()
    figures = figures_from_json(text)
    a, b = figures.scenarios
    assert a.p50.value == nearest_rank(durations["a"], 50) == 100.0
    assert (a.p50.low, a.p50.high) == (86.0, 115.0)  # ranks 100 ∓ 1.96·√50, outward
    assert b.p95.value == nearest_rank(durations["b"], 95) and b.p95.high is None  # too few to bound it above
    everything = sorted(durations["a"] + durations["b"])
    assert figures.p95.value == nearest_rank(everything, 95)
    # the page and API's counts are unchanged by what the column now also holds
    assert {s.scenario_id: s.total for s in catalog.get_run("lat").scenarios} == {"a": 200, "b": 50}
    assert figures_from_json(json.dumps([["old", 2, 1, 1, 0]])).scenarios[0].p50.value is None  # a row from before


def test_the_run_lists_deltas_agree_with_the_default_baseline(catalog: Catalog, tmp_path: Path) -> None:
    from windtunnel_dash.catalog.compare import list_deltas

    root = tmp_path / "runs"
    _run(catalog, root, "a1", "2026-01-01T00:00:00Z", ["passed"] * 95 + ["error"] * 5)
    _run(catalog, root, "a2", "2026-01-02T00:00:00Z", ["passed"] * 50 + ["error"] * 50, complete=False)
    _run(catalog, root, "a3", "2026-01-03T00:00:00Z", ["passed"] * 99 + ["error"] * 1)
    _run(catalog, root, "other", "2026-01-04T00:00:00Z", ["passed"] * 10, scenarios=("browse",))
    deltas = list_deltas(catalog.engine, ["a1", "a2", "a3", "other", "nope"])
    assert set(deltas) == {"a2", "a3"}  # a1 and other have no earlier complete run of their kind
    for run_id, d in deltas.items():
        full = compare(catalog.engine, read_figures(catalog.engine, run_id), None)
        assert d.baseline_id == full.baseline.run_id == "a1"
        assert d.pass_rate == full.overall.pass_rate
    assert deltas["a2"].pass_rate.verdict == REGRESSED and deltas["a3"].pass_rate.verdict == NO_CLEAR_CHANGE
    assert list_deltas(catalog.engine, []) == {}
