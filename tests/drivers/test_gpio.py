"""GPIO: the gpiod driver against a test double of libgpiod v2 (no chip on this kernel), against
the real ``gpiod`` package where it is installed, on a gpio-sim chip where the kernel has one,
and the ``sim`` backend."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ccs2chademo.drivers.gpio import GpioError, open_gpio
from ccs2chademo.drivers.hardware_config import GpioConfig
from ccs2chademo.drivers.linux import gpio as linux_gpio
from ccs2chademo.drivers.linux.gpio import GpiodGpio, line_settings
from ccs2chademo.drivers.sim.gpio import SimGpio
from ccs2chademo.runtime.events import InputChanged

from .fake_gpiod import FakeChip, make_module

NAMES = [f"GPIO{i}" for i in range(28)]

LONGGOD_LINES: dict[str, dict[str, Any]] = {
    "power_hold": {"line": "GPIO26"},
    "cp_state_c": {"line": "GPIO12", "active_low": True},
    "d1": {"line": "GPIO6"},
    "d2": {"line": "GPIO13", "active_low": True},
    "contactor": {"line": 5},
    "led_external": {"line": "GPIO22", "active_low": True},
    "led_internal": {"line": "GPIO27", "active_low": True},
    "k": {"line": "GPIO17", "active_low": True, "bias": "pull-up", "debounce_ms": 5},
    "stop_button": {"line": 4, "active_low": True, "bias": "pull-up", "debounce_ms": 20},
}


def _config(lines: dict[str, dict[str, Any]] | None = None, **extra: Any) -> GpioConfig:
    return GpioConfig.model_validate({"backend": "gpiod", "lines": lines or LONGGOD_LINES, **extra})


@pytest.fixture
def chip() -> FakeChip:
    return FakeChip(NAMES)


def _gpio(chip: FakeChip, **extra: Any) -> GpiodGpio:
    return GpiodGpio(_config(**extra), gpiod=make_module({"/dev/gpiochip0": chip}))


def _level(chip: FakeChip, name: str | int) -> int:
    return chip.levels[name if isinstance(name, int) else NAMES.index(name)]


def test_request_puts_every_output_at_its_safe_level_with_the_original_polarities(chip: FakeChip) -> None:
    gpio = _gpio(chip)
    (request,) = chip.requests
    assert request.consumer == "ccs2chademo"
    # adapter.md §13: power hold 1 = on (held); CP 1 = state B; d1 0 = off; d2 active-low so 1 = off;
    # contactor 0 = open; LEDs 0 = on so 1 = off.
    outputs = {role: spec for role, spec in LONGGOD_LINES.items() if role not in ("k", "stop_button")}
    assert {role: _level(chip, spec["line"]) for role, spec in outputs.items()} == {
        "power_hold": 1, "cp_state_c": 1, "d1": 0, "d2": 1, "contactor": 0, "led_external": 1, "led_internal": 1}
    assert request.writes == []  # the levels came with the request, not from set_value afterwards
    assert gpio.outputs == {"power_hold": True, "cp_state_c": False, "d1": False, "d2": False,
                            "contactor": False, "led_external": False, "led_internal": False}


def test_line_settings_follow_the_config(chip: FakeChip) -> None:
    _gpio(chip)
    settings = chip.requests[0].settings
    k = settings[17]
    assert (k.direction.name, k.edge_detection.name, k.bias.name, k.active_low) == ("INPUT", "BOTH", "PULL_UP", True)
    assert k.debounce_period.total_seconds() == pytest.approx(0.005)
    assert settings[4].debounce_period.total_seconds() == pytest.approx(0.020)
    d2 = settings[13]
    assert (d2.direction.name, d2.active_low, d2.output_value.name) == ("OUTPUT", True, "INACTIVE")
    assert d2.bias.name == "AS_IS"
    assert settings[26].output_value.name == "ACTIVE"  # power hold held from the first instant


def test_set_output_drives_logical_values_through_the_polarity(chip: FakeChip) -> None:
    gpio = _gpio(chip)
    gpio.set_output("d2", True)
    gpio.set_output("contactor", True)
    gpio.set_output("cp_state_c", True)
    assert (_level(chip, "GPIO13"), _level(chip, 5), _level(chip, "GPIO12")) == (0, 1, 0)
    gpio.output_sink("d2", False, 1.0)
    gpio.output_sink("charger_status", {"x": 1}, 1.0)  # not a GPIO role: left to other consumers
    assert _level(chip, "GPIO13") == 1
    assert chip.requests[0].writes == [(13, 0), (5, 1), (12, 0), (13, 1)]


def test_bad_outputs_are_typed_errors(chip: FakeChip) -> None:
    gpio = _gpio(chip)
    with pytest.raises(GpioError, match="expected True/False"):
        gpio.set_output("d1", 1)
    with pytest.raises(GpioError, match="not a GPIO output role"):
        gpio.set_output("horn", True)
    with pytest.raises(GpioError, match="not a GPIO output role"):
        gpio.set_output("k", True)


def test_an_unwired_output_is_dropped(chip: FakeChip) -> None:
    lines = {r: s for r, s in LONGGOD_LINES.items() if r not in ("led_internal", "stop_button")}
    gpio = _gpio(chip, lines=lines)
    gpio.set_output("led_internal", True)
    assert "led_internal" not in gpio.outputs and chip.requests[0].writes == []
    with pytest.raises(GpioError, match="input 'stop_button' is not wired"):
        gpio.read_input("stop_button")


def test_inputs_report_the_start_value_then_each_logical_change(chip: FakeChip) -> None:
    chip.levels[17] = 1  # k: pulled up = k off
    chip.levels[4] = 1  # button: released
    gpio = _gpio(chip)
    events: list[InputChanged] = []

    async def scenario() -> None:
        gpio.start(events.append)
        assert events == [InputChanged("k", False), InputChanged("stop_button", False)]
        chip.pull(17, 0)  # the car closes k to ground
        await asyncio.sleep(0.02)
        chip.pull(4, 0)  # a short press: both edges queued before we read
        chip.pull(4, 1)
        await asyncio.sleep(0.02)
        gpio.close()
        chip.pull(17, 1)  # after close: no more events, the reader is gone
        await asyncio.sleep(0.02)

    asyncio.run(scenario())
    assert events[2:] == [InputChanged("k", True), InputChanged("stop_button", True),
                          InputChanged("stop_button", False)]
    assert chip.requests[0].released and not chip.busy


def test_roles_on_two_chips_make_two_requests(chip: FakeChip) -> None:
    other = FakeChip(["PLC_IRQ", "REL1", "REL2"])
    lines = dict(LONGGOD_LINES)
    lines["contactor"] = {"line": "REL1", "chip": "/dev/gpiochip1"}
    gpio = GpiodGpio(_config(lines), gpiod=make_module({"/dev/gpiochip0": chip, "/dev/gpiochip1": other}))
    gpio.set_output("contactor", True)
    assert other.levels == [0, 1, 0] and len(chip.requests) == 1 and 5 not in chip.requests[0].settings
    gpio.close()
    assert not chip.busy and not other.busy


@pytest.mark.parametrize(("chips", "lines", "words"), [
    ({}, None, "cannot request GPIO lines on /dev/gpiochip0"),
    (None, {**LONGGOD_LINES, "d1": {"line": "RELAY_D1"}}, "d1='RELAY_D1'"),
    (None, {**LONGGOD_LINES, "d1": {"line": 99}}, "d1=99.*offset"),
])
def test_request_failures_are_typed_and_name_the_lines(
        chip: FakeChip, chips: dict[str, FakeChip] | None, lines: dict[str, Any] | None, words: str) -> None:
    module = make_module({"/dev/gpiochip0": chip} if chips is None else chips)
    with pytest.raises(GpioError, match=words):
        GpiodGpio(_config(lines), gpiod=module)
    assert not chip.busy


def test_a_failed_second_chip_releases_the_first(chip: FakeChip) -> None:
    lines = {**LONGGOD_LINES, "power_hold": {"line": 0, "chip": "gpiochip9"}}
    with pytest.raises(GpioError, match="/dev/gpiochip9"):
        GpiodGpio(_config(lines), gpiod=make_module({"/dev/gpiochip0": chip}))
    assert not chip.busy and chip.requests[0].released


def test_a_busy_line_is_a_typed_error(chip: FakeChip) -> None:
    first = _gpio(chip)
    with pytest.raises(GpioError, match="busy"):
        _gpio(chip)
    first.close()
    _gpio(chip).close()


def test_without_the_gpiod_package_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Any:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(linux_gpio.importlib, "import_module", missing)
    with pytest.raises(GpioError, match=r"ccs2chademo\[hw\]"):
        GpiodGpio(_config())


# ------------------------------------------------------------------- the real gpiod package


def test_settings_are_real_gpiod_line_settings() -> None:
    gpiod = pytest.importorskip("gpiod", reason="the gpiod package (extra 'hw') is not installed")
    cfg = _config()
    d2 = line_settings(gpiod, "d2", cfg.lines.d2)  # type: ignore[arg-type]
    assert isinstance(d2, gpiod.LineSettings)
    assert (d2.direction, d2.active_low, d2.output_value) == (gpiod.line.Direction.OUTPUT, True,
                                                              gpiod.line.Value.INACTIVE)
    k = line_settings(gpiod, "k", cfg.lines.k)  # type: ignore[arg-type]
    assert (k.direction, k.edge_detection, k.bias) == (gpiod.line.Direction.INPUT, gpiod.line.Edge.BOTH,
                                                       gpiod.line.Bias.PULL_UP)
    assert k.debounce_period.total_seconds() == pytest.approx(0.005)
    # libgpiod's C layer takes every role's settings into its line config (the conversion a request does).
    from gpiod import _ext
    from gpiod import line_settings as real_settings

    line_config = _ext.LineConfig()
    for offset, (role, spec) in enumerate(cfg.lines.wired().items()):
        line_config.add_line_settings([offset], real_settings._line_settings_to_ext(line_settings(gpiod, role, spec)))


def test_real_gpiod_without_the_chip_is_a_typed_error(tmp_path: Path) -> None:
    pytest.importorskip("gpiod", reason="the gpiod package (extra 'hw') is not installed")
    with pytest.raises(GpioError, match="cannot request GPIO lines"):
        GpiodGpio(_config(chip=str(tmp_path / "gpiochip-none")))


GPIO_SIM = Path("/sys/kernel/config/gpio-sim")


@pytest.mark.skipif(not GPIO_SIM.is_dir() or os.geteuid() != 0,
                    reason="needs the kernel's gpio-sim (configfs) and root; this kernel has no GPIO chips")
def test_on_a_gpio_sim_chip() -> None:  # pragma: no cover - runs only where the kernel has gpio-sim
    pytest.importorskip("gpiod", reason="the gpiod package (extra 'hw') is not installed")
    dev = GPIO_SIM / f"ccs2chademo-{os.getpid()}"
    bank = dev / "gpio-bank0"
    bank.mkdir(parents=True)
    try:
        (bank / "num_lines").write_text("32")
        for spec in LONGGOD_LINES.values():
            if isinstance(spec["line"], str):
                (bank / f"line{spec['line'][4:]}").mkdir()
                (bank / f"line{spec['line'][4:]}" / "name").write_text(spec["line"])
        (dev / "live").write_text("1")
        name = (bank / "chip_name").read_text().strip()
        sysfs = Path("/sys/devices/platform") / (dev / "dev_name").read_text().strip() / name
        gpio = GpiodGpio(_config(chip=name))
        try:
            assert (sysfs / "sim_gpio13" / "value").read_text().strip() == "1"  # d2 off (active-low)
            gpio.set_output("d2", True)
            assert (sysfs / "sim_gpio13" / "value").read_text().strip() == "0"
            (sysfs / "sim_gpio17" / "pull").write_text("pull-down")  # k on
            assert gpio.read_input("k") is True
        finally:
            gpio.close()
    finally:
        if (dev / "live").exists():
            (dev / "live").write_text("0")
        for line in bank.glob("line*"):
            line.rmdir()
        bank.rmdir()
        dev.rmdir()


# ----------------------------------------------------------------------------- sim backend


def test_sim_starts_safe_and_records_the_timeline() -> None:
    clock = iter(range(100))
    gpio = SimGpio(clock=lambda: float(next(clock)))
    assert [(c.role, c.value) for c in gpio.timeline] == [
        ("contactor", False), ("d2", False), ("d1", False), ("cp_state_c", False),
        ("led_external", False), ("led_internal", False), ("power_hold", True)]
    gpio.set_output("d1", True)
    gpio.set_output("d1", True)  # no change, no entry
    gpio.set_output("contactor", True)
    assert [(c.t, c.role, c.value, c.level) for c in gpio.timeline[7:]] == [(7.0, "d1", True, 1),
                                                                           (8.0, "contactor", True, 1)]


def test_sim_applies_configured_polarities_and_wiring(tmp_path: Path) -> None:
    cfg = GpioConfig.model_validate({"backend": "sim", "lines": {k: v for k, v in LONGGOD_LINES.items()
                                                                  if k != "led_internal"}})
    trace = tmp_path / "gpio.jsonl"
    gpio = SimGpio(cfg, trace=trace)
    assert gpio.level("d2") == 1 and gpio.level("cp_state_c") == 1 and gpio.level("power_hold") == 1
    gpio.set_output("d2", True)
    assert gpio.level("d2") == 0
    gpio.set_output("led_internal", True)  # not wired: dropped
    with pytest.raises(GpioError):
        gpio.level("led_internal")
    gpio.close()
    rows = [json.loads(line) for line in trace.read_text().splitlines()]
    assert rows[-1] == {"t": rows[-1]["t"], "role": "d2", "value": True, "level": 0}
    assert len(rows) == 7  # six safe values at start (led_internal unwired) + d2


def test_sim_inputs_are_driven_by_the_test_and_reported_once_per_change() -> None:
    gpio = SimGpio()
    events: list[InputChanged] = []
    gpio.set_input("k", True)  # before start: only the value is kept
    gpio.start(events.append)
    gpio.set_input("stop_button", True)
    gpio.set_input("stop_button", True)
    gpio.set_input("k", False)
    assert events == [InputChanged("k", True), InputChanged("stop_button", False),
                      InputChanged("stop_button", True), InputChanged("k", False)]
    assert gpio.read_input("k") is False
    with pytest.raises(GpioError, match="not wired"):
        gpio.set_input("d1", True)


def test_open_gpio_picks_the_backend(tmp_path: Path) -> None:
    sim = open_gpio(GpioConfig(), trace=tmp_path / "t.jsonl")
    assert isinstance(sim, SimGpio) and (tmp_path / "t.jsonl").read_text().count("\n") == 7
    sim.close()
    pytest.importorskip("gpiod", reason="the gpiod package (extra 'hw') is not installed")
    with pytest.raises(GpioError, match="cannot request GPIO lines"):
        open_gpio(_config(chip=str(tmp_path / "no-chip")))


def test_safe_shutdown_on_the_gpiod_backend_leaves_the_original_safe_levels(chip: FakeChip) -> None:
    from ccs2chademo.drivers.safety import SafeOutputs

    gpio = _gpio(chip)
    safe = SafeOutputs(gpio, sleep=lambda s: None, handle_signals=False)
    for role in ("cp_state_c", "d1", "d2", "contactor", "led_external", "led_internal"):
        gpio.set_output(role, True)
    request = chip.requests[0]
    n = len(request.writes)
    safe.shutdown("test")
    order = [NAMES[off] if off not in (4, 5) else off for off, _ in request.writes[n:]]
    assert order == [5, "GPIO13", "GPIO6", "GPIO12", "GPIO22", "GPIO27", "GPIO26"]  # contactor … power hold
    outputs = {role: spec for role, spec in LONGGOD_LINES.items() if role not in ("k", "stop_button")}
    assert {role: _level(chip, spec["line"]) for role, spec in outputs.items()} == {
        "power_hold": 0, "cp_state_c": 1, "d1": 0, "d2": 1, "contactor": 0, "led_external": 1, "led_internal": 1}
    assert request.released
