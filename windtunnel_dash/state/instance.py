"""State of the instance page: one instance's fields, entry data and steps, read once on load."""

from __future__ import annotations

from typing import TYPE_CHECKING

import reflex as rx

from windtunnel_dash.background_tasks import counted
from windtunnel_dash.format import browser_time, format_duration
from windtunnel_dash.pipeline.engine import get_engine
from windtunnel_dash.state.detail_views import View
from windtunnel_dash.state.instance_views import BODY_LIMIT, StepView, as_text, step_view


class InstanceState(rx.State):
    if TYPE_CHECKING:
        # The route's [run_id] and [instance_id]: computed vars Reflex adds to the root state (docs/reflex.md §7).
        run_id: str
        instance_id: str

    loaded: rx.Field[bool] = rx.field(False)
    found: rx.Field[bool] = rx.field(True)
    shown_run: rx.Field[str] = rx.field("")
    shown_instance: rx.Field[str] = rx.field("")
    correlation_id: rx.Field[str] = rx.field("")
    scenario_id: rx.Field[str] = rx.field("")
    status: rx.Field[str] = rx.field("")
    duration: rx.Field[str] = rx.field("")
    started_at: rx.Field[str] = rx.field("")
    completed_at: rx.Field[str] = rx.field("")
    error: rx.Field[str] = rx.field("")
    seq: rx.Field[int] = rx.field(0)
    entry_data: rx.Field[str] = rx.field("")
    entry_note: rx.Field[str] = rx.field("")
    steps: rx.Field[list[StepView]] = rx.field(default_factory=list)

    @rx.var(deps=["shown_run"], auto_deps=False)
    def run_href(self) -> str:
        return View().href(self.shown_run) if self.shown_run else "/"

    @rx.event(background=True)
    @counted
    async def load(self):
        """Read in a thread, outside the state lock; the page shows a skeleton meanwhile."""
        async with self:
            run_id, instance_id = self.run_id, self.instance_id
            if (run_id, instance_id) != (self.shown_run, self.shown_instance):
                self.reset()
            self.shown_run, self.shown_instance = run_id, instance_id
        detail = await get_engine().find_instance(run_id, instance_id)
        if detail is None:
            async with self:
                self.found, self.loaded = False, True
            return
        row = detail.instance
        entry, entry_note = as_text(detail.entry_data, BODY_LIMIT)
        steps = [step_view(s) for s in detail.steps]
        async with self:
            self.found = True
            self.correlation_id = row.correlation_id or ""
            self.scenario_id = row.scenario_id or ""
            self.status = row.status
            self.duration = format_duration(row.duration_ms, sub_second=True)
            self.started_at = browser_time(row.started_at)
            self.completed_at = browser_time(row.completed_at)
            self.error = row.error or ""
            self.seq = row.seq
            self.entry_data, self.entry_note = entry, entry_note
            self.steps = steps
            self.loaded = True
