"""Display-ready views of a comparison (docs/design.md §9), formatted once on the server.

Pass and error rates are percentages and their deltas percentage points;
latencies are milliseconds. An interval end the data cannot bound yet shows as
∞, and a delta with nothing to compare shows a dash.
"""

from __future__ import annotations

import dataclasses

from windtunnel_dash.catalog.compare import BaselineOption, Comparison, Delta, ListDelta, RowDelta
from windtunnel_dash.catalog.failures import Kind
from windtunnel_dash.format import format_duration
from windtunnel_dash.state.detail_views import View, instance_href

DEFAULT = ":default"  # the selector's value for "the default baseline" (a select item cannot be empty)


@dataclasses.dataclass
class DeltaView:
    text: str  # "−3.5 pts", "+120 ms", "—"
    interval: str  # "95% CI −5.1 to −1.9 pts"
    baseline: str  # "baseline 97.0%"
    verdict: str  # regressed | improved | no clear change


@dataclasses.dataclass
class RowView:
    scenario_id: str
    verdict: str
    pass_rate: DeltaView
    error_rate: DeltaView
    p50: DeltaView
    p95: DeltaView


@dataclasses.dataclass
class KindView:
    label: str
    kind: str
    count: int
    example: str  # instance id
    href: str


@dataclasses.dataclass
class OptionView:
    value: str
    label: str


BLANK_DELTA = DeltaView("—", "", "", "no clear change")
BLANK_ROW = RowView("", "no clear change", BLANK_DELTA, BLANK_DELTA, BLANK_DELTA, BLANK_DELTA)


def signed(x: float, unit: str) -> str:
    sign = "+" if x > 0 else "−" if x < 0 else "±"
    return f"{sign}{abs(x):.1f}{unit}"


def signed_ms(x: float) -> str:
    sign = "+" if x > 0 else "−" if x < 0 else "±"
    return f"{sign}{latency(abs(x))}"


def _bound(x: float | None, fmt, infinity: str) -> str:
    return infinity if x is None else fmt(x)


def delta_view(d: Delta, fmt, baseline_fmt) -> DeltaView:
    e = d.delta
    if e.value is None:
        return DeltaView("—", "", "" if d.baseline is None else f"baseline {baseline_fmt(d.baseline)}", d.verdict)
    interval = f"95% CI {_bound(e.low, fmt, '−∞')} to {_bound(e.high, fmt, '+∞')}"
    return DeltaView(fmt(e.value), interval, f"baseline {baseline_fmt(d.baseline)}", d.verdict)


def latency(x: float) -> str:
    return format_duration(x, sub_second=True)


def points(x: float) -> str:
    return signed(x, " pts")


def percent(x: float) -> str:
    return f"{x:.1f}%"


def row_view(row: RowDelta) -> RowView:
    return RowView(
        row.scenario_id or "",
        row.verdict,
        delta_view(row.pass_rate, points, percent),
        delta_view(row.error_rate, points, percent),
        delta_view(row.p50, signed_ms, latency),
        delta_view(row.p95, signed_ms, latency),
    )


def kind_view(run_id: str, kind: Kind) -> KindView:
    return KindView(kind.signature.label, kind.signature.kind, kind.count, kind.example_instance_id,
                    instance_href(run_id, kind.example_instance_id))


@dataclasses.dataclass
class ComparisonView:
    """Everything the comparison's components show, as the state's vars."""

    selected: str
    has_baseline: bool
    baseline_id: str
    baseline_href: str
    baseline_running: bool
    reason: str
    overall: RowView
    scenarios: dict[str, RowView]
    new_kinds: list[KindView]
    new_kinds_total: int


def comparison_view(c: Comparison, selected: str) -> ComparisonView:
    base = c.baseline
    return ComparisonView(
        selected=selected,
        has_baseline=base is not None,
        baseline_id="" if base is None else base.run_id,
        baseline_href="" if base is None else View().href(base.run_id),
        baseline_running=base is not None and not base.position.complete,
        reason=c.reason or "",
        overall=BLANK_ROW if c.overall is None else row_view(c.overall),
        scenarios={s.scenario_id or "": row_view(s) for s in c.scenarios},
        new_kinds=[kind_view(c.run_id, k) for k in c.new_failure_kinds],
        new_kinds_total=c.new_failure_count,
    )


def option_views(options: list[BaselineOption], selected: str) -> list[OptionView]:
    """The selector's items: the default, none, then the newest runs (the selected one always among them)."""
    items = [OptionView(DEFAULT, "Default baseline"), OptionView("none", "No comparison")]
    seen = {DEFAULT, "none"}
    for o in options:
        state = "" if o.complete else " (running)"
        items.append(OptionView(o.run_id, f"{o.run_id}{state}"))
        seen.add(o.run_id)
    if selected not in seen:
        items.append(OptionView(selected, selected))
    return items


def baseline_param(view: View) -> str | None:
    """The view's ?baseline= as compare() takes it: None for the default (absent or empty)."""
    return view.baseline or None


def with_baseline(view: View, run_id: str, choice: str) -> str:
    """The run page's URL for `view` with the selector's `choice` of baseline."""
    return view.href(run_id, baseline="" if choice == DEFAULT else choice)


def list_delta_cells(d: ListDelta | None) -> dict[str, str]:
    """The run list's "vs baseline" cell: the pass-rate delta, its verdict, and (as a tooltip) against what."""
    if d is None:
        return {"delta": "—", "delta_verdict": "", "delta_title": "No earlier complete run of this SUT and scenarios"}
    view = delta_view(d.pass_rate, points, percent)
    return {"delta": view.text, "delta_verdict": view.verdict,
            "delta_title": f"vs {d.baseline_id} ({view.baseline}); {view.interval}"}
