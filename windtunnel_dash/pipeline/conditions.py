"""What is wrong with the pipeline right now: said once in the log, shown on every page and in /api/health.

A dashboard must never claim to be live while it is not (docs/design.md §4). Whatever
part of the pipeline finds that it cannot do its job (file watches ran out, the
runs root vanished, the catalog cannot be written or reached) sets a condition
under its own key, and clears it when the job works again. Conditions are set
from any thread; readers on the event loop wait for a change with `wait_changed`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Condition:
    key: str  # who set it, e.g. "watch", "catalog", "runs_root"
    message: str  # what is wrong, in words a user reads in the page header
    fix: str = ""  # what to do about it, when there is something to do

    def to_api(self) -> dict[str, str]:
        return {"key": self.key, "message": self.message, "fix": self.fix}


class Conditions:
    def __init__(self) -> None:
        self._items: dict[str, Condition] = {}
        self._lock = threading.Lock()
        self.version = 0
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def set(self, key: str, message: str, fix: str = "") -> None:
        """Raise (or restate) a condition; the log hears of it once, not at every retry."""
        condition = Condition(key, message, fix)
        with self._lock:
            if self._items.get(key) == condition:
                return
            self._items[key] = condition
        log.warning("%s%s", message, f" ({fix})" if fix else "")
        self._changed()

    def clear(self, key: str) -> None:
        with self._lock:
            gone = self._items.pop(key, None)
        if gone is not None:
            log.warning("resolved: %s", gone.message)
            self._changed()

    def get(self, key: str) -> Condition | None:
        with self._lock:
            return self._items.get(key)

    def items(self) -> list[Condition]:
        with self._lock:
            return sorted(self._items.values(), key=lambda c: c.key)

    def _changed(self) -> None:
        with self._lock:
            self.version += 1
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_settle, future)

    async def wait_changed(self, version: int, timeout: float | None = None) -> int:
        """Wait until `version` is no longer current (or `timeout`); returns the current version."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self.version != version:
                return self.version
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, future))
        try:  # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that races the change
            async with asyncio.timeout(timeout):
                await future
        except TimeoutError:
            pass
        finally:  # a timed-out or cancelled waiter leaves nothing behind
            with self._lock:
                if (loop, future) in self._waiters:
                    self._waiters.remove((loop, future))
        return self.version


def _settle(future: asyncio.Future[None]) -> None:
    """Wake one waiter, on its own loop; a waiter that timed out meanwhile is left alone."""
    if not future.done():
        future.set_result(None)
