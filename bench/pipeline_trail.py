"""How far a hub subscriber's cursor trails the file while instances are written fast (no browser).

The whole engine runs as in the app (watchfiles watcher, ingest thread, SQLite
catalog, hub). A separate process writes `--rate` instance lines a second
(~400 bytes each, in 10 ms slices, like bench/detail_live.py's firehose) for
`--seconds`; a subscriber at the head stamps every batch it gets (and, with
`--work-ms`, then holds the event loop that long, as a page applying it would). Trail = when
the subscriber first holds line n − when the write that brought the file to n
ended. Target (issue): p95 ≤ 250 ms at 5,000/s.

    .venv/bin/python bench/pipeline_trail.py [--rate 5000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from windtunnel_dash.artifacts.status import nearest_rank  # noqa: E402
from windtunnel_dash.pipeline.engine import Pipeline  # noqa: E402
from windtunnel_dash.settings import Settings  # noqa: E402

RUN_ID = "trail_run"


def _line(n: int) -> bytes:
    """An instance line of about 400 bytes, shaped like a runner's."""
    status = n % 20
    return (json.dumps({
        "instance_id": f"inst_{n:07d}", "correlation_id": f"corr_{n * 7919:012x}", "scenario_id": f"scenario_{n % 5}",
        "started_at": "2026-01-01T00:00:00.000Z", "completed_at": "2026-01-01T00:00:00.250Z",
        "duration_ms": 200 + n % 300 + 0.125, "passed": status < 17,
        "entry_data": {"n": n, "payload": "x" * 120}, "error": "upstream timed out" if status == 19 else None,
    }) + "\n").encode()


def _write(path: str, rate: int, seconds: float, out: multiprocessing.Queue[list[tuple[float, int]]]) -> None:
    """In its own process (so the engine's GIL is not shared): `rate` lines/s in 10 ms slices."""
    per_slice = max(1, rate // 100)
    written: list[tuple[float, int]] = []
    n = 0
    with open(path, "ab", buffering=0) as f:
        t_end = time.monotonic() + seconds
        next_at = time.monotonic()
        while time.monotonic() < t_end:
            f.write(b"".join(_line(i) for i in range(n + 1, n + 1 + per_slice)))
            n += per_slice
            written.append((time.time(), n))
            next_at += 0.01
            time.sleep(max(0.0, next_at - time.monotonic()))
    out.put(written)


def _busy(ms: float) -> None:
    """Hold the event loop like a page applying a batch does."""
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass


async def measure(tmp: Path, rate: int, seconds: float, work_ms: float = 0.0) -> tuple[list[float], list[float], int, float]:
    root = tmp / "runs"
    run_dir = root / RUN_ID
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text(json.dumps({"run_id": RUN_ID, "timestamp": "2026-01-01T00:00:00Z"}))
    (run_dir / "instances.jsonl").write_bytes(b"")
    settings = Settings(runs_dir=root, data_dir=tmp / "data", db_url=f"sqlite:///{tmp / 'data' / 'catalog.db'}",
                        stall_timeout_s=120.0, heartbeat_s=5.0, demo=False)
    engine = Pipeline(settings)
    task = asyncio.create_task(engine.run())
    assert await engine.ensure_run(RUN_ID)
    await asyncio.sleep(0.5)
    seen: list[tuple[float, int]] = []  # (epoch s, cursor) after each batch
    gaps: list[float] = []
    queue: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()
    writer = multiprocessing.get_context("spawn").Process(
        target=_write, args=(str(run_dir / "instances.jsonl"), rate, seconds, queue))
    async with engine.hub.subscribe(RUN_ID) as sub:
        await sub.next_batch(1)
        writer.start()
        writing = asyncio.ensure_future(asyncio.to_thread(queue.get))
        last = None
        while not (writing.done() and sub.cursor >= writing.result()[-1][1]):
            batch = await sub.next_batch(10)
            if batch is None:
                break
            now = time.time()
            if last is not None:
                gaps.append((now - last) * 1000)
            last = now
            seen.append((now, sub.cursor))
            _busy(work_ms)
        written = await writing
        final = written[-1][1]
    writer.join()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    engine.close()
    times, totals = [t for t, _ in written], [n for _, n in written]
    trails = []
    for at, cursor in seen:
        i = bisect.bisect_left(totals, cursor)  # the write that brought the file to this cursor
        if cursor and i < len(totals):
            trails.append((at - times[i]) * 1000)
    span = written[-1][0] - written[0][0]
    return sorted(trails), sorted(gaps), final, final / max(span, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--work-ms", type=float, default=0.0, help="event-loop time the reader spends per batch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        trails, gaps, final, achieved = asyncio.run(measure(Path(tmp), args.rate, args.seconds, args.work_ms))
    p50, p95 = nearest_rank(trails, 50), nearest_rank(trails, 95)
    print(f"wrote {final:,} instance lines ({achieved:,.0f}/s); {len(trails)} hub batches")
    print(f"subscriber cursor trails the file: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {trails[-1]:.0f} ms; "
          f"target p95 <= 250 ms")
    print(f"gap between batches: p50 {nearest_rank(gaps, 50):.0f} ms, max {gaps[-1]:.0f} ms")


if __name__ == "__main__":
    main()
