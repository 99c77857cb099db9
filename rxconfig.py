"""Reflex configuration: offline, quiet, explicit about plugins so start-up prints no deprecation warnings,
and using the project's own bun, so a plain `reflex run` works after `make setup`."""

from pathlib import Path

import reflex as rx

from windtunnel_dash.reconnect import ReconnectBackoffPlugin  # exponential backoff with jitter for the socket

# The bun `make setup` installs into tools/: a plain `reflex run` uses it instead of downloading its own
# (docs/reflex.md §8). Before set-up there is none, and Reflex falls back to its usual search.
PROJECT_BUN = Path(__file__).resolve().parent / "tools" / "node_modules" / ".bin" / "bun"

config = rx.Config(
    app_name="windtunnel_dash",
    telemetry_enabled=False,
    **({"bun_path": PROJECT_BUN} if PROJECT_BUN.exists() else {}),
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
