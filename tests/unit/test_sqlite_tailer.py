"""Runs in the runner's turbulence.db reach the catalog exactly as JSONL runs do (docs/design.md §2–4)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.pipeline_support import all_instances, all_steps, catalog_instances, catalog_step_count, make_catalog
from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.sqlite_writer import SqliteRunWriter
from windtunnel_dash.catalog import Catalog
from windtunnel_dash.pipeline.engine import parse_pool
from windtunnel_dash.pipeline.sqlite_tailer import SqliteRunTailer, tailer_class
from windtunnel_dash.pipeline.tailer import RunTailer
from windtunnel_dash.simulator import simulate

REAL_RUN = "run_20261205_143438"
START = datetime(2026, 12, 5, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return make_catalog(tmp_path)


def poll(catalog: Catalog, run_dir: Path, **kwargs):
    """One poll by a fresh tailer of the run's kind, as a restarted process makes."""
    return tailer_class(run_dir)(run_dir.name, run_dir, catalog.engine).poll(**kwargs)


def instance(n: int, *, passed: bool = True, error: str | None = None, instance_id: str | None = None) -> dict:
    return {"instance_id": instance_id or f"inst_{n:06d}", "correlation_id": f"corr_{n}", "scenario_id": "checkout",
            "started_at": "2026-12-05T12:00:00+00:00", "completed_at": f"2026-12-05T12:00:00.{n % 1000:03d}+00:00",
            "passed": passed, "entry_data": {"n": n}, "error": error}


def step(n: int, index: int) -> dict:
    return {"instance_id": f"inst_{n:06d}", "correlation_id": f"corr_{n}", "step_index": index, "step_name": f"s{index}",
            "step_type": "http", "timestamp": "2026-12-05T12:00:00+00:00",
            "observation": {"ok": True, "latency_ms": 1.5, "status_code": 200, "attempts": [{"attempt": 1}]}}


def open_writer(runs: Path, run_id: str = "run_sql") -> SqliteRunWriter:
    return SqliteRunWriter(runs, run_id, sut_name="sut", scenario_ids=["checkout"], planned=10,
                           started_at=START).open()


def test_the_real_run_is_exact_and_complete_from_a_read_only_root(catalog: Catalog, read_only_fixture_root: Path) -> None:
    run_dir = read_only_fixture_root / REAL_RUN
    before = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in run_dir.iterdir())
    result = poll(catalog, run_dir)
    assert sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in run_dir.iterdir()) == before
    run = catalog.get_run(REAL_RUN)
    assert result.complete and run.status == "complete"
    assert (run.stats.total, run.stats.passed, run.stats.failed, run.stats.errors) == (150, 141, 6, 3)
    assert run.stats.pass_rate == 94.0 and run.unreadable_lines == 0
    assert (run.sut_name, run.scenario_ids) == ("fake-shop-local", ["browse-slow", "checkout-flow"])
    assert run.started_at == "2026-12-05T14:34:38.637377+00:00" and run.duration_ms == 9080.465
    assert {s.scenario_id: (s.total, s.passed) for s in run.scenarios} == {"browse-slow": (79, 79),
                                                                           "checkout-flow": (71, 62)}
    assert catalog_step_count(catalog, REAL_RUN) == 594
    assert [seq for seq, *_ in catalog_instances(catalog, REAL_RUN)] == list(range(1, 151))
    detail = catalog.get_instance(REAL_RUN, "inst_f14727a56c86")
    assert detail.instance.status == "error" and detail.entry_data["seed_data"]["variation"]["locale"] == "ja-JP"
    http, check = detail.steps
    assert (http.step_name, http.observation["status_code"], len(http.observation["attempts"])) == ("create_cart", 503, 1)
    assert [(a.assertion_name, a.passed, a.expected, a.actual) for a in check.assertions] == [
        ("cart_created", False, 201, 503)]


