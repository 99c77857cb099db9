"""Reflex configuration: offline, quiet, and explicit about plugins so start-up prints no deprecation warnings."""

import reflex as rx

from windtunnel_dash.reconnect import ReconnectBackoffPlugin  # exponential backoff with jitter for the socket

config = rx.Config(
    app_name="windtunnel_dash",
    telemetry_enabled=False,
    # Radix explicitly (implicit enablement is deprecated); appearance "inherit" plus
    # default_color_mode "system" make dark mode follow the operating system. Solid panels:
    # translucent ones put a 64 px backdrop blur behind every card, redrawn in each frame
    # while a run streams (without a GPU that blur was most of the compositor's work).
    plugins=[rx.plugins.RadixThemesPlugin(
        theme=rx.theme(appearance="inherit", accent_color="blue", panel_background="solid"),
    ), ReconnectBackoffPlugin()],
    default_color_mode="system",
    disable_plugins=[rx.plugins.SitemapPlugin],
    show_built_with_reflex=False,
)
