"""Closed loop in virtual time: ChademoCharger + DC source + every car profile over a CanBus."""

from __future__ import annotations

import pytest

from ccs2chademo.chademo import charger as charger_module
from ccs2chademo.chademo.interfaces import ChargerConfig, ChargerState, SessionKind, StopReason
from ccs2chademo.sim.chademo_world import ORIGINAL_D2_SUPPLY_A, ChademoWorld
from ccs2chademo.sim.dc_source import DcSourceSpec
from ccs2chademo.sim.profiles import PROFILE_NAMES
from ccs2chademo.sim.vehicle import VehicleState
from tests.chademo.helpers import Recorder, run_until_charging, spy_on, world

CHARGE_FOR = 20.0


def charge_then_stop(w: ChademoWorld, charge_for: float = CHARGE_FOR) -> float:
    """Start, charge ``charge_for`` s after the charging loop began, driver stop; returns stop time."""
    run_until_charging(w, charge_for)
    stop_at = w.sim.now()
    w.to_car("stop", True)
    w.run(until=stop_at + 40.0)
    return stop_at


def assert_start_in_spec_times(w: ChademoWorld, log: Recorder) -> None:
    d1_on = w.line_times("d1", True)[0]
    k_on = w.line_times("k", True)[0]
    d2_on = w.line_times("d2", True)[0]
    closed = w.line_times("contactors", True)[0]
    first_request = log.entered("car", "charging")
    charging = log.entered("chademo", "charging")
    assert k_on - d1_on <= 8.0  # T 8 s (chademo.md §4.1)
    assert log.entered("chademo", "wait_precharge") - k_on <= 0.2  # lock at once
    assert d2_on - k_on <= 20.0  # C 20 s
    assert 1.0 <= closed - d2_on <= 4.0  # C 4 s, real cars 1.2–1.7 s
    assert first_request - closed <= 4.0  # C 4 s
    assert 0 <= charging - first_request <= 0.5  # C 0.5 s, set at once


