"""The [hardware] section: defaults, a full board, and one clear error per field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from ccs2chademo.drivers.hardware_config import HardwareConfig

REPO = Path(__file__).resolve().parents[2]

BOARD = {
    "gpio": {
        "backend": "gpiod",
        "chip": "gpiochip0",
        "lines": {
            "contactor": {"line": 5},
            "d1": {"line": "GPIO6"},
            "d2": {"line": 13, "active_low": True},
            "cp_state_c": {"line": 19, "active_low": True},
            "k": {"line": 26, "active_low": True, "bias": "pull-up", "debounce_ms": 5},
        },
    },
    "can": {"interface": "socketcan", "channel": "can0"},
    "plc": {"interface": "eth1"},
    "adc": {"backend": "iio", "device": "iio:device0", "channels": {"vcc12": {"index": 0, "divider": 11}}},
    "logging": {"session_log": "/var/log/ccs2chademo/session.jsonl", "can_log": "/var/log/x/can.log"},
}


def _with(section: str, **changes: object) -> dict[str, object]:
    data = {k: dict(v) for k, v in BOARD.items()}
    data[section].update(changes)
    return data


def _line(role: str, **spec: object) -> dict[str, object]:
    lines = dict(BOARD["gpio"]["lines"])  # type: ignore[arg-type]
    lines[role] = spec
    return _with("gpio", lines=lines)


def test_defaults_are_all_simulated() -> None:
    cfg = HardwareConfig()
    assert cfg.gpio.backend == "sim" and cfg.adc.backend == "none"
    assert cfg.simulated() == ["gpio", "can", "plc"]
    assert cfg.can.bitrate == 500_000


def test_a_full_board_validates() -> None:
    cfg = HardwareConfig.model_validate(BOARD)
    assert cfg.simulated() == []
    assert cfg.gpio.lines.d2 is not None and cfg.gpio.lines.d2.active_low
    assert set(cfg.gpio.lines.wired()) == {"contactor", "d1", "d2", "cp_state_c", "k"}
    assert cfg.adc.channels["vcc12"].divider == 11.0


def test_the_shipped_example_validates() -> None:
    data = tomllib.loads((REPO / "examples" / "longgod.toml").read_text())
    cfg = HardwareConfig.model_validate(data["hardware"])
    assert cfg.gpio.backend == "gpiod"
    assert set(cfg.gpio.lines.wired()) == {
        "power_hold", "cp_state_c", "d1", "d2", "contactor", "led_external", "led_internal", "k", "stop_button"}


BAD = [
    # (data, location that must be named, words the message must contain)
    (_with("gpio", backend="wiringpi"), "gpio.backend", "'gpiod' or 'sim'"),
    (_with("gpio", colour="blue"), "gpio.colour", "Extra inputs"),
    (_with("gpio", consumer=""), "gpio.consumer", "at least 1"),
    (_with("gpio", chip=7), "gpio.chip", "valid string"),
    (_with("gpio", chip=""), "gpio.chip", "at least 1"),
    (_line("d2", line=13, chip=""), "gpio.lines.d2.chip", "at least 1"),
    (_line("d2", line=13, activelow=True), "gpio.lines.d2.activelow", "Extra inputs"),
    (_line("d2", line=-1), "gpio.lines.d2.line", "out of range 0..511"),
    (_line("d2", line=True), "gpio.lines.d2.line", "a line name (string) or an offset (integer)"),
    (_line("d2", line=""), "gpio.lines.d2.line", "must not be empty"),
    (_line("d2", line=13, active_low="maybe"), "gpio.lines.d2.active_low", "valid boolean"),
    (_line("k", line=26, bias="up"), "gpio.lines.k.bias", "'pull-up'"),
    (_line("k", line=26, debounce_ms=-1), "gpio.lines.k.debounce_ms", "greater than or equal to 0"),
    (_line("d1", line=6, debounce_ms=5), "gpio", "debounce_ms applies to inputs only"),
    (_line("d1", line=5), "gpio", "already used by contactor"),
    (_line("d1", line=5, chip="gpiochip1"), None, None),  # same offset on another chip is fine
    (_line("horn", line=3), "gpio.lines.horn", "Extra inputs"),
    (_with("gpio", lines={"d1": {"line": 1}}), "gpio", "needs lines for contactor, d2, cp_state_c, k"),
    (_with("can", interface="socketcann"), "can.interface", "unknown python-can interface 'socketcann'"),
    (_with("can", channel=""), "can.channel", "at least 1"),
    (_with("can", bitrate=0), "can.bitrate", "greater than 0"),
    (_with("can", bitrate=2_000_000), "can.bitrate", "less than or equal to 1000000"),
    (_with("can", options={"fd": [1]}), "can.options", "option 'fd': values are strings"),
    (_with("plc", interface="eth/1"), "plc.interface", "not a Linux interface name"),
    (_with("plc", interface="a-very-long-interface"), "plc.interface", "not a Linux interface name"),
    (_with("adc", backend="spi"), "adc.backend", "'iio' or 'none'"),
    (_with("adc", device=None), "adc", "needs device"),
    (_with("adc", device="/sys/bus/iio/devices/iio:device0"), "adc.device", "not a path"),
    (_with("adc", channels={}), "adc", "at least one channel"),
    (_with("adc", channels={"vcc5": {"index": 0}}), "adc.channels.vcc5",
     "'vcc12', 'vcc4', 'inlet', 'inlet_temp1' or 'inlet_temp2'"),
    (_with("adc", channels={"vcc4": {"index": -2}}), "adc.channels.vcc4.index", "greater than or equal to 0"),
    (_with("adc", channels={"vcc4": {"index": 1, "divider": 0}}), "adc.channels.vcc4.divider", "greater than 0"),
    (_with("adc", period_s=0), "adc.period_s", "greater than 0"),
    (_with("logging", pcapng="/tmp/ccs.pcap"), "logging.pcapng", ".pcapng"),
    (_with("logging", can_log="/tmp/can.txt"), "logging.can_log", ".log (candump)"),
    (_with("logging", session_log=5), "logging.session_log", "path"),
    (_with("logging", rotate_bytes=100), "logging.rotate_bytes", "greater than or equal to 65536"),
    (_with("logging", rotate_count=0), "logging.rotate_count", "greater than or equal to 1"),
]


@pytest.mark.parametrize(("data", "loc", "words"), BAD)
def test_each_field_has_a_clear_error(data: dict[str, object], loc: str | None, words: str | None) -> None:
    if loc is None:
        HardwareConfig.model_validate(data)
        return
    with pytest.raises(ValidationError) as info:
        HardwareConfig.model_validate(data)
    errors = info.value.errors()
    assert len(errors) == 1, errors
    where = ".".join(str(p) for p in errors[0]["loc"])
    assert where == loc or where.startswith(loc + "."), (where, loc)
    assert words in errors[0]["msg"], errors[0]["msg"]
