"""Stream fan-out: 50 WS clients on one run written at 1,000 instances/s for 20 s.

Starts the real app (tests/app_server.py), writes the run with RunWriter from a paced thread, and checks
that every client receives every instance exactly once, in order, ending with run_complete. Prints the
delivery lag (append → received, over every client and instance), how long the clients needed after the
last append, and the server's CPU and RSS (its whole process tree, psutil). The clients run in this
process on the same machine, so their CPU competes with the server's: the client CPU is printed too.
`--batch` reads with ?batch=1 (one frame per flush instead of one per message).

    .venv/bin/python bench/stream_fanout.py [--clients 50] [--rate 1000] [--seconds 20] [--batch]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout, no install

from tests.api.procstats import cpu_seconds, rss_bytes  # noqa: E402
from tests.api.runbuilder import instance, open_run  # noqa: E402
from tests.api.streamclient import stream_url  # noqa: E402
from tests.app_server import running_app  # noqa: E402
from windtunnel_dash.artifacts.status import nearest_rank  # noqa: E402


@dataclass
class Client:
    seqs: list[int] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)
    completed: bool = False
    close_code: int | None = None


async def read_stream(url: str, client: Client, connected: asyncio.Event) -> None:
    """Only seq and arrival time are kept: 50 × 20,000 parsed messages would not fit in memory as dicts."""
    async with connect(url, max_size=None, ping_interval=None) as ws:  # a busy client must not time itself out
        connected.set()
        async for raw in ws:
            now = time.perf_counter()
            decoded = json.loads(raw)
            for message in decoded if isinstance(decoded, list) else (decoded,):
                if message["type"] == "instance_complete":
                    client.seqs.append(message["data"]["seq"])
                    client.arrived.append(now)
                elif message["type"] == "run_complete":
                    client.completed = True
        client.close_code = ws.close_code


def write_paced(run, rate: float, seconds: float, written_at: dict[int, float]) -> None:
    """Append on a fixed schedule (every 10 ms, whatever count keeps the rate), recording each line's time."""
    total, seq, start = int(rate * seconds), 0, time.perf_counter()
    while seq < total:
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        if due > seq:
            batch = [instance(n, "passed" if n % 20 else "failed", float(n % 250)) for n in range(seq + 1, due + 1)]
            run.write_batch(instances=batch)
            now = time.perf_counter()
            for n in range(seq + 1, due + 1):
                written_at[n] = now
            seq = due
        time.sleep(0.01)


async def sample(pid: int, stop: asyncio.Event, rss: list[int]) -> None:
    while not stop.is_set():
        rss.append(rss_bytes(pid))
        await asyncio.sleep(0.5)


async def bench(server, clients: int, rate: float, seconds: float, batch: bool) -> None:
    total = int(rate * seconds)
    run = open_run(server.runs_dir, planned=total)
    url = stream_url(server.ws_url, run.run_id, **({"batch": 1} if batch else {}))
    readers = [Client() for _ in range(clients)]
    events = [asyncio.Event() for _ in range(clients)]
    tasks = [asyncio.create_task(read_stream(url, c, e)) for c, e in zip(readers, events, strict=True)]
    await asyncio.gather(*(e.wait() for e in events))
    async with httpx.AsyncClient() as http:
        while (await http.get(f"{server.base_url}/api/health")).json()["liveSubscribers"] < clients:
            await asyncio.sleep(0.05)
    rss_idle = rss_bytes(server.pid)

    written_at: dict[int, float] = {}
    rss: list[int] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample(server.pid, stop, rss))
    cpu0, client_cpu0, wall0 = cpu_seconds(server.pid), time.process_time(), time.perf_counter()
    writer = threading.Thread(target=write_paced, args=(run, rate, seconds, written_at))
    writer.start()
    await asyncio.to_thread(writer.join)
    write_end = time.perf_counter()
    run.finalize()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=300)
    drained = time.perf_counter()
    cpu, client_cpu, wall = cpu_seconds(server.pid) - cpu0, time.process_time() - client_cpu0, drained - wall0
    stop.set()
    await sampler

    expected = list(range(1, total + 1))
    exact = sum(1 for c in readers if c.seqs == expected and c.completed and c.close_code == 1000)
    lags = sorted(
        (arrived - written_at[seq]) * 1000
        for c in readers for seq, arrived in zip(c.seqs, c.arrived, strict=False) if seq in written_at
    )
    p50, p95, p99 = (nearest_rank(lags, p) for p in (50, 95, 99))
    mode = "one frame per flush (?batch=1)" if batch else "one frame per message"
    print(f"fan-out: {clients} clients, {mode}, {total} instances written at {rate:.0f}/s "
          f"over {write_end - wall0:.1f} s")
    print(f"  exactly once, in order, then run_complete + close 1000: {exact}/{clients} clients")
    print(f"  delivery lag (append → received, all clients): p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, "
          f"max {lags[-1]:.0f} ms; last client done {drained - write_end:.1f} s after the last append")
    print(f"  server CPU: {cpu:.1f} s over {wall:.1f} s wall = {100 * cpu / wall:.0f}% of one core")
    print(f"  server RSS: {rss_idle / 1e6:.0f} MB with clients connected, peak {max(rss) / 1e6:.0f} MB, "
          f"end {rss[-1] / 1e6:.0f} MB")
    print(f"  client process CPU (same machine): {client_cpu:.1f} s = {100 * client_cpu / wall:.0f}% of one core")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--batch", action="store_true", help="read with ?batch=1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp), name="api") as server:
        asyncio.run(bench(server, args.clients, args.rate, args.seconds, args.batch))


if __name__ == "__main__":
    main()
