"""Random fault schedules through whole simulated sessions, as a tester outside the team would run
them (issue 19): a seeded random car, charger, SoC and 1–3 faults per scenario, judged by the
safety invariants.  Prints one reproducible ``ccs2chademo simulate`` command per bad scenario and a
summary line.  (The test suite runs the same kind of schedules with hypothesis; this is the long
run: ``python tools/random_faults.py --first 0 --count 3000``.)
"""

from __future__ import annotations

import argparse
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ccs2chademo.chademo.interfaces import ChargerState
from ccs2chademo.sim.charger import PERSONALITIES
from ccs2chademo.sim.faults import FAULT_NAMES, FAULT_STATES
from ccs2chademo.sim.profiles import PROFILE_NAMES
from ccs2chademo.sim.vehicle import VehicleState
from ccs2chademo.sim.world import Scenario, simulate

CCS_STATES = ("slac", "sdp", "SessionSetup", "ChargeParameterDiscovery", "CableCheck", "WaitForPreCharge",
              "PreCharge", "PowerDeliveryOn", "CurrentDemand", "PowerDeliveryOff", "WeldingDetection",
              "SafeShutdown")
STATES = CCS_STATES + tuple(s.value for s in ChargerState) + tuple(s.value for s in VehicleState)
WORLD = ("tcp-loss", "stop-button", "long-press", "car-stop", "cp-deaf")  # never `weld`: it must violate
CHARGERS = tuple(name for name, p in PERSONALITIES.items() if not p.stage.discharge)


def scenario(seed: int) -> dict[str, Any]:
    """The scenario of one seed (the same seed always gives the same scenario)."""
    r = random.Random(seed)
    faults = []
    for _ in range(r.randint(1, 3)):
        if r.random() < 0.5:
            faults.append(f"{r.choice(FAULT_NAMES)}@{r.choice(FAULT_STATES).value}")
        else:
            name = r.choice(WORLD)
            delay = r.choice((0, 0.1, 0.5, 1, 2, 3, 5))
            faults.append(name if name == "cp-deaf" else f"{name}@{r.choice(STATES)}+{delay}")
    soc = r.choice((5, 10, 20, 30, 50, 70, 90))
    return {"car": r.choice(PROFILE_NAMES), "charger": r.choice(CHARGERS), "soc_start": soc,
            "soc_stop": soc + 1, "faults": tuple(faults), "seed": seed}


def run(seed: int) -> tuple[dict[str, Any], str, list[str]]:
    kw = scenario(seed)
    summary = simulate(Scenario(limit_s=1800.0, **kw))
    return kw, summary.result, [f"{v['invariant']}: {v['detail']}" for v in summary.invariant_violations]


def command(kw: dict[str, Any]) -> str:
    faults = " ".join(f"--fault {f}" for f in kw["faults"])
    return (f"ccs2chademo simulate --car {kw['car']} --charger {kw['charger']} --soc-start {kw['soc_start']} "
            f"--soc-stop {kw['soc_stop']} --seed {kw['seed']} {faults} --json")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=int, default=0, help="first seed")
    parser.add_argument("--count", type=int, default=1000, help="number of scenarios")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    bad = 0
    with ProcessPoolExecutor(args.workers) as pool:
        for kw, result, violations in pool.map(run, range(args.first, args.first + args.count), chunksize=8):
            if violations or result == "incomplete":
                bad += 1
                sys.stdout.write(f"{result} {violations}\n  {command(kw)}\n")
    sys.stdout.write(f"{bad} of {args.count} scenarios violated an invariant or did not end\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
