"""The read-only reader of the runner's turbulence.db: exact rows, live reads, locks, bad databases (docs/design.md §2)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.sqlite_reader import BadDatabase, Busy, RunDatabase, instance_record, step_record
from windtunnel_dash.artifacts.sqlite_writer import SCHEMA

REAL_RUN = "run_20261205_143438"


def new_database(path: Path, schema: str = SCHEMA) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False)
    db.executescript(schema)
    return db


def insert_instance(db: sqlite3.Connection, n: int, *, entry_data: str = "{}", instance_id: str | None = None) -> None:
    with db:  # one transaction per row, as the runner commits
        db.execute("INSERT OR REPLACE INTO instances (id, run_id, scenario_id, correlation_id, status, started_at, "
                   "completed_at, entry_data, error) VALUES (?, 'r', 's', ?, ?, '2026-01-01T00:00:00+00:00', "
                   "'2026-01-01T00:00:00.250+00:00', ?, NULL)",
                   (instance_id or f"inst_{n:06d}", f"corr_{n}", "pass" if n % 3 else "fail", entry_data))


def test_the_real_run_reads_exactly_from_a_read_only_directory(read_only_fixture_root: Path) -> None:
    read_only_copy = read_only_fixture_root / REAL_RUN
    before = sorted((p.name, p.stat().st_mtime_ns) for p in read_only_copy.iterdir())
    with RunDatabase(read_only_copy / layout.DATABASE) as db:
        run = db.run()
        instances = db.rows_after("instances", 0, 10_000)
        steps = db.rows_after("steps", 0, 10_000)
        assertions = db.rows_after("assertions", 0, 10_000)
        [detail] = db.records(layout.INSTANCES, ["inst_f14727a56c86"])
        [step] = db.records(layout.STEPS, [steps[0][0]])
    assert sorted((p.name, p.stat().st_mtime_ns) for p in read_only_copy.iterdir()) == before  # no journal, nothing
    assert run["sut_name"] == "fake-shop-local" and run["scenario_ids"] == ["browse-slow", "checkout-flow"]
    assert run["config"] == {"seed": 21, "concurrency": 10, "timeout_seconds": 30.0}
    assert (len(instances), len(steps), len(assertions)) == (150, 594, 218)
    records = [instance_record(r) for r in instances]
    assert sum(r.passed for r in records) == 141
    assert sum(1 for r in records if not r.passed and r.error) == 3
    assert [r[0] for r in instances] == sorted(r[0] for r in instances)
    assert detail["error"] == "Variable 'total' not found in context" and detail["duration_ms"] == 99.262
    assert detail["entry_data"]["seed_data"]["cart_items"][0]["sku"] == "WIDGET-001"
    assert step["observation"]["attempts"][0]["status_code"] == 200 and step["step_name"] == "health"


def test_a_database_written_while_read_is_read_whole_in_rowid_order(tmp_path: Path) -> None:
    path = tmp_path / "run" / layout.DATABASE
    writer = new_database(path)
    total = 200  # committed one by one, each synced to disk: the writer holds its lock much of the time

    def write() -> None:
        for n in range(total):
            insert_instance(writer, n)

    thread = threading.Thread(target=write)
    seen: list[str] = []
    cursor = 0
    with RunDatabase(path, busy_timeout_s=0.05) as db:
        thread.start()
        while thread.is_alive() or cursor < total:
            try:
                rows = db.rows_after("instances", cursor, 97)
            except Busy:  # the writer kept its lock past the busy timeout: read again, from the same rowid
                continue
            if rows:
                cursor = rows[-1][0]
                seen.extend(r[1] for r in rows)
            elif not thread.is_alive() and db.last_rowid("instances") == cursor:
                break
    thread.join()
    assert seen == [f"inst_{n:06d}" for n in range(total)]


def test_a_writer_holding_its_lock_makes_the_read_wait_then_fail_busy_never_skip(tmp_path: Path) -> None:
    path = tmp_path / "run" / layout.DATABASE
    writer = new_database(path)
    insert_instance(writer, 1)
    writer.isolation_level = None
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("INSERT INTO instances (id, status) VALUES ('inst_locked', 'pass')")
    with RunDatabase(path, busy_timeout_s=0.05) as db:
        with pytest.raises(Busy):
            db.rows_after("instances", 0, 10)
        writer.execute("COMMIT")
        assert [r[1] for r in db.rows_after("instances", 0, 10)] == ["inst_000001", "inst_locked"]


def test_a_writer_that_commits_within_the_busy_timeout_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "run" / layout.DATABASE
    writer = new_database(path)
    writer.isolation_level = None
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("INSERT INTO instances (id, status) VALUES ('inst_late', 'pass')")
    release = threading.Timer(0.2, writer.execute, ("COMMIT",))
    release.start()
    with RunDatabase(path, busy_timeout_s=10.0) as db:
        assert [r[1] for r in db.rows_after("instances", 0, 10)] == ["inst_late"]
    release.join()


def test_an_empty_database_is_a_run_being_created_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "run" / layout.DATABASE
    path.parent.mkdir()
    path.write_bytes(b"")
    with RunDatabase(path) as db:
        assert db.run() is None and db.rows_after("steps", 0, 10) == []


@pytest.mark.parametrize("schema, reason", [
    (SCHEMA.replace("CREATE TABLE IF NOT EXISTS steps", "CREATE TABLE IF NOT EXISTS other_steps")
     .replace("ON steps(", "ON other_steps("), "has no table 'steps'"),
    (SCHEMA.replace("observation TEXT", "obs TEXT"), "table 'steps' has no column 'observation'"),
])
def test_missing_tables_or_columns_are_bad_databases_with_the_reason(tmp_path: Path, schema: str, reason: str) -> None:
    path = tmp_path / "run" / layout.DATABASE
    new_database(path, schema).close()
    with RunDatabase(path) as db, pytest.raises(BadDatabase, match=reason):
        db.run()


def test_a_file_that_is_not_a_database_is_a_bad_database(tmp_path: Path) -> None:
    path = tmp_path / "run" / layout.DATABASE
    path.parent.mkdir()
    path.write_bytes(b"this is a text file, not SQLite format 3\n" * 200)
    with RunDatabase(path) as db, pytest.raises(BadDatabase, match="not a SQLite database"):
        db.run()


def test_a_corrupt_page_is_a_bad_database(tmp_path: Path) -> None:
    path = tmp_path / "run" / layout.DATABASE
    writer = new_database(path)
    writer.execute("PRAGMA synchronous = OFF")
    for n in range(400):
        insert_instance(writer, n, entry_data='{"pad": "' + "x" * 500 + '"}')
    writer.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[page:] = b"\xa5" * (len(data) - page)  # every page but the first (the header and the schema)
    path.write_bytes(bytes(data))
    with RunDatabase(path) as db, pytest.raises(BadDatabase, match="corrupt|malformed|not a SQLite"):
        db.rows_after("instances", 0, 10_000)


def test_rows_whose_json_columns_are_not_json_are_unreadable(tmp_path: Path) -> None:
    ok_instance = (1, "i1", "s", "c", "pass", None, None, '{"a": 1}', None)
    assert instance_record(ok_instance) is not None
    assert instance_record((*ok_instance[:7], "{not json", None)) is None
    ok_step = (1, "i1", "c", 0, "health", "http", None, '{"ok": true, "latency_ms": 3.5, "body": [1]}')
    step = step_record(ok_step)
    assert (step.ok, step.latency_ms) == (True, 3.5)
    assert step_record((*ok_step[:7], '{"ok": tru')) is None
    odd = step_record((*ok_step[:7], '{"ok": "yes", "latency_ms": "3"}'))  # JSON of another shape: still a step
    assert odd is not None and (odd.ok, odd.latency_ms) == (None, None)
