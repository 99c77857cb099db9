"""Instance page views: megabyte bodies are cut, odd observations never crash, fields found."""

from windtunnel_dash.catalog.rows import AssertionRow, StepDetail
from windtunnel_dash.state.instance_views import BODY_LIMIT, as_text, step_view


def _step(observation, assertions=()) -> StepDetail:
    return StepDetail(
        step_index=2,
        step_name="create_cart",
        step_type="http",
        timestamp="2026-11-26T15:16:13Z",
        observation=observation,
        assertions=list(assertions),
    )


def test_large_body_is_truncated_with_a_note():
    body = {"blob": "x" * 3_000_000}
    v = step_view(_step({"ok": True, "status_code": 200, "latency_ms": 83.2, "body": body}))
    assert len(v.body) == BODY_LIMIT
    assert v.body_note.startswith(f"showing {BODY_LIMIT:,} of ")
    assert v.status_code == "200" and v.latency == "83 ms" and v.ok == "ok"


def test_http_fields_from_request_or_metadata():
    v = step_view(_step({"request": {"method": "POST", "url": "http://sut/cart"}, "ok": False}))
    assert (v.method, v.url, v.ok) == ("POST", "http://sut/cart", "failed")
    v = step_view(_step({"metadata": {"method": "GET", "url": "/x"}}))
    assert (v.method, v.url, v.ok) == ("GET", "/x", "")


def test_wait_attempts_and_turbulence():
    obs = {
        "attempts": [
            {"attempt_number": 1, "status_code": 200, "latency_ms": 51.2, "condition_met": False},
            {"attempt_number": 2, "status_code": 200, "latency_ms": 53.7, "condition_met": True},
            {"attempt": 3, "error": "timeout"},
            "garbage",
        ],
        "turbulence": {"retry_count": 1, "injected_latency_ms": 20},
    }
    v = step_view(_step(obs))
    assert [(a.number, a.outcome) for a in v.attempts] == [
        ("1", "not met"), ("2", "condition met"), ("3", "timeout"), ("4", "garbage"),
    ]
    assert '"retry_count": 1' in v.turbulence


def test_assertions_and_html_text_kept_verbatim():
    a = AssertionRow("total_ok", False, {"total": 20}, "<script>alert(1)</script>", "mismatch")
    v = step_view(_step("not a dict", [a]))
    assert v.assertions[0].passed is False
    assert v.assertions[0].actual == "<script>alert(1)</script>"  # rendered as a text node
    assert '"total": 20' in v.assertions[0].expected


def test_as_text():
    assert as_text(None, 10) == ("", "")
    assert as_text("abc", 10) == ("abc", "")
    assert as_text("a" * 20, 10) == ("a" * 10, "showing 10 of 20 characters")
