"""How a comparison reads on the page: signed deltas, open interval ends, verdicts, and the ?baseline= URL."""

from __future__ import annotations

from windtunnel_dash.analysis.intervals import Estimate
from windtunnel_dash.catalog.compare import BaselineOption, Delta, ListDelta
from windtunnel_dash.state.compare_views import (
    DEFAULT,
    baseline_param,
    delta_view,
    latency,
    list_delta_cells,
    option_views,
    percent,
    points,
    signed_ms,
    with_baseline,
)
from windtunnel_dash.state.detail_views import View, view_links


def test_deltas_are_signed_with_their_interval_and_baseline() -> None:
    d = delta_view(Delta(60.0, 95.0, Estimate(-35.0, -44.21, -24.9), "regressed"), points, percent)
    assert (d.text, d.interval, d.baseline, d.verdict) == (
        "−35.0 pts", "95% CI −44.2 pts to −24.9 pts", "baseline 95.0%", "regressed")
    assert delta_view(Delta(1.0, 1.0, Estimate(0.0, -0.5, 0.5), "no clear change"), points, percent).text == "±0.0 pts"
    lat = delta_view(Delta(250.0, 130.0, Estimate(120.0, 20.0, None), "no clear change"), signed_ms, latency)
    assert (lat.text, lat.interval, lat.baseline) == ("+120 ms", "95% CI +20 ms to +∞", "baseline 130 ms")
    nothing = delta_view(Delta(None, 97.0, Estimate(None, None, None), "no clear change"), points, percent)
    assert (nothing.text, nothing.interval, nothing.baseline) == ("—", "", "baseline 97.0%")


def test_the_run_lists_cell_says_against_what() -> None:
    cells = list_delta_cells(ListDelta("run_7", Delta(90.0, 95.0, Estimate(-5.0, -8.0, -2.0), "regressed")))
    assert cells == {"delta": "−5.0 pts", "delta_verdict": "regressed",
                     "delta_title": "vs run_7 (baseline 95.0%); 95% CI −8.0 pts to −2.0 pts"}
    assert list_delta_cells(None)["delta"] == "—" and list_delta_cells(None)["delta_verdict"] == ""


def test_the_choice_lives_in_the_url_and_every_link_of_the_view_keeps_it() -> None:
    view = View.from_query({"status": "failed", "page": "2", "baseline": "run_1"})
    assert baseline_param(view) == "run_1" and baseline_param(View()) is None
    assert with_baseline(view, "r", "none") == "/runs/r?status=failed&page=2&baseline=none"
    assert with_baseline(view, "r", DEFAULT) == "/runs/r?status=failed&page=2"
    links = view_links("r", view)
    assert all("baseline=run_1" in href for href in (links.all, links.next, links.sort_duration, links.head))
    assert View.from_query({"baseline": "x" * 1000}).baseline == "x" * 255


def test_the_selector_offers_default_none_the_newest_runs_and_whatever_the_url_chose() -> None:
    options = option_views([BaselineOption("run_b", None, "shop", True), BaselineOption("run_a", None, "shop", False)],
                           "run_old")
    assert [(o.value, o.label) for o in options] == [
        (DEFAULT, "Default baseline"), ("none", "No comparison"), ("run_b", "run_b"), ("run_a", "run_a (running)"),
        ("run_old", "run_old")]
