"""Conditions: set once, cleared, and waiters woken from any thread."""

from __future__ import annotations

import asyncio
import threading

from windtunnel_dash.pipeline.conditions import Conditions


def test_set_restate_and_clear_change_the_version_only_when_something_changed() -> None:
    c = Conditions()
    c.set("watch", "watches ran out", "raise fs.inotify.max_user_watches")
    v = c.version
    c.set("watch", "watches ran out", "raise fs.inotify.max_user_watches")
    assert c.version == v
    assert [x.to_api() for x in c.items()] == [
        {"key": "watch", "message": "watches ran out", "fix": "raise fs.inotify.max_user_watches"}
    ]
    c.clear("watch")
    assert c.items() == [] and c.version == v + 1
    c.clear("watch")
    assert c.version == v + 1


def test_a_waiter_wakes_when_another_thread_sets_a_condition() -> None:
    c = Conditions()

    async def main() -> int:
        start = c.version
        threading.Timer(0.05, c.set, args=("catalog", "catalog unreachable")).start()
        return await c.wait_changed(start, timeout=10)

    assert asyncio.run(main()) == 1


def test_a_waiter_that_times_out_leaves_nothing_behind() -> None:
    c = Conditions()

    async def main() -> int:
        return await c.wait_changed(c.version, timeout=0.01)

    assert asyncio.run(main()) == 0
    assert c._waiters == []
