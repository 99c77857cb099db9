"""Forget the Reflex state of tabs that closed, instead of holding it for an hour.

Reflex keeps every token's state in the process until it has been idle for
`redis_token_expiration` (3600 s), whether or not its tab still exists: 200 run pages
opened and closed held ~30 MB (bench/open_close.py). A token whose socket has been
gone for GRACE_S is dropped here. Nothing is lost if the tab was only away: a
reconnecting client always re-hydrates in full and runs the page's on_load again
(docs/reflex.md §4), and Reflex re-hydrates a token whose state it no longer has.

Only the in-process state managers (disk, the default; memory) hold states here;
Redis expires its own keys. This uses the managers' `states` and `_purge_token`, which
tests/unit/test_closed_tabs.py pins against the installed Reflex.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import reflex as rx
from reflex.istate.manager.disk import StateManagerDisk
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken

log = logging.getLogger(__name__)

GRACE_S = 30.0  # a socket gone this long is a closed tab (or one that will re-hydrate when it returns)
SWEEP_S = 5.0


class ClosedTabs:
    """Which client tokens with a state have had no socket, and since when."""

    def __init__(self, grace_s: float = GRACE_S) -> None:
        self.grace_s = grace_s
        self._gone_since: dict[str, float] = {}

    def due(self, held: set[str], connected: set[str], now: float) -> list[str]:
        """Tokens of `held` (states in memory) to forget: not in `connected` for `grace_s` by `now`."""
        for token in list(self._gone_since):
            if token in connected or token not in held:
                del self._gone_since[token]
        for token in held - connected:
            self._gone_since.setdefault(token, now)
        due = [token for token, since in self._gone_since.items() if now - since >= self.grace_s]
        for token in due:
            del self._gone_since[token]
        return due


def _client_tokens(keys: set[str]) -> set[str]:
    """Reflex client tokens are UUIDs; other keys (shared states, `ident/cls` tokens) are left alone."""
    tokens = set()
    for key in keys:
        try:
            uuid.UUID(key)
        except ValueError:
            continue
        tokens.add(key)
    return tokens


def forget(manager: StateManagerDisk | StateManagerMemory, tokens: list[str]) -> int:
    """Drop the states of `tokens` that no event is using right now; returns how many were dropped."""
    dropped = 0
    for ident in tokens:
        token = BaseStateToken(ident=ident, cls=rx.State)
        lock = manager._states_locks.get(token.lock_key)
        if ident in manager.states and not (lock is not None and lock.locked()):
            manager._purge_token(token)
            dropped += 1
    return dropped


async def forget_closed_tabs(app: rx.App) -> None:
    """Lifespan task: every SWEEP_S, drop the states of tokens whose socket has been gone GRACE_S."""
    closed = ClosedTabs()
    while True:
        await asyncio.sleep(SWEEP_S)
        manager, namespace = app.state_manager, app.event_namespace
        if not isinstance(manager, (StateManagerDisk, StateManagerMemory)):
            return
        if namespace is None:
            continue
        held = _client_tokens(set(manager.states))
        due = closed.due(held, set(namespace.token_to_sid), time.monotonic())
        if due and (dropped := forget(manager, due)):
            log.debug("forgot the states of %d closed tabs", dropped)
