"""Running whole simulated sessions (charger ↔ adapter ↔ car) for the scenario tests."""

from __future__ import annotations

import io
import json
from typing import Any

from ccs2chademo.adapter.config import build_config
from ccs2chademo.runtime.sessionlog import capture
from ccs2chademo.sim.world import Scenario, Summary, World, summarize
from ccs2chademo.v2g.secc import ReplyHook

#: The preset each car needs (adapter.md §12.2); everything else runs on the defaults.
PRESET_FOR = {"lexus-ux300e": "sx", "xpeng-g3": "sx", "leaf-ze0-24": "av1", "leaf-aze0-30": "av1", "jdemo": "jdemo"}


def run(car: str = "leaf-ze1-40", charger: str = "alpitronic", preset: str | None = None,
        faults: tuple[str, ...] = (), soc: float = 20.0, stop: int | None = None,
        values: dict[str, Any] | None = None, hook: ReplyHook | None = None,
        limit_s: float = 900.0) -> tuple[World, Summary, list[dict[str, Any]]]:
    """One session, a short SoC window by default (soc → soc + 1 %); returns the world, the
    ``--json`` summary and the session log records."""
    config = build_config(values or {}, preset)
    scenario = Scenario(car=car, charger=charger, soc_start=soc, soc_stop=stop if stop is not None else int(soc) + 1,
                        config=config, faults=faults, limit_s=limit_s)
    stream = io.StringIO()
    with capture(stream=stream):
        world = World(scenario, secc_hook=hook)
        world.run()
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    # every machine moves only along its successor table (docs/machines.md): a refused move is a bug
    refused = kinds(records, "transition-refused")
    assert not refused, f"transitions refused: {refused[:5]}"
    return world, summarize(world, 0.0), records


def kinds(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == kind]


def violations(summary: Summary) -> list[str]:
    return [f"{v['invariant']}: {v['detail']}" for v in summary.invariant_violations]
