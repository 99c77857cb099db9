"""windtunnel_dash: a live dashboard for windtunnel test runs.

Data flows one way: files → pipeline (watcher, tailer) → catalog → hub →
Reflex states and the public API. See docs/design.md for the contract.
"""
