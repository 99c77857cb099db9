"""The instance page in real Chromium: fields, entry data, steps with their HTTP details and assertions."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.api.runbuilder import assertion, instance, open_run
from windtunnel_dash.artifacts.records import Step

LOAD_TIMEOUT = 30_000


def test_instance_page_shows_steps_attempts_and_assertions(app, page: Page) -> None:
    run = open_run(app.runs_dir)
    inst = instance(1, "failed", duration_ms=321.0)
    http = Step(
        instance_id=inst.instance_id, correlation_id=inst.correlation_id, step_index=0, step_name="create_cart",
        step_type="http", timestamp=inst.started_at,
        observation={
            "ok": True, "status_code": 201, "latency_ms": 83.0,
            "request": {"method": "POST", "url": "http://sut.local/cart"},
            "headers": {"content-type": "application/json"},
            "body": {"blob": "x" * 2_000_000, "note": "<script>window.pwned=1</script>"},
            "turbulence": {"retry_count": 1, "injected_latency_ms": 40},
        },
    )
    wait = Step(
        instance_id=inst.instance_id, correlation_id=inst.correlation_id, step_index=1, step_name="wait_confirmed",
        step_type="wait", timestamp=inst.completed_at,
        observation={"ok": False, "attempts": [
            {"attempt_number": 1, "status_code": 200, "latency_ms": 51.0, "condition_met": False},
            {"attempt_number": 2, "status_code": 200, "latency_ms": 53.0, "condition_met": False},
        ]},
    )
    run.write_batch(steps=[http, wait], assertions=[assertion(inst, 1, passed=False)], instances=[inst])
    run.finalize()

    page.goto(app.url(f"/runs/{run.run_id}/instances/{inst.instance_id}"))
    steps = page.get_by_test_id("step")
    expect(steps).to_have_count(2, timeout=LOAD_TIMEOUT)
    expect(page.get_by_text("CORR_00001")).to_be_visible()
    expect(page.get_by_test_id("entry-data")).to_contain_text('"n": 1')

    first = steps.nth(0)
    expect(first).to_contain_text("create_cart")
    expect(first).to_contain_text("HTTP 201")
    expect(first).to_contain_text("POST")
    expect(first).to_contain_text("http://sut.local/cart")
    expect(first).to_contain_text("content-type")
    expect(first).to_contain_text('"retry_count": 1')
    expect(first).to_contain_text("showing 16,000 of")  # a 2 MB body is cut for display
    body = first.get_by_test_id("step-body").inner_text()
    assert len(body) <= 16_000

    second = steps.nth(1)
    expect(second.locator("tbody tr")).to_have_count(2)  # wait attempts
    expect(second).to_contain_text("not met")
    check = second.get_by_test_id("assertion")
    expect(check).to_contain_text("status is 200")
    expect(check).to_contain_text("expected 200, got 500")
    expect(check).to_contain_text("500")
    assert page.evaluate("window.pwned") is None


def test_unknown_instance_says_so(app, page: Page) -> None:
    run = open_run(app.runs_dir)
    run.write_batch(instances=[instance(1)])
    page.goto(app.url(f"/runs/{run.run_id}/instances/nope"))
    expect(page.get_by_text("No instance")).to_be_visible(timeout=LOAD_TIMEOUT)
    expect(page.get_by_role("link", name=run.run_id)).to_have_attribute("href", f"/runs/{run.run_id}")
