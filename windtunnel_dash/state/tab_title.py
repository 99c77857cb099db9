"""The run page's tab title, live: `94.0% · 1,234/2,000 · <run id>` while the run runs, so a
background tab tells its story.

The page's title is a Var (`add_page(title=...)`): Reflex renders it as the page's <title>
element and React keeps the document's title in step with it, with no script of our own.
A computed var on a substate of the live state, so it changes with the counts each batch
brings and its one element is all that re-renders.
"""

from __future__ import annotations

import reflex as rx

from windtunnel_dash.artifacts.status import ACTIVE_STATUSES
from windtunnel_dash.format import format_count
from windtunnel_dash.state.run_detail import RunLiveState


def tab_title(run_id: str, status: str, rate_text: str, total: int, planned: int) -> str:
    """Live: rate · done/planned · id (no planned total: rate · done · id); otherwise `id · windtunnel`."""
    if not run_id:
        return "Run · windtunnel"
    if status not in ACTIVE_STATUSES:
        return f"{run_id} · windtunnel"
    done = f"{format_count(total)}/{format_count(planned)}" if planned > 0 else format_count(total)
    return f"{rate_text} · {done} · {run_id}"


class RunTitleState(RunLiveState):
    @rx.var
    def tab_title(self) -> str:
        return tab_title(self.shown_run, self.run_status, self.rate_text, self.all_count, self.planned)
