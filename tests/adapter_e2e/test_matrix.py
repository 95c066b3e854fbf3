"""Every car profile × every charger personality: the session completes (or ends in the stop
the combination must end in) with zero safety-invariant violations (issue 7 tests)."""

from __future__ import annotations

import pytest

from ccs2chademo.sim.charger import PERSONALITIES
from ccs2chademo.sim.profiles import PROFILE_NAMES

from .helpers import PRESET_FOR, run, violations

#: Combinations that must end in a specific stop instead of completing.
EXPECTED_STOP = {
    # the Kia's target (420 V) is above what a Tesla V2 can deliver (410 V): 0x109.5.3, then stop
    ("kia-soul", "tesla-v2"): "0x800 (BATTERY_INCOMPATIBLE)",
}
#: Chargers that charge; the V2X dischargers (``sigenstor``) have their own sessions in test_v2x.py,
#: protocol quirks (``matrix=False``) their own scenarios.
CHARGERS = sorted(name for name, p in PERSONALITIES.items() if not p.stage.discharge and p.matrix)


@pytest.mark.parametrize("charger", CHARGERS)
@pytest.mark.parametrize("car", PROFILE_NAMES)
def test_car_on_charger(car: str, charger: str) -> None:
    world, summary, _ = run(car, charger, PRESET_FOR.get(car), soc=20.0)
    assert violations(summary) == []
    expected = EXPECTED_STOP.get((car, charger))
    if expected is None:
        assert summary.result == "completed", summary.stop_reason
        assert summary.stop_reason == "ccs: battery-full:CurrentDemand"
        assert summary.soc_end > summary.soc_start
        assert "CurrentDemand" in summary.ccs_states and "charging" in summary.chademo_states
    else:
        assert summary.stop_reason is not None and expected in summary.stop_reason
        assert world.energy_kwh() == 0.0
    assert world.finished_at is not None and not world.hw.powered


def test_default_scenario_20_to_80_percent() -> None:
    """The `make demo` session: Leaf ZE1 40 kWh, 20 → 80 %, Alpitronic — ≈30 charging minutes."""
    world, summary, records = run(stop=80, limit_s=4 * 3600)
    assert violations(summary) == []
    assert summary.result == "completed"
    assert summary.stop_reason == "ccs: battery-full:CurrentDemand"
    assert 79.0 <= summary.soc_end <= 81.0
    assert 20.0 < summary.energy_kwh < 25.0  # 60 % of a 37 kWh pack plus losses
    charging = [s.t for s in world.samples if s.ccs_state == "CurrentDemand"]
    assert 25 * 60 < charging[-1] - charging[0] < 45 * 60
    # the two-session flow, in order (adapter.md §2)
    sessions = [r["session"] for r in records if r["kind"] == "chademo-session"]
    assert sessions == ["discovery", "charge"]
