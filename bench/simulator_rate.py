"""How fast the simulator writes: `simulate --rate 2000` held for 10 s, then its unpaced ceiling.

Runs the real command (`python -m windtunnel_dash simulate`) into a temp dir and counts instance
lines as they land. Prints figures only; no assertions.
  .venv/bin/python bench/simulator_rate.py [--rate 2000] [--seconds 10] [--max-instances 30000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


class LineCounter:
    """Counts the complete lines of a growing file, reading only what is new."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.lines = 0

    def poll(self) -> int:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return 0
        self.offset += len(chunk)
        self.lines += chunk.count(b"\n")
        return self.lines


def start(runs_dir: str, run_id: str, *options: str) -> tuple[subprocess.Popen, LineCounter]:
    command = [sys.executable, "-m", "windtunnel_dash", "simulate", "--runs-dir", runs_dir, "--run-id", run_id,
               "--seed", "1", *options]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    return process, LineCounter(Path(runs_dir) / run_id / "instances.jsonl")


def wait_for_first_line(process: subprocess.Popen, counter: LineCounter) -> None:
    deadline = time.monotonic() + 60
    while counter.poll() == 0:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the simulator wrote no instance line")
        time.sleep(0.005)


def paced(runs_dir: str, rate: float, seconds: float) -> None:
    """Steady rate over `seconds`, measured from half a second after the first line (past the ramp-up)."""
    process, counter = start(runs_dir, "bench_paced", "--rate", str(rate), "--instances", str(int(rate * (seconds + 2))))
    try:
        wait_for_first_line(process, counter)
        child = psutil.Process(process.pid)
        time.sleep(0.5)
        first, t_first, cpu_first = counter.poll(), time.monotonic(), sum(child.cpu_times()[:2])
        time.sleep(seconds)
        last, t_last, cpu_last = counter.poll(), time.monotonic(), sum(child.cpu_times()[:2])
    finally:
        process.terminate()
        process.wait()
    achieved = (last - first) / (t_last - t_first)
    print(f"paced --rate {rate:.0f}: {last - first} instances in {t_last - t_first:.2f} s = {achieved:.0f}/s "
          f"= {100 * achieved / rate:.1f}% of asked")
    # Independent of how busy the machine is: what the simulator itself spends per instance.
    per_instance = (cpu_last - cpu_first) / max(1, last - first)
    print(f"  simulator CPU: {1e6 * per_instance:.0f} µs per instance written "
          f"(~{1 / per_instance:.0f} instances/s on one idle core; load average now {psutil.getloadavg()[0]:.1f})")


def unpaced(runs_dir: str, rate: float, instances: int) -> None:
    """--no-pace: the same virtual timeline, written as fast as the machine allows (start-up included)."""
    started = time.monotonic()
    process, counter = start(runs_dir, "bench_unpaced", "--rate", str(rate), "--instances", str(instances),
                             "--no-pace")
    process.wait()
    elapsed = time.monotonic() - started
    written = counter.poll()
    print(f"unpaced ceiling: {written} instances in {elapsed:.2f} s, Python start-up included "
          f"= {written / elapsed:.0f} instances/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-instances", type=int, default=30000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs_dir:
        paced(runs_dir, args.rate, args.seconds)
        unpaced(runs_dir, args.rate, args.max_instances)


if __name__ == "__main__":
    main()
