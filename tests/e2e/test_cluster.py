"""Five workers on Postgres and Redis (docs/design.md §7), in real Chromium and over the public stream.

A run is written at 1,000 instances/s. One worker ingests it; halfway through that worker is SIGKILLed.
Another takes the run over within 5 s, and the page and the stream clients, on whichever workers they
landed, still end with every instance exactly once.

Who holds the ingest lock is read from Postgres's own lock table, not from /api/health: a health request
lands on any worker, so finding one pid through it takes a number of tries that grows with the load, and
both the kill (halfway, not after the run ended) and the 5 s hand-over were measured late by that much.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from websockets.exceptions import ConnectionClosed, InvalidMessage

from scripts import local_services
from tests.api.streamclient import StreamReader, stream_url
from tests.app_server import AppServer, running_app
from tests.leader_lock import lock_holders
from tests.polling import until

INSTANCES = 6000
RATE = 1000
WORKERS = 5  # min(2 x cores + 1, 8) on this 2-core machine: docs/reflex.md §6
LOAD_TIMEOUT = 30_000
END_TIMEOUT_S = 90.0
HAND_OVER_S = 5.0  # docs/design.md §7
STREAMS = 3  # stream clients, each on whichever worker takes its connection


@pytest.fixture(scope="module")
def cluster_db(postgres_server: local_services.Postgres) -> str:
    return postgres_server.create_database("cluster_e2e")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, cluster_db: str,
            redis_server: local_services.Redis) -> Iterator[AppServer]:
    with running_app(tmp_path_factory.mktemp("cluster"), name="cluster", WINDTUNNEL_DB_URL=cluster_db,
                     REFLEX_REDIS_URL=redis_server.url, GRANIAN_WORKERS=str(WORKERS)) as server:
        yield server


def _answer(app: AppServer, path: str) -> httpx.Response | None:
    """GET on a new connection, so on whichever worker accepts it; None when that was the worker being killed."""
    try:
        return httpx.get(app.url(path), timeout=5, headers={"Connection": "close"})
    except httpx.TransportError:  # reset: a new connection goes to a live worker
        return None


def _get(app: AppServer, path: str) -> httpx.Response:
    return until(lambda: _answer(app, path), 10, f"an answer to GET {path}")


def _health(app: AppServer) -> dict[str, Any]:
    return _get(app, "/api/health").json()


def _lock_holder(db_url: str) -> int | None:
    """The pid of the worker whose session holds the ingest lock (leadership.py names it by pid), or None."""
    rows = lock_holders(db_url, "a.application_name")
    return int(rows[0][0].split()[2]) if rows else None


def _ingests(app: AppServer, run_id: str, pid: int) -> bool:
    """Did the answering worker say it is `pid` and ingests the run? (False when another worker answered.)"""
    health = _health(app)
    return health["pid"] == pid and run_id in health["ingesting"]


def _total(app: AppServer, run_id: str) -> int:
    response = _get(app, f"/api/runs/{run_id}")
    return response.json()["stats"]["total"] if response.status_code == 200 else 0


class ReconnectingStream:
    """A stream client as a program would write one: when its worker dies it reconnects with `since=`."""

    def __init__(self, app: AppServer, run_id: str) -> None:
        self.seqs: list[int] = []
        self.connections = 0
        self.drops: list[str] = []  # why connections ended before run_complete
        self.completed = threading.Event()
        self.error: BaseException | None = None
        self._url = lambda since: stream_url(app.ws_url, run_id, since=since, batch=1)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._read()), daemon=True)
        self._thread.start()

    async def _read(self) -> None:
        try:
            while not self.completed.is_set():
                try:
                    async with StreamReader.open(self._url(self.seqs[-1] if self.seqs else 0)) as reader:
                        self.connections += 1
                        while (message := await reader.next(60)) is not None:
                            if message["type"] == "instance_complete":
                                self.seqs.append(message["data"]["seq"])
                            elif message["type"] == "run_complete":
                                self.completed.set()
                            elif message["type"] == "error":
                                raise AssertionError(f"the stream answered {message['data']}")
                except (ConnectionClosed, InvalidMessage, OSError) as exc:
                    # Its worker died, before or after answering the handshake (InvalidMessage: the socket
                    # closed before any HTTP response): reconnect where it left off.
                    self.drops.append(repr(exc))
                    await asyncio.sleep(0.2)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            self.completed.set()

    def join(self, timeout: float) -> None:
        self.completed.wait(timeout)
        if self.error is not None:
            raise self.error


def test_a_killed_ingesting_worker_is_replaced_and_every_reader_ends_exact(cluster: AppServer, cluster_db: str,
                                                                          page: Page) -> None:
    pids = until(lambda: len(seen := {_health(cluster)["pid"] for _ in range(40)}) == WORKERS and seen,
                  60, f"{WORKERS} workers answering")
    run_id = cluster.simulate(wait=False, instances=INSTANCES, rate=RATE, fail_rate=0.05)
    until(lambda: _total(cluster, run_id) > 0, 30, "the run's first instances")

    page.goto(cluster.url(f"/runs/{run_id}"))
    expect(page.get_by_test_id("instance-grid")).to_be_visible(timeout=LOAD_TIMEOUT)
    streams = [ReconnectingStream(cluster, run_id) for _ in range(STREAMS)]

    leader = until(lambda: _lock_holder(cluster_db), 20, "the worker that holds the ingest lock")
    assert leader in pids
    until(lambda: _total(cluster, run_id) >= INSTANCES // 2, 60, "half the run")
    os.kill(leader, signal.SIGKILL)
    killed_at = time.monotonic()
    at_kill = _total(cluster, run_id)
    assert at_kill < INSTANCES, "the run was all ingested before the kill: nothing was left to take over"
    successor = until(lambda: (pid := _lock_holder(cluster_db)) not in (None, leader) and pid, HAND_OVER_S,
                      "another worker to take the ingest lock over")
    print(f"hand-over: worker {successor} holds the lock {time.monotonic() - killed_at:.2f} s after {leader} was killed")
    assert successor in pids
    until(lambda: _total(cluster, run_id) > at_kill, 30, "ingest to resume after the kill")

    for stream in streams:
        stream.join(END_TIMEOUT_S)
        assert stream.completed.is_set(), (f"a stream client did not finish (last seq {stream.seqs[-1:]}, "
                                           f"{stream.connections} connections, dropped: {stream.drops[-3:]})")
        assert stream.seqs == list(range(1, INSTANCES + 1))
    print(f"stream clients' connections (2: it was on the killed worker and resumed): {[s.connections for s in streams]}")
    expect(page.get_by_test_id("filter-all-count")).to_have_text(str(INSTANCES), timeout=END_TIMEOUT_S * 1000)
    expect(page.locator("[data-status=complete]").first).to_be_visible(timeout=30_000)
    counts = [int(page.get_by_test_id(f"filter-{k}-count").inner_text()) for k in ("passed", "failed", "errors")]
    assert sum(counts) == INSTANCES
    run = _get(cluster, f"/api/runs/{run_id}").json()
    assert run["stats"]["total"] == INSTANCES and run["status"] in ("complete", "failing")

    until(lambda: _ingests(cluster, run_id, successor), 30, "the new leader to report the run in /api/health")
    answers = [_health(cluster) for _ in range(30)]
    assert {a["pid"] for a in answers if a["ingesting"]} <= {successor}, "more than one worker ingests"
