"""The tailer against real files: whole lines only, exact counts, truncation, restarts, status (docs/design.md §2–4)."""

from __future__ import annotations

import json
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.unit.pipeline_support import (
    all_steps,
    append,
    catalog_instances,
    catalog_step_count,
    file_instances,
    instance_line,
    make_catalog,
    status_of,
    step_line,
    tail,
    write_manifest,
)
from tests.unit.run_files import read_run
from windtunnel_dash.artifacts.status import nearest_rank
from windtunnel_dash.catalog import Catalog
from windtunnel_dash.pipeline import tailer as tailer_module
from windtunnel_dash.pipeline.engine import parse_pool
from windtunnel_dash.pipeline.tailer import RunTailer

# Every test here runs on SQLite and on Postgres (docs/design.md §7).
pytestmark = pytest.mark.usefixtures("each_catalog")


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return make_catalog(tmp_path)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    path = tmp_path / "runs" / "run_a"
    write_manifest(path)
    return path


def test_random_chunk_splits_with_pauses_end_equal_to_the_file(catalog: Catalog, run_dir: Path) -> None:
    rng = random.Random(7)
    lines = [instance_line(n, status=status_of(n)) for n in range(10_000)]
    for n in rng.sample(range(10_000), 40):  # a few unreadable and blank lines among them
        lines[n] = rng.choice([b"{not json\n", b"\xff\xfe\n", b"[1, 2]\n", b"\n", b"   \n"])
    data = b"".join(lines)
    tailer = RunTailer(run_dir.name, run_dir, catalog.engine)
    pos = 0
    while pos < len(data):
        cut = min(len(data), pos + rng.randint(1, 6_000))  # splits lines anywhere, even inside UTF-8
        append(run_dir / "instances.jsonl", data[pos:cut])
        pos = cut
        tailer.poll()
        if rng.random() < 0.03:
            tailer = RunTailer(run_dir.name, run_dir, catalog.engine)  # now and then, a restart
    expected = file_instances(run_dir)
    assert catalog_instances(catalog, run_dir.name) == expected
    run = catalog.get_run(run_dir.name)
    assert run.unreadable_lines == sum(read_run(run_dir).unreadable.values()) > 0
    assert run.stats.total == len(expected) == sum(1 for line in lines if line.startswith(b'{"'))


def test_a_half_written_line_waits_for_its_rest(catalog: Catalog, run_dir: Path) -> None:
    line = instance_line(1)
    append(run_dir / "instances.jsonl", line[:20])
    assert tail(catalog, run_dir).head == 0
    append(run_dir / "instances.jsonl", line[20:])
    assert tail(catalog, run_dir).head == 1
    assert catalog.run_stats(run_dir.name).total == 1


def test_unreadable_lines_are_counted_per_run_and_take_no_seq(catalog: Catalog, run_dir: Path) -> None:
    append(run_dir / "instances.jsonl", b"".join([
        instance_line(1), b"{broken\n", "caf\u00e9".encode("latin-1") + b"\n", b'"a string"\n', b"\n",
        instance_line(2, status="error"), b"[]\n", instance_line(3, status="failed"),
    ]))
    append(run_dir / "steps.jsonl", step_line(1, 0) + b"nope\n")
    tail(catalog, run_dir)
    assert [(seq, iid) for seq, iid, *_ in catalog_instances(catalog, run_dir.name)] == [
        (1, "inst_000001"), (2, "inst_000002"), (3, "inst_000003")]
    run = catalog.get_run(run_dir.name)
    assert run.unreadable_lines == 5
    assert (run.stats.passed, run.stats.failed, run.stats.errors) == (1, 1, 1)


