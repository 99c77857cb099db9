"""The run page's export: the view on screen (filter, search, sort) as a CSV or JSONL download (docs/design.md §10).

A state of its own with no vars, so the button adds nothing to the page's deltas; the
view is read from RunDetailState when clicked, and the browser downloads the file
straight from the export endpoint (one request, streamed, nothing through the socket).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import reflex as rx
from reflex.config import get_config
from reflex.utils.exec import is_prod_mode

from windtunnel_dash.state.run_detail import RunDetailState

FORMATS = ("csv", "jsonl")


def export_path(run_id: str, fmt: str, *, status: str = "", sort: str = "-seq", q: str = "") -> str:
    """The export endpoint's URL for a view; defaults are left out, as in the page's own links."""
    params = {k: v for k, v in (("status", status), ("sort", sort if sort != "-seq" else ""), ("q", q)) if v}
    path = f"/api/runs/{quote(run_id, safe='')}/instances.{fmt}"
    return f"{path}?{urlencode(params)}" if params else path


def api_origin() -> str:
    """Where the export endpoints are, seen from the page: its own origin in production (one port, so
    a relative URL), the backend's in `reflex run`'s dev mode (pages and API on two ports)."""
    return "" if is_prod_mode() else get_config().api_url.rstrip("/")


class ExportState(rx.State):
    @rx.event
    async def download(self, fmt: str):
        if fmt not in FORMATS:
            return None
        detail = await self.get_state(RunDetailState)
        run_id = detail.shown_run
        path = export_path(run_id, fmt, status=detail.v_status, sort=detail.v_sort, q=detail.v_q)
        return rx.download(url=rx.Var.create(api_origin() + path), filename=f"{run_id}-instances.{fmt}")
