"""The real-world failure modes of adapter.md §14 that software can reproduce, one scenario each,
plus the stop paths of adapter.md §4 from either side."""

from __future__ import annotations

import pytest

from ccs2chademo.adapter.chademo_side import ChademoSide
from ccs2chademo.chademo.interfaces import ChargerState
from ccs2chademo.sim.faults import FAULT_NAMES
from ccs2chademo.v2g.messages import EvMessage, Kind
from ccs2chademo.v2g.secc import Reply

from .helpers import kinds, run, violations


def _state_times(world, key: str, state: str) -> list[float]:
    return [s.t for s in world.samples if getattr(s, key) == state]


def test_under_delivering_charger_dynamic_current() -> None:
    """#9: 150 A advertised, ≤ 60 A delivered: 0x108.3 = delivered + 10 A keeps the car in step."""
    world, summary, records = run(charger="underdeliver", stop=22)
    assert violations(summary) == [] and summary.result == "completed"
    assert max(s.current_a for s in world.samples) <= 60.5
    charging = [s for s in world.samples if s.ccs_state == "CurrentDemand" and s.current_a > 55]
    assert charging, "the charger never reached its delivery limit"
    assert max(s.request_a for s in charging) <= 60 + 10 + 2
    assert not kinds(records, "car-current-deviation")


def test_charger_voltage_that_never_drops() -> None:
    """#7: stale voltage after the stop: welding detection is bounded and only logged."""
    world, summary, records = run(charger="stale-voltage")
    assert violations(summary) == [] and summary.result == "completed"
    verdicts = [r["result"] for r in kinds(records, "welding-detection")]
    assert verdicts and verdicts[0] in ("probably lying", "probably welded")
    assert "SessionStop" in summary.ccs_states and world.bridge.ccs_status.stop_reason.startswith("battery-full")


def test_tesla_v2_slow_precharge() -> None:
    """#6: ≈11 s precharge from 0 V: d2 only once the precharge voltage is reached (stall)."""
    world, summary, records = run(charger="tesla-v2")
    assert violations(summary) == [] and summary.result == "completed"
    precharge = _state_times(world, "ccs_state", "PreCharge")
    assert precharge[-1] - precharge[0] >= 8.0
    stall = kinds(records, "precharge-stall")[0]["t"]
    d2_on = next(r["t"] for r in records if r["kind"] == "output" and r.get("name") == "d2" and r["value"])
    assert d2_on >= stall


def test_xpeng_target_change_frozen_at_d2() -> None:
    """#15: the Xpeng raises its target 434 → 450 V after its contactors close; CCS keeps 434 V."""
    world, summary, _records = run(car="xpeng-g3", preset="sx")
    assert violations(summary) == [] and summary.result == "completed"
    assert world.bridge.car_side is not None and world.bridge.car_side.vehicle.target_voltage == 450
    assert world.bridge.request.target_voltage == 434
    assert world.bridge.request.max_voltage == 435


def test_outlander_welding_check_by_can_voltage() -> None:
    """#13: the Outlander judges welding from 0x109 voltage: the × 0.83 bleed satisfies it."""
    for values in ({}, {"open-adapter-contactor-before-wd": True}):
        world, summary, records = run(car="outlander-phev", values=values)
        assert violations(summary) == [] and summary.result == "completed"
        assert world.car.dtcs == []
        assert kinds(records, "car-dtc") == []


def test_imiev_weak_d2() -> None:
    """#11: a weak d2 cannot power the i-MiEV's contactors: the adapter contactor never closes and
    no current request reaches CCS (the idle 1 A stays hidden)."""
    world, summary, _records = run(car="imiev", faults=("weak-d2",))
    assert violations(summary) == []
    assert world.hw.contactor.timeline == []
    assert "CurrentDemand" not in summary.ccs_states
    assert world.energy_kwh() == 0.0 and summary.stop_reason is not None


def test_imiev_normal_d2() -> None:
    _world, summary, _ = run(car="imiev")
    assert violations(summary) == [] and summary.result == "completed"


def test_jdemo_static_available_current() -> None:
    """#10: Jdemo kits stop when 0x108.3 is lowered to their request: the JDEMO preset keeps it static."""
    world, summary, _ = run(car="jdemo", preset="jdemo")
    assert violations(summary) == [] and summary.result == "completed"
    assert isinstance(world.bridge.car_side, ChademoSide) and world.bridge.car_side.charger.car_dynamic is False