def test_a_truncated_file_is_read_again_and_the_runs_rows_rebuilt(catalog: Catalog, run_dir: Path) -> None:
    path = run_dir / "instances.jsonl"
    append(path, b"".join(instance_line(n) for n in range(10)))
    append(run_dir / "steps.jsonl", b"".join(step_line(n, 0) for n in range(10)))
    first = tail(catalog, run_dir)
    path.write_bytes(b"".join(instance_line(n, status="failed") for n in range(100, 103)))
    second = tail(catalog, run_dir)
    assert second.generation == first.generation + 1
    assert catalog_instances(catalog, run_dir.name) == file_instances(run_dir)
    stats = catalog.run_stats(run_dir.name)
    assert (stats.total, stats.failed) == (3, 3)
    assert catalog_step_count(catalog, run_dir.name) == 10  # the steps file was read again too, without doubling


def test_a_replaced_file_is_read_again_even_when_longer(catalog: Catalog, run_dir: Path) -> None:
    path = run_dir / "instances.jsonl"
    append(path, b"".join(instance_line(n) for n in range(3)))
    tail(catalog, run_dir)
    replacement = run_dir / "instances.new"
    replacement.write_bytes(b"".join(instance_line(n, status="error") for n in range(50, 60)))
    os.replace(replacement, path)
    tail(catalog, run_dir)
    assert catalog_instances(catalog, run_dir.name) == file_instances(run_dir)
    assert catalog.run_stats(run_dir.name).errors == 10


