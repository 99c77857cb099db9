"""The reconnect plugin: pinned to Reflex's template, and its schedule run for real in the project's bun.

The first test is the loud one on a Reflex upgrade: the installed template must still hold the exact
retryConnect the edit was written against. The schedule tests run the edited function itself (cut
from the generated source) under bun with a fake clock, timers and random numbers.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
import reflex_base

from windtunnel_dash.reconnect import (
    BACKOFF_DELAY,
    LINEAR_DELAY,
    RETRY_CONNECT,
    STATE_JS,
    ReconnectBackoffPlugin,
    ReflexTemplateChanged,
    with_backoff,
)

ROOT = Path(__file__).resolve().parents[2]
BUN = ROOT / "tools" / "node_modules" / ".bin" / "bun"
TEMPLATE = Path(reflex_base.__file__).parent / ".templates" / "web" / STATE_JS

# Drives the edited retryConnect: `steps` is a list of [now_ms, random] failures (now_ms null: when the
# last timer fires); each failure reports the delay it scheduled and the retryAt it left on the error.
HARNESS = """
let now = 0, random = 0, delays = [], errors = [];
Date.now = () => now;
Math.random = () => random;
const window = { clearTimeout() {}, setTimeout(fn, ms) { delays.push(ms); return 1; } };
const socket = { current: { wait_connect: true, connected: false } };
const setConnectErrors = (update) => { errors = update(errors); };
let failed_attempts = 0, retry_timer;
%s
const out = [];
for (const [at, r] of %s) {
  now = at ?? errors.at(-1)?.retryAt ?? 0; random = r;
  retryConnect(new Error("websocket error"));
  out.push({at: now, delay: delays.at(-1), retryAt: errors.at(-1).retryAt});
}
console.log(JSON.stringify(out));
"""


def _edited_retry_connect() -> str:
    edited = with_backoff(TEMPLATE.read_text())
    start = edited.index("  const retryConnect")
    return edited[start : edited.index("\n  };\n", start) + 5]


def _run(steps: list[tuple[float | None, float]]) -> list[dict]:
    script = HARNESS % (_edited_retry_connect(), json.dumps(steps))
    result = subprocess.run([str(BUN), "-e", script], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


def test_reflex_template_still_has_the_retry_function_the_edit_replaces() -> None:
    source = TEMPLATE.read_text()
    assert source.count(RETRY_CONNECT) == 1, "Reflex's retryConnect changed: re-check windtunnel_dash/reconnect.py"
    edited = with_backoff(source)
    assert edited.count(BACKOFF_DELAY) == 1
    assert LINEAR_DELAY not in edited
    assert with_backoff(edited) == edited  # a web dir compiled before is left as it is


def test_a_changed_template_fails_the_build() -> None:
    changed = TEMPLATE.read_text().replace(LINEAR_DELAY, "250 * failed_attempts")
    with pytest.raises(ReflexTemplateChanged):
        with_backoff(changed)


def test_the_plugin_is_registered_and_edits_state_js() -> None:
    import rxconfig

    plugins = [p for p in rxconfig.config.plugins if isinstance(p, ReconnectBackoffPlugin)]
    assert len(plugins) == 1
    tasks: list[tuple[str, object]] = []
    plugins[0].pre_compile(add_modify_task=lambda path, fn: tasks.append((path, fn)))
    assert tasks == [(STATE_JS, with_backoff)]


def test_delays_double_from_half_a_second_to_thirty_with_the_random_factor() -> None:
    # Each failure comes when its timer fires (no earlier), with the lowest, middle and highest factors.
    bases = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]
    for random, factor in ((0.0, 0.5), (0.5, 1.0), (0.999, 1.499)):
        out = _run([(None, random)] * len(bases))
        assert [round(o["delay"]) for o in out] == [round(b * factor) for b in bases]
        assert all(o["retryAt"] == o["at"] + o["delay"] for o in out)


def test_an_attempt_ahead_of_schedule_starts_the_schedule_over() -> None:
    # Four failures on schedule (delays 500, 1000, 2000, 4000 at factor 1), then "Reconnect now" 1 s
    # into the 8 s wait: its failure schedules 500 ms again, and the next on-time failure 1000 ms.
    steps = [(0, 0.5), (500, 0.5), (1500, 0.5), (3500, 0.5), (7500, 0.5), (8500, 0.5), (9000, 0.5)]
    delays = [o["delay"] for o in _run(steps)]
    assert delays == [500, 1000, 2000, 4000, 8000, 500, 1000]


def test_the_indicator_reads_reflex_connection_errors_and_replaces_its_toast() -> None:
    from reflex_components_core.core.banner import connect_errors

    from windtunnel_dash.components.live import REFLEX_OVERLAY, next_attempt_at
    from windtunnel_dash.windtunnel_dash import app

    # The indicator's vars name Reflex's `connectErrors` array; the retry time is what the plugin leaves on it.
    assert str(connect_errors) == "connectErrors"
    assert "connectErrors" in str(next_attempt_at) and "retryAt" in BACKOFF_DELAY
    # Reflex's connection toast and pulser live in this app wrap, which the app drops.
    default_wraps = next(f for f in dataclasses.fields(type(app)) if f.name == "app_wraps").default_factory()
    assert REFLEX_OVERLAY in default_wraps
    assert REFLEX_OVERLAY not in app.app_wraps
