"""A RunWriter that stores a run as `turbulence run --storage sqlite` does (docs/design.md §2).

One `turbulence.db` per run directory, no manifest and no JSONL: the run's
metadata is the `runs` row, and every record is one row committed in its own
transaction, in the default rollback-journal mode, as the runner commits
(`INSERT OR REPLACE` for instances, whose status is `pass`/`fail`; JSON text for
observations, entry data, expected and actual). `summary.json` still marks the
end. The simulator writes this layout with `--storage sqlite`, so tests and
the demo get live SQLite runs at a chosen rate.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from . import layout
from .writer import RunWriter

# The runner's schema, as its databases hold it (tests/fixtures/runs/run_20261205_143438/turbulence.db).
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, started_at TIMESTAMP, completed_at TIMESTAMP, sut_name TEXT, scenario_ids TEXT,
    seed INTEGER, config TEXT);
CREATE TABLE IF NOT EXISTS instances (
    id TEXT PRIMARY KEY, run_id TEXT REFERENCES runs(id), scenario_id TEXT, correlation_id TEXT, status TEXT,
    started_at TIMESTAMP, completed_at TIMESTAMP, entry_data TEXT, error TEXT);
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT REFERENCES instances(id), run_id TEXT,
    correlation_id TEXT, step_index INTEGER, step_name TEXT, step_type TEXT, timestamp TIMESTAMP, observation TEXT);
CREATE TABLE IF NOT EXISTS assertions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT REFERENCES instances(id), run_id TEXT,
    correlation_id TEXT, step_index INTEGER, assertion_name TEXT, passed BOOLEAN, expected TEXT, actual TEXT,
    message TEXT, timestamp TIMESTAMP);
CREATE INDEX IF NOT EXISTS idx_instances_status ON instances(status);
CREATE INDEX IF NOT EXISTS idx_instances_scenario ON instances(scenario_id);
CREATE INDEX IF NOT EXISTS idx_steps_instance ON steps(instance_id);
CREATE INDEX IF NOT EXISTS idx_steps_type ON steps(step_type);
CREATE INDEX IF NOT EXISTS idx_assertions_instance ON assertions(instance_id);
CREATE INDEX IF NOT EXISTS idx_assertions_passed ON assertions(passed);
"""

_INSERT = {
    layout.INSTANCES: "INSERT OR REPLACE INTO instances (id, run_id, scenario_id, correlation_id, status, started_at, "
                      "completed_at, entry_data, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    layout.STEPS: "INSERT INTO steps (instance_id, run_id, correlation_id, step_index, step_name, step_type, timestamp, "
                  "observation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    layout.ASSERTIONS: "INSERT INTO assertions (instance_id, run_id, correlation_id, step_index, assertion_name, passed, "
                       "expected, actual, message, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
}


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _instance(d: dict[str, Any]) -> tuple:
    return (d.get("instance_id"), d.get("run_id"), d.get("scenario_id"), d.get("correlation_id"),
            "pass" if d.get("passed") else "fail", d.get("started_at"), d.get("completed_at"),
            json.dumps(d.get("entry_data")), d.get("error"))


def _step(d: dict[str, Any]) -> tuple:
    return (d.get("instance_id"), d.get("run_id"), d.get("correlation_id"), d.get("step_index"), d.get("step_name"),
            d.get("step_type"), d.get("timestamp"), json.dumps(d.get("observation")))


def _assertion(d: dict[str, Any]) -> tuple:
    return (d.get("instance_id"), d.get("run_id"), d.get("correlation_id"), d.get("step_index"),
            d.get("assertion_name"), d.get("passed"), _json(d.get("expected")), _json(d.get("actual")),
            d.get("message"), d.get("timestamp"))


_ROW = {layout.INSTANCES: _instance, layout.STEPS: _step, layout.ASSERTIONS: _assertion}


class SqliteRunWriter(RunWriter):
    """RunWriter's interface and summary; the records go into `turbulence.db`.

    `row_per_commit=False` commits each `write_*` call's rows together: only for building big
    runs quickly (benches); the runner, and so the simulator, commit row by row.
    """

    def __init__(self, *args: Any, row_per_commit: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._row_per_commit = row_per_commit
        self._db: sqlite3.Connection | None = None

    def _start(self) -> None:
        db = self._db = sqlite3.connect(self.dir / layout.DATABASE, check_same_thread=False)
        # The runner's transactions, journal and locks, without waiting for the disk at each commit (7 ms here):
        # a simulated run is not worth an fsync per row, and its rate would be the disk's.
        db.execute("PRAGMA synchronous = OFF")
        with db:
            db.executescript(f"BEGIN;{SCHEMA}COMMIT;")  # one transaction: a reader never sees half a schema
        m = self.manifest
        with db:
            db.execute("INSERT INTO runs (id, started_at, sut_name, scenario_ids, seed, config) VALUES (?, ?, ?, ?, ?, ?)",
                       (m.run_id, m.started_at, m.sut_name, json.dumps(m.scenario_ids), m.seed, json.dumps(m.config)))

    def _stop(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _append(self, name: str, lines: Sequence[bytes]) -> None:
        db = self._db
        assert db is not None
        sql, row = _INSERT[name], _ROW[name]
        rows = [row(orjson.loads(line)) for line in lines]
        if self._row_per_commit:
            for values in rows:
                with db:
                    db.execute(sql, values)
        elif rows:
            with db:
                db.executemany(sql, rows)
