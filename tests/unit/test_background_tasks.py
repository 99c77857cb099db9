"""The background task count: it goes up while a handler runs and back down however it ends, and no
background handler of the app's states escapes it (else /api/health would report 0 while one leaks)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import reflex as rx

from windtunnel_dash.background_tasks import background_tasks, counted


def test_counts_while_running_and_after_return_error_or_cancel() -> None:
    async def scenario() -> None:
        inside = asyncio.Event()
        release = asyncio.Event()

        @counted
        async def task(fail: bool = False) -> str:
            inside.set()
            await release.wait()
            if fail:
                raise ValueError("boom")
            return "done"

        before = background_tasks.running()
        for outcome in ("return", "raise", "cancel"):
            inside.clear()
            release.clear()
            running = asyncio.create_task(task(fail=outcome == "raise"))
            await inside.wait()
            assert background_tasks.running() == before + 1
            if outcome == "cancel":
                running.cancel()
            else:
                release.set()
            expected = {"return": contextlib.nullcontext(), "raise": pytest.raises(ValueError),
                        "cancel": pytest.raises(asyncio.CancelledError)}[outcome]
            with expected:
                assert await running == "done"
            assert background_tasks.running() == before

    asyncio.run(scenario())


def test_only_async_handlers_can_be_counted() -> None:
    with pytest.raises(TypeError):
        counted(lambda self: None)  # type: ignore[arg-type]


def _all_states(cls: type[rx.State]) -> list[type[rx.State]]:
    return [cls, *(s for sub in cls.get_substates() for s in _all_states(sub))]


def test_every_background_handler_of_the_app_is_counted() -> None:
    import windtunnel_dash.windtunnel_dash  # noqa: F401  (registers the pages' states)

    background = [
        (state.__name__, name, handler)
        for state in _all_states(rx.State)
        if state.__module__.startswith("windtunnel_dash.")
        for name, handler in state.event_handlers.items()
        if handler.is_background
    ]
    assert {(s, n) for s, n, _ in background} >= {("RunListState", "follow"), ("RunDetailState", "follow")}
    missed = [f"{s}.{n}" for s, n, h in background if not getattr(h.fn, "counted", False)]
    assert missed == [], f"wrap these in @counted (windtunnel_dash/background_tasks.py): {missed}"
