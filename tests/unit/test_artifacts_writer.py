"""The writer: what it writes the reader reads back equal, and its summary agrees with the lines."""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.run_files import read_run
from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.records import Assertion, Instance, Step
from windtunnel_dash.artifacts.status import classify, nearest_rank, pass_rate
from windtunnel_dash.artifacts.writer import RunWriter

# Integers within 64 bits: parse_line reads through orjson, which turns larger ones into floats.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
texts = st.text(max_size=20)
maybe_text = st.none() | texts


def extras(known: frozenset[str]):
    return st.dictionaries(st.text(max_size=8).filter(lambda k: k not in known), json_values, max_size=3)


instances = st.builds(
    Instance,
    instance_id=texts,
    run_id=maybe_text,
    correlation_id=maybe_text,
    scenario_id=maybe_text,
    started_at=maybe_text,
    completed_at=maybe_text,
    duration_ms=st.none() | st.floats(min_value=0, max_value=1e7),
    passed=st.none() | st.booleans(),
    entry_data=json_values,
    error=maybe_text,
    extra=extras(Instance._KNOWN),
)
steps = st.builds(
    Step,
    instance_id=texts,
    step_index=st.integers(min_value=0, max_value=10_000),
    step_name=maybe_text,
    step_type=maybe_text,
    run_id=maybe_text,
    correlation_id=maybe_text,
    timestamp=maybe_text,
    observation=st.dictionaries(st.text(max_size=8), json_values, max_size=5),
    extra=extras(Step._KNOWN),
)
assertions = st.builds(
    Assertion,
    instance_id=texts,
    step_index=st.none() | st.integers(min_value=0, max_value=10_000),
    assertion_name=maybe_text,
    passed=st.none() | st.booleans(),
    expected=json_values,
    actual=json_values,
    message=maybe_text,
    timestamp=maybe_text,
    extra=extras(Assertion._KNOWN),
)


def filled(record, run_id):
    """The writer stamps its run id on instance and step lines that have none."""
    if record.run_id is None:
        record.run_id = run_id
    return record


@settings(max_examples=60)
@given(st.lists(instances, max_size=8), st.lists(steps, max_size=8), st.lists(assertions, max_size=8))
def test_round_trip_and_summary_agree_with_the_lines(written_instances, written_steps, written_assertions):
    with tempfile.TemporaryDirectory() as runs_dir:
        with RunWriter(runs_dir, sut_name="sut", scenario_ids=["a", "b"], seed=7, planned=len(written_instances)) as w:
            for step in written_steps:
                w.write_step(step)
            for assertion in written_assertions:
                w.write_assertion(assertion)
            for instance in written_instances:
                w.write_instance(instance)
        run = read_run(Path(runs_dir) / w.run_id)

    assert run.instances == [filled(i, w.run_id) for i in written_instances]
    assert run.steps == [filled(s, w.run_id) for s in written_steps]
    assert run.assertions == written_assertions
    assert run.manifest == w.manifest and run.manifest.planned == len(written_instances)
    assert run.unreadable == {name: 0 for name in layout.LINE_FILES}

    counts = Counter(classify(i.passed, i.error) for i in run.instances)
    durations = sorted(i.duration_ms for i in run.instances if i.duration_ms is not None)
    summary = run.summary
    assert summary == w.summary
    assert summary.total_instances == len(run.instances)
    assert (summary.pass_count, summary.fail_count, summary.error_count) == (
        counts["passed"], counts["failed"], counts["error"])
    assert summary.pass_count + summary.fail_count + summary.error_count == summary.total_instances
    assert summary.pass_rate == pass_rate(counts["passed"], len(run.instances))
    for percent, value in ((50, summary.p50_latency_ms), (95, summary.p95_latency_ms), (99, summary.p99_latency_ms)):
        assert value == nearest_rank(durations, percent)


