"""Adapter hardware model (adapter.md §13) stepped in virtual time."""

from __future__ import annotations

import pytest

from ccs2chademo.adapter.config import AdapterConfig
from ccs2chademo.adapter.power import PowerManager
from ccs2chademo.runtime import InputChanged, VirtualRuntime
from ccs2chademo.sim.hardware import (
    FULL_SUPPLY,
    NO_SUPPLY,
    WEAK_SUPPLY,
    AdapterHardware,
    AuxBattery,
    Contactor,
    LoopSupply,
)


class Recorder:
    def __init__(self) -> None:
        self.events: list[InputChanged] = []

    def __call__(self, event: InputChanged) -> None:
        self.events.append(event)

    def values(self, name: str) -> list[object]:
        return [e.value for e in self.events if e.name == name]


def test_contactor_delays_and_timeline() -> None:
    c = Contactor(close_delay_s=0.025, open_delay_s=0.010)
    c.command(True, 1.0)
    c.step(1.02)
    assert not c.closed
    c.step(1.025)
    assert c.closed and c.timeline == [(1.025, True)]
    c.command(False, 2.0)
    c.step(2.01)
    assert not c.closed and c.operations == 2


def test_contactor_command_cancelled_before_it_acts() -> None:
    c = Contactor()
    c.command(True, 0.0)
    c.command(False, 0.01)
    for t in (0.02, 0.03, 0.05):
        c.step(t)
    assert not c.closed and c.timeline == []


def test_welded_contactor_stays_closed_and_weld_on_break() -> None:
    c = Contactor(welded=False, weld_on_break_above_a=50)
    c.command(True, 0.0)
    c.step(0.1)
    c.command(False, 1.0)
    c.step(1.1, current_a=120)
    assert c.closed and c.welded
    c.command(True, 2.0)
    c.step(2.1)
    c.command(False, 3.0)
    c.step(3.1, current_a=0)
    assert c.closed  # welded for good
    w = Contactor(welded=True)
    w.command(True, 0)
    w.step(1)
    w.command(False, 2)
    w.step(3)
    assert w.closed


def test_relays_and_loop_supply_to_the_car() -> None:
    car = Recorder()
    hw = AdapterHardware(car=car)
    hw.apply("d2", True, 0.0)
    assert hw.loop_supply == NO_SUPPLY  # d2 alone closes no loop
    hw.apply("d1", True, 0.0)
    hw.step(0.0)
    assert not hw.d1
    hw.step(0.005)
    assert hw.d1 and hw.loop_supply == FULL_SUPPLY
    assert car.values("d1") == [True] and car.values("d2") == [True]
    assert car.values("d2_supply") == [FULL_SUPPLY]
    assert FULL_SUPPLY.can_power(2.0) and not WEAK_SUPPLY.can_power(2.0) and WEAK_SUPPLY.can_power(1.0)


def test_weak_d2_reports_9v4_1a3() -> None:
    car = Recorder()
    hw = AdapterHardware(car=car, weak_d2=True)
    hw.apply("d1", True, 0.0)
    hw.apply("d2", True, 0.0)
    hw.step(0.01)
    assert car.values("d2_supply") == [LoopSupply(9.4, 1.3)]
    hw.apply("d2", False, 0.5)
    assert car.values("d2_supply")[-1] == NO_SUPPLY


def test_cp_to_the_charger() -> None:
    charger = Recorder()
    hw = AdapterHardware(charger=charger)
    hw.apply("cp", "C", 1.0)
    hw.apply("cp", "C", 1.1)
    hw.apply("cp", "B", 2.0)
    assert charger.values("cp") == ["C", "B"]
    with pytest.raises(ValueError):
        hw.apply("cp", "X", 3.0)


def test_button_script_and_k() -> None:
    ctl = Recorder()
    hw = AdapterHardware(controller=ctl)
    hw.press(0.5, 0.2)
    hw.set_k(True)
    times = []
    for i in range(100):
        t = i * 0.01
        before = len(ctl.values("button"))
        hw.step(t)
        if len(ctl.values("button")) != before:
            times.append(round(t, 2))
    assert ctl.values("button") == [True, False] and times == [0.5, 0.7]
    assert ctl.values("k") == [True]


