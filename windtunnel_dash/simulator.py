"""A live run simulator: writes realistic windtunnel runs at a chosen rate, for the demo, tests and benches.

Everything an instance does is drawn from one seeded RNG on a *virtual*
timeline (instance i starts at i / rate, or when a concurrency slot frees;
its steps end at seed-drawn offsets). The pacing loop only decides *when*
lines are written: every tick it writes, in one batch per file, all events
whose virtual time has passed on the wall clock, in virtual-time order.
So the same seed gives the same files — ids, outcomes, latencies, bodies,
durations and line order — whatever the machine's speed; timestamps are the
run's start time plus virtual offsets, so pinning `started_at` makes two
runs byte-identical. An instance's steps are written as each ends, and its
instance line last, so an in-flight instance already shows its steps.
"""

from __future__ import annotations

import heapq
import math
import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import orjson

from .artifacts.records import Summary
from .artifacts.sqlite_writer import SqliteRunWriter
from .artifacts.status import ERROR, FAILED, PASSED
from .artifacts.writer import EncodedInstance, RunWriter, encode_line, new_run_id

SCENARIO_NAMES = (
    "checkout-flow", "browse-catalog", "user-signup", "search-products",
    "cancel-order", "apply-coupon", "update-profile", "refund-order",
)
SUT_NAME = "fake-shop-sim"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TICK_S = 0.01  # write at most every 10 ms: batches per tick, not a write per event
MAX_ADMIT_PER_TICK = 5000  # bounds memory when the loop runs behind (or unpaced)
_SERVER = "BaseHTTP/0.6 Python/3.11.7"
_LOCALES = ("en-US", "de-DE", "ja-JP", "fr-FR", "pt-BR")
_SKUS = ("WIDGET-001", "GADGET-042", "SPROCKET-7", "GIZMO-300")
WRITERS: dict[str, type[RunWriter]] = {"jsonl": RunWriter, "sqlite": SqliteRunWriter}


class StopFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Action:
    """One HTTP call a scenario makes, and the assertion that checks it."""

    name: str
    method: str
    path: str
    service: str
    status: int
    assertion: str
    value_path: str | None = None  # assert a body value instead of the status code
    good_value: str | None = None
    bad_value: str | None = None


ACTIONS = (
    Action("create_cart", "POST", "/api/carts", "api", 201, "cart_created"),
    Action("add_item", "POST", "/api/carts/{id}/items", "api", 200, "item_added"),
    Action("get_product", "GET", "/api/products/{sku}", "catalog", 200, "product_found"),
    Action("search_products", "GET", "/api/search?q={sku}", "search", 200, "results_returned"),
    Action("process_payment", "POST", "/payments/charge", "payments", 200, "payment_captured",
           "status", "captured", "declined"),
    Action("create_user", "POST", "/api/users", "accounts", 201, "user_created"),
    Action("get_order", "GET", "/api/orders/{id}", "orders", 200, "order_confirmed",
           "status", "confirmed", "pending"),
)
_PATTERN = ("http", "assert", "http", "wait", "assert")  # a scenario's steps cycle through these


@dataclass(frozen=True, slots=True)
class SimConfig:
    """What to simulate. `concurrency=None` lets the rate alone pace the starts."""

    instances: int = 200
    rate: float = 20.0
    concurrency: int | None = None
    fail_rate: float = 0.1
    error_rate: float = 0.05
    scenarios: tuple[str, ...] = ("checkout-flow",)
    steps: tuple[int, int] = (3, 6)
    seed: int | None = None
    sut_name: str = SUT_NAME
    storage: str = "jsonl"  # or "sqlite": the runner's `--storage sqlite` layout (one turbulence.db)

    def __post_init__(self) -> None:
        lo, hi = self.steps
        if self.instances < 0 or not self.rate > 0 or not 1 <= lo <= hi:
            raise ValueError("need instances >= 0, rate > 0 and a step range 1 <= lo <= hi")
        if self.concurrency is not None and self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not (0 <= self.fail_rate and 0 <= self.error_rate and self.fail_rate + self.error_rate <= 1):
            raise ValueError("fail and error rates must be within 0..1 together")
        if not self.scenarios:
            raise ValueError("at least one scenario")
        if self.storage not in WRITERS:
            raise ValueError(f"storage is one of {', '.join(WRITERS)}")


def scenario_names(spec: str) -> tuple[str, ...]:
    """'3' → three stock names; 'a,b' → those names."""
    spec = spec.strip()
    if spec.isdigit():
        count = int(spec)
        return tuple(SCENARIO_NAMES[k] if k < len(SCENARIO_NAMES) else f"scenario-{k + 1}" for k in range(count))
    return tuple(name.strip() for name in spec.split(",") if name.strip())