def test_precharge_target_far_below_the_battery() -> None:
    """#14: a Leaf ZE0 forced onto the general estimate (355 V nominal) is 20–30 V low: the charger
    refuses PowerDelivery → safe shutdown, and the invariant checker flags the contactor closing
    across the difference (the reason AV1 exists; without a car-side voltmeter the adapter cannot
    see it).  With AV1 — chosen by default now that the car is recognised — the same car charges."""
    _, summary, _ = run(car="leaf-ze0-24", values={"alt-estimated-voltage": 0})
    assert summary.result == "safe-shutdown"
    assert summary.stop_reason == "ccs: FAILED_PowerDeliveryNotApplied:PowerDeliveryOn"
    assert [v["invariant"] for v in summary.invariant_violations] == ["contactor-closed-with-voltage-difference"]
    _world, summary, _ = run(car="leaf-ze0-24", preset="av1")
    assert violations(summary) == [] and summary.result == "completed"


def test_plugit_style_charger_requires_ev_limits() -> None:
    """#17: a charger that terminates unless every CurrentDemandReq carries the EV maximum limits."""
    seen: list[EvMessage] = []

    def plugit(request: EvMessage, reply: Reply) -> Reply:
        if request.kind is Kind.CURRENT_DEMAND and reply.message is not None:
            seen.append(request)
            if None in (request.max_voltage, request.max_current, request.max_power):
                return Reply(reply.message.__class__(Kind.CURRENT_DEMAND, response_code="FAILED"), reply.delay)
        return reply

    _world, summary, _ = run(hook=plugit)
    assert violations(summary) == [] and summary.result == "completed"
    assert len(seen) > 100
    assert {(r.max_voltage, r.max_current, r.max_power) for r in seen} == {(411.0, 200.0, 100_000.0)}


def test_env200_stop_before_charging_bit_ignored() -> None:
    """#19: an e-NV200 sets 0x102.5.4 before charging; the adapter ignores it."""
    _world, summary, records = run(car="env200-40")
    assert violations(summary) == [] and summary.result == "completed"
    assert any("0x102.5.4" in r.get("reason", "") for r in kinds(records, "rx-ignored"))


def test_leaf_ze0_v2x_second_session() -> None:
    """#20: discharge is never advertised in discovery, so a Leaf ZE0 accepts the second session."""
    world, summary, _ = run(car="leaf-ze0-24", values={"v2x": True, "alt-estimated-voltage": 1})
    assert violations(summary) == [] and summary.result == "completed"
    assert world.car.sessions == 2


def test_tcp_loss_mid_session() -> None:
    """#22: TCP dies in CurrentDemand: safe shutdown, both sides stop, no CCS restart (after CPD)."""
    world, summary, _records = run(faults=("tcp-loss@CurrentDemand+10",), stop=25)
    assert violations(summary) == []
    assert summary.result == "safe-shutdown"
    assert world.bridge.ccs_status.stop_reason == "tcp-reset:CurrentDemand"
    assert world.bridge.ccs_restarts == 0
    assert world.bridge.chademo_state == ChargerState.ENDED
    assert world.hw.cp == "B" and not world.hw.powered


def test_tcp_loss_before_charge_parameter_discovery_restarts_ccs() -> None:
    """adapter.md §4, §14 #24: before ChargeParameterDiscovery completes a CCS restart is allowed (once the real
    CHAdeMO session has not started)."""
    world, summary, records = run(charger="compleo", faults=("tcp-loss@ContractAuthentication+5",))
    assert violations(summary) == [] and summary.result == "completed"
    assert world.bridge.ccs_restarts == 1
    assert [r["session"] for r in kinds(records, "chademo-session")] == ["discovery", "charge"]


@pytest.mark.parametrize("fault", ["evse-shutdown", "emergency-shutdown", "malfunction"])
def test_charger_ends_the_session(fault: str) -> None:
    """adapter.md §4, §14 #1: EVSE_Shutdown / EmergencyShutdown / Malfunction in CurrentDemand end both sides."""
    world, summary, _ = run(faults=(fault,), stop=25)
    assert violations(summary) == []
    cause = fault if fault.startswith("evse-") else f"evse-{fault}"
    assert summary.stop_reason == f"ccs: {cause}:CurrentDemand"
    assert world.bridge.chademo_state == ChargerState.ENDED and not world.hw.powered


def test_car_ends_the_session() -> None:
    _world, summary, _ = run(faults=("car-stop@CurrentDemand+5",), stop=25)
    assert violations(summary) == [] and summary.result == "completed"
    assert summary.stop_reason is not None and summary.stop_reason.startswith("chademo: ")
    assert "PowerDeliveryOff" in summary.ccs_states


