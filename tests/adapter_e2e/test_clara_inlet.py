"""The clara mode's inlet, demo and AC paths end to end (issue 13): pins that heat with the current
(derating, then the over-temperature stop), the lock with its feedback (a jammed lock: the session
never closes the inlet contactors), the stand-alone demo with a pack (no VCU), and basic AC with
the simulated AC EVSE — each with the mode's invariants, which are shown to be able to fail."""

from __future__ import annotations

import io
import json
import logging

import pytest
from click.testing import CliRunner

from ccs2chademo.adapter import clara_side
from ccs2chademo.adapter.clara_map import DEFAULT_MAP, Direction, unpack
from ccs2chademo.adapter.config import build_config
from ccs2chademo.cli import cli
from ccs2chademo.runtime import CanFrame
from ccs2chademo.runtime.sessionlog import capture
from ccs2chademo.sim.clara_world import (
    CONTACTOR_CLOSED_UNLOCKED,
    CURRENT_WHILE_OVERHEATED,
    UNLOCKED_UNDER_VOLTAGE,
    ClaraWorld,
)
from ccs2chademo.sim.world import Scenario, build_world, summarize

from .test_clara_mode import kinds, run, violations


def _side(world: ClaraWorld) -> clara_side.ClaraSide:
    side = world.bridge.car_side
    assert isinstance(side, clara_side.ClaraSide)
    return side


# ---------------------------------------------------------------------------------- inlet temperature
def test_a_hot_day_derates_without_stopping() -> None:
    # max-amps 125 = ccs32clara's MaxCurrent default: the derating bites from derate-temp on
    world, summary, records = run(faults=("hot-day", "stop-button@CurrentDemand+70"), stop=None,
                                  values={"max-amps": 125, "clara": {"derate-temp": 55, "max-pin-temperature": 65}})
    assert violations(summary) == [] and summary.stop_reason == "button"
    (derating,) = kinds(records, "clara-derating")
    assert derating["inlet_hot"] and derating["temperature"] > 55
    late = [s for s in world.samples if derating["t"] + 20 < s.t and s.ccs_state == "CurrentDemand"]
    assert late and max(s.current_a for s in late) < 110  # the VCU clamped to the derated 0x109 maximum
    assert world.inlet.hottest_c < world.config.clara.max_pin_temperature


def test_a_loose_crimp_derates_then_stops_with_inlet_overheat() -> None:
    world, summary, records = run(faults=("loose-crimp",), stop=None)
    assert violations(summary) == [] and summary.result == "completed"
    assert summary.stop_reason == "clara: inlet overheat" and _side(world).values["StopReason"] == 7
    assert [r["inlet_hot"] for r in kinds(records, "clara-derating")][:1] == [True]
    assert not world.hw.contactor.closed


