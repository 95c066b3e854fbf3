"""The CHAdeMO charger fields of adapter.md §6.2–§6.4 and §7 (0x108, 0x109, 0x208, 0x209): the
charger's pure field functions, then the phases the machine goes through in a session."""

from __future__ import annotations

import pytest

from ccs2chademo.chademo.charger import (
    ChargerCurrent,
    available_current,
    available_voltage,
    bleed_step,
    car_has_dynamic_control,
    charger_current,
    count_down_remaining,
    discharge_floor_soc,
    present_current,
    threshold_voltage,
)
from ccs2chademo.chademo.frames import (
    ChargerCapability,
    ChargerDischargeLimits,
    ChargerDischargeSequence,
    ChargerStatus,
    VehicleStatus,
)
from ccs2chademo.chademo.interfaces import ChargerConfig, ChargerState, SessionKind, Upstream
from ccs2chademo.runtime import CanReceived, InputChanged
from ccs2chademo.sim.dc_source import DcSourceSpec
from tests.chademo.helpers import ChargerHarness, run_until_charging, spy_on, world


def test_chademo_voltage_fields() -> None:
    assert available_voltage(None, 500) == 500
    assert available_voltage(920, 500) == 500 and available_voltage(450, 500) == 450
    assert threshold_voltage(500, 435) == 435 and threshold_voltage(420, 435) == 420
    assert threshold_voltage(500, 0) == 500  # no car maximum yet


def test_charger_current_limits() -> None:
    assert charger_current(125, None, 200) == ChargerCurrent(125, 125)
    assert charger_current(250, 90, 200) == ChargerCurrent(200, 90)
    assert charger_current(250, 300, 200) == ChargerCurrent(200, 200)


def test_dynamic_available_current() -> None:
    limits = ChargerCurrent(200, 150)
    # car asks for more than delivered + 10 A: show delivered + 10 A
    assert available_current(limits, dynamic=True, car_request_a=124, delivered_a=102, max_undersupply_a=10) == 112
    # car within the margin: DynAvailable
    assert available_current(limits, dynamic=True, car_request_a=110, delivered_a=102, max_undersupply_a=10) == 150
    # DynAvailable below delivered + margin: DynAvailable
    tight = ChargerCurrent(200, 60)
    assert available_current(tight, dynamic=True, car_request_a=124, delivered_a=55, max_undersupply_a=10) == 60
    # JDEMO: static MaxAvailable
    assert available_current(limits, dynamic=False, car_request_a=124, delivered_a=0, max_undersupply_a=10) == 200
    assert available_current(ChargerCurrent(300, 300), dynamic=False, car_request_a=0, delivered_a=0,
                             max_undersupply_a=10) == 255
    assert car_has_dynamic_control(False, False, True) and car_has_dynamic_control(True, False, False)
    assert not car_has_dynamic_control(False, False, False)


@pytest.mark.parametrize(("measured_a", "in_loop", "discharging", "fake", "expected"), [
    (None, True, False, 1, 1),  # nothing measured (the adapter sends 0 outside CurrentDemand): the fake
    (0, True, False, 1, 1),
    (0, True, False, 3, 3),  # fake-idle-amps is honoured (adapter.md §16)
    (0, True, True, 1, 0),  # not while discharging
    (0, False, False, 1, 0),  # only in the charging loop
    (312, True, False, 1, 255),
    (-20, False, False, 1, 0),
    (50.4, True, False, 1, 50),
])
def test_present_current_and_fake_idle(measured_a: float | None, in_loop: bool, discharging: bool, fake: int,
                                       expected: int) -> None:
    assert present_current(measured_a, in_charging_loop=in_loop, discharging=discharging,
                           fake_idle_amps=fake) == expected


def test_bleed_trace() -> None:
    volts = 400
    trace = []
    for _ in range(20):
        volts = bleed_step(volts)
        trace.append(volts)
    assert trace[:3] == [332, 275, 228]
    assert trace[9] == 60 and trace[19] == 7  # adapter.md §4.1: 60 V after 1 s, 7 V after 2 s


