"""The battery voltage's whole life in one object (adapter/car_voltage.py), without a world:
learned, recognised, fixed once, then used for precharge, 0x109 and the 20 V close check."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ccs2chademo.adapter.car_voltage import CLOSE_TOLERANCE_V, CarVoltage
from ccs2chademo.adapter.config import build_config
from ccs2chademo.adapter.estimator import curve_for
from ccs2chademo.chademo.interfaces import VehicleView

from .fakes import LEAF_24


def learned(view: VehicleView = LEAF_24, **config: object) -> CarVoltage:
    volts = CarVoltage(build_config(config))
    volts.learn(view)
    return volts


def test_nothing_known_before_the_car_reports() -> None:
    volts = CarVoltage(build_config({}))
    assert not volts.known and volts.precharge_voltage() == 0.0 and volts.report(0) == 0.0


def test_fixed_once_on_the_recognised_curve_and_logged() -> None:
    volts = learned()
    volts.fix(LEAF_24)
    kinds = [r.kind for r in volts.take_logs()]
    assert kinds == ["car-recognised", "battery-voltage"]
    assert volts.rule is not None and volts.rule.startswith("nissan")
    expected = curve_for(410, 1).voltage(50.0)  # the small Leafs get the AV1 curve without a preset
    assert volts.precharge_voltage() == pytest.approx(round(expected, 1))
    volts.learn(replace(LEAF_24, soc=60.0))
    volts.fix(LEAF_24)  # fixed once: a later SoC does not move the estimate
    assert volts.precharge_voltage() == pytest.approx(round(expected, 1))


def test_report_before_the_fix_follows_the_curve_after_it_the_fixed_value() -> None:
    volts = learned()
    before = volts.report(0)
    assert before == pytest.approx(curve_for(410).voltage(50.0))  # not yet recognised: the general curve
    volts.fix(LEAF_24)
    assert volts.report(1) == pytest.approx(curve_for(410, 1).voltage(50.0))


def test_modulation_applies_to_0x109_only() -> None:
    volts = CarVoltage(build_config({"voltage-modulation": 3}))
    volts.learn(LEAF_24)
    volts.fix(LEAF_24)
    value = volts.precharge_voltage()
    assert [round(volts.report(c) - value, 1) for c in range(4)] == pytest.approx([0.0, 3.0, 0.0, -3.0], abs=0.11)


def test_a_0x103_measurement_replaces_the_estimate() -> None:
    volts = learned(replace(LEAF_24, measured_voltage=377))
    assert [r.kind for r in volts.take_logs()] == ["battery-voltage"]
    assert volts.value is not None and volts.value.measured and volts.precharge_voltage() == 377.0


def test_twenty_volt_close_check_against_the_battery_value() -> None:
    volts = learned()
    volts.fix(LEAF_24)
    battery = volts.precharge_voltage()
    assert volts.agrees(battery + CLOSE_TOLERANCE_V - 0.1, car_contactors_closed=True)
    assert not volts.agrees(battery + CLOSE_TOLERANCE_V, car_contactors_closed=True)
    assert not volts.agrees(None, car_contactors_closed=True)


def test_inlet_voltmeter_wins_once_the_car_contactors_are_closed() -> None:
    volts = learned()
    volts.fix(LEAF_24)
    volts.take_logs()
    volts.inlet(300.0)
    assert volts.car_side(car_contactors_closed=False) == pytest.approx(volts.precharge_voltage())
    assert volts.car_side(car_contactors_closed=True) == 300.0
    volts.retarget_to_inlet(car_contactors_closed=True)
    assert [r.kind for r in volts.take_logs()] == ["battery-voltage"]
    assert volts.precharge_voltage() == 300.0


def test_battery_above_the_charger_maximum_is_seen() -> None:
    volts = learned()
    volts.fix(LEAF_24)
    assert volts.above(300.0, car_contactors_closed=False)
    assert not volts.above(500.0, car_contactors_closed=False)
    assert not volts.above(None, car_contactors_closed=False)


def test_target_follows_the_car_until_d2_then_stays() -> None:
    volts = learned()
    assert not volts.follow_target(d2=False)
    assert volts.target_voltage(1000.0) == 410
    assert volts.follow_target(d2=True)
    assert [r.kind for r in volts.take_logs()] == ["target-frozen"]
    volts.learn(replace(LEAF_24, target_voltage=450))  # an Xpeng raises it after d2
    assert not volts.follow_target(d2=True)
    assert volts.target_voltage(1000.0) == 410
    assert volts.max_voltage(0) == 411


def test_a_soft_reset_keeping_discovery_keeps_the_estimate_and_forgets_the_inlet() -> None:
    volts = learned()
    volts.fix(LEAF_24)
    volts.inlet(300.0)
    volts.follow_target(d2=True)
    estimate = volts.precharge_voltage()
    volts.new_session()
    assert volts.precharge_voltage() == estimate and volts.inlet_v is None and not volts.target.frozen
