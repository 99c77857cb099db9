"""The run detail page's cadence (state/cadence.py): every rule issue 13's rates rely on, without a clock."""

from __future__ import annotations

import math

import pytest

from windtunnel_dash.state.cadence import QUIET_INTERVALS, DetailCadence

INTERVAL = 1 / 9.5  # the hub's page cap (Settings.max_updates_per_s)


def cadence(**kwargs) -> DetailCadence:
    return DetailCadence(INTERVAL, page_size=50, failures_shown=10, **{"refresh_at": 0.0, **kwargs})


def test_an_isolated_batch_is_not_back_to_back_and_its_rows_go_with_it() -> None:
    """Also a big batch after a stall: it came long after the last, so its rows never wait."""
    c = cadence()
    assert c.batch_came(10.0) is False
    assert c.rows_due(10.0, batch=True, back_to_back=False, flood=True)  # even a page of rows: nothing to wait for
    assert c.batch_came(11.0) is False  # a second later: still isolated


def test_batches_within_one_and_a_half_intervals_are_back_to_back() -> None:
    c = cadence()
    c.batch_came(10.0)
    assert c.batch_came(10.0 + INTERVAL) is True
    assert c.batch_came(10.0 + INTERVAL + QUIET_INTERVALS * INTERVAL + 0.001) is False


@pytest.mark.parametrize(("rows", "failures", "floods"), [
    (1, 0, False), (11, 2, False),  # 100/s: about ten rows a batch, one or two failures
    (14, 9, False), (15, 0, True),  # 30% of the grid: about 150 results a second
    (0, 10, True),  # every failure shown replaced
    (500, 75, True),  # 5,000/s
])
def test_a_batch_floods_when_it_replaces_much_of_a_list(rows: int, failures: int, floods: bool) -> None:
    assert cadence().floods(rows, failures) is floods


def test_back_to_back_batches_that_do_not_flood_take_their_rows_with_them() -> None:
    c = cadence()
    c.rows_sent(10.0)
    assert c.rows_due(10.05, batch=True, back_to_back=True, flood=False)


def test_back_to_back_floods_send_rows_at_most_every_rows_every_s_and_counts_still_go() -> None:
    c = cadence()
    c.rows_sent(10.0)
    assert not c.rows_due(10.1, batch=True, back_to_back=True, flood=True)
    assert not c.rows_due(10.39, batch=True, back_to_back=True, flood=True)
    assert c.rows_due(10.4, batch=True, back_to_back=True, flood=True)
    assert c.rows_due(10.1, batch=False, back_to_back=False, flood=False)  # no batch: the held rows' own delta


def test_the_wait_ends_when_held_rows_may_go() -> None:
    c = cadence()
    assert c.wait_s(10.0, refresh_pending=False, rows_held=False) == c.heartbeat_s
    assert c.wait_s(10.0, refresh_pending=True, rows_held=False) == 0.3
    c.rows_sent(10.0)
    c.batch_came(10.1)
    # held rows: once batches stop coming back to back, and no sooner than rows_every_s after the last rows
    assert c.wait_s(10.1, refresh_pending=False, rows_held=True) == pytest.approx(0.3)
    c.batch_came(10.35)
    assert c.wait_s(10.35, refresh_pending=False, rows_held=True) == pytest.approx(QUIET_INTERVALS * INTERVAL)
    assert c.wait_s(11.0, refresh_pending=False, rows_held=True) == 0.01  # overdue: at once


def test_refreshes_come_after_a_batch_once_a_second_or_every_heartbeat_alternating_charts() -> None:
    c = cadence()
    assert c.refresh_due(0.5, batch=True) is None
    assert c.refresh_due(1.0, batch=True) == "timeline"
    assert c.refresh_due(1.5, batch=True) is None
    assert c.refresh_due(2.0, batch=False) is None  # no batch: only the heartbeat
    assert c.refresh_due(6.0, batch=False) == "latency"
    assert c.refresh_due(7.0, batch=True) == "timeline"


def test_slow_reads_space_the_refreshes() -> None:
    c = cadence()
    c.refresh_read(0.3)  # a 0.3 s scan: at most a tenth of the time
    assert c.refresh_due(2.0, batch=True) is None
    assert c.refresh_due(3.0, batch=True) is not None
    c.refresh_read(0.01)
    assert c.refresh_every == c.refresh_every_s


def simulate(rate: float, seconds: float = 20.0) -> list[tuple[float, float]]:
    """Lines at `rate`/s through the hub's leading-edge cap and this cadence, as `_stream` drives it.
    Returns (written at, waited for its rows) for every line, in seconds."""
    c = cadence(refresh_at=-math.inf)
    lines = [n / rate for n in range(int(rate * seconds))]
    out, pending, held, now, last_delivery, i = [], [], [], 0.0, -math.inf, 0
    while i < len(lines) or held:
        next_line = lines[i] if i < len(lines) else math.inf
        deliver_at = max(next_line, last_delivery + INTERVAL) if not pending else max(now, last_delivery + INTERVAL)
        wake = now + c.wait_s(now, refresh_pending=False, rows_held=bool(held))
        if next_line <= min(deliver_at, wake) and i < len(lines):
            pending.append(lines[i])
            i += 1
            now = max(now, next_line)
            continue
        if pending and deliver_at <= wake:
            now, last_delivery = deliver_at, deliver_at
            batch, pending = pending, []
            back_to_back = c.batch_came(now)
            held += batch
            due = c.rows_due(now, batch=True, back_to_back=back_to_back,
                             flood=c.floods(min(len(batch), 50), int(0.15 * len(batch))))
        else:
            now = wake
            due = True
        if due and held:
            out += [(t, now - t) for t in held]
            held = []
            c.rows_sent(now)
    return out


@pytest.mark.parametrize("rate", [1, 10, 30, 100])
def test_up_to_100_a_second_rows_wait_only_for_the_cap(rate: float) -> None:
    """The floor a 10/s cap allows: a line waits at most one interval for its row."""
    assert max(waited for _, waited in simulate(rate)) <= INTERVAL + 1e-9


@pytest.mark.parametrize("rate", [1, 10, 30, 100, 300, 1000, 5000])
def test_no_rate_builds_up_lag(rate: float) -> None:
    waits = simulate(rate)
    first = max(w for t, w in waits if t < 5)
    last = max(w for t, w in waits if t >= 15)
    assert last <= first + 0.001  # the last 5 s no worse than the first (float sums aside)
    assert max(w for _, w in waits) <= 0.4 + INTERVAL  # never more than the row cadence plus one interval
