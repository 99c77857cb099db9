"""The run page's charts, counted from values kept sorted and read incrementally (catalog/chart_values.py),
equal the full scan they replaced: the same buckets, on SQLite and on Postgres (docs/design.md §7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, cast, func, select

from tests.unit.pipeline_support import append, instance_line, make_catalog, tail, write_manifest
from windtunnel_dash.catalog import Catalog
from windtunnel_dash.catalog.rows import LatencyBucket, TimelineBucket
from windtunnel_dash.catalog.store import _iso
from windtunnel_dash.catalog.writes import INSTANCES, key_of

pytestmark = pytest.mark.usefixtures("each_catalog")
_I = INSTANCES.c


def _scan(catalog: Catalog, run_id: str, column: Any, buckets: int, *by: Any) -> tuple[float, float, list[Any]]:
    """Every instance's bucket by one GROUP BY over the run: the query the charts made before."""
    where = (_I.run_key == key_of(run_id), column.is_not(None))
    with catalog.engine.connect() as conn:
        low, high = conn.execute(select(func.min(column), func.max(column)).where(*where)).one()
        width = (high - low) / buckets or 1.0
        # floor; SQLite's CAST truncates, which is floor here (no value is below `low`), Postgres's rounds
        position = (column - low) / width
        bucket = func.floor(position) if catalog.engine.dialect.name == "postgresql" else cast(position, Integer)
        return low, width, list(conn.execute(select(bucket, *by, func.count()).where(*where).group_by(bucket, *by)))


def scanned_timeline(catalog: Catalog, run_id: str, buckets: int) -> list[TimelineBucket]:
    low, width, counts = _scan(catalog, run_id, _I.completed_ts, buckets, _I.status)
    grid = [[0, 0, 0] for _ in range(buckets)]
    for b, status, n in counts:
        grid[min(max(int(b), 0), buckets - 1)][("passed", "failed", "error").index(status)] += n
    return [TimelineBucket(_iso(low + i * width), *cells) for i, cells in enumerate(grid)]


def scanned_histogram(catalog: Catalog, run_id: str, buckets: int) -> list[LatencyBucket]:
    low, width, counts = _scan(catalog, run_id, _I.duration_ms, buckets)
    grid = [0] * buckets
    for b, n in counts:
        grid[min(max(int(b), 0), buckets - 1)] += n
    return [LatencyBucket(low + i * width, low + (i + 1) * width, n) for i, n in enumerate(grid)]


def _lines(numbers: range, offset: int = 0) -> bytes:
    statuses = ("passed", "passed", "failed", "error")
    return b"".join(
        instance_line(n, status=statuses[n % 4], duration_ms=None if n % 11 == 0 else (n * 7919 % 1000) / 7 + offset,
                      instance_id=f"inst_{offset}_{n}")
        for n in numbers)


def _assert_charts_equal_the_scan(catalog: Catalog, run_id: str) -> None:
    for buckets in (1, 4, 7, 20, 60):
        assert catalog.timeline(run_id, buckets=buckets) == scanned_timeline(catalog, run_id, buckets)
        assert catalog.latency_histogram(run_id, buckets=buckets) == scanned_histogram(catalog, run_id, buckets)


def test_charts_equal_the_full_scan_as_the_run_grows_and_is_rebuilt(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    run_dir = tmp_path / "runs" / "run_charts"
    write_manifest(run_dir)
    instances = run_dir / "instances.jsonl"
    append(instances, _lines(range(100, 400)))
    tail(catalog, run_dir)
    _assert_charts_equal_the_scan(catalog, "run_charts")
    # New extremes at both ends (earlier and later completions, shorter and longer durations) move every edge.
    append(instances, _lines(range(400, 900), offset=50) + _lines(range(1, 60), offset=-20))
    tail(catalog, run_dir)
    _assert_charts_equal_the_scan(catalog, "run_charts")
    # The file replaced: a new generation, whose rows start again from seq 1.
    instances.write_bytes(_lines(range(2000, 2050)))
    tail(catalog, run_dir)
    _assert_charts_equal_the_scan(catalog, "run_charts")
    assert sum(b.count for b in catalog.latency_histogram("run_charts", buckets=5)) == sum(
        n % 11 != 0 for n in range(2000, 2050))


def test_one_value_and_no_values(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    run_dir = tmp_path / "runs" / "run_one"
    write_manifest(run_dir)
    append(run_dir / "instances.jsonl", instance_line(1, duration_ms=None) + json.dumps(
        {"instance_id": "inst_x", "passed": True, "duration_ms": 5.0}).encode() + b"\n")
    tail(catalog, run_dir)
    assert catalog.latency_histogram("run_one", buckets=3) == scanned_histogram(catalog, "run_one", 3)
    assert [b.count for b in catalog.latency_histogram("run_one", buckets=3)] == [1, 0, 0]
    assert catalog.timeline("run_one", buckets=3) == scanned_timeline(catalog, "run_one", 3)