def test_the_overheat_invariant_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A controller that ignores its temperature sensors is caught."""
    monkeypatch.setattr(clara_side.ClaraSide, "_judge_temperature", lambda self, now: None)
    monkeypatch.setattr(clara_side.ClaraSide, "_overheated", lambda self: False)
    _, summary, _ = run(faults=("loose-crimp", "stop-button@CurrentDemand+30"), stop=None)
    assert CURRENT_WHILE_OVERHEATED in [v["invariant"] for v in summary.invariant_violations]


# ---------------------------------------------------------------------------------- the lock
def test_a_normal_session_locks_before_closing_and_unlocks_at_a_safe_voltage() -> None:
    world, summary, records = run()
    assert violations(summary) == []
    locks = kinds(records, "inlet-lock")
    assert [r["locked"] for r in locks] == [True, False]
    closes = [s.t for s in world.samples if s.contactor]
    assert closes and locks[0]["t"] < closes[0] and locks[1]["t"] > closes[-1]


def test_a_jammed_lock_never_lets_the_session_start() -> None:
    world, summary, records = run(faults=("lock-jam",), stop=None)
    assert violations(summary) == []
    assert summary.stop_reason == "clara: lock failure" and _side(world).values["StopReason"] == 9
    assert summary.energy_kwh == 0.0 and not any(s.contactor for s in world.samples)
    assert "CurrentDemand" not in summary.ccs_states
    assert kinds(records, "clara-lock-failed")[0]["closing"] is True


def test_the_lock_invariants_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A controller that trusts its lock command instead of the feedback closes unlocked; one
    that opens the lock as soon as the stop begins opens it under voltage."""
    monkeypatch.setattr(clara_side.ClaraSide, "_locked", lambda self: True)
    monkeypatch.setattr(clara_side.ClaraSide, "_lock_timeout", lambda self, now: None)
    _, summary, _ = run(faults=("lock-jam", "stop-button@CurrentDemand+5"), stop=None)
    assert CONTACTOR_CLOSED_UNLOCKED in {v["invariant"] for v in summary.invariant_violations}
    monkeypatch.undo()
    stop = clara_side.ClaraSide._stop

    def unlock_at_once(self: clara_side.ClaraSide, reason: clara_side.ClaraStop, now: float) -> None:
        stop(self, reason, now)
        self._set_lock(False, now)

    monkeypatch.setattr(clara_side.ClaraSide, "_stop", unlock_at_once)
    _, summary, _ = run(stop=21)
    assert UNLOCKED_UNDER_VOLTAGE in {v["invariant"] for v in summary.invariant_violations}


# ---------------------------------------------------------------------------------- stand-alone demo with a pack
def test_stand_alone_demo_charges_a_pack_at_the_demo_voltage_with_10_a() -> None:
    world, summary, records = run(vcu="none", stop=None, values={"clara": {"demo-voltage": 190}})
    assert violations(summary) == [] and summary.result == "completed" and summary.stop_reason == "button"
    assert kinds(records, "clara-watchdog") == [] and summary.energy_kwh > 0
    charging = [s for s in world.samples if s.ccs_state == "CurrentDemand" and s.current_a > 0]
    assert charging and all(abs(s.current_a - 10) < 0.5 for s in charging[2:])
    assert all(s.charger_v <= 190 + 1 for s in charging)
    assert summary.soc_end > summary.soc_start


def test_cli_stand_alone_demo() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--json", "--mode", "clara", "--vcu", "none"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["mode"] == "clara" and summary["result"] == "completed"
    assert summary["invariant_violations"] == [] and summary["energy_kwh"] > 0


# ---------------------------------------------------------------------------------- basic AC
def test_basic_ac_with_the_simulated_evse() -> None:
    frames: list[CanFrame] = []
    scenario = Scenario(charger="alpitronic", soc_start=20.3, soc_stop=21, config=build_config({"mode": "clara"}),
                        ac_amps=32.0, limit_s=900.0)
    with capture(stream=io.StringIO(), level=logging.WARNING):
        world = build_world(scenario, on_can=lambda t, frame: frames.append(frame))
        world.run()
    assert isinstance(world, ClaraWorld)
    summary = summarize(world, 0.0)
    assert violations(summary) == [] and summary.result == "completed"
    assert summary.stop_reason == "clara: enable off" and summary.ccs_states == ["waiting"]
    assert "ac_charging" in summary.chademo_states and summary.soc_end > 20.9  # the VCU rounds its SoC
    reports = [unpack(DEFAULT_MAP, 0x357, f.data, Direction.SENT) for f in frames if f.arbitration_id == 0x357]
    assert {r["EvseAcCurrentLimit"] for r in reports if r["PortState"] == 3} == {32}  # 53.3 % duty
    obc = {unpack(DEFAULT_MAP, 0x358, f.data, Direction.RECEIVED)["AcObcState"] for f in frames
           if f.arbitration_id == 0x358}
    assert {1, 2, 4} <= obc  # lock, charging, complete
    assert world.ac is not None and not world.ac.supplying and not world.lock.locked


def test_cli_basic_ac() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--json", "--mode", "clara", "--ac", "16", "--soc-start", "20.4",
                                      "--soc-stop", "21"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["result"] == "completed" and "ac_charging" in summary["downstream_states"]
