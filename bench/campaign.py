"""Benchmark of the reliability campaign (issue 15), on this machine:

1. **throughput** — scenarios per minute per core: a fixed sample of the smoke preset's scenarios
   (every dimension, in run order) on one worker and on all cores;
2. **the smoke preset's wall time** — ``ccs2chademo campaign --preset smoke --json`` as ``make
   test`` runs it (2 workers);
3. **a single session is not slower** — the same 10 % session (``simulate --json``) on this
   commit and on the commit the campaign branched from (``--base``, default ``main``'s merge base),
   both pure-Python source trees taken from git, alternating, best of ``--runs``; and one
   scenario through the campaign machinery (spec, judgement, worker) against the bare
   ``simulate(Scenario(…))`` in the same process.

Run with ``make bench`` (or ``python bench/campaign.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ccs2chademo.sim.campaign.dimensions import generate, in_run_order  # noqa: E402
from ccs2chademo.sim.campaign.expected import BATTERY_FULL  # noqa: E402
from ccs2chademo.sim.campaign.matrix import SMOKE  # noqa: E402
from ccs2chademo.sim.campaign.runner import default_workers, run_local  # noqa: E402
from ccs2chademo.sim.campaign.spec import Expected, ScenarioSpec  # noqa: E402
from ccs2chademo.sim.world import simulate  # noqa: E402

SESSION = ["simulate", "--soc-start", "50", "--soc-stop", "60", "--json"]


def throughput(sample: int, workers: int) -> float:
    """Scenarios per minute on ``workers`` processes."""
    specs = in_run_order(generate(SMOKE))[:sample]
    start = time.perf_counter()
    run_local(specs, workers)
    return len(specs) / ((time.perf_counter() - start) / 60.0)


def smoke_wall() -> tuple[float, float, dict[str, object]]:
    """Wall and CPU seconds (all processes) of the smoke preset: on a shared machine the CPU / 2
    is what it costs 2 idle cores."""
    with tempfile.TemporaryDirectory() as out:
        cpu0 = _children_cpu()
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "ccs2chademo", "campaign", "--preset", "smoke", "--workers",
                               "2", "--out", out, "--json"], capture_output=True, text=True, cwd=ROOT, check=False)
        wall = time.perf_counter() - start
    return wall, _children_cpu() - cpu0, json.loads(done.stdout.strip().splitlines()[-1])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tree(commit: str, into: Path) -> Path:
    """The pure-Python sources of ``commit`` (no compiled extensions)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src"], capture_output=True, check=True)
    subprocess.run(["tar", "xf", "-", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def session_walls(commit: str, base: str, runs: int) -> tuple[float, float, dict[str, object], dict[str, object]]:
    """Best wall of the 10 % session on ``commit`` and on ``base``, alternating."""
    ours: list[float] = []
    theirs: list[float] = []
    summaries: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, rev in (("ours", commit), ("base", base)):
            (Path(tmp) / name).mkdir()
            paths[name] = tree(rev, Path(tmp) / name)
        for _ in range(runs):
            for name, walls in (("ours", ours), ("base", theirs)):
                env = dict(os.environ, PYTHONPATH=str(paths[name]))
                start = time.perf_counter()
                out = subprocess.run([sys.executable, "-m", "ccs2chademo", *SESSION], capture_output=True, text=True,
                                     env=env, cwd=tmp, check=True).stdout
                walls.append(time.perf_counter() - start)
                summaries[name] = {k: v for k, v in json.loads(out).items() if k != "wall_s"}
    return min(ours), min(theirs), summaries["ours"], summaries["base"]


def machinery(runs: int) -> tuple[float, float]:
    """Best wall of one 10 % session: bare ``simulate`` vs a campaign spec on a 1-worker run."""
    spec = ScenarioSpec("bench-1", "bench", "-", "-", "leaf-ze1-40", "alpitronic", 50.0, 60, Expected((BATTERY_FULL,)))
    bare, campaign = [], []
    for _ in range(runs):
        start = time.perf_counter()
        simulate(spec.scenario())
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        run_local([spec], 1)
        campaign.append(time.perf_counter() - start)
    return min(bare), min(campaign)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=60, help="scenarios of the throughput sample")
    parser.add_argument("--runs", type=int, default=3, help="runs of each single-session measurement")
    parser.add_argument("--base", default=None, help="the baseline commit (default: merge base with main)")
    parser.add_argument("--no-smoke", action="store_true", help="skip the smoke preset's wall time")
    args = parser.parse_args()
    cores = default_workers()
    base = args.base or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], capture_output=True,
                                       text=True, check=True).stdout.strip()
    one = throughput(args.sample, 1)
    many = throughput(args.sample, cores)
    print(f"throughput ({args.sample} smoke scenarios, every dimension): {one:.0f} scenarios/min on 1 core; "
          f"{many:.0f}/min on {cores} cores = {many / cores:.0f} per minute per core "
          f"(scaling {many / one:.2f}× of {cores})")
    if not args.no_smoke:
        wall, cpu, line = smoke_wall()
        print(f"smoke preset: {line['scenarios']} scenarios, {line['ok']} ok, {wall:.1f} s wall with 2 workers "
              f"(campaign's own wall_s {line['wall_s']}), {cpu:.1f} CPU s (≈ {cpu / 2:.0f} s on 2 idle cores; "
              f"load average {os.getloadavg()[0]:.1f})")
    ours, theirs, s_ours, s_base = session_walls("HEAD", base, args.runs)
    same = "same summary" if s_ours == s_base else f"DIFFERENT summary: {s_ours} vs {s_base}"
    print(f"single session (simulate 50→60 %, pure Python, best of {args.runs}): {ours:.2f} s on HEAD vs "
          f"{theirs:.2f} s on {base[:10]} (ratio {ours / theirs:.3f}; {same})")
    bare, campaign = machinery(args.runs)
    print(f"one scenario in process: bare simulate {bare:.2f} s vs through the campaign (spec, judgement, "
          f"1-worker run) {campaign:.2f} s (ratio {campaign / bare:.3f})")


if __name__ == "__main__":
    main()
