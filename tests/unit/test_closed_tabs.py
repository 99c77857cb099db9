"""Closed tabs' states: which tokens are due, and dropping them from Reflex's in-process state managers.

The managers' `states`, `_states_locks` and `_purge_token` are Reflex internals: these tests run them
for real against the installed Reflex, so an upgrade that changes them fails here first.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
import reflex as rx
from reflex.istate.manager.disk import StateManagerDisk
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken

from windtunnel_dash.closed_tabs import ClosedTabs, _client_tokens, forget


def test_a_token_is_due_once_its_socket_has_been_gone_for_the_grace_period() -> None:
    closed = ClosedTabs(grace_s=30)
    held = {"open", "closed", "blip"}
    assert closed.due(held, connected={"open", "blip"}, now=0) == []
    assert closed.due(held, connected={"open"}, now=10) == []  # blip's socket drops at 10
    assert closed.due(held, connected={"open", "blip"}, now=20) == []  # and is back: its clock resets
    assert closed.due(held, connected={"open"}, now=31) == ["closed"]
    assert closed.due(held - {"closed"}, connected={"open"}, now=45) == []
    assert closed.due(held - {"closed"}, connected={"open"}, now=62) == ["blip"]  # gone since 31


def test_only_client_tokens_are_considered() -> None:
    token = str(uuid.uuid4())
    assert _client_tokens({token, "run1", f"{token}/windtunnel_dash.state.SomeShared"}) == {token}


@pytest.mark.parametrize("manager_cls", [StateManagerMemory, StateManagerDisk])
def test_forget_drops_idle_states_and_keeps_those_in_use(manager_cls, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REFLEX_STATES_WORKDIR", str(tmp_path))

    idle, busy = str(uuid.uuid4()), str(uuid.uuid4())

    async def scenario() -> tuple[list[str], int]:
        manager = manager_cls()
        for ident in (idle, busy):
            await manager.get_state(BaseStateToken(ident=ident, cls=rx.State))
        async with manager.modify_state(BaseStateToken(ident=busy, cls=rx.State)):
            dropped = forget(manager, [idle, busy, str(uuid.uuid4())])
        kept = sorted(manager.states)
        await manager.close()
        return kept, dropped

    kept, dropped = asyncio.run(scenario())
    assert (dropped, kept) == (1, [busy])
