"""Benchmark: wall time of ``ccs2chademo simulate --json`` for the default session (issue 7).

The `make demo` scenario — Leaf ZE1 40 kWh from 20 % to 80 % on the Alpitronic personality,
≈30 charging minutes with real EXI bytes over V2GTP/TCP, HomePlug frames and CHAdeMO CAN frames
on every link — run through the command line exactly as a user does: first as installed (the
hot modules compiled with mypyc, see setup.py), then the same command on the pure-Python
sources as the peer.  Both must print the same summary apart from ``wall_s``.  Target: ≤ 5 s
on the 2-core development machine.  Run with ``make bench`` (or ``python bench/simulate.py``).

``--against PATH`` also runs another checkout — e.g. the previous commit in a git worktree, built
in place with ``CCS2CHADEMO_COMPILE=require python setup.py build_ext --inplace`` — alternating
with ours in the same run, so a refactor shows it is not slower (issue 12); then both run the
session without the simulation's codec cache (the product's codec), alternating, by CPU seconds
of the command (issue 17's ratio to the previous main), and by the summaries' own ``virtual_s / wall_s``.
A checkout whose ``simulate`` has no ``--no-codec-cache`` (issue 17's main, afcb666: its codec memo was
inside the product) runs as it ran then, memo on, and the line says so.

Then the same session in this process with the simulation's EXI cache (``sim/codec_cache.py``,
the default) and without it (``--no-codec-cache``: the adapter's and the charger's codec as in
the product, issue 17): virtual seconds per wall and per CPU second (CPU time is the figure to
trust on a shared machine), events per virtual second, and the cache's hit rate.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench._deploy import as_installed  # noqa: E402
from ccs2chademo._build import COMPILED_MODULES, compiled_origins  # noqa: E402
from ccs2chademo.sim.codec_cache import CachedCodec  # noqa: E402
from ccs2chademo.sim.world import Scenario, build_world, summarize  # noqa: E402

TARGET_S = 5.0
RUNS = 3
COMMAND = [sys.executable, "-m", "ccs2chademo", "simulate", "--json"]


def cli_run(env: dict[str, str] | None = None) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    out = subprocess.run(COMMAND, check=True, capture_output=True, text=True, cwd=ROOT, env=env).stdout
    return time.perf_counter() - start, json.loads(out)


def uncached_cpu_s(env: dict[str, str] | None, flag: bool = True) -> tuple[float, dict[str, object]]:
    """CPU seconds (user + system) of ``simulate --json --no-codec-cache`` in a child process (``flag``
    False: without the flag, for a checkout that has none)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([*COMMAND, "--no-codec-cache"] if flag else COMMAND, check=True, capture_output=True,
                         text=True, cwd=ROOT, env=env).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, json.loads(out)


def has_uncached_flag(env: dict[str, str] | None) -> bool:
    """Whether a checkout's ``simulate`` has ``--no-codec-cache``: issue 17's main (afcb666) has not —
    its codec memo was inside the product, so it runs as it ran then, memo and all."""
    out = subprocess.run([*COMMAND[:-1], "--help"], check=True, capture_output=True, text=True, cwd=ROOT,
                         env=env).stdout
    return "--no-codec-cache" in out


def uncached_against(other_env: dict[str, str], label: str, runs: int) -> bool:
    """The product's codec (no cache) here and in another checkout, alternating: the ratio issue 17 asks
    for, by CPU of the whole command and by the summary's own ``virtual_s / wall_s``."""
    flag = has_uncached_flag(other_env)
    ours: list[float] = []
    theirs: list[float] = []
    ours_wall: list[float] = []
    theirs_wall: list[float] = []
    summary: dict[str, object] = {}
    other_summary: dict[str, object] = {}
    for _ in range(runs):
        cpu, summary = uncached_cpu_s(None)
        ours.append(cpu)
        ours_wall.append(float(str(summary["wall_s"])))
        cpu, other_summary = uncached_cpu_s(other_env, flag)
        theirs.append(cpu)
        theirs_wall.append(float(str(other_summary["wall_s"])))
    virtual = float(str(summary["virtual_s"]))
    same = session(summary) == session(other_summary)
    how = "" if flag else " (it has no --no-codec-cache: its own codec memo on)"
    print(f"--no-codec-cache, CPU s of the whole command (start-up included), best of {runs} alternating: "
          f"ours {min(ours):.2f} s = {virtual / min(ours):.0f}× real time per CPU s, {label}{how} {min(theirs):.2f} s "
          f"= {virtual / min(theirs):.0f}× → ours is {min(theirs) / min(ours):.2f}× its speed "
          f"(medians {statistics.median(ours):.2f} / {statistics.median(theirs):.2f} s); "
          f"same session: {'yes' if same else 'NO'}")
    print(f"the same runs by the summary's virtual_s / wall_s (the simulation alone), best: ours "
          f"{min(ours_wall):.2f} s = {virtual / min(ours_wall):.0f}× real time, {label} {min(theirs_wall):.2f} s "
          f"= {virtual / min(theirs_wall):.0f}× → {min(theirs_wall) / min(ours_wall):.2f}×")
    return same


