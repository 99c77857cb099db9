"""Leader election and hand-over (docs/design.md §7): one worker ingests; when it dies another takes over, resuming
from the catalog, and workers that do not ingest stay live through the broadcast."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis as redis_client
from sqlalchemy import func, select

from scripts import local_services
from tests.leader_lock import lock_holders
from tests.unit.pipeline_support import (
    append,
    catalog_instances,
    engine_running,
    eventually,
    file_instances,
    instance_line,
    read_seqs,
    settings_for,
    status_of,
    write_manifest,
)
from windtunnel_dash.catalog.database import MetaTable, ensure_schema, make_engine
from windtunnel_dash.pipeline.broadcast import Broadcast
from windtunnel_dash.pipeline.conditions import Conditions
from windtunnel_dash.pipeline.engine import Pipeline
from windtunnel_dash.pipeline.leadership import REDIS_KEY, PostgresLeadership, RedisLeadership


def _terminate_lock_holder(db_url: str) -> None:
    """End the session that holds the leader lock, as a SIGKILLed worker's closed socket does."""
    ended = lock_holders(db_url, "pg_terminate_backend(a.pid)")
    assert ended == [(True,)], ended


def test_postgres_hand_over_follows_the_end_of_the_holders_session(postgres_url: str) -> None:
    async def main() -> None:
        first, second = PostgresLeadership(postgres_url, Conditions()), PostgresLeadership(postgres_url, Conditions())
        await asyncio.wait_for(first.acquire(), 10)
        waiting = asyncio.create_task(second.acquire())
        done, _ = await asyncio.wait({waiting}, timeout=1.0)
        assert not done, "two leaders at once"
        lost = asyncio.create_task(first.hold())
        await asyncio.to_thread(_terminate_lock_holder, postgres_url)
        await asyncio.wait_for(waiting, 5)  # the blocked pg_advisory_lock returns: no polling interval
        await asyncio.wait_for(lost, 5)  # and the former leader knows it lost
        await first.release()
        await second.release()
    asyncio.run(main())


def test_redis_lock_expires_when_its_holder_stops_renewing(redis_server: local_services.Redis) -> None:
    async def main() -> None:
        key, ttl_s = "test-expiry", 2.0  # renewed every ttl_s / 3: a loaded machine's stalls stay well inside it
        first = RedisLeadership(redis_server.url, Conditions(), ttl_s=ttl_s, key=key)
        second = RedisLeadership(redis_server.url, Conditions(), ttl_s=ttl_s, key=key)
        before_first = time.monotonic()  # `first`'s lock is set after this, so it expires ttl_s later at the soonest
        await asyncio.wait_for(first.acquire(), 5)
        await asyncio.wait_for(second.acquire(), 10)  # `first` never renewed (a dead worker): its lock expired
        assert time.monotonic() - before_first >= ttl_s - 0.1, "two leaders at once"  # (Redis counts in ms)
        await asyncio.wait_for(first.hold(), 5)  # a holder that wakes up again finds it lost
        renewed = asyncio.create_task(second.hold())
        done, _ = await asyncio.wait({renewed}, timeout=1.5 * ttl_s)  # past its expiry, renewed all along
        assert not done, "the leader lost a lock it kept renewing"
        renewed.cancel()
        await second.release()
    asyncio.run(main())


def test_workers_starting_together_make_the_schema_once(postgres_url: str) -> None:
    engines = [make_engine(postgres_url, schema=False) for _ in range(6)]
    start, errors = threading.Barrier(len(engines)), []

    def open_catalog(engine) -> None:
        start.wait()
        try:
            ensure_schema(engine)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=open_catalog, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with engines[0].connect() as conn:
        assert conn.execute(select(func.count()).select_from(MetaTable.__table__)).scalar() == 1
    for engine in engines:
        engine.dispose()


