"""Clara mode on a board (issue 13): the GPIO roles (inlet contactor, lock, load relay, the lock's
feedback, the CP PWM), what a gpiod board must wire per mode, the safe start-up and shutdown with
them, the CP duty cycle from edge timestamps (sim and gpiod backends), the NTC temperatures, and
`run`'s mapping of the bridge's outputs and inputs onto them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccs2chademo.adapter.config import ConfigError, build_config
from ccs2chademo.adapter.runner import AdapterRun
from ccs2chademo.drivers.cp_pwm import IDLE_S, DutyMeter
from ccs2chademo.drivers.hardware_config import AdcConfig, GpioConfig, Ntc
from ccs2chademo.drivers.linux.adc import FAULT_C, ntc_celsius
from ccs2chademo.drivers.linux.gpio import GpiodGpio
from ccs2chademo.drivers.safety import SafeOutputs
from ccs2chademo.drivers.sim.gpio import SimGpio
from ccs2chademo.runtime.events import InputChanged

from .fake_gpiod import FakeChip, make_module

CLARA_LINES: dict[str, dict[str, Any]] = {
    "contactor": {"line": "GPIO5"},
    "inlet_contactor": {"line": "GPIO6"},
    "cp_state_c": {"line": "GPIO12"},
    "lock": {"line": "GPIO16"},
    "load_relay": {"line": "GPIO20"},
    "lock_feedback": {"line": "GPIO21", "bias": "pull-up", "active_low": True},
    "cp_pwm": {"line": "GPIO23"},
    "stop_button": {"line": "GPIO4", "active_low": True},
}
NAMES = [f"GPIO{i}" for i in range(28)]


def _clara(lines: dict[str, Any], **clara: Any) -> dict[str, Any]:
    return {"mode": "clara", "clara": clara, "hardware": {"gpio": {"backend": "gpiod", "lines": lines}}}


# ---------------------------------------------------------------------------------- configuration
def test_a_clara_board_needs_no_chademo_lines() -> None:
    config = build_config(_clara(CLARA_LINES, **{"lock-feedback": True}))
    assert set(config.hardware.gpio.lines.wired()) == set(CLARA_LINES)


@pytest.mark.parametrize(("drop", "message"), [
    (("lock",), r"backend gpiod needs lines for lock \(mode clara\)"),
    (("cp_state_c",), "needs lines for cp_state_c"),
    (("contactor", "inlet_contactor"), "contactor or inlet_contactor"),
])
def test_a_clara_board_must_wire_lock_cp_and_a_contactor(drop: tuple[str, ...], message: str) -> None:
    lines = {role: spec for role, spec in CLARA_LINES.items() if role not in drop}
    with pytest.raises(ConfigError, match=message):
        build_config(_clara(lines))


def test_the_chademo_mode_still_needs_its_lines() -> None:
    with pytest.raises(ConfigError, match="needs lines for d1, d2, k"):
        build_config({"hardware": {"gpio": {"backend": "gpiod", "lines": CLARA_LINES}}})


def test_lock_feedback_needs_its_line() -> None:
    lines = {role: spec for role, spec in CLARA_LINES.items() if role != "lock_feedback"}
    with pytest.raises(ConfigError, match=r"lock-feedback = true needs \[hardware.gpio.lines\] lock_feedback"):
        build_config(_clara(lines, **{"lock-feedback": True}))


def test_temperature_channels_need_an_ntc_and_only_they_take_one() -> None:
    AdcConfig.model_validate({"backend": "iio", "device": "ads1015",
                              "channels": {"inlet_temp1": {"index": 0, "ntc": {}}}})
    with pytest.raises(ValueError, match="inlet_temp2: an inlet temperature needs ntc"):
        AdcConfig.model_validate({"backend": "iio", "device": "ads1015", "channels": {"inlet_temp2": {"index": 1}}})
    with pytest.raises(ValueError, match="ntc applies to inlet_temp1"):
        AdcConfig.model_validate({"backend": "iio", "device": "ads1015",
                                  "channels": {"vcc12": {"index": 1, "ntc": {}}}})


def test_ntc_conversion() -> None:
    ntc = Ntc()
    assert ntc_celsius(1.65, ntc) == pytest.approx(25.0)  # pull-up = nominal: half the supply at 25 °C
    assert ntc_celsius(0.8, ntc) == pytest.approx(53.45, abs=0.05)  # hotter: lower resistance, lower voltage
    assert ntc_celsius(3.3, ntc) == FAULT_C and ntc_celsius(0.0, ntc) == FAULT_C  # open / short: hot, never cold


# ---------------------------------------------------------------------------------- safe outputs
def test_safe_outputs_open_both_contactors_first_and_leave_the_lock() -> None:
    now = [0.0]
    gpio = SimGpio(GpioConfig.model_validate({"lines": CLARA_LINES}), clock=lambda: now[0])
    safe = SafeOutputs(gpio, sleep=lambda s: now.__setitem__(0, now[0] + s), handle_signals=False)
    for role in ("contactor", "inlet_contactor", "lock", "load_relay", "cp_state_c"):
        gpio.set_output(role, True)
    n = len(gpio.timeline)
    safe.shutdown("test")
    tail = gpio.timeline[n:]
    assert [c.role for c in tail[:2]] == ["contactor", "inlet_contactor"] and tail[0].t == tail[1].t == 0.0
    assert all(c.t == pytest.approx(0.1) for c in tail[2:])
    assert {c.role for c in tail[2:]} == {"cp_state_c", "load_relay"}
    assert gpio.outputs["lock"] is True  # a crash must not unlock a live inlet


# ---------------------------------------------------------------------------------- the CP duty cycle
def _pwm(duty: float, periods: int, start_ns: int = 0, period_ns: int = 1_000_000) -> list[tuple[bool, int]]:
    edges = []
    for i in range(periods):
        t = start_ns + i * period_ns
        edges += [(True, t), (False, t + round(period_ns * duty / 100.0))]
    return edges


@given(st.floats(3.0, 97.0), st.integers(900_000, 1_100_000))
def test_the_meter_measures_the_duty_cycle(duty: float, period_ns: int) -> None:
    meter = DutyMeter()
    reports = [r for rising, t in _pwm(duty, 12, period_ns=period_ns) if (r := meter.edge(rising, t)) is not None]
    assert reports and reports[-1] == pytest.approx(duty, abs=0.01)


def test_the_meter_drops_glitches_and_reports_a_steady_line() -> None:
    meter = DutyMeter()
    for rising, t in _pwm(26.7, 10):
        meter.edge(rising, t)
    assert meter.reported == pytest.approx(26.7)
    assert meter.edge(True, 10_000_000 + 50_000) is None  # a 50 µs "period": a glitch, dropped
    assert meter.idle(10_000_000 + 10_000_000, level=True) is None  # 10 ms without edges: not yet idle
    assert meter.idle(10_000_000 + round(IDLE_S * 1e9) + 1_000_000, level=True) == 100.0
    assert meter.idle(10_000_000 + round(IDLE_S * 2e9) + 1_000_000, level=False) == 0.0


def test_sim_gpio_reports_the_duty_cycle_as_cp_duty() -> None:
    gpio = SimGpio(GpioConfig.model_validate({"lines": CLARA_LINES}))
    events: list[InputChanged] = []
    gpio.start(events.append)
    assert events == [InputChanged("lock_feedback", False), InputChanged("stop_button", False)]  # no PWM level
    for rising, t in _pwm(5.0, 10):
        gpio.pwm_edge(rising, t)
    assert events[-1] == InputChanged("cp_duty", 5.0)


def test_gpiod_backend_measures_the_pwm_from_edge_timestamps() -> None:
    chip = FakeChip(NAMES)
    config = GpioConfig.model_validate({"backend": "gpiod", "lines": CLARA_LINES}, context={"mode": "clara"})
    gpio = GpiodGpio(config, gpiod=make_module({"/dev/gpiochip0": chip}))
    events: list[InputChanged] = []

    async def scenario() -> None:
        gpio.start(events.append)
        for rising, t in _pwm(53.33, 10, start_ns=1_000_000_000):
            chip.pull(23, int(rising), t)
        chip.pull(21, 0)  # the lock's switch closes to ground: locked (active low)
        await asyncio.sleep(0.02)
        gpio.close()

    asyncio.run(scenario())
    duties = [e.value for e in events if e.name == "cp_duty"]
    assert duties and duties[-1] == pytest.approx(53.33, abs=0.01)
    assert InputChanged("lock_feedback", True) in events


# ---------------------------------------------------------------------------------- `run`'s mapping
def test_run_maps_the_clara_outputs_and_inputs_onto_the_roles() -> None:
    config = build_config({**_clara(CLARA_LINES, **{"lock-feedback": True}),
                           "hardware": {"gpio": {"backend": "sim", "lines": CLARA_LINES}, "plc": {"interface": "veth9"},
                                        "can": {"interface": "virtual"}}})
    run = AdapterRun(config)  # nothing is opened before execute()
    run.gpio = gpio = SimGpio(config.hardware.gpio)
    for name, value in (("contactor", True), ("lock", True), ("load_relay", True), ("cp", "C")):
        run._output(name, value, 0.0)
    assert {r: gpio.outputs[r] for r in ("contactor", "inlet_contactor", "lock", "load_relay", "cp_state_c")} == \
        dict.fromkeys(("contactor", "inlet_contactor", "lock", "load_relay", "cp_state_c"), True)
    injected: list[tuple[str, InputChanged]] = []
    run.bridge = type("B", (), {"name": "adapter"})()  # type: ignore[assignment]
    run.rt = type("R", (), {"inject": lambda self, n, e: injected.append((n, e))})()  # type: ignore[assignment]
    run._input(InputChanged("lock_feedback", True))
    run._input(InputChanged("cp_duty", 26.67))
    assert injected == [("adapter", InputChanged("lock_feedback", True)), ("adapter", InputChanged("cp_duty", 26.67))]
