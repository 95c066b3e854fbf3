"""Soak (issue 15, item 5): 24 virtual hours of back-to-back simulated sessions in one process.

Every session is a whole :class:`~ccs2chademo.sim.world.World` — charger, adapter, car — with a
seeded random car, charger and fault schedule (``tools/random_faults.py``'s scenarios: 1–3 faults,
a 1 % SoC window), one in four a longer charge (20 % SoC) and one in ten a hostile charger
(``sim/hostile.py``).  Sessions follow each other until their virtual times add up to
``--hours``.  At every virtual hour the process is measured after a full garbage collection:

* resident memory (``VmRSS``) — it must not grow by more than 1 MB per virtual hour after the
  first (the least-squares slope over hours 1 … N; the first hour fills the codec's bounded
  memo caches and the imports' lazy tables);
* the live runtimes, worlds and machines — every session's world must be gone once it has
  ended, with its scheduler and every timer in it (a leak of timers or tasks is a leak of these);
* the session logger's handlers.

Prints one JSON line per virtual hour and a summary line last
(``{"virtual_h", "sessions", "wall_s", "rss_mb_first_h", "rss_mb_end", "growth_mb_per_h", …}``);
exits 1 when a bound is broken or a session violated a safety invariant.
``python tools/soak.py --hours 24`` (``make soak``).

``--veth MINUTES`` is the other half: ``ccs2chademo run`` against ``charger-sim`` on a veth pair
(root; :class:`~ccs2chademo.sim.veth_session.VethSession`) for that many wall-clock minutes of one
long charge (a Leaf ZE1 40 kWh from 5 % at the 60 A ``underdeliver`` charger, the stop button at the
end — the 40 kWh Leaf announces 80 minutes of maximum charging time; the 62 kWh e+ announces only
228 × 10 s = 38 minutes, as the real one does, and would end the hour early with CHARGING_TIME),
sampling the adapter process each minute: RSS, CPU (user + system, % of one core over the minute)
and the jitter of its CHAdeMO cycle (the intervals between the 0x109 frames it sent, 100 ms nominal,
from its CAN log): one JSON line per minute, a summary last.
(``make soak-veth``: 60 minutes.)
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import logging
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ccs2chademo.runtime.sessionlog import LOGGER_NAME
from ccs2chademo.sim.hostile import HOSTILE
from ccs2chademo.sim.world import Scenario, simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from random_faults import scenario as random_scenario  # a sibling tool, after sys.path

#: the bound of issue 15
MAX_GROWTH_MB_PER_H = 1.0
#: classes whose live instances after a session ended are a leak
TRACKED = ("VirtualRuntime", "World", "Bridge", "Secc", "Evcc", "ChademoVehicle", "Timers")


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def live() -> dict[str, int]:
    counts = Counter(type(o).__name__ for o in gc.get_objects())
    return {name: counts.get(name, 0) for name in TRACKED}


def session_kwargs(seed: int) -> dict[str, Any]:
    kw = random_scenario(seed)
    r = random.Random(seed ^ 0x5EED)
    kw["limit_s"] = 1800.0
    if seed % 4 == 0:
        kw["soc_stop"] = int(kw["soc_start"]) + 20 if kw["soc_start"] <= 70 else 95
        kw["limit_s"] = 4 * 3600.0  # 20 % of a 62 kWh pack at a 60 A charger: more than half an hour
    if seed % 10 == 5:
        kw["charger"], kw["faults"] = r.choice(sorted(HOSTILE)), ()
    return kw


def measure(hour: int, sessions: int, start: float, handlers: int, leaks: list[str]) -> dict[str, Any]:
    """One sample after a full collection; what leaked is appended to ``leaks``."""
    gc.collect()
    counts = live()
    sample = {"hour": hour, "sessions": sessions, "rss_mb": round(rss_mb(), 2), "live": counts,
              "handlers": len(logging.getLogger(LOGGER_NAME).handlers), "wall_s": round(time.perf_counter() - start, 1)}
    print(json.dumps(sample), flush=True)
    if any(counts.values()):
        leaks.append(f"hour {hour}: live after collection {counts}")
    if sample["handlers"] != handlers:
        leaks.append(f"hour {hour}: {sample['handlers']} session-log handlers (started with {handlers})")
    return sample


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points (0 for fewer than two)."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def _proc(pid: int) -> tuple[float, float]:
    """RSS (MB) and CPU seconds (user + system) of a process."""
    with open(f"/proc/{pid}/status") as fh:
        rss = next((int(line.split()[1]) / 1024.0 for line in fh if line.startswith("VmRSS:")), 0.0)
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return rss, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


#: a longer silence of 0x109 is a pause between the adapter's CHAdeMO sessions, not a late cycle
PAUSE_MS = 1000.0


def _can_logs(out: Path) -> list[Path]:
    """The adapter's CAN logs, oldest first: the rotated ``can_<time>_#NNN.log`` files (python-can's
    size rotation; their names sort by time) and ``can.log``, which is always the newest."""
    return [*sorted(out.glob("can_*.log")), *([out / "can.log"] if (out / "can.log").exists() else [])]


def _cycle_ms(out: Path, since: float) -> list[float]:
    """Intervals (ms) between the adapter's 0x109 frames logged after ``since`` (candump time),
    pauses between CHAdeMO sessions left out; across a rotation of the log too."""
    times = []
    for can_log in _can_logs(out):
        with can_log.open() as fh:
            for line in fh:
                if " 109#" in line:
                    t = float(line[1 : line.index(")")])
                    if t > since:
                        times.append(t)
    return [ms for a, b in itertools.pairwise(times) if (ms := (b - a) * 1000.0) < PAUSE_MS]


def veth(minutes: float, out: Path) -> int:
    from ccs2chademo.sim.veth_session import VethSession, exit_on_termination

    exit_on_termination()  # a killed soak still deletes its namespaces and ends its children
    samples: list[dict[str, Any]] = []
    with VethSession(out, personality="underdeliver", car="leaf-ze1-40", soc=5.0, stop_after_s=minutes * 60.0,
                     charger_timeout_s=minutes * 60.0 + 600.0, charger_load=True) as session:
        adapter = session.procs["adapter"]
        last_cpu, last_t, since = 0.0, time.monotonic(), 0.0
        while adapter.poll() is None:
            time.sleep(min(60.0, max(1.0, last_t + 60.0 - time.monotonic())))
            if adapter.poll() is not None:
                break
            rss, cpu = _proc(adapter.pid)
            now = time.monotonic()
            cycles = sorted(_cycle_ms(out, since))
            sample = {"minute": len(samples) + 1, "rss_mb": round(rss, 2),
                      "cpu_pct": round(100.0 * (cpu - last_cpu) / (now - last_t), 1),
                      "cycles": len(cycles),
                      "cycle_ms_p50": round(cycles[len(cycles) // 2], 2) if cycles else None,
                      "cycle_ms_p99": round(cycles[int(len(cycles) * 0.99)], 2) if cycles else None,
                      "cycle_ms_max": round(cycles[-1], 2) if cycles else None}
            samples.append(sample)
            print(json.dumps(sample), flush=True)
            last_cpu, last_t = cpu, now
            since = _last_time(out)
        result = session.wait("adapter", 120.0)
        session.wait("charger", 60.0)
    rss_mb = [s["rss_mb"] for s in samples]
    summary = result.summary() or {}
    print(json.dumps({"minutes": len(samples), "result": summary.get("result"),
                      "stop_reason": summary.get("stop_reason"),
                      "rss_mb_first": rss_mb[0] if rss_mb else None, "rss_mb_end": rss_mb[-1] if rss_mb else None,
                      "cpu_pct_mean": round(sum(s["cpu_pct"] for s in samples) / len(samples), 1) if samples else None,
                      "cycle_ms_max": max((s["cycle_ms_max"] or 0.0 for s in samples), default=None),
                      "exit": result.returncode}))
    return 0 if result.returncode == 0 else 1


def _last_time(out: Path) -> float:
    """The candump time of the last frame logged so far (a ``can.log`` just rotated may be empty)."""
    for can_log in reversed(_can_logs(out)):
        last = 0.0
        with can_log.open() as fh:
            for line in fh:
                if line.startswith("("):
                    last = float(line[1 : line.index(")")])
        if last:
            return last
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0, help="virtual hours of sessions")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first session")
    parser.add_argument("--veth", type=float, default=None, metavar="MINUTES",
                        help="instead: ccs2chademo run on a veth pair for MINUTES of wall time (root)")
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/soak-veth"), help="--veth artefacts")
    args = parser.parse_args()
    if args.veth is not None:
        return veth(args.veth, args.out)
    start = time.perf_counter()
    handlers = len(logging.getLogger(LOGGER_NAME).handlers)
    virtual = 0.0
    sessions = 0
    hour = 0
    results: Counter[str] = Counter()
    violations: list[str] = []
    samples: list[dict[str, Any]] = []
    leaks: list[str] = []
    seed = args.seed
    while virtual < args.hours * 3600.0:
        kw = session_kwargs(seed)
        summary = simulate(Scenario(**kw))
        seed += 1
        sessions += 1
        virtual += summary.virtual_s
        results[summary.result] += 1
        if summary.result == "incomplete":  # the session hit its time limit: a hang of its own kind
            violations.append(f"seed {kw['seed']}: incomplete after {summary.virtual_s:.0f} s")
        if summary.invariant_violations:
            violations.append(f"seed {kw['seed']}: {summary.invariant_violations[0]}")
        end = virtual >= args.hours * 3600.0
        while virtual >= (hour + 1) * 3600.0 or (end and hour < args.hours and virtual > hour * 3600.0):
            hour += 1
            samples.append(measure(hour, sessions, start, handlers, leaks))
    growth = slope([(s["hour"], s["rss_mb"]) for s in samples[1:]])  # after the first hour
    ok = growth <= MAX_GROWTH_MB_PER_H and not leaks and not violations
    print(json.dumps({"virtual_h": round(virtual / 3600.0, 2), "sessions": sessions,
                      "wall_s": round(time.perf_counter() - start, 1),
                      "rss_mb_first_h": samples[0]["rss_mb"] if samples else None,
                      "rss_mb_end": samples[-1]["rss_mb"] if samples else None,
                      "growth_mb_per_h": round(growth, 3), "bound_mb_per_h": MAX_GROWTH_MB_PER_H,
                      "results": dict(results), "violations": violations[:10], "leaks": leaks[:10], "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
