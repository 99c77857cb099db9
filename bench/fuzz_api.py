"""How long the schemathesis run of tests/api/test_fuzz_rest.py takes (target: under 2 minutes), per phase.

Starts the real app (tests/app_server.py) with the fixture runs, runs the very command the test runs
(same seed, phases, checks and examples), and prints its wall time, each phase's time as schemathesis
reports it, the number of generated test cases, the CPU seconds of schemathesis and of the server, and the load average
before and after (the machine is shared: figures from a loaded machine are slower).

    .venv/bin/python bench/fuzz_api.py [--examples 200] [--seed 20]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout, no install

from tests.api.procstats import cpu_seconds  # noqa: E402
from tests.api.test_fuzz_rest import EXAMPLES, SEED, serve_fixture_runs, st_command  # noqa: E402
from tests.app_server import running_app  # noqa: E402

PHASE_LINE = re.compile(r"^\s*\S+\s+(Examples|Coverage|Fuzzing|Stateful) \(in ([\d.]+)s\)", re.M)
CASES_LINE = re.compile(r"(\d+) generated")


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=EXAMPLES)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp), name="api") as app:
        with httpx.Client(base_url=app.base_url, timeout=10) as client:
            serve_fixture_runs(app, client)
        print(f"before: {load()}")
        cpu_before, started = cpu_seconds(app.pid), time.perf_counter()
        done = subprocess.run(st_command(app.base_url, Path(tmp) / "junit.xml", seed=args.seed, examples=args.examples),
                              cwd=tmp, capture_output=True, text=True)
        wall, server_cpu = time.perf_counter() - started, cpu_seconds(app.pid) - cpu_before
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(f"after:  {load()}")
    if done.returncode != 0:
        print(done.stdout[-5000:], done.stderr[-2000:])
    phases = ", ".join(f"{name} {secs} s" for name, secs in PHASE_LINE.findall(done.stdout))
    cases = CASES_LINE.search(done.stdout)
    print(f"schemathesis (seed {args.seed}, {args.examples} examples per operation): exit {done.returncode}, "
          f"{wall:.1f} s wall ({phases}); {cases.group(1) if cases else '?'} test cases; "
          f"CPU: schemathesis {usage.ru_utime + usage.ru_stime:.1f} s, server {server_cpu:.1f} s")


if __name__ == "__main__":
    main()