def assert_stop_in_spec_times(w: ChademoWorld, log: Recorder, stop_at: float) -> None:
    stop_t, _stop = log.kinds("chademo", "stop")[0]
    assert stop_t - stop_at <= 0.5
    k_off = w.line_times("k", False)[0]
    assert log.entered("chademo", "stop_wait_contactors_open") - k_off <= 0.6  # I ≤ 5 A: C 0.5 s after k off
    opened = w.line_times("contactors", False)[0]
    d2_off = w.line_times("d2", False)[0]
    d1_off = w.line_times("d1", False)[-1]
    assert opened < d2_off  # d2 only after the car's contactors are open
    assert d1_off - d2_off == pytest.approx(0.5, abs=0.06)
    assert d1_off - stop_t <= 12.0
    assert w.charger.state is ChargerState.ENDED
    assert w.car.state is VehicleState.OFF
    assert not w.charger.vehicle.d1 and not w.charger.vehicle.d2 and not w.charger.vehicle.locked


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_full_session_of_every_profile(name: str) -> None:
    w, log = world(name)
    spy = spy_on(w)
    stop_at = charge_then_stop(w)
    assert spy.status_bytes() == [0x20, 0x24, 0x05, 0x25, 0x24, 0x20]  # chademo.md §3.5
    charger_ids = [f.arbitration_id for _, f in spy.frames if f.arbitration_id in (0x108, 0x109, 0x118)]
    assert charger_ids == [0x108, 0x109, 0x118] * (len(charger_ids) // 3)
    assert_start_in_spec_times(w, log)
    assert_stop_in_spec_times(w, log, stop_at)
    assert w.battery.energy_in_kwh > 0.05, "current flowed"
    assert w.car.dtcs == []
    assert w.charger.stop_reasons == StopReason.K_OFF | StopReason.CAR_DISABLED
    # welding detection ran: the car opened its contactors with the current gone, then reported it
    check = log.entered("car", "welding_check")
    done = [t for t, s in log.states("car") if s == "done"][-1]
    assert done >= check
    if w.charger.effective_protocol >= 2 and w.car.profile.contactor_flag != "never":
        assert w.line_times("d2", False)[0] - done <= 0.25  # d2 off right after 0x102.5.3 = 1
    else:  # 0.9 rules: fixed 4 s wait after the current fell
        wait = log.entered("chademo", "stop_wait_contactors_open")
        assert w.line_times("d2", False)[0] - wait == pytest.approx(4.0, abs=0.15)


def test_leaf_timeline_matches_the_real_log_closely() -> None:
    """ZE1 40 kWh: ready 3.4 s after CAN start, welding flag ≈2.1 s after the charging flag cleared."""
    w, log = world("leaf-ze1-40")
    stop_at = charge_then_stop(w)
    can_start = log.entered("car", "wait_ready")
    assert w.line_times("k", True)[0] - can_start == pytest.approx(3.42, abs=0.1)
    cleared = log.entered("chademo", "stop_wait_contactors_open")
    done = [t for t, s in log.states("car") if s == "done"][-1]
    assert done - cleared == pytest.approx(2.1, abs=0.25)
    assert stop_at < cleared


def test_imiev_on_a_weak_d2_ends_in_the_defined_timeout_stop() -> None:
    w, log = world("imiev", d2_supply_a=ORIGINAL_D2_SUPPLY_A)
    w.start()
    w.run(until=60.0)
    d2_on = w.line_times("d2", True)[0]
    assert w.line_times("contactors", True) == []  # never closed
    stop_t, _ = log.kinds("chademo", "stop")[0]
    # the car gives up after the 4 s contactor compliance time (0x102.5.2), the charger stops
    assert stop_t - d2_on == pytest.approx(4.0, abs=0.3)
    assert StopReason.CAR_ERROR in w.charger.stop_reasons
    assert w.battery.energy_in_kwh == 0.0
    assert w.charger.state is ChargerState.ENDED and not w.charger.vehicle.d1 and not w.charger.vehicle.d2


def test_imiev_charges_with_a_2a_d2_supply() -> None:
    w, _log = world("imiev", d2_supply_a=2.0)
    charge_then_stop(w, 10.0)
    assert w.battery.energy_in_kwh > 0.05 and StopReason.CAR_ERROR not in w.charger.stop_reasons


SLOW_SOURCE = DcSourceSpec(lag_s=1.0)  # a power source that takes ≈1 s to follow (like CCS behind the adapter)


def test_jdemo_works_with_static_current() -> None:
    w, log = world("jdemo", ChargerConfig(dynamic_current_fallback=False), source=SLOW_SOURCE)
    stop_at = charge_then_stop(w, 30.0)
    assert log.kinds("car", "car-stop")[0][1]["reason"] == "driver stop"
    assert_stop_in_spec_times(w, log, stop_at)
    assert w.battery.energy_in_kwh > 0.25


def test_jdemo_stops_with_dynamic_current() -> None:
    w, log = world("jdemo", source=SLOW_SOURCE)
    w.start()
    w.run(until=60.0)
    assert log.kinds("car", "car-stop")[0][1]["reason"] == "available current lowered to the request"
    assert w.charger.stop_reasons & (StopReason.K_OFF | StopReason.CAR_DISABLED)
    assert w.charger.state is ChargerState.ENDED


def test_xpeng_target_is_frozen_at_d2() -> None:
    w, _ = world("xpeng-g3")
    run_until_charging(w, 2)
    view = w.charger.vehicle
    assert view.target_voltage == 450 and view.frozen_target_voltage == 434
    assert w.demand.voltage == 434
    assert view.soc == pytest.approx(49.0, abs=1.0)


def test_xpeng_soc_appears_about_1s_after_d2() -> None:
    w, _ = world("xpeng-g3")
    w.start()
    w.sim.run(until=30.0, stop=lambda: w.charger.vehicle.d2)
    d2 = w.sim.now()
    w.sim.run(until=d2 + 0.8)
    assert w.charger.vehicle.soc == 0
    w.sim.run(until=d2 + 1.3)
    assert w.charger.vehicle.soc == pytest.approx(49.0, abs=1.0)


@pytest.mark.parametrize("name", ["xpeng-g3", "lexus-ux300e"])
def test_two_session_start_fails_for_single_session_cars(name: str) -> None:
    w, log = world(name)
    w.start(SessionKind.DISCOVERY)
    w.run(until=20.0)
    assert w.charger.state is ChargerState.DISCOVERED
    w.start(SessionKind.CHARGE)
    w.run(until=60.0)
    assert w.charger.stop_reasons == StopReason.CAR_READY_TIMEOUT
    assert log.kinds("chademo", "stop")[0][0] - w.line_times("d1", True)[1] == pytest.approx(8.0, abs=0.15)


def test_discovery_then_real_session_with_a_leaf() -> None:
    w, _log = world("leaf-ze0-24", ChargerConfig(v2x=True))
    w.start(SessionKind.DISCOVERY)
    w.run(until=20.0)
    assert w.charger.state is ChargerState.DISCOVERED
    view = w.charger.discovered
    assert view is not None
    assert (view.target_voltage, view.max_battery_voltage, view.soc_trusted) == (410, 435, True)
    assert view.soc == pytest.approx(73.0, abs=0.6)
    assert not w.car.saw_discharge_flag, "discharge must never be advertised in discovery"
    w.start(SessionKind.CHARGE)
    w.sim.run(until=60.0, stop=lambda: w.charger.state is ChargerState.CHARGING)
    assert w.charger.state is ChargerState.CHARGING


def test_leaf_ze0_follows_a_dynamic_limit_without_faulting() -> None:
    w, _log = world("leaf-ze0-24")
    run_until_charging(w, 30)
    w.source.delivery_cap = 60.0  # the power stage under-delivers (adapter.md §14 #9)
    w.sim.run(until=w.sim.now() + 30)
    assert w.charger.state is ChargerState.CHARGING, "0x108.3 = delivered + 10 A keeps the car happy"
    assert w.car.request <= 60 + 10 + 2  # the adapter.md §6.3 rule lets it hover one ramp step above
    w.source.dynamic_limit = 20.0  # and a lower dynamic maximum
    w.sim.run(until=w.sim.now() + 5)
    assert w.car.request <= 20 and w.charger.state is ChargerState.CHARGING


def test_leaf_ze0_status_bit_makes_it_dynamic_without_the_fallback() -> None:
    w, _log = world("leaf-ze0-24", ChargerConfig(dynamic_current_fallback=False))
    run_until_charging(w, 30)
    w.source.delivery_cap = 60.0
    w.run(until=w.sim.now() + 40)
    # 0x102.5.6 counts as dynamic control (chademo.md §3.6): 0x108.3 still follows the delivery
    assert w.charger.vehicle.dynamic_control
    assert w.charger.state is ChargerState.CHARGING


def test_outlander_stores_no_dtc_thanks_to_the_bleed() -> None:
    w, log = world("outlander-phev")
    charge_then_stop(w, 10.0)
    assert w.car.dtcs == []
    assert [t for t, f in log.kinds("car", "state") if f["state"] == VehicleState.WELDING_CHECK]


def test_v2x_mode_discharge_fields() -> None:
    """V2X: 0x109.4 with 0x208/0x209 every cycle; 3 s at 0 A = discharging (adapter.md §7)."""
    w, log = world("leaf-ze0-24", ChargerConfig(v2x=True))
    run_until_charging(w)
    assert w.car.charger_status is not None and w.car.charger_status.discharge_compatible
    w.sim.run(until=w.sim.now() + 10)
    w.source.delivery_cap = 0.0  # nothing flows: a discharger would now take power
    w.sim.run(until=w.sim.now() + 6)
    assert [f for _, f in log.kinds("chademo", "v2x-discharging") if f["on"]]
    assert w.demand.discharge_current == 15  # the car's 0x200 maximum, faked as request toward CCS
    remaining = w.car.charger_status.remaining_time_s if w.car.charger_status is not None else 0
    assert remaining >= 5
    assert w.charger.state is ChargerState.CHARGING


def test_outlander_stores_dtcs_when_the_reported_voltage_does_not_fall(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the bleed simulation the CAN voltage stays up and the Outlander logs P101B/P101C."""
    monkeypatch.setattr(charger_module, "BLEED", 1.0)
    w, _ = world("outlander-phev")
    charge_then_stop(w, 10.0)
    assert w.car.dtcs == ["P101B", "P101C"]
    # a Leaf judges from its inlet voltage, which the DC source really pulls down: no DTC
    w, _ = world("leaf-ze1-40")
    charge_then_stop(w, 10.0)
    assert w.car.dtcs == []


def test_car_faults_when_the_charger_falls_silent() -> None:
    w, log = world("leaf-ze1-40")
    run_until_charging(w, 5.0)
    silent = w.sim.now()
    w.bus.stations[0].enabled = False  # the charger's CAN node dies (it neither sends nor hears)
    w.run(until=silent + 30)
    t, _ = log.kinds("car", "car-can-timeout")[0]
    assert 1.0 < t - silent <= 1.2
    assert w.line_times("k", False)[0] - silent <= 1.3
    assert "system" in w.car.faults
    assert StopReason.CAN_TIMEOUT in w.charger.stop_reasons and w.charger.state is ChargerState.ENDED