def pure_tree(into: Path) -> Path:
    """A copy of the sources without the compiled extensions (byte-compiled like an install)."""
    shutil.copytree(ROOT / "src" / "ccs2chademo", into / "ccs2chademo", ignore=shutil.ignore_patterns("*.so"))
    return into


def session(summary: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in summary.items() if k != "wall_s"}


@dataclass(frozen=True)
class InProcess:
    """One default session run in this process."""

    wall_s: float
    cpu_s: float
    virtual_s: float
    events: int
    hit_rate: float | None  # of the cache's lookups; None without the cache
    session: dict[str, object]

    def line(self, label: str) -> str:
        hits = "" if self.hit_rate is None else f", {self.hit_rate:.1%} of EXI lookups answered by the cache"
        return (f"{label}: {self.virtual_s:.0f} virtual s in {self.wall_s:.2f} s wall / {self.cpu_s:.2f} s CPU "
                f"= {self.virtual_s / self.wall_s:.0f}× real time ({self.virtual_s / self.cpu_s:.0f}× per CPU s), "
                f"{self.events} events = {self.events / self.virtual_s:.0f} per virtual s{hits}")


def in_process(codec_cache: bool) -> InProcess:
    world = build_world(Scenario(codec_cache=codec_cache))
    wall, cpu = time.perf_counter(), time.process_time()
    virtual = world.run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    hit_rate = None
    if isinstance(world.exi, CachedCodec):
        counts = world.exi.stats().values()
        hit_rate = sum(hits for hits, _, _ in counts) / sum(hits + misses for hits, misses, _ in counts)
    return InProcess(wall, cpu, virtual, world.sim.events_run, hit_rate, session(summarize(world, wall).as_json()))


def codec_cache_figures(runs: int) -> bool:
    """Print the cached and uncached figures (best of ``runs`` by CPU time); True if the sessions agree."""
    best = {cache: min((in_process(cache) for _ in range(runs)), key=lambda r: r.cpu_s) for cache in (True, False)}
    cached, uncached = best[True], best[False]
    print(cached.line("in process, with the sim's codec cache"))
    print(uncached.line("in process, --no-codec-cache (the product's codec)"))
    same = cached.session == uncached.session and cached.events == uncached.events
    print(f"the cache makes the session {uncached.cpu_s / cached.cpu_s:.2f}× faster per CPU s "
          f"({uncached.wall_s / cached.wall_s:.2f}× wall); same session and events both ways: "
          f"{'yes' if same else 'NO'}")
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, help="another checkout, built in place, to run alternately with ours")
    parser.add_argument("--cache-runs", type=int, default=2, help="in-process runs per codec mode (best by CPU)")
    args = parser.parse_args()
    as_installed()  # measure what a deployed adapter pays (byte-compiled modules)
    compiled = len(compiled_origins())
    walls, summary = [], {}
    other_walls: list[float] = []
    other_summary: dict[str, object] = {}
    other_env = None if args.against is None else dict(os.environ, PYTHONPATH=str(args.against.resolve() / "src"))
    for _ in range(RUNS):
        wall, summary = cli_run()
        walls.append(wall)
        if other_env is not None:
            other_wall, other_summary = cli_run(other_env)
            other_walls.append(other_wall)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PYTHONPATH=str(pure_tree(Path(tmp))))
        subprocess.run([sys.executable, "-m", "compileall", "-q", tmp], check=True)
        pure_wall, pure_summary = cli_run(env)
    best = min(walls)
    print(f"simulate --json (default 20→80 %), {compiled}/{len(COMPILED_MODULES)} modules compiled: "
          f"{best:.2f} s wall best of {RUNS} (median {statistics.median(walls):.2f} s; "
          f"{summary['wall_s']} s inside the simulation), {summary['virtual_s']} s virtual, "
          f"result {summary['result']}, SoC {summary['soc_start']} → {summary['soc_end']} %, "
          f"{summary['energy_kwh']} kWh, {len(summary['invariant_violations'])} invariant violations")
    print(f"pure-Python peer (same sources, no extensions): {pure_wall:.2f} s wall → compiled is "
          f"{pure_wall / best:.1f}× faster")
    if args.against is not None:
        other = min(other_walls)
        print(f"{args.against} (alternating, same run): {other:.2f} s wall best of {RUNS} "
              f"(median {statistics.median(other_walls):.2f} s) → ours is {other / best:.2f}× its speed; "
              f"same session: {'yes' if session(other_summary) == session(summary) else 'NO'}")
    same = session(summary) == session(pure_summary)
    print(f"same session both ways (summary apart from wall_s): {'yes' if same else 'NO'}")
    verdict = "meets" if best <= TARGET_S else "misses"
    print(f"target ≤ {TARGET_S:g} s: {verdict} it ({best / TARGET_S:.2f} × the target)")
    same_uncached = other_env is None or uncached_against(other_env, str(args.against), RUNS)
    same_with_cache = codec_cache_figures(args.cache_runs)
    if not (same and same_with_cache and same_uncached):
        sys.exit(1)


if __name__ == "__main__":
    main()
