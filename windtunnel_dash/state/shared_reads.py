"""One read serves every page that asks for the same thing at about the same time (issue 13, cost per viewer).

Each open run page refreshes its charts about once a second, and a chart is a scan of the whole
run: fifty pages on one live run made fifty scans a second of the same rows, on as many SQLite
connections, each filling its page cache. Here a read (run in a thread) is handed to every caller
that asks for the same key while it is in flight or younger than `fresh_s`, so a chart is at most
that much older than its own read would have been.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class SharedReads(Generic[K, T]):
    def __init__(self, fresh_s: float) -> None:
        self.fresh_s = fresh_s
        self._reads: dict[K, tuple[float, asyncio.Future[T]]] = {}

    async def get(self, key: K, read: Callable[[], T]) -> T:
        """`read()` in a thread, or the result of one started for `key` less than `fresh_s` ago.

        A caller that is cancelled (its page went away) leaves the read running for the others.
        """
        now = asyncio.get_running_loop().time()
        self._forget_old(now)
        entry = self._reads.get(key)
        if entry is None:
            entry = self._reads[key] = (now, asyncio.ensure_future(asyncio.to_thread(read)))
        return await asyncio.shield(entry[1])

    def _forget_old(self, now: float) -> None:
        """Drop finished reads that are stale or failed (a failure is not handed to later callers)."""
        for key, (started, future) in list(self._reads.items()):
            if future.done() and (now - started >= self.fresh_s or future.cancelled() or future.exception()):
                del self._reads[key]
