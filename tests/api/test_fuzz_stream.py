"""WS /api/runs/{id}/stream under Hypothesis: any run id, any query string (issue #20, docs/design.md §5).

Every connection must end in a documented close code (1000 after run_complete; 4400, 4404, 4409
after an `error` message carrying the same code), and leave nothing behind: the counts /api/health
reports (live subscribers, background tasks) return to where they were before the connection opened.
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.api.test_fuzz_rest import NAMED_RUNS

pytestmark = pytest.mark.usefixtures("fixture_runs")

DOCUMENTED_CLOSES = {1000, 4400, 4404, 4409}
HEALTH_COUNTS = ("liveSubscribers", "backgroundTasks")  # open streams and live pages; the pages' running tasks
DEADLINE_S = 20.0

# Ids as a client may write them in the URL: fixture runs, anything percent-encoded, and raw hostile forms.
run_ids = st.one_of(
    st.sampled_from(NAMED_RUNS),
    st.sampled_from(NAMED_RUNS),  # twice: half the connections name a run that exists
    st.text(max_size=300).map(lambda s: quote(s, safe="")),
    st.sampled_from(["..", "../..", "a/b", "%2e%2e", "..%2f..%2fetc", "%00", "a%00b", "%2F", "%5c", "%252e%252e",
                     "run_20240122_001%2F..", "run_20240122_001/..", "\u00e9" * 200, "\n", "a\nb/c"]).map(lambda s: quote(s, safe="/%")),
)
numbers = st.one_of(st.integers(-5, 500), st.integers(), st.integers(2**53 - 2, 2**80), st.integers(max_value=-1)).map(str)
values = st.one_of(
    numbers,
    st.sampled_from(["", "0", "1", "true", "no", "yes", " 1 ", "1e5", "0x10", "+1", "-0", "\u0663", "\u00b2",
                     "\x00", "1\x00", "NaN", "9" * 5000]),
    st.text(max_size=40),
)
junk_keys = st.sampled_from(["Since", "since[]", "", "steps ", "\u00df"]) | st.text(max_size=8)


def encode(known: dict[str, str], extra: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in [*known.items(), *extra])


queries = st.one_of(
    st.builds(encode, st.fixed_dictionaries({}, optional={"since": values, "steps": values, "batch": values}),
              st.lists(st.tuples(junk_keys, values), max_size=2)),
    st.text(max_size=80).map(lambda s: quote(s, safe="=&")),
)


def health_counts(client: httpx.Client) -> dict[str, int]:
    body = client.get("/api/health").json()
    return {k: body[k] for k in HEALTH_COUNTS}


def settle(client: httpx.Client, before: dict[str, int]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while (now := health_counts(client)) != before:
        assert time.monotonic() < deadline, f"health counts stayed at {now}, were {before}"
        time.sleep(0.05)


def read_to_close(url: str) -> tuple[int | None, list[dict]]:
    """Every message until the server closes; the close code (None if the deadline passed first)."""
    messages: list[dict] = []
    deadline = time.monotonic() + DEADLINE_S
    with connect(url, proxy=None, open_timeout=DEADLINE_S, max_size=None) as ws:
        try:
            while time.monotonic() < deadline:
                frame = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
                messages.extend(frame if isinstance(frame, list) else [frame])
        except (ConnectionClosed, TimeoutError):
            pass
        return ws.close_code, messages


def test_any_run_id_and_query_ends_in_a_documented_close(app_server, client):
    before = health_counts(client)

    @settings(max_examples=200, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(run_id=run_ids, query=queries)
    def one_connection(run_id: str, query: str) -> None:
        url = f"{app_server.ws_url}/api/runs/{run_id}/stream" + (f"?{query}" if query else "")
        code, messages = read_to_close(url)
        event(f"close {code}")
        assert code in DOCUMENTED_CLOSES, (url, code, messages[-1:])
        if code == 1000:
            assert messages[-1]["type"] == "run_complete", (url, messages[-1:])
        else:
            assert messages[-1] == {"type": "error", "data": {"message": messages[-1]["data"]["message"],
                                                              "code": code - 4000}}, (url, messages[-1:])
        settle(client, before)

    one_connection()