def test_bleed_meets_the_welding_check_limits() -> None:
    """≤ 25 % after 1 s and ≤ 10 V after 2 s from any voltage up to 500 V."""
    for start in range(50, 501):
        volts, trace = start, []
        for _ in range(20):
            volts = bleed_step(volts)
            trace.append(volts)
        assert trace[9] <= 0.25 * start and trace[19] <= 10


def test_remaining_time_counts_down_only_with_current() -> None:
    assert count_down_remaining(60.0, 0, v2x=True) == 60.0
    assert count_down_remaining(60.0, 10, v2x=True) == pytest.approx(59.9)
    assert count_down_remaining(5.05, 10, v2x=True) == 5.0
    assert count_down_remaining(5.05, 10, v2x=False) == pytest.approx(4.95)  # the 5 s floor is V2X only


# ------------------------------------------------------------------------------ the machine


def _decoded(frames: list, cls: type) -> list:
    return [(t, cls.from_can(f)) for t, f in frames if f.arbitration_id == cls.FRAME_ID]


def test_present_voltage_phases() -> None:
    """0x109.1–2: the estimate in discovery; 0 until the car's contactors are closed; then the
    source's present voltage; at the stop a snapshot bled × 0.83 per 100 ms after k-off; 0 once
    the car reports its contactors open (adapter.md §2 step 7, §4.1, §6.2)."""
    discovery = ChargerHarness()
    discovery.feed(0.0, InputChanged("upstream", Upstream(estimated_battery_voltage=355.2)))
    discovery.feed(0.0, InputChanged("start", SessionKind.DISCOVERY))
    for n in range(1, 10):
        discovery.feed(n * 0.1 - 0.05, CanReceived("can", VehicleStatus(target_voltage=410).to_can()))
    discovery.advance(1.0)
    assert {s.present_voltage for _, s in discovery.statuses()} == {355}

    w, _ = world("leaf-ze1-40")
    spy = spy_on(w)
    run_until_charging(w, 5.0)
    closed = w.line_times("contactors", True)[0]
    statuses = _decoded(spy.frames, ChargerStatus)
    assert all(s.present_voltage == 0 for t, s in statuses if t < closed - 0.2)
    live = statuses[-1][1].present_voltage
    assert live == pytest.approx(w.battery.voltage, abs=3)
    spy.frames.clear()
    w.to_car("stop", True)
    w.run(until=w.sim.now() + 40)
    stopping = [(t, s.present_voltage) for t, s in _decoded(spy.frames, ChargerStatus)]
    snapshot = stopping[0][1]
    assert snapshot == live  # the value last reported, held while the current falls
    k_off = w.line_times("k", False)[0]
    opened = w.line_times("contactors", False)[0]
    bled = [v for t, v in stopping if v != snapshot]
    assert stopping[-len(bled)][0] > k_off
    expected, volts = [], snapshot
    while len(expected) < len(bled) and bled[len(expected)] != 0:
        volts = bleed_step(volts)
        expected.append(volts)
    assert bled[:len(expected)] == expected and len(expected) >= 10  # bled until the car opened
    assert set(bled[len(expected):]) == {0}
    assert all(v == 0 for t, v in stopping if t > opened + 1.0)

