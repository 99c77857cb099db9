"""Display-ready views of one instance's steps: HTTP exchange, wait attempts, turbulence, assertions.

Observations are free-form JSON written by the runner, possibly megabytes of
body: everything is turned into bounded text here, so the page state stays
small and the browser renders strings (never markup) from the files.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from windtunnel_dash.artifacts.records import as_num
from windtunnel_dash.catalog.rows import AssertionRow, StepDetail
from windtunnel_dash.format import format_duration

BODY_LIMIT = 16_000  # characters of a body shown; the rest is summarised, not sent
FIELD_LIMIT = 2_000  # headers, expected/actual values, turbulence


@dataclasses.dataclass
class AttemptView:
    number: str
    status_code: str
    latency: str
    outcome: str  # "ok", "condition met", "not met", or the error text


@dataclasses.dataclass
class AssertionView:
    name: str
    passed: bool
    expected: str
    actual: str
    message: str


@dataclasses.dataclass
class StepView:
    index: int
    name: str
    type: str
    ok: str  # "ok" | "failed" | "" (unknown)
    method: str
    url: str
    status_code: str
    latency: str
    headers: str
    body: str
    body_note: str  # "" or "showing 16,000 of 3,145,728 characters"
    errors: str
    attempts: list[AttemptView]
    turbulence: str
    assertions: list[AssertionView]


def as_text(value: Any, limit: int) -> tuple[str, str]:
    """(text, note): JSON-ish values pretty-printed, cut at `limit` characters with a note saying so."""
    if value is None:
        return "", ""
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) <= limit:
        return text, ""
    return text[:limit], f"showing {limit:,} of {len(text):,} characters"


def _short(value: Any) -> str:
    return as_text(value, FIELD_LIMIT)[0]


def _request_field(obs: dict[str, Any], key: str) -> str:
    """Method/URL are not in every runner's observation: look in the usual places."""
    for holder in (obs, obs.get("request"), obs.get("metadata")):
        if isinstance(holder, dict) and holder.get(key) not in (None, ""):
            return str(holder[key])
    return ""


def _attempt(a: Any, position: int) -> AttemptView:
    if not isinstance(a, dict):
        return AttemptView(str(position), "", "", _short(a))
    number = a.get("attempt_number", a.get("attempt", position))
    if a.get("error"):
        outcome = str(a["error"])[:300]
    elif "condition_met" in a:
        outcome = "condition met" if a["condition_met"] else "not met"
    else:
        outcome = "ok" if a.get("ok", True) else "failed"
    code = a.get("status_code")
    latency = format_duration(as_num(a.get("latency_ms")), sub_second=True)
    return AttemptView(str(number), "" if code is None else str(code), latency, outcome)


def _assertion(a: AssertionRow) -> AssertionView:
    return AssertionView(
        name=a.assertion_name or "",
        passed=a.passed is True,
        expected=_short(a.expected),
        actual=_short(a.actual),
        message=(a.message or "")[:FIELD_LIMIT],
    )


def step_view(step: StepDetail) -> StepView:
    obs = step.observation if isinstance(step.observation, dict) else {"value": step.observation}
    body, body_note = as_text(obs.get("body"), BODY_LIMIT)
    errors = obs.get("errors")
    attempts = obs.get("attempts")
    if not isinstance(attempts, list):
        attempts = []
    code = obs.get("status_code")
    ok = obs.get("ok")
    return StepView(
        index=step.step_index,
        name=step.step_name or "",
        type=step.step_type or "",
        ok="ok" if ok is True else "failed" if ok is False else "",
        method=_request_field(obs, "method"),
        url=_request_field(obs, "url"),
        status_code="" if code is None else str(code),
        latency=format_duration(as_num(obs.get("latency_ms")), sub_second=True),
        headers=_short(obs.get("headers") or None),
        body=body,
        body_note=body_note,
        errors=_short(errors) if errors else "",
        attempts=[_attempt(a, i + 1) for i, a in enumerate(attempts[:50])],
        turbulence=_short(obs.get("turbulence")),
        assertions=[_assertion(a) for a in step.assertions],
    )
