"""Cost per viewer (issue 13): server memory and CPU each open run detail page adds, on a run written at 200/s.

    .venv/bin/python bench/viewer_cost.py [--viewers 1,10,50] [--rate 200] [--seconds 15]

For each count of viewers a fresh app is started (tests/app_server.py, as `make run` does) and the simulator
writes a run at `--rate` results a second (with steps). The server's whole process tree is measured for
`--seconds` with no viewer, then for `--seconds` with the viewers open: CPU as a share of one core, RSS at
the end of each phase. The difference, divided by the viewers, is what one viewer costs.

The viewers are socket-level clients speaking Reflex's socket.io protocol, as the browser does: one Chromium
page is opened first, the connect packet it sends (`40/_event,{hydrate_and_load …}`) is recorded, and each
client replays it on its own socket with its own token, answers pings and reads every delta. So the server
does for each what it does for a browser tab (state, on_load task, hub subscription, deltas); the clients'
CPU is this process's, not the server's. Targets: ≤ 1 MB each; 50 viewers ≤ 60% of a core at 200/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from detail_support import chromium  # (also puts the project on sys.path)
from websockets.asyncio.client import connect

from tests.api.procstats import cpu_seconds, rss_bytes  # noqa: E402
from tests.app_server import running_app  # noqa: E402

RUN_ID = "viewer_cost_run"


def connect_packet(app) -> tuple[str, str]:
    """(socket path with query minus the token, the connect packet) as Chromium sends them for the run page."""
    sent: list[str] = []
    urls: list[str] = []
    with chromium() as browser:
        page = browser.new_page()

        def on_ws(ws) -> None:
            urls.append(ws.url)
            ws.on("framesent", lambda payload: sent.append(payload) if isinstance(payload, str) else None)

        page.on("websocket", on_ws)
        page.goto(app.url(f"/runs/{RUN_ID}"))
        page.wait_for_selector("[data-testid=instance-grid] tbody tr", timeout=120_000)
        page.close()
    packet = next(p for p in sent if p.startswith("40/_event,"))
    return urls[0], packet


@dataclass
class Viewer:
    frames: int = 0
    bytes: int = 0


async def view(socket_url: str, packet: str, viewer: Viewer, stop: asyncio.Event, ready: asyncio.Event) -> None:
    """One tab's socket: open, send the connect packet, answer pings, read deltas until `stop`."""
    url = socket_url.split("?")[0] + f"?token={uuid.uuid4()}&EIO=4&transport=websocket"
    async with connect(url, max_size=None, ping_interval=None) as ws:
        async def read() -> None:
            async for message in ws:
                if message == "2":  # engine.io ping
                    await ws.send("3")
                elif message.startswith("0{"):
                    await ws.send(packet)
                elif message.startswith("42/_event,"):
                    viewer.frames += 1
                    viewer.bytes += len(message)
                    ready.set()

        reader = asyncio.create_task(read())
        await stop.wait()
        reader.cancel()


async def measure(pid: int, socket_url: str, packet: str, viewers: int, seconds: float) -> dict[str, float]:
    idle_cpu0, t0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    idle = {"cpu": (cpu_seconds(pid) - idle_cpu0) / (time.monotonic() - t0), "rss": rss_bytes(pid)}
    stop = asyncio.Event()
    clients = [Viewer() for _ in range(viewers)]
    readies = [asyncio.Event() for _ in range(viewers)]
    tasks = [asyncio.create_task(view(socket_url, packet, c, stop, r)) for c, r in zip(clients, readies, strict=True)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=120)
    await asyncio.sleep(2)  # first loads done
    cpu0, frames0, t0 = cpu_seconds(pid), sum(c.frames for c in clients), time.monotonic()
    await asyncio.sleep(seconds)
    span = time.monotonic() - t0
    result = {
        "idle_cpu": idle["cpu"], "idle_rss": idle["rss"],
        "cpu": (cpu_seconds(pid) - cpu0) / span, "rss": rss_bytes(pid),
        "frames_per_viewer_s": (sum(c.frames for c in clients) - frames0) / span / viewers,
    }
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", default="1,10,50")
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = []
    for viewers in (int(v) for v in args.viewers.split(",")):
        with tempfile.TemporaryDirectory(prefix="viewer-cost-") as tmp, \
                running_app(Path(tmp), name="detail-bench") as app:
            instances = int(args.rate * (args.seconds * 2 + 180))  # outlasts both phases and the set-up
            app.simulate(RUN_ID, wait=False, instances=instances, rate=args.rate)
            socket_url, packet = connect_packet(app)
            r = asyncio.run(measure(app.pid, socket_url, packet, viewers, args.seconds))
        per_mb = (r["rss"] - r["idle_rss"]) / viewers / 1e6
        per_cpu = 100 * (r["cpu"] - r["idle_cpu"]) / viewers
        rows.append((viewers, r, per_mb, per_cpu))
        per_delta_ms = 1000 * (r["cpu"] - r["idle_cpu"]) / max(0.001, r["frames_per_viewer_s"] * viewers)
        print(f"  {viewers} viewers: server CPU {100 * r['idle_cpu']:.0f}% of a core without viewers → "
              f"{100 * r['cpu']:.0f}% with; RSS {r['idle_rss'] / 1e6:.0f} → {r['rss'] / 1e6:.0f} MB; "
              f"{r['frames_per_viewer_s']:.1f} deltas/s each, {per_delta_ms:.2f} ms of server CPU per delta "
              f"(a starved server sends fewer: compare this across loads)", flush=True)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\nrun written at {args.rate}/s; {args.seconds:g} s per phase")
    print("| viewers | server CPU (no viewer → viewers) | added per viewer | RSS (no viewer → viewers) | added per viewer |")
    print("|---|---|---|---|---|")
    for viewers, r, per_mb, per_cpu in rows:
        print(f"| {viewers} | {100 * r['idle_cpu']:.0f}% → {100 * r['cpu']:.0f}% | {per_cpu:.1f}% | "
              f"{r['idle_rss'] / 1e6:.0f} → {r['rss'] / 1e6:.0f} MB | {per_mb:.2f} MB |")


if __name__ == "__main__":
    main()
