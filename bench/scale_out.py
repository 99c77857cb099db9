"""Scaling out (docs/design.md §7), three deployments side by side, each the real app as `make run` starts it:
SQLite with 1 worker, Postgres with 1 worker, Postgres + Redis with 5 workers (Reflex's Redis mode).

For each: a finished backlog run (N instances x 4 steps, lines shaped like the turbulence fixture) is moved
into the runs folder, and the clock runs until `GET /api/runs/{id}` (any worker) shows it complete. CPU is
summed over every process of the app (workers and their parse pools) and of PostgreSQL, from the move until
the app is idle again (work the backlog set off continues past "visible complete", and how much of it does
depends on which worker answered that request), minus what they spend idle, per instance line.
Then live appends, 150 of them spaced past the 100 ms delivery interval, each timed from append to its
`instance_complete` on each of 8 stream clients (spread over the workers), and another 60 appends timed from
append to their row in the DOM of 3 run pages in Chromium (their sockets land on whichever workers the server
picks, as a user's would).
Targets (issue #12): Postgres >= 25,000 instance lines/s; 5 workers >= 90% of 1 worker on Postgres; CPU
per instance line with 5 workers within 20% of 1 worker; 5-worker append->message and append->DOM p95 <= 1-worker p95 + 15 ms.

    .venv/bin/python bench/scale_out.py [--instances 30000] [--appends 150] [--page-appends 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout, no install

from bench.detail_support import DOM_PROBE, chromium  # noqa: E402
from bench.ingest import write_run  # noqa: E402
from scripts import local_services  # noqa: E402
from tests.api.runbuilder import instance, open_run  # noqa: E402
from tests.api.streamclient import StreamReader, is_instance, stream_url  # noqa: E402
from tests.app_server import running_app  # noqa: E402
from windtunnel_dash.artifacts.status import nearest_rank  # noqa: E402

STREAM_CLIENTS = 8
PAGES = 3
SETTLE_S = 0.5
SETTLE_MAX_S = 10.0


def _tree_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = proc.cpu_times()
                    total += times.user + times.system + times.children_user + times.children_system
    return total


def _complete(base_url: str, run_id: str, instances: int) -> bool:
    response = httpx.get(f"{base_url}/api/runs/{run_id}", timeout=10)
    if response.status_code != 200:
        return False
    run = response.json()  # "failing" is a run still going (with failures): its steps may still be loading
    return run["stats"]["total"] == instances and run["status"] == "complete"


def _idle_again(pids: list[int], idle_rate: float) -> None:
    """Wait (at most SETTLE_MAX_S) until the app spends no more than idling (+ 5% of a core) over SETTLE_S."""
    deadline = time.perf_counter() + SETTLE_MAX_S
    while time.perf_counter() < deadline:
        cpu, start = _tree_cpu(pids), time.perf_counter()
        time.sleep(SETTLE_S)
        if (_tree_cpu(pids) - cpu) / (time.perf_counter() - start) <= idle_rate + 0.05:
            return


def backlog(server, pids: list[int], template: Path, instances: int) -> tuple[float, float]:
    """Seconds until the backlog is visible complete, and CPU seconds spent on it beyond idling."""
    idle_start, idle_cpu = time.perf_counter(), _tree_cpu(pids)
    time.sleep(3.0)
    idle_rate = (_tree_cpu(pids) - idle_cpu) / (time.perf_counter() - idle_start)
    run_id = f"backlog_{os.getpid()}"
    staged = server.runs_dir.parent / run_id
    shutil.copytree(template, staged)
    cpu_before, start = _tree_cpu(pids), time.perf_counter()
    staged.rename(server.runs_dir / run_id)  # the whole run appears at once
    while not _complete(server.base_url, run_id, instances):
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    _idle_again(pids, idle_rate)
    return elapsed, _tree_cpu(pids) - cpu_before - idle_rate * (time.perf_counter() - start)


async def appends(server, count: int) -> list[float]:
    run = open_run(server.runs_dir)
    rng = random.Random(1)
    latencies: list[float] = []
    async with contextlib.AsyncExitStack() as stack:
        readers = [await stack.enter_async_context(StreamReader.open(stream_url(server.ws_url, run.run_id)))
                   for _ in range(STREAM_CLIENTS)]
        await asyncio.sleep(1.0)
        for seq in range(1, count + 1):
            await asyncio.sleep(rng.uniform(0.105, 0.2))
            written = time.perf_counter()
            run.write_instance(instance(seq))
            for reader in readers:
                await reader.until(is_instance(seq))
                latencies.append((reader.arrived[-1] - written) * 1000)
    run.finalize()
    return sorted(latencies)


def page_appends(server, browser, count: int) -> list[float]:
    """Append -> the line's row in the DOM of each of PAGES open run pages (epoch ms, one machine's clock)."""
    run = open_run(server.runs_dir)
    rng = random.Random(2)
    pages = []
    for _ in range(PAGES):
        page = browser.new_page()
        page.goto(server.url(f"/runs/{run.run_id}"))
        page.wait_for_selector("[data-testid=filter-all-count]")
        page.evaluate(DOM_PROBE)
        pages.append(page)
    time.sleep(1.0)
    latencies: list[float] = []
    for seq in range(1, count + 1):
        time.sleep(rng.uniform(0.105, 0.2))
        line = instance(seq)
        written = time.time() * 1000
        run.write_instance(line)
        for page in pages:
            seen = page.wait_for_function(f"() => window.__rowSeen[{line.instance_id!r}]", timeout=30_000)
            latencies.append(seen.json_value() - written)
    run.finalize()
    for page in pages:
        page.close()
    return sorted(latencies)


def deployment(name: str, base: Path, template: Path, args, pg: local_services.Postgres | None,
               env: dict[str, str]) -> dict:
    with running_app(base, name="cluster", **env) as server:
        pids = [server.pid, *([pg.proc.pid] if pg is not None and pg.proc is not None else [])]
        deadline = time.monotonic() + 60  # every worker up and idle before the clock starts
        while len({httpx.get(server.url("/api/health"), headers={"Connection": "close"}).json()["pid"]
                   for _ in range(30)}) < int(env.get("GRANIAN_WORKERS", "1")) and time.monotonic() < deadline:
            time.sleep(0.5)
        elapsed, cpu = backlog(server, pids, template, args.instances)
        latencies = asyncio.run(appends(server, args.appends))
        with chromium() as browser:  # Playwright's sync API runs its own loop: after asyncio.run's
            dom = page_appends(server, browser, args.page_appends)
    return {"name": name, "elapsed": elapsed, "cpu": cpu, "latencies": latencies, "dom": dom}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=30_000)
    parser.add_argument("--appends", type=int, default=150)
    parser.add_argument("--page-appends", type=int, default=60)
    args = parser.parse_args()
    load_before = os.getloadavg()
    results = []
    with tempfile.TemporaryDirectory() as tmp, local_services.postgres() as pg, local_services.redis_server() as redis:
        template = Path(tmp) / "template" / "backlog"
        write_run(template, args.instances)
        plans = [
            ("SQLite, 1 worker", None, {}),
            ("Postgres, 1 worker", pg, {"WINDTUNNEL_DB_URL": pg.create_database("bench1")}),
            ("Postgres + Redis, 5 workers", pg, {"WINDTUNNEL_DB_URL": pg.create_database("bench5"),
                                                "REFLEX_REDIS_URL": redis.url, "GRANIAN_WORKERS": "5"}),
        ]
        for i, (name, server_pg, env) in enumerate(plans):
            results.append(deployment(name, Path(tmp) / f"d{i}", template, args, server_pg, env))
    load_after = os.getloadavg()
    print(f"scale-out bench: backlog of {args.instances:,} instances + {4 * args.instances:,} steps; "
          f"{args.appends} live appends x {STREAM_CLIENTS} stream clients, {args.page_appends} x {PAGES} pages; "
          f"{os.cpu_count()} cores; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"{'deployment':<30} {'backlog visible':>16} {'instance lines/s':>17} {'CPU us/instance line':>21} "
          f"{'append->message p50/p95':>24} {'append->DOM p50/p95':>20}")
    for r in results:
        lat = r["latencies"]
        print(f"{r['name']:<30} {r['elapsed']:>14.2f} s {args.instances / r['elapsed']:>17,.0f} "
              f"{r['cpu'] / args.instances * 1e6:>21.0f} "
              f"{nearest_rank(lat, 50):>12.1f} / {nearest_rank(lat, 95):5.1f} ms "
              f"{nearest_rank(r['dom'], 50):>9.1f} / {nearest_rank(r['dom'], 95):5.1f} ms")
    one, five = results[1], results[2]
    print(f"5 workers vs 1 on Postgres: throughput {one['elapsed'] / five['elapsed']:.0%} (target >= 90%), "
          f"CPU per instance line {five['cpu'] / one['cpu']:.0%} (target within 80-120%), "
          f"p95 append->message {nearest_rank(five['latencies'], 95) - nearest_rank(one['latencies'], 95):+.1f} ms, "
          f"append->DOM {nearest_rank(five['dom'], 95) - nearest_rank(one['dom'], 95):+.1f} ms "
          f"(targets <= +15 ms); Postgres target >= 25,000 instance lines/s")


if __name__ == "__main__":
    main()
