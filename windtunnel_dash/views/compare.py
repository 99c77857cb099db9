"""The run page's comparison with a baseline: selector, deltas with verdicts, new failure kinds (docs/design.md §9).

Everything here reads RunCompareState only, so a new comparison re-renders
these components and nothing else of the page. Verdicts are coloured and
spelled out (`data-verdict` drives the colour in assets/dash.css).
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import ObjectVar
from reflex_components_core.react_router.dom import ReactRouterLink

from windtunnel_dash.state.compare import RunCompareState as Cmp
from windtunnel_dash.state.compare_views import DeltaView, KindView, OptionView, RowView

# The comparison's object vars, typed: mypy reads a state field holding a dataclass or a dict as
# ArrayVar[Never] (it picks Field.__get__'s sequence overload), so they are cast once here.
OVERALL = Cmp.overall.to(ObjectVar, RowView)
SCENARIOS = Cmp.scenarios.to(dict[str, RowView])


def verdict_pill(verdict: rx.Var[str] | str) -> rx.Component:
    return rx.el.span(verdict, class_name="wt-verdict", custom_attrs={"data-verdict": verdict})


def _option(o: ObjectVar[OptionView]) -> rx.Component:
    return rx.select.item(o.label, value=o.value)


def compare_bar() -> rx.Component:
    """"Compare with [baseline ▾]", which baseline that is (or why there is none), and the overall verdict."""
    return rx.cond(
        Cmp.compared,
        rx.hstack(
            rx.text("Compare with", class_name="wt-meta-label"),
            rx.select.root(
                rx.select.trigger(class_name="wt-compare-select", aria_label="Compare with",
                                  custom_attrs={"data-testid": "compare-select"}),
                rx.select.content(rx.foreach(Cmp.options, _option)),
                value=Cmp.selected,
                on_change=Cmp.choose,
                size="1",
            ),
            rx.cond(
                Cmp.has_baseline,
                rx.hstack(
                    ReactRouterLink.create(Cmp.baseline_id, to=Cmp.baseline_href, class_name="wt-mono-small wt-crumb-link",
                                           custom_attrs={"data-testid": "compare-baseline"}),
                    rx.cond(Cmp.baseline_running, rx.text("still running", class_name="wt-card-foot")),
                    rx.text("pass rate", class_name="wt-card-foot"),
                    rx.el.span(OVERALL.pass_rate.to(ObjectVar, DeltaView).text, class_name="wt-delta-value"),
                    rx.el.span(verdict_pill(OVERALL.verdict), custom_attrs={"data-testid": "compare-verdict"}),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text(Cmp.reason, class_name="wt-card-foot", custom_attrs={"data-testid": "compare-reason"}),
            ),
            spacing="3",
            align="center",
            wrap="wrap",
            class_name="wt-compare-bar",
            custom_attrs={"data-testid": "compare-bar"},
        ),
    )


def card_delta(delta: rx.Var[DeltaView], testid: str, label: str = "") -> rx.Component:
    """A summary card's delta against the baseline: the change, its verdict, and the 95% interval."""
    d = delta.to(ObjectVar, DeltaView)
    return rx.cond(
        Cmp.has_baseline,
        rx.el.div(
            rx.el.div(
                *([rx.el.span(label, class_name="wt-card-foot")] if label else []),
                rx.el.span(d.text, class_name="wt-delta-value"),
                verdict_pill(d.verdict),
                class_name="wt-delta-line",
            ),
            rx.el.div(d.interval, class_name="wt-card-foot wt-delta-ci"),
            class_name="wt-card-delta",
            title=d.baseline,
            custom_attrs={"data-testid": testid, "data-verdict": d.verdict},
        ),
    )


@rx.memo
def scenario_delta(scenario_id: rx.Var[str]) -> rx.Component:
    """A scenario row's pass-rate delta and verdict; a memo reading the comparison, so a new comparison
    re-renders these cells, not the table around them."""
    row = SCENARIOS[scenario_id].to(ObjectVar, RowView)
    pass_rate = row.pass_rate.to(ObjectVar, DeltaView)
    return rx.cond(
        Cmp.has_baseline & SCENARIOS.contains(scenario_id),
        rx.el.div(
            rx.el.span(pass_rate.text, class_name="wt-delta-value"),
            verdict_pill(row.verdict),
            class_name="wt-delta-line wt-delta-cell",
            title=pass_rate.interval,
            custom_attrs={"data-verdict": row.verdict, "data-testid": "scenario-delta"},
        ),
    )


def _kind(k: ObjectVar[KindView]) -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.span(k.label, class_name="wt-mono-small wt-kind-label"),
            rx.el.span(k.count.to_string(), class_name="wt-tab-count"),
            class_name="wt-failure-head",
        ),
        rx.el.div(
            "e.g. ",
            ReactRouterLink.create(k.example, to=k.href, class_name="wt-mono-small wt-crumb-link"),
            class_name="wt-failure-meta",
        ),
        class_name="wt-kind",
        custom_attrs={"data-kind": k.kind},
    )


def new_failure_kinds() -> rx.Component:
    """Failure signatures this run has and its baseline did not, with counts and an example each."""
    return rx.cond(
        Cmp.has_baseline,
        rx.card(
            rx.hstack(
                rx.icon("sparkles", size=16, class_name="wt-c-fail"),
                rx.text("New failure kinds", class_name="wt-section-title"),
                rx.spacer(),
                rx.cond(Cmp.new_kinds_total > 0,
                        rx.text(Cmp.new_kinds_total.to_string(), " instances", class_name="wt-card-foot")),
                align="center",
                spacing="2",
                width="100%",
            ),
            rx.cond(
                Cmp.new_kinds.length() > 0,
                rx.vstack(rx.foreach(Cmp.new_kinds, _kind), spacing="2", width="100%"),
                rx.text("None: every kind of failure so far was in the baseline too.", size="2",
                        color_scheme="gray", class_name="wt-empty-small"),
            ),
            class_name="wt-panel",
            custom_attrs={"data-testid": "new-failure-kinds"},
        ),
    )


def list_delta(text: rx.Var[str], verdict: rx.Var[str], title: rx.Var[str]) -> rx.Component:
    """The run list's "vs baseline" cell: plain elements, as everything in its 100 rows."""
    return rx.el.div(
        rx.el.span(text, class_name="wt-delta-value"),
        rx.cond(verdict != "", verdict_pill(verdict)),
        class_name="wt-stack wt-delta",
        title=title,
        custom_attrs={"data-verdict": verdict},
    )
