"""Hand the free memory inside glibc's heaps back to the system, now and then.

free() returns memory to the system only from the top of a heap; a free page between two live objects
stays resident. Over a long run the server's live data stays small while short-lived buffers (query
results, deltas, file blocks) come and go around it, so without this RSS creeps up by megabytes a minute
(bench/soak.py). malloc_trim(0) releases every whole free page in every arena; it walks the heaps in
a few milliseconds, in a worker thread. Elsewhere than glibc there is nothing to do.
"""

from __future__ import annotations

import asyncio
import ctypes
from collections.abc import Callable

TRIM_EVERY_S = 30.0


def malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


async def release_free_memory() -> None:
    """Lifespan task: every TRIM_EVERY_S, return the heaps' free pages."""
    trim = malloc_trim()
    if trim is None:
        return
    while True:
        await asyncio.sleep(TRIM_EVERY_S)
        await asyncio.to_thread(trim, 0)