def test_the_same_run_in_sqlite_and_in_jsonl_makes_the_same_catalog(tmp_path: Path) -> None:
    options = dict(instances=1200, rate=1000, seed=5, scenarios=("checkout-flow", "user-signup"), steps=(2, 6),
                   pace=False, started_at=START, run_id="run_same")
    simulate(tmp_path / "jsonl", **options)
    simulate(tmp_path / "sqlite", storage="sqlite", **options)
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    jsonl_catalog, sqlite_catalog = make_catalog(tmp_path / "a"), make_catalog(tmp_path / "b")
    assert tailer_class(tmp_path / "sqlite" / "run_same") is SqliteRunTailer
    poll(jsonl_catalog, tmp_path / "jsonl" / "run_same")
    pool = parse_pool()  # the engine's: big row sets are parsed in its worker processes
    assert pool is not None, "these tests run on two cores or more"
    with ThreadPoolExecutor(1) as committer:
        try:
            SqliteRunTailer("run_same", tmp_path / "sqlite" / "run_same", sqlite_catalog.engine, pool, committer).poll()
        finally:
            pool.shutdown()

    def rows(catalog: Catalog) -> list[tuple]:
        return [(r.seq, r.instance_id, r.correlation_id, r.scenario_id, r.status, r.error, round(r.duration_ms, 3))
                for r in all_instances(catalog, "run_same")]

    def steps(catalog: Catalog) -> list[tuple]:
        return [(s.instance_id, s.step_index, s.step_name, s.step_type, s.ok, s.latency_ms)
                for s in all_steps(catalog, "run_same")]

    assert rows(sqlite_catalog) == rows(jsonl_catalog) and len(rows(jsonl_catalog)) == 1200
    assert steps(sqlite_catalog) == steps(jsonl_catalog)
    a, b = jsonl_catalog.get_run("run_same"), sqlite_catalog.get_run("run_same")
    assert (b.status, b.stats, b.scenarios, b.sut_name, b.planned) == (a.status, a.stats, a.scenarios, a.sut_name, a.planned)
    some = rows(jsonl_catalog)[123][1]
    da, db = jsonl_catalog.get_instance("run_same", some), sqlite_catalog.get_instance("run_same", some)
    assert db.entry_data == da.entry_data and db.steps == da.steps


def test_live_rows_are_found_by_rowid_and_a_replaced_id_is_the_same_instance(catalog: Catalog, tmp_path: Path) -> None:
    writer = open_writer(tmp_path / "runs")
    run_dir = writer.dir
    tailer = SqliteRunTailer(run_dir.name, run_dir, catalog.engine)
    assert tailer.poll().head == 0 and catalog.get_run("run_sql").status == "running"
    writer.write_batch(steps=[step(1, 0), step(1, 1)], instances=[instance(1)])
    writer.write_batch(instances=[instance(2, passed=False, error="HTTP 503")])
    result = tailer.poll()
    assert (result.head, [r.instance_id for r in result.fresh]) == (2, ["inst_000001", "inst_000002"])
    writer.write_batch(instances=[instance(1, passed=False), instance(3)])  # inst_000001 again: INSERT OR REPLACE
    assert tailer.poll().head == 3
    assert [(seq, iid) for seq, iid, *_ in catalog_instances(catalog, "run_sql")] == [
        (1, "inst_000001"), (2, "inst_000002"), (3, "inst_000003")]
    restarted = poll(catalog, run_dir)  # a restart resumes from the stored rowids: nothing twice
    writer.write_batch(instances=[instance(2), instance(4)])
    assert restarted.head == 3 and poll(catalog, run_dir).head == 4
    run = catalog.get_run("run_sql")
    assert (run.stats.total, run.stats.passed, run.stats.errors) == (4, 3, 1) and run.status == "failing"
    assert catalog_step_count(catalog, "run_sql") == 2
    writer.finalize()
    assert poll(catalog, run_dir).complete and catalog.get_run("run_sql").status == "complete"


