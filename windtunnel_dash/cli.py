"""Command line: `python -m windtunnel_dash simulate ...` writes live simulated runs into a runs root."""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .simulator import WRITERS, SimConfig, run_repeatedly, scenario_names, step_range


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m windtunnel_dash")
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("simulate", help="write simulated windtunnel runs, live")
    defaults = SimConfig()
    sim.add_argument("--runs-dir", type=Path, default=Path("runs"), help="runs root (default: ./runs)")
    sim.add_argument("--run-id",
                     help="run id (default: run_YYYYMMDD_HHMMSS_xxxx; with --repeat, later runs add _2, _3, ...)")
    sim.add_argument("--instances", type=int, default=defaults.instances, help="instances per run")
    sim.add_argument("--rate", type=float, default=defaults.rate, help="instances started per second")
    sim.add_argument("--concurrency", type=int, default=None,
                     help="most instances in flight at once (default: no limit; the rate paces starts)")
    sim.add_argument("--fail-rate", type=float, default=defaults.fail_rate, help="share of failed instances")
    sim.add_argument("--error-rate", type=float, default=defaults.error_rate, help="share of errored instances")
    sim.add_argument("--scenarios", type=scenario_names, default=defaults.scenarios,
                     help="a count (stock names) or a comma list of names")
    sim.add_argument("--steps", type=step_range, default=defaults.steps, help="steps per instance, e.g. 3-6")
    sim.add_argument("--seed", type=int, help="same seed, same content (default: random, recorded in the manifest)")
    sim.add_argument("--repeat", action="store_true", help="start a new run after each finishes, until interrupted")
    sim.add_argument("--storage", choices=tuple(WRITERS), default=defaults.storage,
                     help="jsonl (manifest + line files) or sqlite (one turbulence.db, as the runner's --storage sqlite)")
    sim.add_argument("--no-pace", dest="pace", action="store_false", help="write as fast as possible")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = SimConfig(instances=args.instances, rate=args.rate, concurrency=args.concurrency,
                           fail_rate=args.fail_rate, error_rate=args.error_rate, scenarios=args.scenarios,
                           steps=args.steps, seed=args.seed, storage=args.storage)
    except ValueError as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    with _simulating_process(stop):
        for run_id, summary in run_repeatedly(args.runs_dir, config, run_id=args.run_id, repeat=args.repeat,
                                              stop_event=stop, pace=args.pace):
            print(f"{run_id}: {summary.total_instances} instances, {summary.pass_count} passed, "
                  f"{summary.fail_count} failed, {summary.error_count} errors ({summary.pass_rate}%)", flush=True)
    return 0


@contextmanager
def _simulating_process(stop: threading.Event) -> Iterator[None]:
    """Process settings while simulating, put back afterwards (main() is also called in-process by tests).

    Ctrl-C / SIGTERM set `stop`: the run is finalized with what it wrote, as a cancelled runner's is.
    What the simulator allocates holds no reference cycles, so collecting garbage rarely saves about
    a fifth of its CPU per instance.
    """
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