def test_mapping_records_are_classified_as_the_reader_will_read_them(tmp_path):
    with RunWriter(tmp_path, "run_dicts") as w:
        w.write_instance({"instance_id": "a", "passed": True, "duration_ms": 3})
        w.write_instance({"instance_id": "b", "passed": "yes", "error": 500})  # odd types, as some runner might write
        w.write_instance({"instance_id": "c", "passed": False, "error": "  "})
        w.write_instance({"instance_id": "d", "passed": None, "duration_ms": float("nan"), "error": "boom"})
    run = read_run(tmp_path / "run_dicts")
    counts = Counter(classify(i.passed, i.error) for i in run.instances)
    assert (w.summary.pass_count, w.summary.fail_count, w.summary.error_count) == (
        counts["passed"], counts["failed"], counts["error"]) == (1, 1, 2)
    assert w.summary.p99_latency_ms == 3.0


def test_manifest_and_files_exist_as_soon_as_the_run_opens(tmp_path):
    w = RunWriter(tmp_path, "run_open", sut_name="shop", planned=10, config={"concurrency": 4}).open()
    manifest = json.loads((tmp_path / "run_open" / layout.MANIFEST).read_text())
    assert manifest["run_id"] == "run_open" and manifest["config"] == {"concurrency": 4, "instances": 10}
    assert all((tmp_path / "run_open" / name).exists() for name in layout.LINE_FILES)
    assert not (tmp_path / "run_open" / layout.SUMMARY).exists()
    first = w.finalize()
    assert w.finalize() is first
    assert sorted(p.name for p in (tmp_path / "run_open").iterdir()) == sorted(
        [layout.MANIFEST, layout.SUMMARY, *layout.LINE_FILES])  # no temp file left behind
    with pytest.raises(RuntimeError):
        w.write_instance(Instance(instance_id="late"))


def test_an_existing_run_is_never_reopened_and_bad_ids_are_refused(tmp_path):
    RunWriter(tmp_path, "run_once").open().finalize()
    with pytest.raises(FileExistsError):
        RunWriter(tmp_path, "run_once").open()
    for bad in ("..", "a/b", "x\x00y"):
        with pytest.raises(ValueError):
            RunWriter(tmp_path, bad)


def test_generated_run_ids_sort_by_time_and_differ(tmp_path):
    a, b = RunWriter(tmp_path), RunWriter(tmp_path)
    assert a.run_id.startswith("run_") and a.run_id != b.run_id


def big_instance(worker: int, k: int) -> Instance:
    # Larger than a pipe/stdio buffer, so a torn write would show up as a broken line.
    return Instance(instance_id=f"w{worker}_{k}", passed=k % 3 != 0, error="e" if k % 5 == 0 else None,
                    duration_ms=float(k), entry_data={"pad": "x" * 9000})


def test_threads_never_tear_or_lose_a_line(tmp_path):
    workers, per_worker = 8, 60
    with RunWriter(tmp_path, "run_threads") as w:
        threads = [threading.Thread(target=lambda n=n: [w.write_instance(big_instance(n, k)) for k in range(per_worker)])
                   for n in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    run = read_run(tmp_path / "run_threads")
    assert run.unreadable[layout.INSTANCES] == 0
    assert sorted(i.instance_id for i in run.instances) == sorted(
        f"w{n}_{k}" for n in range(workers) for k in range(per_worker))
    assert w.summary.total_instances == workers * per_worker


def test_asyncio_tasks_share_a_writer(tmp_path):
    async def task(w: RunWriter, n: int) -> None:
        for k in range(40):
            w.write_step(Step(instance_id=f"t{n}", step_index=k, observation={"pad": "y" * 5000}))
            await asyncio.sleep(0)
        w.write_instance(Instance(instance_id=f"t{n}", passed=True, duration_ms=1.0))

    async def main() -> RunWriter:
        with RunWriter(tmp_path, "run_tasks") as w:
            await asyncio.gather(*(task(w, n) for n in range(10)))
        return w

    w = asyncio.run(main())
    run = read_run(tmp_path / "run_tasks")
    assert len(run.steps) == 400 and len(run.instances) == 10 and sum(run.unreadable.values()) == 0
    assert Counter(s.instance_id for s in run.steps) == {f"t{n}": 40 for n in range(10)}
    assert w.summary.pass_count == 10
