"""How fast the simulator writes: the asked 2000 instances/s held for 10 s, then its unpaced ceiling.

Prints figures only (targets are judged by the reader, not asserted):
  .venv/bin/python bench/simulator_rate.py [--rate 2000] [--seconds 10] [--max-instances 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout, no install

from windtunnel_dash.simulator import SimConfig, Simulation


def paced(runs_dir: str, rate: float, seconds: float) -> None:
    """Sample the written count while a paced run goes; the steady window skips the first second (ramp-up)."""
    sim = Simulation(runs_dir, SimConfig(instances=int(rate * seconds), rate=rate, seed=1), run_id="bench_paced")
    cpu0 = time.process_time()
    worker = threading.Thread(target=sim.run)
    start = time.monotonic()
    worker.start()
    time.sleep(1.0)
    first, t_first = sim.written, time.monotonic()
    time.sleep(seconds - 1.0)
    last, t_last = sim.written, time.monotonic()
    worker.join()
    wall = time.monotonic() - start
    cpu = time.process_time() - cpu0
    steady = (last - first) / (t_last - t_first)
    print(f"paced: asked {rate:.0f}/s for {seconds:.0f} s; {sim.written} instances written in {wall:.2f} s "
          f"(the last ones started at {seconds:.0f} s run their own simulated duration, up to a 5 s timeout)")
    print(f"  steady (1 s..{seconds:.0f} s): {steady:.0f}/s = {100 * steady / rate:.1f}% of asked")
    print(f"  process CPU: {cpu:.2f} s over {wall:.2f} s wall ({100 * cpu / wall:.0f}% of one core)")


def unpaced(runs_dir: str, rate: float, instances: int) -> None:
    """No sleeping: the virtual timeline is still a run at `rate`, written as fast as the machine allows."""
    sim = Simulation(runs_dir, SimConfig(instances=instances, rate=rate, seed=2), run_id="bench_unpaced", pace=False)
    start = time.monotonic()
    sim.run()
    wall = time.monotonic() - start
    print(f"unpaced ceiling: {instances} instances in {wall:.2f} s = {instances / wall:.0f} instances/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-instances", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs_dir:
        paced(runs_dir, args.rate, args.seconds)
        unpaced(runs_dir, args.rate, args.max_instances)


if __name__ == "__main__":
    main()
