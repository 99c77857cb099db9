"""Ingest throughput: a finished run of N instances × 4 steps, file → committed catalog rows.

Lines are shaped like the real turbulence fixture (same keys and body sizes),
so the figure reflects parsing and storing what runners actually write.
Targets: ≥ 50,000 instance lines per second on SQLite (issue #13); ≥ 25,000 on Postgres (issue #12), where
`--postgres` starts a PostgreSQL server of its own (scripts/local_services.py). bench/scale_out.py
compares whole deployments (SQLite, Postgres, 5 workers) through the running app.

    .venv/bin/python bench/ingest.py [--instances 100000] [--postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import local_services  # noqa: E402
from windtunnel_dash.catalog import Catalog  # noqa: E402
from windtunnel_dash.pipeline.engine import parse_pool  # noqa: E402
from windtunnel_dash.pipeline.tailer import RunTailer  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "runs" / "run_20261126_151613"


def write_run(run_dir: Path, instances: int, steps_per_instance: int = 4) -> None:
    inst_t = json.loads((FIXTURE / "instances.jsonl").read_text().splitlines()[0])
    step_ts = [json.loads(line) for line in (FIXTURE / "steps.jsonl").read_text().splitlines()[:steps_per_instance]]
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text(json.dumps({"run_id": run_dir.name, "timestamp": "2026-01-01T00:00:00Z",
                                                       "config": {"instances": instances}}))
    with open(run_dir / "instances.jsonl", "w") as fi, open(run_dir / "steps.jsonl", "w") as fs:
        for n in range(instances):
            iid = f"inst_{n:08x}"
            for k, st in enumerate(step_ts):
                fs.write(json.dumps({**st, "instance_id": iid, "step_index": k}) + "\n")
            fi.write(json.dumps({**inst_t, "instance_id": iid, "correlation_id": f"corr_{n:08x}",
                                 "passed": n % 7 != 0, "duration_ms": 100 + n % 500,
                                 "error": "boom" if n % 21 == 0 else None}) + "\n")
    (run_dir / "summary.json").write_text("{}")


def _children_cpu() -> float:
    """CPU seconds the parse workers have used so far (their start-up, before the clock, is left out)."""
    total = 0.0
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            times = child.cpu_times()
            total += times.user + times.system
    return total


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (the PostgreSQL server and its backends)."""
    total = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--no-pool", dest="pool", action="store_false",
                        help="parse and commit on the ingest thread only")
    parser.add_argument("--postgres", action="store_true", help="a PostgreSQL catalog instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        run_dir = Path(tmp) / "runs" / "bench_run"
        write_run(run_dir, args.instances)
        size = sum(p.stat().st_size for p in run_dir.iterdir())
        server = stack.enter_context(local_services.postgres()) if args.postgres else None
        db_url = server.create_database("bench") if server else f"sqlite:///{tmp}/catalog.db"
        catalog = Catalog(db_url)
        pool = parse_pool() if args.pool else None
        if pool is not None:  # every worker up (spawned and imported), as the engine's are long before a run arrives
            wait([pool.submit(time.sleep, 0.5) for _ in range(2 * (os.cpu_count() or 1))])
        committer = ThreadPoolExecutor(1) if args.pool else None  # the engine's commit thread
        load_before = os.getloadavg()[0]
        start, cpu_start = time.perf_counter(), time.process_time()
        workers_start = _children_cpu()
        db_start = _tree_cpu(server.proc.pid) if server else 0.0
        result = RunTailer("bench_run", run_dir, catalog.engine, pool, committer).poll()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        workers = _children_cpu() - workers_start
        db = _tree_cpu(server.proc.pid) - db_start if server else 0.0
        if pool is not None:
            pool.shutdown()
            committer.shutdown()
        stats = catalog.run_stats("bench_run")
        steps = len(catalog.changes_since("bench_run", 0, 0, limit=10**9).steps)
        assert result.complete and stats.total == args.instances and steps == 4 * args.instances, (result, stats, steps)
        print(f"ingest into {catalog.engine.dialect.name}: {args.instances} instances + {steps} steps ({size / 1e6:.0f} MB) "
              f"in {elapsed:.2f} s = {args.instances / elapsed:,.0f} instance lines/s "
              f"({(args.instances + steps) / elapsed:,.0f} lines/s); target >= "
              f"{'25,000' if args.postgres else '50,000'} instance lines/s")
        mode = "parse in worker processes, commit on its own thread" if pool else "one thread"
        total = cpu + workers + db
        server_cpu = f" + PostgreSQL {db:.2f} s" if server else ""
        print(f"        ({mode}; CPU: ingest process {cpu:.2f} s + parse workers {workers:.2f} s{server_cpu} = "
              f"{total / args.instances * 1e6:.0f} us per instance line with its 4 steps; "
              f"{os.cpu_count()} cores; load average before {load_before:.1f})")


if __name__ == "__main__":
    main()