STOP_STATES = ["wait_car_ready", "discovered", "slac", "sdp", "CableCheck", "WaitForPreCharge", "PreCharge",
               "wait_car_contactors", "wait_car_request", "CurrentDemand", "charging"]


@pytest.mark.parametrize("state", STOP_STATES)
def test_stop_button_at_every_state(state: str) -> None:
    """adapter.md §4: a short press → power-off pending → both sides stop normally, from any state."""
    world, summary, records = run(faults=(f"stop-button@{state}",), stop=25)
    assert [r["state"] for r in kinds(records, "fault")] == [state]
    assert violations(summary) == []
    assert summary.stop_reason == "button"
    assert world.finished_at is not None and not world.hw.powered
    assert summary.soc_end < 25


@pytest.mark.parametrize("state", ["stop_wait_contactors_open", "PowerDeliveryOff", "WeldingDetection"])
def test_stop_button_during_a_stop(state: str) -> None:
    """A press while the car's stop is already running changes nothing but the log."""
    world, summary, records = run(faults=("car-stop@CurrentDemand+5", f"stop-button@{state}"), stop=25)
    assert [r["state"] for r in kinds(records, "fault")] == ["CurrentDemand", state]
    assert violations(summary) == [] and summary.result == "completed"
    assert summary.stop_reason is not None and summary.stop_reason.startswith("chademo: ")
    assert not world.hw.powered


def test_long_press_forces_power_off() -> None:
    """adapter.md §8: holding the button for forced-off-hold-s cuts power (contactor opened first)."""
    world, summary, _ = run(faults=("long-press@CurrentDemand+5",), values={"forced-off-hold-s": 2}, stop=25)
    assert violations(summary) == []
    assert summary.result == "forced-off" and not world.hw.powered


def test_welded_contactor_is_reported() -> None:
    """The invariants catch a contactor that welded: the session ends with it closed."""
    _world, summary, _ = run(faults=("weld",))
    assert [v["invariant"] for v in summary.invariant_violations] == ["session-end-state"]


def test_always_on_soft_reset_keeps_the_adapter_powered() -> None:
    """adapter.md §8 always-on (V2X-AO): the session end is a soft reset, not a power-off."""
    world, summary, records = run(preset="v2x-ao")
    assert violations(summary) == [] and summary.result == "completed"
    assert world.bridge.soft_resets == 1 and world.hw.powered
    assert summary.stop_reason == "ccs: battery-full:CurrentDemand"
    assert kinds(records, "soft-reset")


def test_charger_that_mirrors_the_target() -> None:
    """adapter.md §6.2: a (portable) charger that only echoes EVTargetVoltage/Current as its present values:
    the car is shown the battery estimate, not the 411 V target (it would fault on voltage)."""
    from dataclasses import replace

    from ccs2chademo.adapter.config import build_config
    from ccs2chademo.sim.world import Scenario, World

    def mirror(request: EvMessage, reply: Reply) -> Reply:
        if request.kind is Kind.CURRENT_DEMAND and reply.message is not None:
            echoed = replace(reply.message, present_voltage=request.target_voltage,
                             present_current=request.target_current)
            return replace(reply, message=echoed)
        return reply

    world = World(Scenario(soc_stop=22, config=build_config({})), secc_hook=mirror)
    world.run(until=60.0)
    assert world.bridge.ccs_session_state == "CurrentDemand"
    assert world.bridge.mirror.mirroring
    estimate = world.bridge.view().battery_estimate_v
    assert estimate is not None
    status = world.car.charger_status
    assert status is not None and abs(status.present_voltage - estimate) <= 1
    world.run()
    assert world.invariants.violations == [] and world.car.dtcs == []
    assert world.bridge.stop_reason == "ccs: battery-full:CurrentDemand"


def test_welding_rounds_count_only_after_the_car_contactors_open(tmp_path) -> None:
    """adapter.md §4: a car that opens its contactors 5 s after the current is down outlasts 10 welding rounds;
    the rounds start counting only once the CHAdeMO side has seen them open, so the charger's
    falling voltage is seen (no false "probably welded")."""
    profile = tmp_path / "slow-leaf.toml"
    profile.write_text('base = "leaf-ze1-40"\nname = "slow-leaf"\ndescription = "slow contactors"\n\n'
                       "[timing]\ncontactor_open_s = 5.0\n")
    _, summary, records = run(car=str(profile))
    assert violations(summary) == [] and summary.result == "completed"
    assert [r["result"] for r in kinds(records, "welding-detection")] == ["voltage fell"]
    assert kinds(records, "welding-bounded") == []


