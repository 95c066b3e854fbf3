"""Benchmark: wall time of ``ccs2chademo simulate --json`` for the default session (issue 7).

The `make demo` scenario — Leaf ZE1 40 kWh from 20 % to 80 % on the Alpitronic personality,
≈30 charging minutes with real EXI bytes over V2GTP/TCP, HomePlug frames and CHAdeMO CAN frames
on every link — run through the command line exactly as a user does, then once more in-process
under cProfile for the top costs.  Target: ≤ 5 s on the 2-core development machine.
Run with ``make bench`` (or ``python bench/simulate.py``).
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench._deploy import as_installed  # noqa: E402
from ccs2chademo.sim.world import Scenario, World  # noqa: E402

TARGET_S = 5.0
COMMAND = [sys.executable, "-m", "ccs2chademo", "simulate", "--json"]


def cli_run() -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    out = subprocess.run(COMMAND, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return time.perf_counter() - start, json.loads(out)


def profile(top: int = 15) -> str:
    world = World(Scenario())
    profiler = cProfile.Profile()
    profiler.enable()
    world.run()
    profiler.disable()
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("tottime").print_stats(top)
    return buffer.getvalue()


def main() -> None:
    as_installed()  # measure what a deployed adapter pays (byte-compiled modules)
    wall, summary = cli_run()
    frames = summary["virtual_s"]
    print(f"simulate --json (default 20→80 %): {wall:.2f} s wall for the command "
          f"({summary['wall_s']} s inside the simulation), {frames} s virtual, "
          f"result {summary['result']}, SoC {summary['soc_start']} → {summary['soc_end']} %, "
          f"{summary['energy_kwh']} kWh, {len(summary['invariant_violations'])} invariant violations")
    verdict = "meets" if wall <= TARGET_S else "misses"
    print(f"target ≤ {TARGET_S:g} s: {verdict} it ({wall / TARGET_S:.1f} × the target)")
    if wall > TARGET_S:
        print("top costs (cProfile, tottime):")
        print(profile())


if __name__ == "__main__":
    main()
