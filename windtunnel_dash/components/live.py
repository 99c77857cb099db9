"""Client-side liveness: the connection indicator and durations that tick without the server.

Ticking happens in the browser under ONE pooled moment timer per provider, so
a table of running runs costs no server traffic per second. While the Reflex
socket is down the pool is parked and the ticking text greys out: the page
never shows progress it has not been told about.
"""

from __future__ import annotations

import reflex as rx
from reflex_base.components.component import field
from reflex_components_core.core.banner import has_connection_errors
from reflex_components_moment.moment import Moment

from windtunnel_dash.components.format import DURATION_FORMAT
from windtunnel_dash.components.status import pill

TICK_MS = 1000
# Relative times ("3 minutes ago") change at most once a minute: re-render them every 10 s
# of the pool's ticks, not every second (each render re-formats the date and its title).
RELATIVE_TICK_MS = 10_000
# react-moment's pool has no pause: interval 0 would spin, so offline it waits
# setInterval's longest delay (~24.8 days) and resumes when the interval changes back.
_PARKED_MS = 2**31 - 1
# Hover text for relative times: local wall clock with its UTC offset.
ABSOLUTE_TIME_FORMAT = "ddd D MMM YYYY, HH:mm:ss [UTC]Z"


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


def connection_indicator() -> rx.Component:
    """'Live' while the Reflex socket is up; 'Offline' and a reconnect button while it is down."""
    return rx.cond(
        has_connection_errors,
        rx.hstack(
            pill(rx.icon("wifi-off", size=12), "Offline — reconnecting", "red", connection="offline"),
            rx.button(
                rx.icon("refresh-cw", size=12),
                "Reconnect now",
                size="1",
                variant="soft",
                color_scheme="gray",
                # No Python API reconnects the socket; Reflex's event loop exposes it as `socket`
                # to call_script (REFLEX_NOTES §4), and any user event also retries the connection.
                on_click=rx.call_script("socket.reconnect && socket.reconnect()"),
            ),
            spacing="2",
            align="center",
        ),
        pill(rx.el.span(class_name="wt-live-dot"), "Live", "green", connection="live"),
    )