REPLY_FAULT_STATES = ["SessionSetup", "ServiceDiscovery", "ChargeParameterDiscovery", "CableCheck", "PreCharge",
                      "PowerDelivery", "CurrentDemand", "WeldingDetection", "SessionStop"]


@pytest.mark.parametrize("state", REPLY_FAULT_STATES)
@pytest.mark.parametrize("fault", FAULT_NAMES)
def test_every_charger_reply_fault_ends_safely(fault: str, state: str) -> None:
    """Every charger reply fault in every message ends the session with both sides stopped, the
    adapter off and no invariant violation; before ChargeParameterDiscovery the CCS side restarts
    (the fault fires once) and the session charges."""
    world, summary, _ = run(faults=(f"{fault}@{state}",), stop=22)
    assert violations(summary) == []
    assert world.finished_at is not None and not world.hw.powered
    assert summary.stop_reason is not None
    if state in ("SessionSetup", "ServiceDiscovery", "ChargeParameterDiscovery"):
        assert world.bridge.ccs_restarts == 1
        assert summary.result == "completed", summary.stop_reason
    else:
        assert world.bridge.ccs_restarts == 0


def test_two_charger_faults_in_one_session() -> None:
    """Every ``--fault`` applies, each once in its state: a failed ServiceDiscovery costs the
    allowed CCS restart (before ChargeParameterDiscovery), then EVSE_Shutdown in CurrentDemand ends
    the charging session safely on both sides."""
    world, summary, records = run(faults=("failed@ServiceDiscovery", "evse-shutdown@CurrentDemand"), stop=25)
    assert violations(summary) == []
    assert [(r["fault"], r["state"]) for r in kinds(records, "fault")] == [
        ("failed", "ServiceDiscovery"), ("evse-shutdown", "CurrentDemand")]
    assert world.injector is not None and None not in world.injector.fired
    assert world.bridge.ccs_restarts == 1
    assert [r["session"] for r in kinds(records, "chademo-session")] == ["discovery", "charge"]
    assert "CurrentDemand" in summary.ccs_states  # the fault hits the first CurrentDemandRes
    assert summary.stop_reason == "ccs: evse-shutdown:CurrentDemand"
    assert world.bridge.car_side is not None and world.bridge.chademo_state == ChargerState.ENDED
    assert world.finished_at is not None and not world.hw.powered


def test_faults_of_one_state_hit_successive_requests() -> None:
    """Two faults for SessionSetup: the first session and the restarted one each fail once (two
    restarts), the third charges; the order of ``--fault`` is the order they fire in."""
    world, summary, records = run(faults=("failed@SessionSetup", "timeout@SessionSetup"))
    assert violations(summary) == [] and summary.result == "completed", summary.stop_reason
    assert [r["fault"] for r in kinds(records, "fault")] == ["failed", "timeout"]
    assert world.bridge.ccs_restarts == 2
    assert world.injector is not None and world.injector.fired[0] < world.injector.fired[1]


def _special_mode_world(presses: int, stop_press_at: float | None = None):
    from ccs2chademo.adapter.config import build_config
    from ccs2chademo.sim.world import Scenario, World

    world = World(Scenario(soc_stop=21, config=build_config({}), limit_s=900))
    world.hw.press(0.0, 0.5)  # held while powering on (adapter.md §10), released
    for i in range(presses):
        world.hw.press(1.0 + 0.5 * i, 0.2)
    if stop_press_at is not None:
        world.hw.press(stop_press_at, 0.2)
    return world


def test_special_mode_1_enables_v2x() -> None:
    """adapter.md §10 mode 1 (one press at power-on): V2X — discharge fields in the real session only."""
    world = _special_mode_world(1)
    world.run()
    assert world.bridge.modes == frozenset({"v2x"})
    assert isinstance(world.bridge.car_side, ChademoSide) and world.bridge.car_side.charger.config.v2x
    assert world.invariants.violations == []
    assert world.bridge.stop_reason == "ccs: battery-full:CurrentDemand"
    assert world.car.saw_discharge_flag and world.car.sessions == 2


def test_special_mode_3_unwelding_toggles_until_pressed() -> None:
    """adapter.md §10 mode 3: the contactor toggles every 100 ms (CHAdeMO does not run) until a press."""
    world = _special_mode_world(3, stop_press_at=12.0)
    world.run()
    assert world.bridge.modes == frozenset({"unwelding"})
    assert world.hw.contactor.operations >= 20
    assert world.bridge.car_side is None and world.car.sessions == 0
    assert not world.hw.powered and not world.hw.contactor.closed