def step_range(spec: str) -> tuple[int, int]:
    """'3-6' → (3, 6); '4' → (4, 4)."""
    lo, _, hi = spec.partition("-")
    return int(lo), int(hi or lo)


@dataclass(slots=True)
class _Planned:
    """One instance's lines on the virtual timeline: (seconds, step line or instance, assertion line).

    Lines are encoded as soon as they are drawn: holding bytes, not dicts, while
    they wait for their time keeps the garbage collector out of the hot loop.
    """

    start: float
    end: float
    events: list[tuple[float, bytes | EncodedInstance, bytes | None]] = field(default_factory=list)


class _Planner:
    """Draws instances from the seeded RNG, in index order (that order is what makes a seed reproducible)."""

    def __init__(self, config: SimConfig, seed: int, run_id: str, started_at: datetime) -> None:
        self.config = config
        self.rng = random.Random(seed)
        self.run_id = run_id
        self.origin_us = (started_at.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)
        self.seconds: dict[int, tuple[str, str]] = {}  # whole second → (ISO prefix, HTTP date)
        lo, hi = config.steps
        templates = {name: self._template(hi) for name in config.scenarios}
        # Per scenario and step count: the steps, and where its http and assert steps are (drawn per instance).
        self.prefixes = {
            (name, n): (steps[:n], [k for k, (kind, _) in enumerate(steps[:n]) if kind == "http"],
                        [k for k, (kind, _) in enumerate(steps[:n]) if kind == "assert"])
            for name, steps in templates.items() for n in range(lo, hi + 1)
        }
        self.slots: list[float] = []  # end times of in-flight instances when concurrency is bounded
        self.index = 0

    def _template(self, length: int) -> list[tuple[str, Action]]:
        """A scenario's step list: kinds cycle through _PATTERN; asserts and waits refer to the latest http."""
        steps: list[tuple[str, Action]] = []
        current = ACTIONS[0]
        for k in range(length):
            kind = _PATTERN[k % len(_PATTERN)]
            if kind == "http":
                current = ACTIONS[0] if k == 0 else self.rng.choice(ACTIONS)
            steps.append((kind, current))
        return steps

    def next_start(self) -> float:
        """Virtual start of the next instance: its slot in the rate, or later when all slots are busy."""
        start = self.index / self.config.rate
        limit = self.config.concurrency
        if limit is not None and len(self.slots) >= limit:
            start = max(start, self.slots[0])
        return start

    def _clock(self, seconds: float) -> tuple[str, str]:
        """(ISO-8601 UTC timestamp, HTTP date) of a virtual time; the per-second part is cached (hot path)."""
        whole, micro = divmod(self.origin_us + round(seconds * 1e6), 1_000_000)
        texts = self.seconds.get(whole)
        if texts is None:
            if len(self.seconds) > 4096:
                self.seconds.clear()
            moment = datetime.fromtimestamp(whole, UTC)
            texts = self.seconds[whole] = (f"{moment:%Y-%m-%dT%H:%M:%S}", f"{moment:%a, %d %b %Y %H:%M:%S GMT}")
        return f"{texts[0]}.{micro:06d}Z", texts[1]

    def plan(self) -> _Planned:
        start = self.next_start()
        limit = self.config.concurrency
        if limit is not None and len(self.slots) >= limit:
            heapq.heappop(self.slots)
        self.index += 1
        planned = self._draw(start)
        if limit is not None:
            heapq.heappush(self.slots, planned.end)
        return planned

    def _draw(self, start: float) -> _Planned:
        rng, cfg = self.rng, self.config
        rnd = rng.random
        instance_id = f"inst_{rng.getrandbits(48):012x}"
        correlation_id = f"corr_{rng.getrandbits(48):012x}"
        scenario = cfg.scenarios[int(rnd() * len(cfg.scenarios))]
        lo, hi = cfg.steps
        template, http_at, assert_at = self.prefixes[scenario, lo + int(rnd() * (hi - lo + 1))]
        roll = rnd()
        outcome = ERROR if roll < cfg.error_rate else FAILED if roll < cfg.error_rate + cfg.fail_rate else PASSED
        broken_http = broken_assert = -1
        if outcome == "error":
            broken_http = http_at[int(rnd() * len(http_at))]
            stop = broken_http + 2 if broken_http + 1 < len(template) and template[broken_http + 1][0] == "assert" \
                else broken_http + 1
            template = template[:stop]
            broken_assert = stop - 1 if stop - 1 != broken_http else -1
        elif outcome == "failed":
            if assert_at:
                broken_assert = assert_at[-1]
                broken_http = max(k for k in http_at if k < broken_assert)
            else:
                broken_http = http_at[-1]

        cart = f"cart_{1000 + int(rnd() * 9000)}"
        quantity = 1 + int(rnd() * 4)
        sku = _SKUS[int(rnd() * len(_SKUS))]
        price = round(5 + 75 * rnd(), 2)
        total = round(quantity * price, 2)
        entry = {"seed_data": {
            "customer_id": f"cust_{rng.getrandbits(32):08x}",
            "cart_items": [{"sku": sku, "quantity": quantity, "price": price}],
            "variation": {"quantity": round(1 + 3 * rnd(), 3), "locale": _LOCALES[int(rnd() * len(_LOCALES))],
                          "apply_coupon": rnd() < 0.3},
        }}
        common = {"instance_id": instance_id, "run_id": self.run_id, "correlation_id": correlation_id}
        planned = _Planned(start=start, end=start)
        clock_ms = 2.0 + 10.0 * rnd()  # set-up before the first step
        error: str | None = None
        last_http: dict[str, Any] = {}
        for index, (kind, action) in enumerate(template):
            clock_ms += 0.2 + 3.8 * rnd()
            assertion = None
            if kind == "http":
                observation, error = self._http(action, correlation_id, cart, sku, total, index == broken_http, outcome,
                                                start + clock_ms / 1000)
                last_http = observation
            elif kind == "wait":
                observation = self._wait(action, cart, start + clock_ms / 1000)
            else:
                observation, assertion = self._assert(action, last_http, index == broken_assert)
            clock_ms += observation["latency_ms"]
            at = start + clock_ms / 1000
            stamp = self._clock(at)[0]
            step = {**common, "step_index": index, "step_name": observation["action_name"], "step_type": kind,
                    "timestamp": stamp, "observation": observation}
            assertion_line = None if assertion is None else encode_line(
                {**common, "step_index": index, **assertion, "timestamp": stamp})
            planned.events.append((at, encode_line(step), assertion_line))

        duration_ms = round(clock_ms + 0.5 + 2.5 * rnd(), 3)
        planned.end = start + duration_ms / 1000
        instance = {**common, "scenario_id": scenario, "started_at": self._clock(start)[0],
                    "completed_at": self._clock(planned.end)[0], "duration_ms": duration_ms,
                    "passed": outcome == "passed", "entry_data": entry,
                    "error": error if outcome == "error" else None}
        # The outcome is the status classify() gives these fields; saying so here skips re-reading the record.
        planned.events.append((planned.end, EncodedInstance(encode_line(instance), outcome, duration_ms), None))
        return planned

    def _http(self, action: Action, correlation_id: str, cart: str, sku: str, total: float,
              broken: bool, outcome: str, at: float) -> tuple[dict[str, Any], str | None]:
        rng = self.rng
        rnd = rng.random
        latency = round(40.0 * math.exp(0.6 * rng.gauss()), 3)  # log-normal around 40 ms
        status: int | None = action.status
        body: dict[str, Any] | None = self._body(action, cart, sku, total, None)
        error: str | None = None
        if broken and outcome == "error":
            if rnd() < 0.5:
                status, body = 503, {"error": "Service Unavailable"}
                error = f"HTTP 503: Service Unavailable from {action.service} during {action.name}"
            else:
                status, body, latency = None, None, (1000.0, 2000.0, 5000.0)[int(rnd() * 3)]
                error = f"httpx.ReadTimeout: {action.service} did not answer within {latency:.0f} ms"
        elif broken:
            if action.value_path:
                body = self._body(action, cart, sku, total, action.bad_value)
            else:
                status, body = 500, {"error": "Internal Server Error"}
        ok = status is not None and status < 400
        errors = [] if ok else [error or f"HTTP {status}: Internal Server Error"]
        attempts = [{"attempt": 1, "status_code": status, "ok": ok, "latency_ms": latency,
                     "error": errors[0] if errors else None}]
        turbulence = None
        if rnd() < 0.15:  # occasional fault injection: extra latency, sometimes a retried 503
            injected = 5 + int(rnd() * 116)
            tries = [{"ok": ok, "status_code": status, "latency_ms": latency, "injected_latency_ms": injected,
                      "errors": errors}]
            if ok and rnd() < 0.4:
                first = round(30.0 * math.exp(0.5 * rng.gauss()), 3)
                tries.insert(0, {"ok": False, "status_code": 503, "latency_ms": first, "injected_latency_ms": injected,
                                 "errors": ["HTTP 503: Service Unavailable"]})
                attempts.insert(0, {"attempt": 1, "status_code": 503, "ok": False, "latency_ms": first,
                                    "error": "HTTP 503: Service Unavailable"})
                attempts[1]["attempt"] = 2
                latency = round(latency + first + injected, 3)
            else:
                latency = round(latency + injected, 3)
            turbulence = {"service": action.service, "action": action.name, "retry_count": len(tries) - 1,
                          "timeout_after_ms": None, "latency_ms": injected, "attempts": tries}
        stamp, http_date = self._clock(at + latency / 1000)
        for attempt in attempts:
            attempt["timestamp"] = stamp
        encoded = orjson.dumps(body) if body is not None else b""
        headers = {"server": _SERVER, "date": http_date,
                   "content-type": "application/json", "content-length": str(len(encoded)),
                   "x-correlation-id": correlation_id}
        url = "http://localhost:8080" + action.path.format(id=cart, sku=sku)
        return {"ok": ok, "protocol": "http", "metadata": {}, "method": action.method, "url": url,
                "status_code": status, "latency_ms": latency, "headers": headers if status is not None else {},
                "body": body, "errors": errors, "action_name": action.name, "service": action.service,
                "turbulence": turbulence, "attempts": attempts, "branch_condition": None, "branch_result": None,
                "branch_taken": None, "condition_skipped": False}, error

    def _body(self, action: Action, cart: str, sku: str, total: float, value: str | None) -> dict[str, Any]:
        own_id = cart if action.service == "api" else f"{action.service[:3]}_{int(self.rng.random() * 10000)}"
        body: dict[str, Any] = {"id": own_id}
        if action.value_path:
            body[action.value_path] = value or action.good_value
            body["amount"] = total
        elif action.name == "search_products":
            body.update(query=sku, results=int(self.rng.random() * 26))
        else:
            body.update(sku=sku, total=total)
        return body

    def _wait(self, action: Action, cart: str, at: float) -> dict[str, Any]:
        rnd = self.rng.random
        polls = 1 + int(rnd() * 3)
        attempts: list[dict[str, Any]] = []
        for number in range(1, polls + 1):
            done = number == polls
            attempts.append({"attempt_number": number, "timestamp_ms": round((number - 1) * 100.0, 3),
                             "latency_ms": round(20 + 40 * rnd(), 3), "status_code": 200,
                             "body": {"id": cart, "status": "confirmed" if done else "pending", "polls": number},
                             "condition_met": done, "error": None})
        latency = round((polls - 1) * 100.0 + attempts[-1]["latency_ms"], 3)
        return {"ok": True, "protocol": "http", "metadata": {}, "method": "GET",
                "url": f"http://localhost:8080/api/carts/{cart}", "status_code": 200, "latency_ms": latency,
                "headers": {}, "body": attempts[-1]["body"], "errors": [], "action_name": f"wait_for_{action.name}",
                "service": action.service, "turbulence": None, "attempts": attempts, "branch_condition": None,
                "branch_result": None, "branch_taken": None, "condition_skipped": False,
                "total_attempts": polls, "timed_out": False}

    def _assert(self, action: Action, target: dict[str, Any], broken: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        if action.value_path:
            body = target.get("body") or {}
            actual = body.get(action.value_path)
            expected: object = action.good_value
            passed = actual == expected and not broken
            message = (f"Value at '{action.value_path}' equals expected '{expected}'" if passed
                       else f"Value mismatch at '{action.value_path}': expected '{expected}', got '{actual}'"
                       if actual is not None else f"Context path '{action.value_path}' not found in context")
        else:
            actual, expected = target.get("status_code"), action.status
            passed = actual == expected and not broken
            message = (f"Status code {actual} matches expected {expected}" if passed
                       else f"Status code mismatch: expected {expected}, got {actual}")
        observation: dict[str, Any] = {"ok": passed, "protocol": "http", "metadata": {}, "status_code": None,
                       "latency_ms": round(0.005 + 0.025 * self.rng.random(), 4), "headers": {}, "body": None,
                       "errors": [] if passed else [message], "action_name": action.assertion, "service": None,
                       "turbulence": None, "attempts": [], "branch_condition": None, "branch_result": None,
                       "branch_taken": None, "condition_skipped": False}
        return observation, {"assertion_name": action.assertion, "passed": passed, "expected": expected,
                             "actual": actual, "message": message}


class Simulation:
    """One simulated run. Construct (the run id is known at once), then `run()` blocks until done or stopped.

    `pace=False` writes as fast as the machine allows (timestamps still follow
    the virtual schedule); benches use it to find the ceiling.
    """

    def __init__(self, runs_dir: Path | str, config: SimConfig = SimConfig(), *, run_id: str | None = None,
                 started_at: datetime | None = None, pace: bool = True) -> None:
        self.config = config
        started_at = started_at or datetime.now(UTC)
        self.started_at = started_at if started_at.tzinfo else started_at.replace(tzinfo=UTC)
        self.run_id = run_id or new_run_id(self.started_at)
        self.seed = config.seed if config.seed is not None else secrets.randbelow(2**31)
        self.pace = pace
        self.writer = WRITERS[config.storage](
            runs_dir, self.run_id, sut_name=config.sut_name, scenario_ids=config.scenarios, seed=self.seed,
            config={"seed": self.seed, "concurrency": config.concurrency, "timeout_seconds": 30.0,
                    "rate": config.rate, "simulated": True},
            planned=config.instances, turbulence_version="simulator", started_at=self.started_at,
        )
        self.written = 0  # instance lines written so far

    def run(self, stop_event: StopFlag | None = None) -> Summary:
        """Write the run; on stop, finalize with what was written (as a cancelled runner would)."""
        planner = _Planner(self.config, self.seed, self.run_id, self.started_at)
        events: list[tuple[float, int, bytes | EncodedInstance, bytes | None]] = []
        order = 0
        total = self.config.instances
        last_at = 0.0
        self.writer.open()
        try:
            origin = time.monotonic()
            while not (stop_event is not None and stop_event.is_set()):
                now = time.monotonic() - origin if self.pace else math.inf
                admitted = 0
                while planner.index < total and admitted < MAX_ADMIT_PER_TICK and planner.next_start() <= now:
                    for at, line, assertion in planner.plan().events:
                        heapq.heappush(events, (at, order, line, assertion))
                        order += 1
                    admitted += 1
                # Nothing not yet planned can happen before the next start: a safe, deterministic horizon.
                upcoming = planner.next_start() if planner.index < total else math.inf
                horizon = min(now, upcoming)
                steps: list[bytes] = []
                assertions: list[bytes] = []
                instances: list[EncodedInstance] = []
                while events and events[0][0] <= horizon:
                    at, _, line, assertion = heapq.heappop(events)
                    last_at = at
                    if isinstance(line, bytes):
                        steps.append(line)
                        if assertion is not None:
                            assertions.append(assertion)
                    else:
                        instances.append(line)
                if steps or instances:
                    self.writer.write_encoded(instances=instances, steps=steps, assertions=assertions)
                    self.written += len(instances)
                if planner.index >= total and not events:
                    break
                if self.pace:
                    # Wake for the next due event, but no sooner than one tick after this one: batches, not trickles.
                    wake = max(min(events[0][0] if events else math.inf, upcoming), now + TICK_S)
                    time.sleep(min(max(0.0, wake - (time.monotonic() - origin)), 0.25))  # short naps see a stop soon
        finally:
            summary = self.writer.finalize(completed_at=self.started_at + timedelta(seconds=last_at),
                                           duration_ms=round(last_at * 1000, 3))
        return summary


def run_repeatedly(runs_dir: Path | str, config: SimConfig, *, run_id: str | None = None, repeat: bool = False,
                   stop_event: StopFlag | None = None, pace: bool = True) -> Iterator[tuple[str, Summary]]:
    """Run after run (a fresh id, and seed + k when seeded) while `repeat` holds; yields each finished run."""
    round_no = 0
    while True:
        seed = None if config.seed is None else config.seed + round_no
        rid = None if run_id is None else run_id if round_no == 0 else f"{run_id}_{round_no + 1}"
        sim = Simulation(runs_dir, replace(config, seed=seed), run_id=rid, pace=pace)
        summary = sim.run(stop_event)
        yield sim.run_id, summary
        round_no += 1
        if not repeat or (stop_event is not None and stop_event.is_set()):
            return


def simulate(runs_dir: Path | str, *, run_id: str | None = None, stop_event: StopFlag | None = None,
             started_at: datetime | None = None, pace: bool = True, **options: Any) -> Simulation:
    """Run one simulation in-process (options are SimConfig fields) and return it, finished."""
    sim = Simulation(runs_dir, SimConfig(**options), run_id=run_id, started_at=started_at, pace=pace)
    sim.run(stop_event)
    return sim

