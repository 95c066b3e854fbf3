"""Driving the world in small steps (a live view, a trace script) reaches every step and gives
the same session as one run."""

from __future__ import annotations

import subprocess
import sys

from ccs2chademo.sim.world import Scenario, World

STEPS = """
from ccs2chademo.sim.world import Scenario, World
world = World(Scenario(soc_stop=21))
for k in range(1, 251):
    t = world.run(until=k * 0.02)
    assert abs(t - k * 0.02) < 1e-9, (k, t)
assert world.finished_at is None  # 5 s in: the session is still starting
"""


def test_run_until_reaches_float_steps_that_round_below_themselves() -> None:
    # k × 0.02 s is often a hair above its nanosecond (0.06 → 0.06000000000000001): each call
    # must return at that step instead of spinning on it (a child process, so a regression
    # fails on the timeout instead of hanging the suite)
    subprocess.run([sys.executable, "-c", STEPS], check=True, timeout=120)


def test_stepped_and_whole_runs_are_the_same_session() -> None:
    whole, stepped = World(Scenario(soc_stop=21)), World(Scenario(soc_stop=21))
    whole.run()
    k = 0
    while stepped.finished_at is None:
        k += 1
        stepped.run(until=k * 0.7)
    assert stepped.finished_at == whole.finished_at
    assert stepped.samples == whole.samples
