"""Ingest of a finished run stored in the runner's turbulence.db, beside the same run as JSONL.

The run is bench/ingest.py's (N instances × 4 steps shaped like the real
turbulence fixture); its records are then stored in a turbulence.db as well
(committed in big transactions: only the reading side is measured). Each is
ingested by a fresh tailer into its own catalog, JSONL first, in one process,
so the two figures share the machine's load.

    .venv/bin/python bench/sqlite_ingest.py [--instances 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import write_run  # noqa: E402

from windtunnel_dash.artifacts import layout  # noqa: E402
from windtunnel_dash.artifacts.sqlite_writer import SqliteRunWriter  # noqa: E402
from windtunnel_dash.catalog import Catalog  # noqa: E402
from windtunnel_dash.pipeline.engine import parse_pool  # noqa: E402
from windtunnel_dash.pipeline.sqlite_tailer import tailer_class  # noqa: E402

BATCH = 5000


def store_in_database(jsonl_run: Path, runs: Path) -> Path:
    """The JSONL run's records in a turbulence.db run of the same id (with the same summary.json)."""
    writer = SqliteRunWriter(runs, jsonl_run.name, row_per_commit=False).open()
    for name in (layout.STEPS, layout.INSTANCES):
        with open(jsonl_run / name, "rb") as lines:
            batch: list[dict] = []
            for line in lines:
                batch.append(json.loads(line))
                if len(batch) == BATCH:
                    writer.write_batch(**{name.split(".")[0]: batch})
                    batch = []
            writer.write_batch(**{name.split(".")[0]: batch})
    writer.finalize()
    return writer.dir


def ingest(run_dir: Path, catalog_url: str, instances: int) -> tuple[float, float]:
    """(seconds, load average before) for one fresh tailer of the run's kind, as the engine makes it."""
    catalog = Catalog(catalog_url)
    pool = parse_pool()
    if pool is not None:  # every worker up, as the engine's are long before a run arrives
        wait([pool.submit(time.sleep, 0.5) for _ in range(2 * (os.cpu_count() or 1))])
    committer = ThreadPoolExecutor(1)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    result = tailer_class(run_dir)(run_dir.name, run_dir, catalog.engine, pool, committer).poll()
    elapsed = time.perf_counter() - start
    committer.shutdown()
    if pool is not None:
        pool.shutdown()
    stats = catalog.run_stats(run_dir.name)
    steps = len(catalog.changes_since(run_dir.name, 0, 0, limit=10**9).steps)
    assert result.complete and stats.total == instances and steps == 4 * instances, (result, stats, steps)
    catalog.engine.dispose()
    return elapsed, load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=100_000)
    args = parser.parse_args()
    n = args.instances
    with tempfile.TemporaryDirectory() as tmp:
        jsonl_run = Path(tmp) / "jsonl" / "bench_run"
        write_run(jsonl_run, n)
        database_run = store_in_database(jsonl_run, Path(tmp) / "sqlite")
        size = (database_run / layout.DATABASE).stat().st_size
        for label, run_dir in (("jsonl ", jsonl_run), ("sqlite", database_run)):
            elapsed, load = ingest(run_dir, f"sqlite:///{tmp}/catalog-{label.strip()}.db", n)
            print(f"{label} ingest: {n} instances + {4 * n} steps in {elapsed:.2f} s = {n / elapsed:,.0f} instances/s "
                  f"(load average before {load:.1f})")
        print(f"        turbulence.db {size / 1e6:.0f} MB; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
