"""The simulator: reproducible from a seed, realistic shape, consistent counts, steps visible before instances."""

from __future__ import annotations

import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.run_files import read_lines, read_run
from windtunnel_dash import cli
from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.status import classify, nearest_rank, pass_rate
from windtunnel_dash.simulator import SCENARIO_NAMES, SimConfig, Simulation, scenario_names, simulate, step_range

START = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
TIMESTAMP_KEYS = {"timestamp", "started_at", "completed_at", "date"}


def files_of(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run_dir.iterdir())}


def without_timestamps(value):
    if isinstance(value, dict):
        return {k: without_timestamps(v) for k, v in value.items() if k not in TIMESTAMP_KEYS}
    if isinstance(value, list):
        return [without_timestamps(v) for v in value]
    return value


def test_same_seed_and_start_give_byte_identical_runs(tmp_path):
    options = dict(instances=150, rate=500, seed=42, scenarios=("checkout-flow", "user-signup"), steps=(2, 7))
    paced = simulate(tmp_path / "a", run_id="run_seeded", started_at=START, **options)
    unpaced = simulate(tmp_path / "b", run_id="run_seeded", started_at=START, pace=False, **options)
    assert files_of(tmp_path / "a" / paced.run_id) == files_of(tmp_path / "b" / unpaced.run_id)


def test_same_seed_differs_only_in_timestamps_when_started_later(tmp_path):
    first = simulate(tmp_path, instances=60, rate=1000, seed=9, pace=False, started_at=START)
    later = simulate(tmp_path, instances=60, rate=1000, seed=9, pace=False,
                     started_at=datetime(2027, 1, 1, tzinfo=UTC))
    for name in layout.LINE_FILES:
        a, _ = read_lines(tmp_path / first.run_id / name)
        b, _ = read_lines(tmp_path / later.run_id / name)
        assert _without_run_id(a) == _without_run_id(b) and a != b



def _without_run_id(objs: list[dict]) -> list[dict]:
    return [without_timestamps({k: v for k, v in o.items() if k != "run_id"}) for o in objs]


def _instance_ids(root, sim) -> list[str]:
    return [i.instance_id for i in read_run(root / sim.run_id).instances]


def test_another_seed_gives_another_run(tmp_path):
    a = simulate(tmp_path, instances=20, rate=1000, seed=1, pace=False, started_at=START)
    b = simulate(tmp_path, instances=20, rate=1000, seed=2, pace=False, started_at=START)
    assert _instance_ids(tmp_path, a) != _instance_ids(tmp_path, b)


@pytest.mark.parametrize(
    "fail_rate, error_rate, steps, expected",
    [
        (0.1, 0.05, (3, 6), None),
        (0.3, 0.3, (1, 2), None),
        (0.0, 0.0, (4, 4), {"passed"}),
        (1.0, 0.0, (1, 5), {"failed"}),
        (0.0, 1.0, (2, 9), {"error"}),
    ],
)
def test_generated_runs_partition_and_summary_agrees(tmp_path, fail_rate, error_rate, steps, expected):
    sim = simulate(tmp_path, instances=300, rate=5000, pace=False, seed=3, fail_rate=fail_rate,
                   error_rate=error_rate, steps=steps, scenarios=scenario_names("3"))
    run = read_run(tmp_path / sim.run_id)
    counts = Counter(classify(i.passed, i.error) for i in run.instances)
    assert counts["passed"] + counts["failed"] + counts["error"] == len(run.instances) == 300
    if expected is not None:
        assert set(counts) == expected
    durations = sorted(i.duration_ms for i in run.instances)
    s = run.summary
    assert (s.total_instances, s.pass_count, s.fail_count, s.error_count) == (
        300, counts["passed"], counts["failed"], counts["error"])
    assert s.pass_rate == pass_rate(counts["passed"], 300)
    assert (s.p50_latency_ms, s.p95_latency_ms, s.p99_latency_ms) == tuple(
        nearest_rank(durations, p) for p in (50, 95, 99))
    assert s.extra["total_steps"] == len(run.steps) and s.extra["total_assertions"] == len(run.assertions)
    assert run.manifest.planned == 300 and run.manifest.seed == 3
    assert {i.scenario_id for i in run.instances} <= set(SCENARIO_NAMES[:3])
    steps_per = Counter(st.instance_id for st in run.steps)
    lo, hi = steps
    for inst in run.instances:
        # Errors end early, after the broken call (and its assert); everyone else runs lo..hi steps.
        assert 1 <= steps_per[inst.instance_id] <= hi
        if inst.error is None:
            assert steps_per[inst.instance_id] >= lo
    assert sum(run.unreadable.values()) == 0


@settings(max_examples=15)
@given(seed=st.integers(0, 2**31), fail=st.floats(0, 0.5), error=st.floats(0, 0.5), lo=st.integers(1, 5),
       extra=st.integers(0, 4), concurrency=st.none() | st.integers(1, 20))
def test_any_generated_run_partitions_and_summary_agrees(seed, fail, error, lo, extra, concurrency):
    with tempfile.TemporaryDirectory() as runs_dir:
        sim = simulate(runs_dir, instances=40, rate=3000, pace=False, seed=seed, fail_rate=fail, error_rate=error,
                       steps=(lo, lo + extra), concurrency=concurrency)
        run = read_run(Path(runs_dir) / sim.run_id)
    counts = Counter(classify(i.passed, i.error) for i in run.instances)
    assert sum(counts.values()) == len(run.instances) == run.summary.total_instances == 40
    assert (run.summary.pass_count, run.summary.fail_count, run.summary.error_count) == (
        counts["passed"], counts["failed"], counts["error"])
    assert len({i.instance_id for i in run.instances}) == 40


