"""SharedReads: one read in a thread serves every caller of the same key while fresh."""

from __future__ import annotations

import asyncio
import threading

import pytest

from windtunnel_dash.state.shared_reads import SharedReads


def test_callers_of_one_key_share_a_read_in_flight_and_while_fresh() -> None:
    async def main() -> None:
        reads: SharedReads[str, int] = SharedReads(fresh_s=60)
        calls, release = [], threading.Event()

        def read() -> int:
            calls.append(1)
            release.wait(5)
            return len(calls)

        first = [asyncio.create_task(reads.get("run", read)) for _ in range(5)]
        await asyncio.sleep(0.01)
        release.set()
        assert await asyncio.gather(*first) == [1] * 5
        assert await reads.get("run", read) == 1  # still fresh: no new read
        assert await reads.get("other", read) == 2  # another key reads on its own
        assert len(calls) == 2
    asyncio.run(main())


def test_a_stale_or_failed_read_is_read_again() -> None:
    async def main() -> None:
        reads: SharedReads[str, int] = SharedReads(fresh_s=0)
        results = iter([ValueError("catalog busy"), 1, 2])

        def read() -> int:
            value = next(results)
            if isinstance(value, Exception):
                raise value
            return value

        with pytest.raises(ValueError):
            await reads.get("run", read)
        assert await reads.get("run", read) == 1  # the failure was not kept
        assert await reads.get("run", read) == 2  # fresh_s 0: every call reads
    asyncio.run(main())


def test_a_cancelled_caller_leaves_the_read_to_the_others() -> None:
    async def main() -> None:
        reads: SharedReads[str, str] = SharedReads(fresh_s=60)
        release = threading.Event()

        def read() -> str:
            release.wait(5)
            return "charts"

        gone, staying = asyncio.create_task(reads.get("run", read)), asyncio.create_task(reads.get("run", read))
        await asyncio.sleep(0.01)
        gone.cancel()
        release.set()
        assert await staying == "charts"
        assert gone.cancelled()
    asyncio.run(main())
