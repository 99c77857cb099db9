"""The run page's export URL and live tab title, from the view and counts on screen."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from windtunnel_dash.state.export import api_origin, export_path
from windtunnel_dash.state.tab_title import tab_title


def test_export_path_carries_the_view_and_leaves_defaults_out():
    assert export_path("r1", "csv") == "/api/runs/r1/instances.csv"
    assert export_path("r1", "jsonl", sort="-seq", status="", q="") == "/api/runs/r1/instances.jsonl"
    url = urlsplit(export_path("run a/b", "csv", status="failed", sort="durationMs", q="x&y=1 #"))
    assert url.path == "/api/runs/run%20a%2Fb/instances.csv"
    assert parse_qs(url.query) == {"status": ["failed"], "sort": ["durationMs"], "q": ["x&y=1 #"]}


def test_tab_title_tells_a_live_runs_story():
    assert tab_title("run_7", "running", "94.0%", 1234, 2000) == "94.0% · 1,234/2,000 · run_7"
    assert tab_title("run_7", "failing", "50.0%", 2, 0) == "50.0% · 2 · run_7"  # no planned total
    assert tab_title("run_7", "running", "—", 0, 2000) == "— · 0/2,000 · run_7"


def test_tab_title_of_a_run_that_is_not_live():
    for status in ("complete", "stalled", "error"):
        assert tab_title("run_7", status, "94.0%", 2000, 2000) == "run_7 · windtunnel"
    assert tab_title("", "running", "—", 0, 0) == "Run · windtunnel"


def test_exports_are_fetched_from_the_page_origin_in_prod_and_the_backend_in_dev(monkeypatch):
    from reflex.config import get_config

    monkeypatch.setenv("REFLEX_ENV_MODE", "prod")
    assert api_origin() == ""
    monkeypatch.setenv("REFLEX_ENV_MODE", "dev")
    assert api_origin() == get_config().api_url.rstrip("/") and api_origin().startswith("http")