def test_a_database_run_whose_directory_vanishes_mid_poll_is_gone_not_emptied(
        catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = open_writer(tmp_path / "runs")
    writer.write_batch(instances=[instance(n) for n in range(5)])
    run_dir = writer.dir
    tailer = SqliteRunTailer(run_dir.name, run_dir, catalog.engine)
    assert tailer.poll().head == 5
    read_metadata = SqliteRunTailer._read_metadata

    def root_unmounted_now(self: SqliteRunTailer) -> dict:  # after poll() saw a run directory, before it reads rows
        run_dir.rename(run_dir.with_name("aside"))
        return read_metadata(self)

    monkeypatch.setattr(SqliteRunTailer, "_read_metadata", root_unmounted_now)
    assert tailer.poll().gone
    assert catalog.run_stats("run_sql").total == 5


def test_without_a_summary_the_run_is_stalled_after_the_timeout(tmp_path: Path) -> None:
    writer = open_writer(tmp_path / "runs")
    writer.write_batch(instances=[instance(1)])
    old = time.time() - 600
    for path in [writer.dir, *writer.dir.iterdir()]:
        os.utime(path, (old, old))
    catalog = make_catalog(tmp_path, stall_timeout_s=120)
    poll(catalog, writer.dir)
    assert catalog.get_run("run_sql").status == "stalled"


def test_a_writer_holding_its_lock_is_waited_for_and_nothing_is_skipped(catalog: Catalog, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("windtunnel_dash.artifacts.sqlite_reader.BUSY_TIMEOUT_S", 0.05)
    writer = open_writer(tmp_path / "runs")
    writer.write_batch(instances=[instance(1)])
    tailer = SqliteRunTailer("run_sql", writer.dir, catalog.engine)
    locker = sqlite3.connect(writer.dir / layout.DATABASE, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    locker.execute("INSERT INTO instances (id, status) VALUES ('inst_000002', 'pass')")
    held = tailer.poll()
    assert held.more and held.head == 0  # told to poll again, and read nothing meanwhile
    locker.execute("COMMIT")
    assert tailer.poll().head == 2
    assert [iid for _, iid, *_ in catalog_instances(catalog, "run_sql")] == ["inst_000001", "inst_000002"]


def test_a_directory_with_both_counts_each_instance_once_from_the_jsonl(catalog: Catalog, tmp_path: Path) -> None:
    writer = open_writer(tmp_path / "runs")
    writer.write_batch(instances=[instance(1), instance(2), instance(3)])
    lines = [json.dumps(instance(n)) + "\n" for n in (1, 2)]  # what `migrate` copied, the truth
    (writer.dir / layout.INSTANCES).write_text("".join(lines))
    assert tailer_class(writer.dir) is RunTailer
    poll(catalog, writer.dir)
    assert [iid for _, iid, *_ in catalog_instances(catalog, "run_sql")] == ["inst_000001", "inst_000002"]


def test_a_bad_database_is_an_error_run_with_the_reason_until_it_is_fixed(catalog: Catalog, tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "run_bad"
    run_dir.mkdir(parents=True)
    (run_dir / layout.DATABASE).write_bytes(b"not a database at all\n" * 100)
    tailer = SqliteRunTailer("run_bad", run_dir, catalog.engine)
    tailer.poll()
    run = catalog.get_run("run_bad")
    assert run.status == "error" and "not a SQLite database" in run.status_reason
    (run_dir / layout.DATABASE).unlink()
    writer = SqliteRunWriter(tmp_path / "fixed", "run_bad", started_at=START).open()
    writer.write_batch(instances=[instance(1)])
    shutil.copy(writer.dir / layout.DATABASE, run_dir / layout.DATABASE)
    tailer.poll()
    run = catalog.get_run("run_bad")
    assert (run.status, run.status_reason, run.stats.total) == ("running", None, 1)


def test_a_corrupt_page_among_the_rows_makes_an_error_run(catalog: Catalog, tmp_path: Path) -> None:
    writer = SqliteRunWriter(tmp_path / "runs", "run_corrupt", sut_name="sut", started_at=START,
                             row_per_commit=False).open()
    writer.write_batch(instances=[instance(n) for n in range(1, 400)])
    writer.finalize()
    (writer.dir / layout.SUMMARY).unlink()  # a run cut short: complete would win over error
    data = bytearray((writer.dir / layout.DATABASE).read_bytes())
    data[3 * 4096:] = b"\xa5" * (len(data) - 3 * 4096)  # the schema and the runs row stay readable
    (writer.dir / layout.DATABASE).write_bytes(bytes(data))
    SqliteRunTailer("run_corrupt", writer.dir, catalog.engine).poll()
    run = catalog.get_run("run_corrupt")
    assert run.sut_name == "sut" and run.status == "error"  # its runs row was read, its rows cannot be
    assert run.status_reason.startswith("turbulence.db is corrupt")
    assert catalog.list_runs()[1] == 1


def test_rows_with_unreadable_json_are_counted_not_numbered(catalog: Catalog, tmp_path: Path) -> None:
    writer = open_writer(tmp_path / "runs")
    writer.write_batch(steps=[step(1, 0)], instances=[instance(1)])
    db = sqlite3.connect(writer.dir / layout.DATABASE)
    with db:
        db.execute("INSERT INTO instances (id, status, entry_data) VALUES ('inst_bad', 'pass', '{oops')")
        db.execute("INSERT INTO steps (instance_id, step_index, observation) VALUES ('inst_000001', 1, '[1,')")
    writer.write_batch(instances=[instance(2)])
    poll(catalog, writer.dir)
    run = catalog.get_run("run_sql")
    assert run.unreadable_lines == 2
    assert [(seq, iid) for seq, iid, *_ in catalog_instances(catalog, "run_sql")] == [(1, "inst_000001"), (2, "inst_000002")]
    assert catalog_step_count(catalog, "run_sql") == 1
