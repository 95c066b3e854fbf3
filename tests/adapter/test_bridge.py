"""The bridge on its own, driven through its phases and stop paths with scripted sides
(tests/adapter/fakes.py) — no simulated world, one behaviour per test.  The end-to-end
scenarios (tests/adapter_e2e) run the same bridge against the simulated charger and car."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ccs2chademo.adapter.car_voltage import CLOSE_TOLERANCE_V
from ccs2chademo.adapter.estimator import curve_for
from ccs2chademo.chademo.interfaces import PowerDemand, SessionKind
from ccs2chademo.runtime import InputChanged

from .fakes import XPENG, Rig

ESTIMATE = round(curve_for(410, 1).voltage(50.0), 1)  # the recognised 24 kWh Leaf's AV1 curve at 50 %
CLOSED = PowerDemand(d2=True, car_contactors_closed=True)


def discovered(rig: Rig) -> Rig:
    """Power-on, the discovery session, the car known: the CCS side has just started."""
    rig.run(0.25)
    assert rig.car.started == [SessionKind.DISCOVERY]
    rig.car.is_discovering = True
    rig.run(0.35)
    rig.car.is_discovering, rig.car.is_discovered = False, True
    rig.run(0.55)
    return rig


def waiting_for_precharge(rig: Rig) -> Rig:
    """… through CableCheck: the charge session has started."""
    discovered(rig)
    rig.ccs.reach(rig.now, "WaitForPreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  evse_max_voltage=500.0, evse_max_current=125.0)
    rig.run(rig.now + 0.2)
    assert rig.car.started == [SessionKind.DISCOVERY, SessionKind.CHARGE]
    return rig


def precharged(rig: Rig, present: float = ESTIMATE) -> Rig:
    """… the charger at the precharge voltage, d2 given, the car's contactors evidently closed."""
    waiting_for_precharge(rig)
    rig.ccs.reach(rig.now, "PreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  precharge_reached=True, present_voltage=present, evse_max_voltage=500.0)
    rig.car.demand, rig.car.evident = CLOSED, True
    rig.run(rig.now + 0.2)
    return rig


def charging(rig: Rig) -> Rig:
    precharged(rig)
    assert rig.bridge.contactor
    rig.ccs.reach(rig.now, "CurrentDemand", charge_parameter_discovery_done=True, cable_check_done=True,
                  precharge_reached=True, current_demand=True, present_voltage=ESTIMATE, present_current=50.0,
                  evse_max_voltage=500.0)
    rig.car.is_charging = True
    rig.run(rig.now + 0.3)
    return rig


# ---------------------------------------------------------------------------------- phases
def test_two_session_flow_walks_the_phases_in_order() -> None:
    rig = discovered(Rig())
    assert rig.phases() == ["running", "discovered", "ccs"]
    assert rig.ccs.started_at is not None  # the CCS side's first timer ran: SLAC starts


def test_estimate_is_fixed_on_the_recognised_curve_when_the_car_is_discovered() -> None:
    rig = discovered(Rig())
    assert [f["rule"] for f in rig.logs("car-recognised")] == ["nissan-24-30kwh"]
    assert rig.bridge.view().battery_estimate_v == pytest.approx(ESTIMATE, abs=0.05)
    assert rig.ccs.request.precharge_voltage == pytest.approx(ESTIMATE, abs=0.05)


def test_charge_session_starts_only_after_cable_check() -> None:
    rig = discovered(Rig())
    rig.ccs.reach(rig.now, "CableCheck", charge_parameter_discovery_done=True)
    rig.run(rig.now + 0.3)
    assert rig.car.started == [SessionKind.DISCOVERY]
    rig.ccs.reach(rig.now, "WaitForPreCharge", charge_parameter_discovery_done=True, cable_check_done=True)
    rig.run(rig.now + 0.2)
    assert rig.car.started == [SessionKind.DISCOVERY, SessionKind.CHARGE]


def test_d2_gate_opens_with_the_precharge_voltage() -> None:
    rig = waiting_for_precharge(Rig())
    assert not rig.car.fed[-1].precharge_done
    rig.ccs.reach(rig.now, "PreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  precharge_reached=True, present_voltage=ESTIMATE)
    rig.run(rig.now + 0.2)
    assert rig.car.fed[-1].precharge_done


def test_a_car_that_refuses_a_second_session_is_promoted_to_the_single_session_flow() -> None:
    rig = Rig()
    rig.run(0.25)
    rig.car.vehicle, rig.car.is_discovering = XPENG, True
    rig.run(0.45)
    assert rig.car.promoted and rig.bridge.single_session
    assert rig.phases() == ["running", "ccs"]
    assert len(rig.ccs_sides) == 2 and rig.ccs.single_session  # a fresh CCS side in the single-session flow


def test_the_single_session_ramp_starts_with_the_first_current_demand() -> None:
    """In the single-session flow the car's charging loop runs ahead of CCS: it asks for current
    while ContactorsClosing and PowerDelivery still take their time.  The request holds 1 A until
    CurrentDemand (adapter.md §6.1) and the +4 A / 100 ms ramp must not run underneath: the first
    CurrentDemandReq after the 1 A would carry its accumulated step (the clara mode's Compleo
    finding, docs/reliability.md)."""
    rig = Rig()
    rig.run(0.25)
    rig.car.vehicle, rig.car.is_discovering = XPENG, True
    rig.run(0.45)
    assert rig.bridge.single_session
    rig.ccs.reach(rig.now, "WaitForPreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  evse_max_voltage=500.0, evse_max_current=125.0)
    rig.run(rig.now + 0.3)
    estimate = rig.ccs.request.precharge_voltage
    rig.ccs.reach(rig.now, "PreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  precharge_reached=True, present_voltage=estimate, evse_max_voltage=500.0, evse_max_current=125.0)
    rig.car.demand = PowerDemand(d2=True, car_contactors_closed=True, charging=True, current=125)
    rig.car.evident = True
    rig.run(rig.now + 0.3)
    assert rig.outputs("contactor") == [True]
    first, targets = rig.ramp_from_power_delivery(estimate)
    assert first == 1.0  # the single-session placeholder until CurrentDemand
    assert targets == [4.0, 8.0, 12.0, 16.0, 20.0]  # +4 A per 100 ms from 0 A, never the step


# ---------------------------------------------------------------------------------- the contactor
def test_contactor_closes_when_both_sides_agree() -> None:
    rig = precharged(Rig())
    assert rig.outputs("contactor") == [True]
    assert not rig.ccs.request.hold_precharge  # the precharge completes once it is closed


def test_contactor_waits_for_evidence_of_the_car_contactors() -> None:
    rig = waiting_for_precharge(Rig())
    rig.ccs.reach(rig.now, "PreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  precharge_reached=True, present_voltage=ESTIMATE)
    rig.car.demand = CLOSED  # judged closed, but not evident (a CHAdeMO 0.9 car's assumption)
    rig.run(rig.now + 1.0)
    assert rig.outputs("contactor") == []


def test_contactor_never_closes_once_the_car_side_is_stopping() -> None:
    rig = waiting_for_precharge(Rig())
    rig.car.is_stopping = True
    rig.ccs.reach(rig.now, "PreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  precharge_reached=True, present_voltage=ESTIMATE)
    rig.car.demand, rig.car.evident = CLOSED, True
    rig.run(rig.now + 1.0)
    assert rig.outputs("contactor") == [] and rig.bridge.view().stop_begun


def test_contactor_refuses_to_close_across_20_volts_and_stops_both_sides() -> None:
    rig = precharged(Rig(), present=ESTIMATE - CLOSE_TOLERANCE_V - 1)
    assert rig.outputs("contactor") == []
    rig.run(rig.now + 10.5)  # the charger never comes within 20 V
    assert [f["reason"] for f in rig.logs("contactor-close-refused")] == ["voltage-mismatch"]
    assert rig.bridge.stop_reason == "adapter: voltage-mismatch"
    assert rig.outputs("contactor") == [] and "stopping" in rig.phases()


# ---------------------------------------------------------------------------------- stop paths
def test_charger_stop_reaches_the_car_as_a_normal_stop() -> None:
    rig = charging(Rig())
    rig.ccs.reach(rig.now, "PowerDeliveryOff", charge_parameter_discovery_done=True, current_demand=True,
                  precharge_reached=True, stop_reason="evse-shutdown:CurrentDemand", present_voltage=ESTIMATE)
    rig.run(rig.now + 0.3)
    assert rig.car.fed[-1].stopped and not rig.car.fed[-1].fault
    assert rig.bridge.stop_reason == "ccs: evse-shutdown:CurrentDemand"
    assert rig.car.stops == 1 and rig.ccs.request.stop  # power-off pending: both sides stop
    assert rig.phases()[-1] == "stopping"


def test_ccs_safe_shutdown_holds_the_current_toward_the_car_then_opens_after_2_s() -> None:
    rig = charging(Rig())
    rig.ccs.reach(rig.now, "SessionStop", charge_parameter_discovery_done=True, precharge_reached=True,
                  stop_reason="timeout:CurrentDemand", safe_shutdown=True)
    shutdown_at = rig.now
    rig.run(rig.now + 1.5)
    assert rig.car.fed[-1].fault and rig.car.fed[-1].present_current >= 50.0  # the car's stop waits
    assert rig.bridge.contactor
    rig.run(shutdown_at + 2.2)
    assert rig.outputs("contactor") == [True, False]
    assert [f["reason"] for f in rig.logs("contactor-emergency-open")] == ["ccs safe shutdown"]
    assert rig.bridge.view().emergency_open


def test_ccs_failure_before_parameter_discovery_restarts_the_ccs_side() -> None:
    rig = discovered(Rig())
    rig.ccs.reach(rig.now, "End", link_state="connected", stop_reason="tcp-reset:SessionSetup",
                  safe_shutdown=True, ended=True)
    rig.run(rig.now + 0.2)
    assert len(rig.ccs_sides) == 2 and [f["n"] for f in rig.logs("ccs-restart")] == [1]
    assert not rig.bridge.view().stop_begun and rig.car.fed[-1].fault is False


def test_ccs_failures_after_three_restarts_are_final() -> None:
    rig = discovered(Rig())
    for _ in range(4):
        rig.ccs.reach(rig.now, "End", stop_reason="tcp-reset:SessionSetup", safe_shutdown=True, ended=True)
        rig.run(rig.now + 0.2)
    assert len(rig.ccs_sides) == 4
    assert [f["reason"] for f in rig.logs("ccs-ended")] == ["tcp-reset:SessionSetup"]
    assert rig.bridge.view().stop_begun and rig.bridge.stop_reason == "ccs: tcp-reset:SessionSetup"


def test_car_stop_reaches_the_charger_as_a_normal_stop() -> None:
    rig = charging(Rig())
    rig.car.is_stopping, rig.car.report = True, "0xc0 (K_OFF|CAR_DISABLED)"
    rig.run(rig.now + 0.3)
    assert rig.bridge.stop_reason == "chademo: 0xc0 (K_OFF|CAR_DISABLED)"
    assert rig.ccs.request.stop
    assert rig.bridge.contactor  # it stays closed until the car's contactors open (current down)
    rig.car.demand = replace(CLOSED, car_contactors_closed=False)
    rig.run(rig.now + 0.2)
    assert rig.outputs("contactor") == [True, False]


def test_button_stops_both_sides() -> None:
    rig = charging(Rig())
    rig.bridge.receive(InputChanged("button", True), rig.now)
    rig.bridge.receive(InputChanged("button", False), rig.now + 0.05)
    rig.run(rig.now + 0.3)
    assert rig.bridge.stop_reason == "button"
    assert rig.car.stops == 1 and rig.ccs.request.stop


def test_k_reaches_the_car_side() -> None:
    rig = Rig()
    rig.bridge.receive(InputChanged("k", True), 0.0)
    rig.run(0.15)
    assert rig.car.permission_granted is True


def test_unknown_input_is_rejected_and_logged() -> None:
    rig = Rig()
    rig.bridge.receive(InputChanged("no-such-input", 1), 0.0)
    rig.out += rig.bridge.actions()
    assert [f["name"] for f in rig.logs("input-rejected")] == ["no-such-input"]


def test_a_held_stop_button_blocks_the_close() -> None:
    """The press is known before the power manager's tick acts on it in the same cycle: the
    contactor decision must not close in between (tests/adapter_e2e/test_safety.py)."""
    rig = waiting_for_precharge(Rig())
    rig.bridge.receive(InputChanged("button", True), rig.now)
    rig.ccs.reach(rig.now, "PreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  precharge_reached=True, present_voltage=ESTIMATE, evse_max_voltage=500.0)
    rig.car.demand, rig.car.evident = CLOSED, True
    rig.run(rig.now + 0.5)
    assert rig.outputs("contactor") == [] and rig.bridge.view().stop_begun


# ---------------------------------------------------------------------------------- V2X toward a bidirectional charger
@pytest.mark.parametrize("v2x", [False, True])
def test_v2x_offers_the_cars_discharge_to_the_ccs_side(v2x: bool) -> None:
    """V2X mode and a discharge-compatible car: the request carries its discharge limit (0x200, or
    the fallback), floor and capacity for a DC_BPT session; without V2X nothing is offered."""
    rig = Rig(v2x=v2x)
    rig.run(0.25)
    rig.car.vehicle = replace(rig.car.vehicle, discharge_compatible=True, max_discharge_current=0,
                              discharge_floor_soc=10.0)
    charging(rig)
    request = rig.ccs.request
    if v2x:
        assert (request.discharge_current_limit, request.discharge_floor_soc, request.battery_capacity_wh) == (
            40.0, 10, 24_000.0)
    else:
        assert (request.discharge_current_limit, request.discharge_floor_soc) == (0.0, None)


def test_no_faked_discharge_request_toward_a_bidirectional_charger() -> None:
    """Discharging (the car side's demand says so): a DIN discharger is asked for the discharge as
    EVTargetCurrent; a DC_BPT charger (``EvccStatus.bidirectional``) is not — it has the limit."""
    for bidirectional, target in ((False, 40.0), (True, 0.0)):
        rig = charging(Rig(v2x=True))
        rig.ccs.reach(rig.now, "CurrentDemand", charge_parameter_discovery_done=True, cable_check_done=True,
                      precharge_reached=True, current_demand=True, present_voltage=ESTIMATE, present_current=-30.0,
                      evse_max_voltage=500.0, bidirectional=bidirectional)
        rig.car.demand = replace(CLOSED, charging=True, discharge_current=40)
        rig.run(rig.now + 0.3)
        assert rig.ccs.request.target_current == target
