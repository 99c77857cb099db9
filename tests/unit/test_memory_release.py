"""The server hands free heap pages back (windtunnel_dash/memory_release.py), so RSS follows live data."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from tests.conftest import ROOT
from windtunnel_dash import memory_release

FRAGMENTED_HEAP = """
import gc, os
from windtunnel_dash.memory_release import malloc_trim

def rss():
    return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

blocks = [bytearray(4000) for _ in range(20_000)]  # 80 MB from the heap (below the mmap threshold)
keep = blocks[::64]  # one live block every 256 KB: free() alone can return none of the rest
del blocks
gc.collect()
before = rss()
malloc_trim()(0)
print(before - rss())
"""


def test_trimming_returns_the_free_pages_between_live_blocks() -> None:
    out = subprocess.run([sys.executable, "-c", FRAGMENTED_HEAP], cwd=ROOT, capture_output=True, text=True, check=True)
    assert int(out.stdout) > 50 << 20, out.stdout  # most of the 78 MB freed between the kept blocks


def test_the_lifespan_task_trims_every_period(monkeypatch) -> None:
    calls: list[int] = []
    trimmed_twice = asyncio.Event()

    def trim(pad: int) -> int:
        calls.append(pad)
        if len(calls) == 2:
            loop.call_soon_threadsafe(trimmed_twice.set)  # trim runs in a worker thread
        return 1

    async def run() -> None:
        task = asyncio.create_task(memory_release.release_free_memory())
        await asyncio.wait_for(trimmed_twice.wait(), timeout=30)
        task.cancel()

    monkeypatch.setattr(memory_release, "malloc_trim", lambda: trim)
    monkeypatch.setattr(memory_release, "TRIM_EVERY_S", 0.01)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(run())
    finally:
        loop.close()
    assert calls[:2] == [0, 0]
