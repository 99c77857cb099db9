"""Client-side liveness: the connection indicator and durations that tick without the server.

Ticking happens in the browser under ONE pooled moment timer per provider, so
a table of running runs costs no server traffic per second. While the Reflex
socket is down the pool is parked and the ticking text greys out: the page
never shows progress it has not been told about.
"""

from __future__ import annotations

import reflex as rx
from reflex_base.components.component import field
from reflex_base.vars.base import Var
from reflex_base.vars.function import ArgsFunctionOperation
from reflex_components_core.core.banner import connect_error_var_data, has_connection_errors
from reflex_components_moment.moment import Moment

from windtunnel_dash.components.status import pill
from windtunnel_dash.format import DURATION_FORMAT

TICK_MS = 1000
# Relative times ("3 minutes ago") change at most once a minute: re-render them every 10 s
# of the pool's ticks, not every second (each render re-formats the date and its title).
RELATIVE_TICK_MS = 10_000
# react-moment's pool has no pause: interval 0 would spin, so offline it waits
# setInterval's longest delay (~24.8 days) and resumes when the interval changes back.
_PARKED_MS = 2**31 - 1
# Hover text for relative times: local wall clock with its UTC offset.
ABSOLUTE_TIME_FORMAT = "ddd D MMM YYYY, HH:mm:ss [UTC]Z"
COUNTDOWN_TICK_MS = 250  # the seconds left change on time, give or take a quarter second
# A blip reconnects within a couple of attempts (~1.5 s of the schedule); this many failures in a
# row means the server is away: "Offline" instead of "Reconnecting".
OFFLINE_AFTER_FAILURES = 3
REFLEX_OVERLAY = (5, "Overlay")  # reflex/app.py App.app_wraps: connection_pulser() + connection_toaster()

# Reflex keeps the socket's recent failures (last 10, cleared on connect) in `connectErrors`; the
# reconnect plugin (windtunnel_dash/reconnect.py) leaves the next attempt's time on each one.
next_attempt_at = Var(
    _js_expr="(connectErrors.at(-1)?.retryAt ?? 0)", _var_data=connect_error_var_data
).to(int)
is_offline = Var(
    _js_expr=f"(connectErrors.length >= {OFFLINE_AFTER_FAILURES})", _var_data=connect_error_var_data
).to(bool)


class _BundledMoment(Moment):
    """rx.moment imported with the page instead of client-only, and taking epoch milliseconds.

    Reflex renders Moment client-only: each instance dynamic-imports react-moment in an
    effect and renders twice, so a list of 100 runs paid ~100 import look-ups and a second
    render pass before any Started time showed. The moment provider already bundles
    react-moment, so a plain import costs nothing extra. A number date skips moment's
    ISO-string parsing, which react-moment repeats for the text, the title and the
    datetime attribute on every render.
    """

    date: rx.Var[int | str] = field(doc="Epoch milliseconds or an ISO-8601 string.")

    def _get_imports(self):
        return rx.Component._get_imports(self)

    def _get_dynamic_imports(self) -> None:
        return None


def offline_class(extra: str = "") -> rx.Var[str]:
    """`extra` plus `wt-offline` while disconnected; greys every `.wt-ticking` inside."""
    return rx.cond(has_connection_errors, f"{extra} wt-offline".strip(), extra)


def tick_provider(*children: rx.Component, **props) -> rx.Component:
    """One shared 1 s timer for every moment inside (relative times and ticking durations)."""
    return rx.moment_provider(
        *children,
        pool=True,
        interval=rx.cond(has_connection_errors, _PARKED_MS, TICK_MS),
        **props,
    )


def ticking_duration(started: rx.Var[int] | rx.Var[str] | str) -> rx.Component:
    """Elapsed time since `started` (epoch ms or ISO UTC), formatted like `format.format_duration`."""
    return _BundledMoment.create(
        date=started,
        duration_from_now=True,
        format=DURATION_FORMAT,
        trim="large",
        class_name="wt-ticking wt-duration",
    )


