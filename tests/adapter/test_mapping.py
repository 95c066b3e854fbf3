"""Current/voltage mapping of adapter.md §6 and the V2X fields of §7."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.adapter.mapping import (
    CcsTargetCurrent,
    ChargerCurrent,
    CurrentRamp,
    MirrorDetector,
    PresentVoltage,
    TargetVoltage,
    V2xDischarge,
    available_current,
    available_voltage,
    car_has_dynamic_control,
    charger_current,
    count_down_remaining,
    ev_limits,
    ev_maximum_voltage_limit,
    ev_ress_soc,
    present_current,
    threshold_voltage,
)


def test_ccs_request_fields() -> None:
    assert ev_ress_soc(None) == 20 and ev_ress_soc(104.2) == 100 and ev_ress_soc(55.4) == 55
    assert ev_maximum_voltage_limit(None) == 411 and ev_maximum_voltage_limit(434) == 435
    limits = ev_limits(410, 200)
    assert (limits.max_voltage_v, limits.max_current_a, limits.max_power_w) == (411, 200, 100_000)


def test_target_voltage_frozen_at_d2_and_capped() -> None:
    target = TargetVoltage()
    assert target.value(411) == 410  # placeholder
    target.update(434)
    target.freeze()
    target.update(450)  # Xpeng raises it after its contactors close
    assert target.value(ev_maximum_voltage_limit(450)) == 434
    assert target.value(430) == 430  # never above EVMaximumVoltageLimit


def test_ramp_up_and_down_per_100ms() -> None:
    ramp = CurrentRamp()
    assert [ramp.step(10, 200) for _ in range(4)] == [4, 8, 10, 10]
    assert [ramp.step(0, 200) for _ in range(2)] == [0, 0]
    ramp.value = 35
    assert [ramp.step(0, 200) for _ in range(4)] == [25, 15, 5, 0]


def test_ramp_obeys_a_falling_charger_limit_at_once() -> None:
    ramp = CurrentRamp()
    ramp.value = 100
    assert ramp.step(100, 60) == 60


def test_ccs_target_current_paths() -> None:
    mapper = CcsTargetCurrent(max_discharge_amps_fallback=40)
    assert mapper.step(1, in_charging_loop=False, dynamic_max_a=200) == 0  # idle 1 A hidden
    assert [mapper.step(30, in_charging_loop=True, dynamic_max_a=200) for _ in range(3)] == [4, 8, 12]
    assert mapper.step(30, in_charging_loop=True, dynamic_max_a=10) == 10
    assert mapper.step(0, in_charging_loop=True, dynamic_max_a=200, discharging=True) == 40
    assert mapper.step(0, in_charging_loop=True, dynamic_max_a=200, discharging=True, car_max_discharge_a=15) == 15
    assert mapper.step(0, in_charging_loop=False, dynamic_max_a=200, sx_before_current_demand=True) == 1


steps = st.lists(st.tuples(st.floats(0, 255), st.floats(0, 255), st.booleans()), min_size=1, max_size=80)


@settings(max_examples=200)
@given(steps)
def test_ramp_properties(sequence: list[tuple[float, float, bool]]) -> None:
    """Never above the car's request (ramping up) or the charger limit; +4 / −10 per step at most,
    except that a falling charger limit is obeyed at once; a request that fell is left at the
    full −10 A rate."""
    mapper = CcsTargetCurrent()
    previous = 0.0
    for request, limit, in_loop in sequence:
        out = mapper.step(request, in_charging_loop=in_loop, dynamic_max_a=limit)
        wanted = request if in_loop else 0.0
        assert 0 <= out <= limit + 1e-9
        assert out - previous <= 4 + 1e-9
        assert out >= previous - 10 - 1e-9 or out == pytest.approx(limit)
        if out > wanted + 1e-9:  # above the request only while ramping down at the full rate
            assert out == pytest.approx(previous - 10) or out == pytest.approx(min(limit, previous - 10))
        previous = out


def test_chademo_voltage_fields() -> None:
    assert available_voltage(None, 500) == 500
    assert available_voltage(920, 500) == 500 and available_voltage(450, 500) == 450
    assert threshold_voltage(500, 435) == 435 and threshold_voltage(420, 435) == 420


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


@pytest.mark.parametrize(("evse_a", "in_cd", "in_loop", "discharging", "fake", "expected"), [
    (50.4, False, True, False, 1, 1),  # outside CurrentDemand: 0, then the fake in the loop
    (0, True, True, False, 1, 1),
    (0, True, True, False, 3, 3),  # fake-idle-amps is honoured (§16)
    (0, True, True, True, 1, 0),  # not while discharging
    (0, True, False, False, 1, 0),  # only in the charging loop
    (312, True, True, False, 1, 255),
    (-20, True, False, False, 1, 0),
])
def test_present_current_and_fake_idle(evse_a: float, in_cd: bool, in_loop: bool, discharging: bool, fake: int,
                                       expected: int) -> None:
    assert present_current(evse_a, in_current_demand=in_cd, in_charging_loop=in_loop, discharging=discharging,
                           fake_idle_amps=fake) == expected


def test_mirror_detector() -> None:
    mirror = MirrorDetector()
    assert not mirror.mirroring
    assert mirror.observe(410, 4, 410, 4) and mirror.observe(410, 8, 410.0, 8.0)
    assert not mirror.observe(410, 12, 371.5, 11.8)
    assert not mirror.observe(410, 12, 410, 12)  # a real measurement was seen: stays off


def test_present_voltage_phases_and_bleed() -> None:
    pv = PresentVoltage("fake")
    assert pv.value(None, 355.2) == 355  # discovery: the estimate
    pv.set_phase("zero")
    assert pv.value(360.0, 355) == 0  # until the car's contactors are closed
    pv.set_phase("live")
    assert pv.value(372.6, 355) == 372
    assert pv.value(410.0, 355, mirroring=True) == 355
    pv.start_stopping(400)
    assert pv.value(395, 355) == 400
    trace = [pv.bleed_step() for _ in range(20)]
    assert trace[:3] == [332, 275, 228]
    assert trace[9] == 60 and trace[19] == 7  # §4.1: 60 V after 1 s, 7 V after 2 s
    assert pv.value(300, 355) == 7
    pv.set_phase("off")
    assert pv.value(300, 355) == 0
    with pytest.raises(ValueError):
        pv.set_phase("bogus")


def test_bleed_meets_the_welding_check_limits() -> None:
    """≤ 25 % after 1 s and ≤ 10 V after 2 s from any voltage up to 500 V."""
    for start in range(50, 501):
        pv = PresentVoltage()
        pv.start_stopping(start)
        trace = [pv.bleed_step() for _ in range(20)]
        assert trace[9] <= 0.25 * start and trace[19] <= 10


def test_v2x_discharge_detection_and_fields() -> None:
    v2x = V2xDischarge(max_discharge_amps_fallback=40)
    first = v2x.step(12, max_available_output_a=15)
    assert not first.discharging and first.ccs_request_a is None and first.remaining_discharge_time == 0
    assert (first.available_input_voltage, first.available_input_current, first.lower_threshold_voltage,
            first.sequence_control_number) == (500, 15, 250, 2)
    fields = [v2x.step(0, 15, car_max_discharge_a=25) for _ in range(30)]
    assert [f.discharging for f in fields] == [False] * 29 + [True]  # 0 A for 3 s
    entry = fields[-1]
    assert entry.keepalive_1a and entry.remaining_discharge_time == 5
    assert entry.present_discharge_current == 10 and entry.ccs_request_a == 25
    later = [v2x.step(0, 15, car_max_discharge_a=25) for _ in range(600)]
    assert [i for i, f in enumerate(later) if f.keepalive_1a] == [599]  # every 60 s
    fallback = v2x.step(0, 15)
    assert fallback.ccs_request_a == 40
    assert not v2x.step(20, 15).discharging


def test_remaining_time_counts_down_only_with_current() -> None:
    assert count_down_remaining(60.0, 0) == 60.0
    assert count_down_remaining(60.0, 10) == pytest.approx(59.9)
    assert count_down_remaining(5.05, 10) == 5.0