def test_adc_values_and_usb_charging_signature() -> None:
    ctl = Recorder()
    hw = AdapterHardware(controller=ctl, battery=AuxBattery(cell_v=3.856))
    hw.step(0.0)
    assert ctl.values("vcc4") == [3.86] and ctl.values("vcc12") == [12.0]
    usb = Recorder()
    AdapterHardware(controller=usb, battery=AuxBattery(usb_charging=True)).step(0.0)
    assert usb.values("vcc4") == [0.0] and usb.values("vcc12") == [4.2]


def test_battery_drains_and_internal_dcdc_charges_under_charger_voltage() -> None:
    b = AuxBattery(cell_v=3.80, drain_v_per_h=0.05, charge_v_per_h=0.3)
    b.step(3600, powered=True, charger_voltage_v=0)
    assert b.cell_v == pytest.approx(3.75)
    b.step(3600, powered=True, charger_voltage_v=400)
    assert b.cell_v == pytest.approx(4.05)
    b.step(3600, powered=True, charger_voltage_v=400)
    assert b.cell_v == pytest.approx(4.2)  # full
    b.step(3600, powered=True, charger_voltage_v=150)  # below the DC/DC input range
    assert b.cell_v == pytest.approx(4.15)


def test_led_timeline_and_power_hold_drops_everything() -> None:
    car, charger = Recorder(), Recorder()
    hw = AdapterHardware(car=car, charger=charger)
    hw.apply("led", True, 0.0)
    hw.apply("contactor", True, 0.0)
    hw.apply("contactor", None, 0.01)  # no command: ignored
    hw.apply("d1", True, 0.0)
    hw.apply("d2", True, 0.0)
    hw.apply("cp", "C", 0.0)
    hw.apply("sides_enabled", True, 0.0)  # not hardware: ignored
    for i in range(10):
        hw.step(i * 0.01)
    assert hw.contactor.closed and hw.d1 and hw.d2
    hw.apply("led", False, 1.0)
    hw.apply("led", True, 1.2)
    hw.apply("power_hold", False, 2.0)
    assert hw.led_timeline == [(0.0, True), (1.0, False), (1.2, True), (2.0, False)]
    assert not hw.powered and hw.power_off_at == 2.0 and not hw.d1 and not hw.d2 and hw.cp == "B"
    hw.step(2.005)
    assert hw.contactor.closed  # 10 ms open delay
    hw.step(2.01)
    assert not hw.contactor.closed
    hw.apply("led", True, 3.0)  # no power, no light
    state = hw.state(3.0)
    assert not state.powered and not state.led and state.vcc4 == 0.0
    assert charger.values("cp") == ["C", "B"]


def test_power_manager_with_the_hardware_in_virtual_time() -> None:
    """The button scripted on the hardware powers the adapter off through the power manager."""
    rt = VirtualRuntime()
    pm = PowerManager(AdapterConfig())
    hw = AdapterHardware(controller=lambda e: rt.inject("power", e))
    rt.add(pm, on_output=hw.apply)
    rt.every(0.01, hw.step)
    hw.press(2.0, 0.3)
    rt.run(until=5.0)
    assert pm.state == "off" and not hw.powered
    # vcc4 3.85 → level 2 blink: 300 ms off, on, off, on, then off at power-off
    assert hw.power_off_at == pytest.approx(2.1 + 0.75)
    assert [on for _, on in hw.led_timeline] == [True, False, True, False, True, False]


def test_inlet_voltage_only_through_the_closed_contactor() -> None:
    hw = AdapterHardware(charger_voltage_v=500.0)  # cable check at 500 V
    assert hw.inlet_voltage(370.0, car_contactors_closed=False) == 0.0
    assert hw.inlet_voltage(370.0, car_contactors_closed=True) == 370.0
    hw.apply("contactor", True, 0.0)
    hw.step(0.05)
    hw.charger_voltage_v = 371.0
    assert hw.inlet_voltage(370.0, car_contactors_closed=True) == 371.0
