"""The run page's comparison with a baseline (docs/design.md §9), kept live by the page's own task.

A substate of RunDetailState, so a new comparison re-renders only the
components that show it (the selector, the deltas on the cards and in the
scenario table, the new failure kinds). The run page's `follow` task starts
`read_comparison` after a batch (catalog reads in a thread, beside the stream)
and hands the result to `apply_comparison` with its next delta, so a batch's
rows never wait for it and the page stays at ≤ 10 updates a second; the deltas
shown are at most one batch behind the counts. Each read is two run rows and
the failures since the last read (catalog/compare.py), never a scan of either run.
"""

from __future__ import annotations

import copy
import dataclasses
import functools

import reflex as rx
from sqlalchemy import Engine

from windtunnel_dash.catalog.compare import UnknownBaseline, baseline_options, compare, read_figures
from windtunnel_dash.pipeline.engine import get_engine
from windtunnel_dash.pipeline.hub import Batch
from windtunnel_dash.state.compare_views import (
    BLANK_ROW,
    DEFAULT,
    ComparisonView,
    KindView,
    OptionView,
    RowView,
    baseline_param,
    comparison_view,
    option_views,
    with_baseline,
)
from windtunnel_dash.state.deltas import assign_changed
from windtunnel_dash.state.detail_views import View
from windtunnel_dash.state.run_detail import RunDetailState
from windtunnel_dash.state.shared_reads import SharedReads


@dataclasses.dataclass
class ComparisonUpdate:
    """A comparison read for one batch, waiting to be applied with it."""

    view: ComparisonView
    options: list[OptionView]


def comparison_update(engine: Engine, run_id: str, param: str | None) -> ComparisonUpdate | None:
    """What one page update reads (in a thread): both runs' rows, new failures, the selector's runs."""
    run = read_figures(engine, run_id)
    if run is None:
        return None
    selected = param or DEFAULT
    try:
        view = comparison_view(compare(engine, run, param), selected)
    except UnknownBaseline:
        view = ComparisonView(selected, False, "", "", False, f"There is no run named “{param}” to compare with.",
                              BLANK_ROW, {}, [], 0)
    return ComparisonUpdate(view, option_views(baseline_options(engine, run_id), selected))


async def read_comparison(page: RunDetailState, run_id: str, batch: Batch | None) -> ComparisonUpdate | None:
    """The comparison as of `batch` (None when the batch changes nothing it shows). Call outside the lock."""
    if batch is None or batch.run is None:
        return None
    param = baseline_param(View.from_query(dict(page.router.url.query_parameters)))
    read = functools.partial(comparison_update, get_engine().catalog.engine, run_id, param)
    return await _READS.get((run_id, param, batch.head), read)


# Every page of a run reads the same comparison for the same head: one read serves them all, so fifty
# open pages do not make fifty reads per batch (state/shared_reads.py; issue 13, cost per viewer).
_READS: SharedReads[tuple[str, str | None, int], ComparisonUpdate | None] = SharedReads(fresh_s=1.0)


async def apply_comparison(page: RunDetailState, update: ComparisonUpdate | None) -> None:
    """Put a read comparison on screen. Call inside the page's `async with self:` block."""
    if update is None:
        return
    state = await page.get_state(RunCompareState)
    fields = {f.name: getattr(update.view, f.name) for f in dataclasses.fields(update.view)}  # not asdict: rows stay rows
    assign_changed(state, **fields, options=update.options, compared=True)


class RunCompareState(RunDetailState):
    """What the comparison shows; filled by the page's task, one assignment per batch."""

    compared: rx.Field[bool] = rx.field(False)  # a comparison was read for this page (the selector shows from then on)
    selected: rx.Field[str] = rx.field(DEFAULT)
    options: rx.Field[list[OptionView]] = rx.field(default_factory=list)
    has_baseline: rx.Field[bool] = rx.field(False)
    baseline_id: rx.Field[str] = rx.field("")
    baseline_href: rx.Field[str] = rx.field("")
    baseline_running: rx.Field[bool] = rx.field(False)
    reason: rx.Field[str] = rx.field("")
    overall: rx.Field[RowView] = rx.field(default_factory=functools.partial(copy.deepcopy, BLANK_ROW))  # a copy per page, as for [] and {}
    scenarios: rx.Field[dict[str, RowView]] = rx.field(default_factory=dict)
    new_kinds: rx.Field[list[KindView]] = rx.field(default_factory=list)
    new_kinds_total: rx.Field[int] = rx.field(0)

    @rx.event
    def choose(self, value: str):
        """The choice lives in the URL: navigate, and the page's task compares anew."""
        return rx.redirect(with_baseline(View.from_query(dict(self.router.url.query_parameters)), self.run_id, value))
