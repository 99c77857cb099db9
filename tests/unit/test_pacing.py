"""Paced: the latest value, at most one release per interval, leading edge (docs/design.md §4 "Cadence")."""

from __future__ import annotations

from windtunnel_dash.pipeline.pacing import Paced


def test_an_isolated_value_goes_at_once() -> None:
    paced: Paced[int] = Paced(0.1)
    assert paced.offer(1, now=10.0) == 1
    assert paced.due_in(10.0) is None  # nothing held
    assert paced.offer(2, now=10.5) == 2


def test_a_value_too_soon_is_held_and_replaced_by_a_later_one() -> None:
    paced: Paced[int] = Paced(0.1)
    paced.offer(1, now=0.0)
    assert paced.offer(2, now=0.03) is None
    assert paced.offer(3, now=0.06) is None
    assert paced.due_in(0.06) == 0.1 - 0.06
    assert paced.take(0.09) is None
    assert paced.take(0.1) == 3  # the latest, once the interval has passed
    assert paced.take(0.5) is None  # released once


def test_releases_are_at_least_an_interval_apart_at_any_rate() -> None:
    paced: Paced[int] = Paced(0.1)
    released = []
    for tick in range(1000):  # a value every millisecond for a second
        now = tick / 1000
        if paced.offer(tick, now) is not None:
            released.append(now)
    assert len(released) == 10
    assert all(b - a >= 0.1 - 1e-9 for a, b in zip(released, released[1:], strict=False))


def test_no_interval_lets_everything_through() -> None:
    paced: Paced[int] = Paced(0.0)
    assert [paced.offer(n, now=1.0) for n in range(3)] == [0, 1, 2]