@pytest.fixture(params=["postgres", "sqlite+redis"])
def shared_engines(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[dict, Callable[[], None]]:
    """What two workers share (settings overrides), and how to make the current leader lose its lock:
    Postgres ends its lock session (as a SIGKILL closes its socket); Redis loses its key (as an expiry)."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        return {"db_url": url}, lambda: _terminate_lock_holder(url)
    redis = request.getfixturevalue("redis_server")
    client = redis_client.Redis.from_url(redis.url)
    client.delete(REDIS_KEY)
    return ({"db_url": f"sqlite:///{tmp_path / 'shared.db'}", "redis_url": redis.url},
            lambda: client.delete(REDIS_KEY))


@contextlib.asynccontextmanager
async def leader_and_follower(tmp_path: Path, run_dir: Path, shared: dict) -> AsyncIterator[tuple[Pipeline, Pipeline]]:
    """Two workers on one catalog and runs root holding `run_dir`: the first leads, the second knows the run."""
    write_manifest(run_dir)
    async with engine_running(settings_for(tmp_path / "a", run_dir.parent, **shared)) as a:
        await eventually(lambda: a.leading, what="the first worker to lead")
        async with engine_running(settings_for(tmp_path / "b", run_dir.parent, **shared)) as b:
            await eventually(lambda: b.ensure_run(run_dir.name), what="the follower to know the run")
            yield a, b


def test_a_new_leader_resumes_from_the_catalog_and_followers_stay_live(tmp_path: Path, shared_engines) -> None:
    """Two workers on one catalog: one ingests, the other's reader follows through the broadcast (NOTIFY or
    pub/sub); the leader loses its lock mid-run, the other takes over, and the reader still gets every
    instance exactly once."""
    shared, lose_lock = shared_engines

    async def main() -> None:
        run_dir = tmp_path / "runs" / "handover"
        async with leader_and_follower(tmp_path, run_dir, shared) as (a, b):
            assert not b.leading and b.ingesting() == [] and a.ingesting() == ["handover"]
            seen: list[int] = []
            reader = asyncio.create_task(read_seqs(b, "handover", 60, seen, 10))  # on the follower
            for n in range(30):
                append(run_dir / "instances.jsonl", instance_line(n, status=status_of(n)))
                await asyncio.sleep(0.005)
            await eventually(lambda: len(seen) >= 30, what="the follower's reader live through the broadcast")
            await asyncio.to_thread(lose_lock)
            await eventually(lambda: b.leading, timeout=20, what="the other worker to take over")
            for n in range(30, 60):
                append(run_dir / "instances.jsonl", instance_line(n, status=status_of(n)))
            await asyncio.wait_for(reader, 20)
            assert seen == list(range(1, 61))
            assert catalog_instances(b.catalog, "handover") == file_instances(run_dir)
    asyncio.run(main())


def test_a_followers_readers_at_the_head_are_served_from_the_broadcast_without_a_query(
        tmp_path: Path, shared_engines, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each live commit's rows come in the broadcast itself: the follower's reader needs no catalog pull for them."""
    shared, _ = shared_engines

    async def main() -> None:
        run_dir = tmp_path / "runs" / "carried"
        async with leader_and_follower(tmp_path, run_dir, shared) as (_, b):
            async with b.hub.subscribe("carried") as sub:
                await sub.next_batch(10)  # the replay: from the catalog
                pulls: list[int] = []
                changes_since = b.catalog.changes_since
                monkeypatch.setattr(b.catalog, "changes_since",
                                    lambda run_id, cursor, *args: pulls.append(cursor) or changes_since(run_id, cursor, *args))
                seen: list[int] = []
                for n in range(10):
                    append(run_dir / "instances.jsonl", instance_line(n, status=status_of(n)))
                    while len(seen) <= n:  # one line at a time: each commit's own broadcast carries it
                        batch = await sub.next_batch(10)
                        assert batch is not None and batch.run is not None, f"the reader stopped at {seen[-1:]}"
                        seen.extend(i.seq for i in batch.instances)
                    assert batch.run.stats.total == n + 1
                assert seen == list(range(1, 11)) and pulls == []
    asyncio.run(main())


def test_a_leader_that_dies_between_a_commit_and_its_broadcast_leaves_no_reader_behind(tmp_path: Path,
                                                                                      shared_engines) -> None:
    """A SIGKILLed leader can have committed rows it never announced (the broadcast goes out after the commit).
    When the run then goes quiet (its last lines, or a pause), no later commit wakes the other workers:
    whoever takes over announces what the catalog holds, so every worker's readers reach the end."""
    shared, _ = shared_engines

    async def main() -> None:
        root = tmp_path / "runs"
        run_dir = root / "silent"
        write_manifest(run_dir)
        a_running = engine_running(settings_for(tmp_path / "a", root, **shared))
        a = await a_running.__aenter__()
        try:
            await eventually(lambda: a.leading, what="the first worker to lead")
            async with engine_running(settings_for(tmp_path / "b", root, **shared)) as b, \
                    engine_running(settings_for(tmp_path / "c", root, **shared)) as c:
                await eventually(lambda: b.ensure_run("silent"), what="b to know the run")
                await eventually(lambda: c.ensure_run("silent"), what="c to know the run")
                readers: dict[Pipeline, list[int]] = {b: [], c: []}
                tasks = [asyncio.create_task(read_seqs(w, "silent", 60, seen, 30)) for w, seen in readers.items()]
                append(run_dir / "instances.jsonl", b"".join(instance_line(n, status=status_of(n)) for n in range(30)))
                await eventually(lambda: all(len(s) == 30 for s in readers.values()), what="both readers live")

                a.broadcast.send = lambda change: None  # from here on `a` commits and dies without a word
                append(run_dir / "instances.jsonl",
                       b"".join(instance_line(n, status=status_of(n)) for n in range(30, 60)))
                await eventually(lambda: len(catalog_instances(a.catalog, "silent")) == 60,
                                 what="the silent leader's commit")
                await a_running.__aexit__(None, None, None)
                a = None
                await eventually(lambda: b.leading or c.leading, timeout=20, what="another worker to take over")
                await asyncio.wait_for(asyncio.gather(*tasks), 20)
                assert all(seen == list(range(1, 61)) for seen in readers.values())
        finally:
            if a is not None:
                await a_running.__aexit__(None, None, None)
    asyncio.run(main())


def test_a_broadcast_whose_listener_dies_stops_its_sender_too() -> None:
    """The engine restarts a broadcast that died (engine._supervised): nothing of the dead one may go on."""
    class BrokenListener(Broadcast):
        async def _listen(self, on_change, on_resync) -> None:
            raise RuntimeError("the listener broke")

    async def main() -> None:
        async def resync() -> None:
            pass

        with pytest.raises(RuntimeError, match="listener broke"):
            await BrokenListener().run(lambda change: None, resync)
        assert asyncio.all_tasks() == {asyncio.current_task()}, "the sender outlived its listener"
    asyncio.run(main())
