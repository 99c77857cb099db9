"""Reconnect with exponential backoff and jitter: a Reflex plugin that edits one expression of utils/state.js.

Reflex's client retries a lost socket after `200 ms × failed attempts` (at most 2 s, no jitter), so
after a server restart every open dashboard retries in lock-step every 2 s. There is no setting for
it, and docs/design.md §6 forbids hand-written JS files, so this plugin replaces the delay expression
of `retryConnect` in the generated file (docs/reflex.md §4) with one that:

- doubles from FIRST_DELAY_MS to MAX_DELAY_MS, each delay multiplied by a random factor in
  [0.5, 1.5), so clients that lost the same server spread out;
- starts the schedule over when an attempt fails ahead of its scheduled time: that attempt was
  asked for ("Reconnect now", or any click, which makes Reflex reconnect at once);
- records when the next attempt is due (`retryAt`, epoch ms) on the error Reflex keeps in its
  `connectErrors` state, which is how the page's countdown learns it (components/live.py).

A successful connect already resets Reflex's `failed_attempts`. The edit is checked against the
exact `retryConnect` it was written for: when a Reflex upgrade changes it, the build fails here
(and tests/unit/test_reconnect.py fails) instead of reconnecting wrongly or not at all.
"""

from __future__ import annotations

import reflex as rx

STATE_JS = "utils/state.js"  # relative to the web dir
FIRST_DELAY_MS = 500
MAX_DELAY_MS = 30_000
JITTER = (0.5, 1.5)  # each delay is multiplied by a factor drawn uniformly from this range
# An attempt failing more than this ahead of its scheduled time was not the timer's (timers never fire early;
# the margin covers the two clocks, Date.now() and the timer's, disagreeing by a millisecond or two).
EARLY_MS = 50

# Reflex 0.10.1's retryConnect, exactly: the edit relies on `error` being the object appended to
# connectErrors, on `failed_attempts` (capped at 10: more than the 7 steps to MAX_DELAY_MS), and on
# `socket.current` being the socket that `rx.call_script` sees as `socket`.
RETRY_CONNECT = """\
  const retryConnect = (error) => {
    socket.current.wait_connect = false;
    failed_attempts = Math.min(failed_attempts + 1, 10);
    setConnectErrors((connectErrors) => [...connectErrors.slice(-9), error]);
    window.clearTimeout(retry_timer);
    retry_timer = window.setTimeout(() => {
      retry_timer = undefined;
      if (socket.current && !socket.current.connected) {
        socket.current.reconnect();
      }
    }, 200 * failed_attempts); // Incremental backoff
  };
"""
LINEAR_DELAY = "200 * failed_attempts"
BACKOFF_DELAY = (
    f"(failed_attempts = Date.now() < (socket.current.wtRetryAt ?? 0) - {EARLY_MS} ? 1 : failed_attempts, "
    f"error.retryAt = socket.current.wtRetryAt = Date.now() + (error.retryDelay = "
    f"Math.min({MAX_DELAY_MS}, {FIRST_DELAY_MS} * 2 ** (failed_attempts - 1)) "
    f"* ({JITTER[0]} + {JITTER[1] - JITTER[0]} * Math.random())), error.retryDelay)"
)


class ReflexTemplateChanged(RuntimeError):
    """The generated state.js no longer holds the code the backoff edit was written against."""


def with_backoff(source: str) -> str:
    """`source` (utils/state.js) with retryConnect's delay replaced; unchanged if already edited."""
    edited_function = RETRY_CONNECT.replace(LINEAR_DELAY, BACKOFF_DELAY)
    if source.count(edited_function) == 1:
        return source  # a web dir compiled before keeps its edited copy
    if source.count(RETRY_CONNECT) != 1:
        raise ReflexTemplateChanged(
            f"{STATE_JS} no longer contains Reflex 0.10.1's retryConnect exactly once: "
            "re-check windtunnel_dash/reconnect.py against the new template before upgrading Reflex"
        )
    return source.replace(RETRY_CONNECT, edited_function)


class ReconnectBackoffPlugin(rx.plugins.Plugin):
    """Registered in rxconfig.py; runs at every compile."""

    def pre_compile(self, **context) -> None:
        context["add_modify_task"](STATE_JS, with_backoff)
