"""How many of the pages' background tasks are running: `backgroundTasks` in /api/health.

Nothing may keep running for a closed tab (docs/design.md §4). Reflex cancels a page's on_load
task when its socket goes away (docs/reflex.md §1); this count is how a test, a bench or an
operator sees that it did. Every background event handler of the app's states is wrapped
in `counted` (tests/unit/test_background_tasks.py checks that none is missed).
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class TaskCount:
    def __init__(self) -> None:
        self._running = 0
        self._lock = threading.Lock()  # handlers run on the event loop, health may be read from any thread

    def running(self) -> int:
        with self._lock:
            return self._running

    def _add(self, delta: int) -> None:
        with self._lock:
            self._running += delta


background_tasks = TaskCount()


def counted(handler: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Count `handler` (an async background event handler) while it runs, however it ends.

    Goes under `@rx.event(background=True)`; `functools.wraps` keeps the signature Reflex reads.
    """
    if not inspect.iscoroutinefunction(handler):
        raise TypeError(f"counted wraps async def handlers, not {handler!r}")

    @functools.wraps(handler)
    async def run_counted(*args: P.args, **kwargs: P.kwargs) -> T:
        background_tasks._add(1)
        try:
            return await handler(*args, **kwargs)
        finally:
            background_tasks._add(-1)

    run_counted.counted = True  # type: ignore[attr-defined]
    return run_counted