def test_steps_look_like_a_real_run(tmp_path):
    sim = simulate(tmp_path, instances=400, rate=5000, pace=False, seed=11, steps=(5, 8))
    run = read_run(tmp_path / sim.run_id)
    by_type = {}
    for step in run.steps:
        by_type.setdefault(step.step_type, []).append(step)
    assert set(by_type) == {"http", "wait", "assert"}
    for step in by_type["http"]:
        o = step.observation
        assert o["method"] in ("GET", "POST") and o["url"].startswith("http://")
        assert "latency_ms" in o and isinstance(o["headers"], dict) and "attempts" in o
        if o["status_code"] is not None:
            assert o["headers"]["content-type"] == "application/json" and isinstance(o["body"], dict)
    assert all(s.observation["total_attempts"] == len(s.observation["attempts"]) >= 1 for s in by_type["wait"])
    injected = [s for s in by_type["http"] if s.observation["turbulence"]]
    assert injected and any(s.observation["turbulence"]["retry_count"] for s in injected)
    asserted = {(a.instance_id, a.step_index) for a in run.assertions}
    assert asserted == {(s.instance_id, s.step_index) for s in by_type["assert"]}
    assert all(a.expected is not None and a.message for a in run.assertions)
    for inst in run.instances:  # every step ends inside its instance
        inst_steps = [s for s in run.steps if s.instance_id == inst.instance_id]
        assert all(inst.started_at <= s.timestamp <= inst.completed_at for s in inst_steps)
        assert [s.step_index for s in inst_steps] == list(range(len(inst_steps)))


def test_in_flight_instances_show_steps_and_instance_lines_come_last(tmp_path):
    """Read instances first, then steps: any instance already written must have all its steps."""
    sim = Simulation(tmp_path, SimConfig(instances=400, rate=200, seed=5))
    worker = threading.Thread(target=sim.run)
    worker.start()
    run_dir = tmp_path / sim.run_id
    snapshots = []
    saw_in_flight = False
    deadline = time.monotonic() + 60
    while worker.is_alive() and time.monotonic() < deadline:
        if (run_dir / layout.STEPS).exists():
            done = {o["instance_id"] for o in read_lines(run_dir / layout.INSTANCES)[0]}
            steps = Counter(o["instance_id"] for o in read_lines(run_dir / layout.STEPS)[0])
            snapshots.append((done, steps))
            saw_in_flight |= bool(set(steps) - done)
        time.sleep(0.05)
    worker.join(timeout=60)
    assert not worker.is_alive()
    final = Counter(s.instance_id for s in read_run(run_dir).steps)
    assert snapshots and saw_in_flight
    for done, steps in snapshots:
        assert all(steps[i] == final[i] for i in done)


def test_stop_finalizes_with_what_was_written(tmp_path):
    stop = threading.Event()
    sim = Simulation(tmp_path, SimConfig(instances=100_000, rate=300, seed=8))
    worker = threading.Thread(target=sim.run, args=(stop,))
    worker.start()
    deadline = time.monotonic() + 60
    while sim.written < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    worker.join(timeout=60)
    run = read_run(tmp_path / sim.run_id)
    assert run.complete and 20 <= len(run.instances) < 100_000
    assert run.summary.total_instances == len(run.instances) == sim.written


def test_concurrency_limits_instances_in_flight(tmp_path):
    sim = simulate(tmp_path, instances=200, rate=10_000, concurrency=3, pace=False, seed=4)
    spans = sorted((i.started_at, i.completed_at) for i in read_run(tmp_path / sim.run_id).instances)
    for start, _ in spans:
        assert sum(1 for s, e in spans if s <= start < e) <= 3


def test_cli_writes_runs_and_repeats_with_fresh_ids(tmp_path, capsys):
    code = cli.main(["simulate", "--runs-dir", str(tmp_path), "--run-id", "run_cli", "--instances", "30",
                     "--rate", "3000", "--scenarios", "checkout-flow,refund-order", "--steps", "2-4",
                     "--seed", "1", "--fail-rate", "0.2", "--error-rate", "0.1", "--concurrency", "50"])
    assert code == 0 and "run_cli: 30 instances" in capsys.readouterr().out
    run = read_run(tmp_path / "run_cli")
    assert run.manifest.scenario_ids == ["checkout-flow", "refund-order"] and run.manifest.config["concurrency"] == 50
    assert len(run.instances) == 30


def test_cli_refuses_bad_options(capsys):
    assert cli.main(["simulate", "--rate", "0"]) == 2
    assert "rate" in capsys.readouterr().err


def test_option_parsing():
    assert scenario_names("2") == SCENARIO_NAMES[:2]
    assert scenario_names("10")[-1] == "scenario-10"
    assert scenario_names(" a, b ,") == ("a", "b")
    assert step_range("3-6") == (3, 6) and step_range("4") == (4, 4)
    with pytest.raises(ValueError):
        SimConfig(steps=(5, 2))
    with pytest.raises(ValueError):
        SimConfig(fail_rate=0.8, error_rate=0.3)
