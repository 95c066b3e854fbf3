"""Shared pieces of the ``run``/``charger-sim`` tests: the root skip, artefact folders, GPIO checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ccs2chademo.drivers.linux.netns import unavailable

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

_reason = unavailable()
needs_netns = pytest.mark.skipif(_reason is not None, reason=f"two-process veth tests skipped: {_reason}")

#: The shutdown order of drivers/safety.py (power hold released last).
SHUTDOWN_ORDER = ["contactor", "d2", "d1", "cp_state_c", "led_external", "led_internal", "power_hold"]


def artifacts(request: pytest.FixtureRequest) -> Path:
    """A fresh folder per test under test-artifacts/ (git-ignored), kept after the run."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    path = ARTIFACTS / "run" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def final_levels(changes: list[dict[str, Any]]) -> dict[str, bool]:
    levels: dict[str, bool] = {}
    for change in changes:
        levels[change["role"]] = change["value"]
    return levels


def assert_safe_shutdown(changes: list[dict[str, Any]], since: float | None = None) -> None:
    """Every output ends safe, the changes after ``since`` follow the shutdown order, power hold last."""
    assert changes, "the sim GPIO recorded nothing"
    end = final_levels(changes)
    assert end == {"contactor": False, "d2": False, "d1": False, "cp_state_c": False, "led_external": False,
                   "led_internal": False, "power_hold": False}, end
    assert changes[-1]["role"] == "power_hold" and changes[-1]["value"] is False
    if since is None:
        return
    tail = [c["role"] for c in changes if c["t"] >= since]
    ranks = [SHUTDOWN_ORDER.index(role) for role in tail]
    assert ranks == sorted(ranks), tail