def test_a_run_whose_directory_vanishes_mid_poll_is_gone_not_emptied(catalog: Catalog, run_dir: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    append(run_dir / "instances.jsonl", b"".join(instance_line(n) for n in range(20)))
    tailer = RunTailer(run_dir.name, run_dir, catalog.engine)
    tailer.poll()
    read_metadata = RunTailer._read_metadata

    def root_unmounted_now(self: RunTailer) -> dict:  # after poll() saw a run directory, before it reads the lines
        run_dir.rename(run_dir.with_name("aside"))
        return read_metadata(self)

    monkeypatch.setattr(RunTailer, "_read_metadata", root_unmounted_now)
    assert tailer.poll().gone
    assert catalog.run_stats(run_dir.name).total == 20  # held as last seen: the engine decides what gone means


def test_restart_resumes_with_nothing_lost_or_doubled(tmp_path: Path, run_dir: Path) -> None:
    path = run_dir / "instances.jsonl"
    append(path, b"".join(instance_line(n, status=status_of(n)) for n in range(50)) + instance_line(50)[:7])
    tail(make_catalog(tmp_path), run_dir)
    append(path, instance_line(50)[7:] + b"".join(instance_line(n, status=status_of(n)) for n in range(51, 100)))
    catalog = make_catalog(tmp_path)  # a new process: new engine, same database file
    tail(catalog, run_dir)
    assert catalog_instances(catalog, run_dir.name) == file_instances(run_dir)
    stats = catalog.run_stats(run_dir.name)
    durations = sorted(float(n % 997) for n in range(100))
    assert stats.total == 100
    assert (stats.p50_ms, stats.p95_ms, stats.p99_ms) == tuple(nearest_rank(durations, p) for p in (50, 95, 99))


def test_two_workers_tailing_one_run_never_double_count(tmp_path: Path, run_dir: Path) -> None:
    a, b = make_catalog(tmp_path), make_catalog(tmp_path)
    tailers = [RunTailer(run_dir.name, run_dir, a.engine), RunTailer(run_dir.name, run_dir, b.engine)]
    for chunk in range(10):
        append(run_dir / "instances.jsonl", b"".join(instance_line(chunk * 10 + n) for n in range(10)))
        for tailer in random.Random(chunk).sample(tailers, 2):
            tailer.poll()
    assert catalog_instances(a, run_dir.name) == file_instances(run_dir)
    assert a.run_stats(run_dir.name).total == 100


def test_steps_of_the_older_layout_are_numbered_by_order_across_restarts(catalog: Catalog, run_dir: Path) -> None:
    append(run_dir / "steps.jsonl", step_line(1, None) + step_line(2, None) + step_line(1, None))
    tail(catalog, run_dir)
    append(run_dir / "steps.jsonl", step_line(1, None) + step_line(2, None))
    append(run_dir / "instances.jsonl", instance_line(1) + instance_line(2))
    tail(catalog, run_dir)
    assert [s.step_index for s in catalog.get_instance(run_dir.name, "inst_000001").steps] == [0, 1, 2]
    assert [s.step_index for s in catalog.get_instance(run_dir.name, "inst_000002").steps] == [0, 1]


def test_an_empty_instance_id_falls_back_to_its_seq(catalog: Catalog, run_dir: Path) -> None:
    append(run_dir / "instances.jsonl", instance_line(1) + instance_line(2, instance_id=""))
    tail(catalog, run_dir)
    assert [iid for _, iid, *_ in catalog_instances(catalog, run_dir.name)] == ["inst_000001", "#2"]


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_both_fixture_runs_ingest_from_a_read_only_root(catalog: Catalog, read_only_fixture_root: Path) -> None:
    before = _listing(read_only_fixture_root)
    legacy = tail(catalog, read_only_fixture_root / "run_20240122_001")
    real = tail(catalog, read_only_fixture_root / "run_20261126_151613")
    assert _listing(read_only_fixture_root) == before  # nothing written into the runs root
    old = catalog.get_run("run_20240122_001")
    assert (old.stats.total, old.stats.passed, old.stats.failed, old.stats.errors) == (4, 1, 0, 3)
    assert old.status == "complete" and legacy.complete
    new = catalog.get_run("run_20261126_151613")
    assert (new.stats.total, new.stats.passed, new.stats.failed, new.stats.errors) == (200, 168, 23, 9)
    assert new.status == "complete" and real.complete
    assert catalog_step_count(catalog, "run_20261126_151613") == 782
    assert (new.unreadable_lines, old.unreadable_lines) == (0, 0)
    detail = catalog.get_instance("run_20261126_151613", "inst_d2da358d8e5b")
    assert detail.steps[1].assertions and detail.steps[1].assertions[0].assertion_name == "cart_created"


def _status(tmp_path: Path, run_dir: Path, **catalog_kwargs) -> str:
    catalog = make_catalog(tmp_path, **catalog_kwargs)
    tail(catalog, run_dir)
    return catalog.get_run(run_dir.name).status


def test_run_status_running_then_failing_then_complete(tmp_path: Path, run_dir: Path) -> None:
    append(run_dir / "instances.jsonl", instance_line(1))
    assert _status(tmp_path, run_dir) == "running"
    append(run_dir / "instances.jsonl", instance_line(2, status="failed"))
    assert _status(tmp_path, run_dir) == "failing"
    (run_dir / "summary.json").write_text(json.dumps({"completed_at": "2026-01-01T00:05:00Z"}))
    assert _status(tmp_path, run_dir) == "complete"
    run = make_catalog(tmp_path).get_run(run_dir.name)
    assert run.completed_at == "2026-01-01T00:05:00Z" and run.duration_ms == 300_000.0


def test_a_run_whose_files_are_older_than_the_stall_timeout_is_stalled(tmp_path: Path, run_dir: Path) -> None:
    append(run_dir / "instances.jsonl", instance_line(1, status="failed"))
    old = time.time() - 600
    for path in (run_dir, *run_dir.iterdir()):
        os.utime(path, (old, old))
    assert _status(tmp_path, run_dir, stall_timeout_s=300) == "stalled"
    assert _status(tmp_path, run_dir, stall_timeout_s=900) == "failing"


def test_a_malformed_manifest_makes_an_error_run_with_a_reason(catalog: Catalog, run_dir: Path) -> None:
    (run_dir / "manifest.json").write_text('{"run_id": ')
    append(run_dir / "instances.jsonl", instance_line(1))
    tail(catalog, run_dir)
    run = catalog.get_run(run_dir.name)
    assert run.status == "error" and "manifest.json" in run.status_reason
    assert run.stats.total == 1  # its lines still count
    write_manifest(run_dir)
    tail(catalog, run_dir)
    assert catalog.get_run(run_dir.name).status == "running"


def test_the_older_layouts_completed_at_means_complete(tmp_path: Path, catalog: Catalog) -> None:
    run_dir = tmp_path / "runs" / "legacy"
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text(json.dumps({"sut_name": "x", "scenarios": ["a"], "started_at":
                                                       "2024-01-22T10:00:00Z", "completed_at": "2024-01-22T10:00:10Z"}))
    tail(catalog, run_dir)
    run = catalog.get_run("legacy")
    assert (run.status, run.scenario_ids, run.duration_ms) == ("complete", ["a"], 10_000.0)


def test_a_summary_that_lands_before_the_lines_still_ends_exact(catalog: Catalog, run_dir: Path) -> None:
    (run_dir / "summary.json").write_text("{}")
    append(run_dir / "instances.jsonl", b"".join(instance_line(n) for n in range(5)))
    assert tail(catalog, run_dir).complete
    append(run_dir / "instances.jsonl", b"".join(instance_line(n) for n in range(5, 9)))
    result = tail(catalog, run_dir)
    assert result.complete and result.head == 9
    assert catalog.get_run(run_dir.name).stats.total == 9


def test_a_backlog_parsed_in_worker_processes_ends_equal_to_the_file(catalog: Catalog, run_dir: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """As the engine runs it: parse workers, and commits on their own thread while the next batch is built."""
    monkeypatch.setattr(tailer_module, "CHUNK_BYTES", 8192)  # many rounds: each parses ahead while the previous commits
    monkeypatch.setattr(tailer_module, "POOL_MIN_BYTES", 1024)
    append(run_dir / "instances.jsonl", b"".join(instance_line(n, status=status_of(n)) + b"oops\n" * (n % 50 == 0)
                                                 for n in range(2_000)))
    append(run_dir / "steps.jsonl", b"".join(step_line(n // 3, None) for n in range(3_000)))
    pool = parse_pool()
    assert pool is not None, "these tests run on two cores or more"
    with ThreadPoolExecutor(1) as committer:
        try:
            RunTailer(run_dir.name, run_dir, catalog.engine, pool, committer).poll()
        finally:
            pool.shutdown()
    assert catalog_instances(catalog, run_dir.name) == file_instances(run_dir)
    assert catalog.get_run(run_dir.name).unreadable_lines == 40
    assert catalog_step_count(catalog, run_dir.name) == 3_000
    assert [s.step_index for s in catalog.get_instance(run_dir.name, "inst_000999").steps] == [0, 1, 2]


def test_staged_step_and_assertion_blocks_around_older_layout_steps_end_equal_to_the_files(
        catalog: Catalog, run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers hand a SQLite catalog numbered rows as database images. A few steps without step_index
    amid them are numbered counting every step before them, the staged ones read back for that too."""
    monkeypatch.setattr(tailer_module, "CHUNK_BYTES", 8192)
    monkeypatch.setattr(tailer_module, "POOL_MIN_BYTES", 1024)
    append(run_dir / "instances.jsonl", b"".join(instance_line(n) for n in range(600)))
    expected = [(n // 3, n % 3) for n in range(1_200)]  # instances 0-399: steps 0, 1, 2
    expected += [(390 + n // 2, 3 + n % 2) for n in range(20)]  # less than a chunk of older-layout steps
    expected += [(400 + n // 3, n % 3) for n in range(600)]  # the first chunk of these is staged ahead
    expected += [(400 + n, 3) for n in range(60)]  # older again, some after staged steps of theirs
    lines = [step_line(instance, None if 1_200 <= n < 1_220 or n >= 1_820 else index)
             for n, (instance, index) in enumerate(expected)]
    append(run_dir / "steps.jsonl", b"".join(lines))
    assertions = [json.dumps({"instance_id": f"inst_{n:06d}", "step_index": 0, "passed": True}).encode() + b"\n"
                  for n in range(1_000)]
    append(run_dir / "assertions.jsonl", b"".join(assertions))
    pool = parse_pool()
    assert pool is not None, "these tests run on two cores or more"
    with ThreadPoolExecutor(1) as committer:
        try:
            result = RunTailer(run_dir.name, run_dir, catalog.engine, pool, committer).poll()
        finally:
            pool.shutdown()
    steps = all_steps(catalog, run_dir.name)
    assert result.step_head == steps[-1].step_seq == len(b"".join(lines)) - len(lines[-1]) + 1
    assert [(s.instance_id, s.step_index, s.ok) for s in steps] == [(f"inst_{i:06d}", k, True) for i, k in expected]
    detail = catalog.get_instance(run_dir.name, "inst_000395")  # lines re-read at their stored (pos, size)
    assert detail is not None and [(s.step_index, s.step_name) for s in detail.steps] == [
        (0, "s0"), (1, "s1"), (2, "s2"), (3, "sNone"), (4, "sNone")]
    assert [len(s.assertions) for s in detail.steps] == [1, 0, 0, 0, 0]


def test_a_time_budget_splits_a_backlog_into_polls_that_add_up_exactly(catalog: Catalog, run_dir: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tailer_module, "CHUNK_BYTES", 4096)
    append(run_dir / "instances.jsonl", b"".join(instance_line(n) for n in range(500)))
    (run_dir / "summary.json").write_text("{}")
    tailer = RunTailer(run_dir.name, run_dir, catalog.engine)
    results = [tailer.poll(budget_s=0)]
    while results[-1].more:
        assert not results[-1].complete  # complete only with the final drain
        results.append(tailer.poll(budget_s=0))
    assert len(results) > 3 and results[-1].complete
    assert catalog_instances(catalog, run_dir.name) == file_instances(run_dir)


def test_a_line_longer_than_a_read_chunk_is_read_whole(catalog: Catalog, run_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tailer_module, "CHUNK_BYTES", 1024)
    big = json.dumps({"instance_id": "big", "passed": True, "entry_data": {"body": "x" * 50_000}}).encode() + b"\n"
    append(run_dir / "instances.jsonl", instance_line(1) + big[:30_000])
    assert tail(catalog, run_dir).head == 1
    append(run_dir / "instances.jsonl", big[30_000:] + instance_line(2))
    assert tail(catalog, run_dir).head == 3
    assert catalog.get_instance(run_dir.name, "big").entry_data == {"body": "x" * 50_000}


def test_a_summary_written_while_a_pass_reads_waits_for_the_next_pass(catalog: Catalog, run_dir: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The race itself, made deterministic: the last line and the summary land in the middle of a read."""
    append(run_dir / "instances.jsonl", instance_line(1))
    read_chunk = RunTailer._read_chunk
    raced = []

    def racing_read(self, name, stored):
        out = read_chunk(self, name, stored)
        if name == "instances.jsonl" and not raced:
            raced.append(True)
            append(run_dir / "instances.jsonl", instance_line(2))
            (run_dir / "summary.json").write_text("{}")
        return out

    monkeypatch.setattr(RunTailer, "_read_chunk", racing_read)
    tailer = RunTailer(run_dir.name, run_dir, catalog.engine)
    first = tailer.poll()
    assert (first.head, first.complete) == (1, False)  # the summary was not seen before this pass began
    second = tailer.poll()
    assert (second.head, second.complete) == (2, True)


def test_step_numbers_match_the_reader_when_layouts_mix(catalog: Catalog, run_dir: Path) -> None:
    append(run_dir / "instances.jsonl", instance_line(1) + instance_line(2))
    append(run_dir / "steps.jsonl", step_line(1, 0) + step_line(2, 0) + step_line(1, 1))
    tail(catalog, run_dir)  # committed before any older-layout step shows up
    append(run_dir / "steps.jsonl", step_line(2, 5) + step_line(1, None) + step_line(2, None))
    tail(catalog, run_dir)
    oracle = read_run(run_dir).steps
    for n in (1, 2):
        expected = [s.step_index for s in oracle if s.instance_id == f"inst_{n:06d}"]
        assert [s.step_index for s in catalog.get_instance(run_dir.name, f"inst_{n:06d}").steps] == expected
