"""Readers that stop reading during a burst cost the server bounded memory, and still get everything once.

The instances carry 2 KB error texts, so a 20,000-instance backlog is about 40 MB of messages per
reader: a server that queued them for the stalled sockets would grow by about that much per reader more
than the same burst costs with nobody reading. Granian's send returns once the kernel has taken the frame
(the socket buffer, about 4 MB, is not the server's RSS), and the stream pulls from the catalog by cursor
and awaits each send, so a stalled reader holds one hub chunk: about hub.CHUNK_BYTES (1 MB) of rows plus,
pulled from the catalog, the SQLite pages read for them (measured: 1-10 MB per reader). Chunks bounded
only at 5,000 rows held 10 MB of rows and 25 MB of page cache each (measured: 27-31 MB per reader).
The bound, three quarters of the backlog per reader, is what a server buffering the backlog breaches.
A first burst warms the server up (SQLite cache, allocator arenas), a second one with no reader is the
baseline, the third has the stalled readers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable

import pytest

from tests.api.procstats import rss_bytes
from tests.api.runbuilder import instance, open_run
from tests.api.streamclient import StreamReader, is_instance, stream_url

pytestmark = pytest.mark.anyio

BURST = 20_000
PAUSE_S = 10.0
ERROR_TEXT = "x" * 2000
BACKLOG_BYTES = BURST * len(ERROR_TEXT)
STALLED_READERS = 4


def write_burst(run) -> None:
    """BURST instances after seq 1, in 500-line appends 10 ms apart (about 0.5-1 s)."""
    for start in range(2, BURST + 2, 500):
        batch = [instance(n, "error") for n in range(start, start + 500)]
        for inst in batch:
            inst.error = ERROR_TEXT
        run.write_batch(instances=batch)
        time.sleep(0.01)


async def peak_growth(pid: int, work: Awaitable[None], at_least_s: float) -> int:
    """The server's largest RSS growth while `work` runs, sampled for at least `at_least_s` seconds."""
    before = peak = rss_bytes(pid)
    task = asyncio.ensure_future(work)
    until = time.monotonic() + at_least_s
    while not task.done() or time.monotonic() < until:
        peak = max(peak, rss_bytes(pid))
        await asyncio.sleep(0.25)
    await task
    return peak - before


async def test_stalled_reader_bounded_memory_then_exactly_once(app_server):
    pid = app_server.pid
    for _ in range(2):
        unread = open_run(app_server.runs_dir)
        baseline = await peak_growth(pid, asyncio.to_thread(write_burst, unread), PAUSE_S)
        unread.finalize()

    run = open_run(app_server.runs_dir)
    run.write_instance(instance(1))
    url = stream_url(app_server.ws_url, run.run_id)
    async with contextlib.AsyncExitStack() as stack:
        # No keep-alive pings: a client that reads nothing would otherwise time its own connection out.
        opened = [StreamReader.open(url, max_queue=1, ping_interval=None) for _ in range(STALLED_READERS)]
        readers = [await stack.enter_async_context(o) for o in opened]
        for reader in readers:
            await reader.until(is_instance(1))
        stalled = await peak_growth(pid, asyncio.to_thread(write_burst, run), PAUSE_S)  # nothing read meanwhile
        await asyncio.gather(*(r.until(is_instance(BURST + 1), timeout=180) for r in readers))
        run.finalize()
        assert await asyncio.gather(*(r.until_closed(timeout=30) for r in readers)) == [1000] * STALLED_READERS

    for reader in readers:
        assert reader.seqs() == list(range(1, BURST + 2))
    print(f"RSS growth: {stalled / 1e6:.1f} MB with {STALLED_READERS} stalled readers, {baseline / 1e6:.1f} MB "
          f"without; backlog {BACKLOG_BYTES / 1e6:.0f} MB per reader")
    per_reader = (stalled - baseline) / STALLED_READERS
    assert per_reader < 0.75 * BACKLOG_BYTES, (
        f"each stalled reader grew the server by {per_reader / 1e6:.1f} MB (bound {0.75 * BACKLOG_BYTES / 1e6:.0f} MB)")
