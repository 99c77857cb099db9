"""What is wrong with the pipeline right now, for the header of every page (pipeline/conditions.py).

One background task per open page (started by `on_load`, so it dies with the tab,
docs/reflex.md §1) waits on the engine's conditions and sends one delta when they
change: a page never claims to be live while watching is degraded or the runs
folder or catalog is gone.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from windtunnel_dash.background_tasks import counted
from windtunnel_dash.pipeline.engine import get_engine

# A safety net only: every set and clear wakes the waiters.
RECHECK_S = 30.0


@dataclass(frozen=True)
class WarningView:
    key: str
    message: str
    fix: str


class ConditionsState(rx.State):
    warnings: rx.Field[list[WarningView]] = rx.field(default_factory=list)

    @rx.event(background=True)
    @counted
    async def follow(self):
        conditions = get_engine().conditions
        version = -1
        while True:
            version = await conditions.wait_changed(version, timeout=RECHECK_S)
            shown = [WarningView(c.key, c.message, c.fix) for c in conditions.items()]
            async with self:
                if self.warnings != shown:
                    self.warnings = shown