def test_v2x_discharge_detection_and_fields() -> None:
    """adapter.md §7: 0x208/0x209 every cycle; 0 A for 3 s = discharging (remaining discharge time 5,
    present discharge current min(10 A, car maximum), the car maximum as the demand toward the
    source); a 1 A report on entry and every 60 s; the fallback without a car maximum."""
    w, log = world("leaf-ze0-24", ChargerConfig(v2x=True))
    spy = spy_on(w)
    run_until_charging(w, 5.0)
    limits = _decoded(spy.frames, ChargerDischargeLimits)[-1][1]
    sequence = _decoded(spy.frames, ChargerDischargeSequence)[-1][1]
    assert sequence.remaining_discharge_time == 0 and w.demand.discharge_current == 0
    assert (limits.available_input_voltage, limits.available_input_current, limits.lower_threshold_voltage,
            sequence.sequence_control_number) == (500, 125, 250, 2)
    spy.frames.clear()
    w.source.delivery_cap = 0.0  # nothing flows: a discharger would now take power
    w.sim.run(until=w.sim.now() + 70)
    zero = next(t for t, s in _decoded(spy.frames, ChargerStatus) if s.present_current == 1)
    (entry, _), = [(t, f) for t, f in log.kinds("chademo", "v2x-discharging") if f["on"]]
    assert entry - zero == pytest.approx(3.0, abs=0.25)  # 0 A for 3 s (after the current fell)
    after = [(t, s) for t, s in _decoded(spy.frames, ChargerStatus) if t >= entry - 1e-6]
    keepalive = [t for t, s in after if s.present_current == 1]
    assert [round(t - entry, 1) for t in keepalive] == [0.0, 60.0]  # on entry and every 60 s
    assert {s.present_current for _, s in after} == {0, 1}
    late = [f for t, f in _decoded(spy.frames, ChargerDischargeLimits) if t > entry + 0.05]
    assert {f.present_discharge_current for f in late} == {10}
    assert {f.remaining_discharge_time for t, f in _decoded(spy.frames, ChargerDischargeSequence)
            if t > entry + 0.05} == {5}
    assert w.demand.discharge_current == 15  # the car's 0x200 maximum, faked as request toward CCS
    w.source.delivery_cap = None
    w.sim.run(until=w.sim.now() + 5)
    assert [f["on"] for _, f in log.kinds("chademo", "v2x-discharging")] == [True, False]
    assert w.demand.discharge_current == 0 and w.charger.state is ChargerState.CHARGING

    w, log = world("leaf-ze1-40", ChargerConfig(v2x=True))  # 0x200 without a maximum: the fallback
    run_until_charging(w, 5.0)
    w.source.delivery_cap = 0.0
    w.sim.run(until=w.sim.now() + 6)
    assert w.demand.discharge_current == 40


def test_discharge_floor_as_a_soc() -> None:
    """0x200.6: % with a 0x201 sequence number ≥ 1, else kWh × 10 of the 0x101 capacity."""
    assert discharge_floor_soc(10, 2, 40.0) == 10.0
    assert discharge_floor_soc(67, None, 21.0) == pytest.approx(31.9, abs=0.05)
    assert discharge_floor_soc(67, 0, 21.0) == pytest.approx(31.9, abs=0.05)
    assert discharge_floor_soc(67, None, 0.0) is None  # kWh without a capacity: unknown


@pytest.mark.parametrize(("car", "floor"), [("leaf-ze1-40", 10.0), ("leaf-ze0-24", 30.2)])
def test_the_car_view_carries_the_discharge_floor(car: str, floor: float) -> None:
    """The simulated cars' floors read back from their frames: the ZE1's 10 %; the ZE0's 6.7 kWh of
    the 22.2 kWh its 0x101 reports (the car itself counts 6.7 of its 21 usable kWh: 31.9 %)."""
    w, _ = world(car, ChargerConfig(v2x=True))
    run_until_charging(w, 1.0)
    assert w.charger.vehicle.discharge_floor_soc == pytest.approx(floor, abs=0.1)


def test_v2x_available_input_voltage_is_fixed_500_v() -> None:
    """adapter.md §7: 0x208.1–2 is 500 V whatever the CCS side offers (0x108.1–2 follows the charger)."""
    w, _ = world("leaf-ze1-40", ChargerConfig(v2x=True), source=DcSourceSpec(max_voltage=450.0))
    spy = spy_on(w)
    run_until_charging(w, 5.0)
    assert {f.available_input_voltage for _, f in _decoded(spy.frames, ChargerDischargeLimits)} == {500}
    assert _decoded(spy.frames, ChargerCapability)[-1][1].available_voltage == 450
