"""A page's task cancelled while its wait is being woken must end, not carry on for a closed tab.

Python 3.11's `asyncio.wait_for` returns the result instead of raising when the cancel and the
wake-up land in the same loop turn (fixed in 3.12): the task then runs on with nobody to cancel it
again. bench/open_close.py found six such tasks after 200 tabs; these waits use `asyncio.timeout`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.unit.pipeline_support import make_catalog
from windtunnel_dash.pipeline.conditions import Conditions
from windtunnel_dash.pipeline.hub import Hub


async def _cancelled_as_woken(wait: Callable[[], Awaitable[object]], wake: Callable[[], None]) -> bool:
    """Start `wait`, then wake it and cancel it in the same turn; True when the task ended cancelled."""
    task = asyncio.create_task(wait())
    await asyncio.sleep(0.01)  # the task is parked in its wait
    wake()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return True
    return False


def test_a_subscription_wait_cancelled_as_a_batch_lands_ends(tmp_path: Path) -> None:
    async def scenario() -> tuple[bool, bool]:
        hub = Hub(make_catalog(tmp_path))
        async with hub.subscribe("run_x", since=0) as sub:
            sub._seen_revision = hub._channel("run_x").revision  # caught up: the next call waits
            next_batch = await _cancelled_as_woken(
                lambda: sub.next_batch(timeout=30), lambda: hub.publish("run_x", 1)
            )
            changed = await _cancelled_as_woken(
                lambda: hub.wait_changed(hub.version, 30), lambda: hub.publish("run_x", 2)
            )
        return next_batch, changed

    assert asyncio.run(scenario()) == (True, True)


def test_a_conditions_wait_cancelled_as_a_condition_changes_ends() -> None:
    async def scenario() -> bool:
        conditions = Conditions()
        return await _cancelled_as_woken(lambda: conditions.wait_changed(conditions.version, 30),
                                         lambda: conditions.set("watch", "polling"))

    assert asyncio.run(scenario())