def relative_time(when: rx.Var[int] | rx.Var[str] | str) -> rx.Component:
    """'3 minutes ago' for `when` (epoch ms or ISO UTC), with the absolute local time on hover."""
    return _BundledMoment.create(
        date=when,
        from_now=True,
        interval=RELATIVE_TICK_MS,
        with_title=True,
        title_format=ABSOLUTE_TIME_FORMAT,
        class_name="wt-ticking",
    )


def _countdown() -> rx.Component:
    """Whole seconds until the next attempt, ticking in the browser (the server is away, after all).

    With no `date`, react-moment's diff is now − `next_attempt_at`, recomputed at each tick;
    the filter turns that into the seconds left. A provider of its own without a pool: the
    page's pooled timer is parked while the socket is down.
    """
    seconds_left = ArgsFunctionOperation.create(("s",), Var("Math.max(0, Math.ceil(-s))"))
    return rx.moment_provider(
        _BundledMoment.create(
            diff=next_attempt_at.to(str),
            unit="seconds",
            decimal=True,
            interval=COUNTDOWN_TICK_MS,
            filters=Var.create([seconds_left]).to(list),
            element="span",
            class_name="wt-countdown-seconds",
        ),
        pool=False,
    )


def _reconnect_now() -> rx.Component:
    # Reflex reconnects at once before sending any event the user triggers (ensureSocketConnected),
    # so the click itself is the attempt, and an attempt ahead of schedule restarts the backoff
    # (windtunnel_dash/reconnect.py). The event is a no-op: it waits in Reflex's queue until connected.
    return rx.button(
        rx.icon("refresh-cw", size=12),
        "Reconnect now",
        size="1",
        variant="soft",
        color_scheme="gray",
        on_click=rx.noop(),
        custom_attrs={"data-testid": "reconnect-now"},
    )


def connection_indicator() -> rx.Component:
    """Live; reconnecting (a blip); offline (OFFLINE_AFTER_FAILURES attempts failed in a row).

    While down it counts down to the next attempt and offers to try now. Reflex's own connection
    toast and pulser are dropped (`drop_reflex_connection_overlay`), so this is the one message.
    """
    # Screen readers hear the state when it changes, not the countdown ticking beside it.
    said = rx.el.span(
        rx.cond(has_connection_errors, rx.cond(is_offline, "Offline", "Reconnecting"), "Connected"),
        class_name="wt-sr-only",
        role="status",
    )
    return rx.fragment(said, _indicator())


def _indicator() -> rx.Component:
    return rx.cond(
        has_connection_errors,
        rx.hstack(
            rx.cond(
                is_offline,
                pill(rx.icon("wifi-off", size=12), "Offline", "red", connection="offline"),
                pill(rx.icon("refresh-cw", size=12), "Reconnecting", "amber", connection="reconnecting"),
            ),
            rx.cond(
                next_attempt_at > 0,
                rx.el.span(
                    "next attempt in ",
                    _countdown(),
                    " s",
                    class_name="wt-countdown",
                    custom_attrs={"data-testid": "reconnect-countdown"},
                    style={"font_variant_numeric": "tabular-nums", "color": "var(--gray-11)",
                           "font_size": "var(--font-size-1)", "white_space": "nowrap"},
                ),
            ),
            _reconnect_now(),
            spacing="2",
            align="center",
        ),
        pill(rx.el.span(class_name="wt-live-dot"), "Live", "green", connection="live"),
    )


def drop_reflex_connection_overlay(app: rx.App) -> None:
    """Remove Reflex's connection pulser and "Cannot connect to server" toast: one message, not two."""
    if app.app_wraps.pop(REFLEX_OVERLAY, None) is None:
        raise RuntimeError(f"Reflex no longer wraps apps in {REFLEX_OVERLAY}: check its connection toast")
