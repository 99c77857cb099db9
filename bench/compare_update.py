"""Server time a baseline comparison adds per live update (issue #16: ≤ 50 ms p95).

A complete 100,000-instance baseline and a run growing to 100,000 instances in
appends of --batch lines, both with failures whose causes are in their step and
assertion lines (as the real runner writes them). After each append the real
tailer commits it; then the clock measures what the run page's hook does per
update (state/compare.comparison_update: both run rows, the failures since the
last update, the selector's runs) and, apart, what the tailer now also
computes per batch (per-scenario latency intervals in RunAggregate). The
baseline's failure kinds are tallied once, on the first update: shown apart.

    .venv/bin/python bench/compare_update.py [--instances 100000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from windtunnel_dash.artifacts.records import Assertion, Instance, Step  # noqa: E402
from windtunnel_dash.artifacts.writer import RunWriter  # noqa: E402
from windtunnel_dash.catalog import Catalog  # noqa: E402
from windtunnel_dash.catalog.aggregate import RunAggregate  # noqa: E402
from windtunnel_dash.pipeline.tailer import RunTailer  # noqa: E402
from windtunnel_dash.state.compare import comparison_update  # noqa: E402
from windtunnel_dash.timefmt import utc_iso  # noqa: E402

SCENARIOS = ("checkout", "browse", "search", "login")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _records(n: int, fail_every: int, error_every: int, http_code: int) -> tuple[Instance, list[Step], list[Assertion]]:
    """Instance n: errored every `error_every`, failed every `fail_every` (a 5xx step, or a failed assertion)."""
    status = "error" if n % error_every == 0 else "failed" if n % fail_every == 0 else "passed"
    iid = f"inst_{n:08d}"
    duration = 80.0 + (n * 7919) % 400 + (60.0 if status != "passed" else 0.0)
    inst = Instance(instance_id=iid, correlation_id=f"corr_{n:08d}", scenario_id=SCENARIOS[n % len(SCENARIOS)],
                    started_at=utc_iso(T0), completed_at=utc_iso(T0 + timedelta(milliseconds=n)),
                    duration_ms=duration, passed=status == "passed",
                    error=f"upstream timeout after {n % 900} ms on {iid}" if status == "error" else None)
    if status != "failed":
        return inst, [], []
    http_failed = n % 2 == 0
    steps = [Step(instance_id=iid, correlation_id=inst.correlation_id, step_index=0, step_name="create_cart",
                  step_type="http", timestamp=inst.started_at,
                  observation={"ok": not http_failed, "status_code": http_code if http_failed else 201})]
    checks = [Assertion(instance_id=iid, step_index=1, assertion_name="cart_created", passed=False,
                        expected=201, actual=http_code if http_failed else 201, message="mismatch")]
    return inst, steps, checks


def write(writer: RunWriter, numbers: range, **shape) -> None:
    instances, steps, checks = [], [], []
    for n in numbers:
        inst, s, a = _records(n, **shape)
        instances.append(inst)
        steps += s
        checks += a
    writer.write_batch(instances=instances, steps=steps, assertions=checks)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    n, batch = args.instances, args.batch
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        catalog = Catalog(f"sqlite:///{tmp}/catalog.db")
        base = RunWriter(root, "baseline", sut_name="shop", scenario_ids=SCENARIOS, started_at=T0).open()
        t = time.perf_counter()
        for start in range(1, n + 1, 10_000):
            write(base, range(start, min(n, start + 9_999) + 1), fail_every=40, error_every=50, http_code=503)
        base.finalize()
        RunTailer("baseline", base.dir, catalog.engine).poll()
        print(f"baseline: {n:,} instances written and ingested in {time.perf_counter() - t:.1f} s")

        run = RunWriter(root, "current", sut_name="shop", scenario_ids=SCENARIOS,
                        started_at=T0 + timedelta(days=1)).open()
        tailer = RunTailer("current", run.dir, catalog.engine)
        compare_ms: list[float] = []
        compare_cpu_ms: list[float] = []
        first_ms = 0.0
        kinds = 0
        for start in range(1, n + 1, batch):
            write(run, range(start, min(n, start + batch - 1) + 1), fail_every=20, error_every=50, http_code=500)
            tailer.poll()
            t, cpu = time.perf_counter(), time.thread_time()
            update = comparison_update(catalog.engine, "current", None)
            took, took_cpu = (time.perf_counter() - t) * 1000, (time.thread_time() - cpu) * 1000
            if start == 1:
                first_ms = took
            else:
                compare_ms.append(took)
                compare_cpu_ms.append(took_cpu)
            kinds = len(update.view.new_kinds)
        assert update is not None and update.view.baseline_id == "baseline"
        print(f"run: {n:,} instances in {len(compare_ms) + 1} updates of {batch:,}; "
              f"final verdict {update.view.overall.verdict!r}, {kinds} new failure kind(s)")
        print(f"first update (tallies the baseline's failures once): {first_ms:.1f} ms")
        print(f"compare per update, wall: p50 {pct(compare_ms, 50):.2f} ms  p95 {pct(compare_ms, 95):.2f} ms  "
              f"max {max(compare_ms):.2f} ms   (target: p95 <= 50 ms)")
        print(f"compare per update, CPU of its thread: p50 {pct(compare_cpu_ms, 50):.2f} ms  "
              f"p95 {pct(compare_cpu_ms, 95):.2f} ms  (what the machine's other load does not inflate)")

        # What the tailer computes per batch besides the counts: before (overall percentiles only) and now.
        rows = [(SCENARIOS[k % 4], "passed", 80.0 + (k * 7919) % 400) for k in range(n)]
        agg = RunAggregate.from_rows(rows)
        agg.scenarios_json()
        before, now = [], []
        for _ in range(50):
            for j in range(batch):
                agg.add(SCENARIOS[j % 4], "passed", 80.0 + (j * 31) % 400)
            t = time.thread_time()
            agg.percentiles()
            before.append((time.thread_time() - t) * 1000)
            for j in range(batch):
                agg.add(SCENARIOS[j % 4], "passed", 80.0 + (j * 31) % 400)
            t = time.thread_time()
            agg.percentiles()
            agg.scenarios_json()
            now.append((time.thread_time() - t) * 1000)
        print(f"tailer aggregates per batch at ~{n:,} (CPU): overall percentiles only p95 {pct(before, 95):.2f} ms; "
              f"with the per-scenario latency intervals too p95 {pct(now, 95):.2f} ms")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
