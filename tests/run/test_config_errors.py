"""``ccs2chademo run --config`` rejects a bad [hardware] section before any pin moves: exit 1
and a message naming the file and the key, one case per field."""

from __future__ import annotations

from pathlib import Path

import can
import pytest
from click.testing import CliRunner

from ccs2chademo.adapter.config import load_config
from ccs2chademo.adapter.runner import AdapterRun, _pruning_rotator
from ccs2chademo.cli import cli

GOOD_GPIOD_LINES = (
    '[hardware.gpio.lines]\ncontactor = { line = "GPIO5" }\nd1 = { line = "GPIO6" }\n'
    'd2 = { line = "GPIO13", active_low = true }\ncp_state_c = { line = "GPIO12" }\nk = { line = "GPIO17" }\n'
)

CASES = [
    ('[hardware.gpio]\nbackend = "wiringpi"\n', "hardware.gpio.backend"),
    ('[hardware.gpio]\nchip = ""\n', "hardware.gpio.chip"),
    ('[hardware.gpio]\nconsumer = "' + "x" * 40 + '"\n', "hardware.gpio.consumer"),
    ('[hardware.gpio]\nbackend = "gpiod"\n', "backend gpiod needs lines for contactor, d1, d2, cp_state_c, k"),
    ('[hardware.gpio.lines]\nd2 = { line = "" }\n', "hardware.gpio.lines.d2.line"),
    ('[hardware.gpio.lines]\nd2 = { line = 600 }\n', "line offset 600 is out of range"),
    ('[hardware.gpio.lines]\nd2 = { line = "GPIO13", active_low = "maybe" }\n', "hardware.gpio.lines.d2.active_low"),
    ('[hardware.gpio.lines]\nk = { line = "GPIO17", bias = "pullup" }\n', "hardware.gpio.lines.k.bias"),
    ('[hardware.gpio.lines]\nk = { line = "GPIO17", debounce_ms = 5000 }\n', "hardware.gpio.lines.k.debounce_ms"),
    ('[hardware.gpio.lines]\nd1 = { line = "GPIO6", debounce_ms = 5 }\n', "debounce_ms applies to inputs only"),
    ('[hardware.gpio.lines]\nd1 = { line = "GPIO6" }\nd2 = { line = "GPIO6" }\n', "already used by d2"),
    ('[hardware.gpio.lines]\nd3 = { line = "GPIO7" }\n', "hardware.gpio.lines.d3"),
    ('[hardware.gpio.lines]\nd2 = { line = "GPIO13", activelow = true }\n', "hardware.gpio.lines.d2.activelow"),
    ('[hardware.can]\ninterface = "canbus9000"\n', "unknown python-can interface 'canbus9000'"),
    ('[hardware.can]\nchannel = ""\n', "hardware.can.channel"),
    ('[hardware.can]\nbitrate = 2000000\n', "hardware.can.bitrate"),
    ('[hardware.can]\noptions = { fd = [1, 2] }\n', "option 'fd'"),
    ('[hardware.plc]\ninterface = "eth/1"\n', "is not a Linux interface name"),
    ('[hardware.plc]\ninterface = "sim"\n', "has no charger to talk to in `run`"),
    ('[hardware.adc]\nbackend = "spi"\n', "hardware.adc.backend"),
    ('[hardware.adc]\nbackend = "iio"\n', "backend iio needs device"),
    ('[hardware.adc]\nbackend = "iio"\ndevice = "ads1115"\n', "backend iio needs at least one channel"),
    ('[hardware.adc]\ndevice = "/sys/bus/iio/devices/iio:device0"\n', "not a path"),
    ('[hardware.adc.channels]\nvcc12 = { index = 0, divider = 0 }\n', "hardware.adc.channels.vcc12.divider"),
    ('[hardware.adc.channels]\nvcc5 = { index = 0 }\n', "hardware.adc.channels"),
    ('[hardware.adc]\nperiod_s = 0\n', "hardware.adc.period_s"),
    ('[hardware.logging]\npcapng = "/tmp/x.pcap"\n', "the CCS capture is written as .pcapng"),
    ('[hardware.logging]\ncan_log = "/tmp/x.txt"\n', "CAN logs are .log (candump), .asc or .blf"),
    ('[hardware.logging]\nrotate_bytes = 100\n', "hardware.logging.rotate_bytes"),
    ('[hardware.logging]\nrotate_count = 0\n', "hardware.logging.rotate_count"),
    ('[hardware.logging]\nsyslog = true\n', "hardware.logging.syslog"),
    ('[hardware.gpio]\nbackend = "gpiod"\n' + GOOD_GPIOD_LINES, "a simulated car ([hardware.can] interface = \"sim\") "
     "needs [hardware.gpio] backend = \"sim\""),
]


@pytest.mark.parametrize(("toml", "message"), CASES, ids=[c[1][:40] for c in CASES])
def test_bad_hardware_field_is_exit_1_with_a_clear_message(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "adapter.toml"
    base = "" if "[hardware.plc]" in toml else '[hardware.plc]\ninterface = "eth1"\n'
    path.write_text(toml + base, encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "--config", str(path)])
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output
    assert str(path) in result.output or "run`" in result.output or "needs [hardware.gpio]" in result.output


def test_unknown_car_profile_is_a_startup_error(tmp_path: Path) -> None:
    path = tmp_path / "adapter.toml"
    path.write_text('[hardware.plc]\ninterface = "eth1"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "--config", str(path), "--car", "trabant"])
    assert result.exit_code == 1 and "trabant" in result.output, result.output


def test_missing_config_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1 and "cannot read" in result.output, result.output


def test_can_log_rotation_keeps_rotate_count_files(tmp_path: Path) -> None:
    base = tmp_path / "can.log"
    writer = can.SizedRotatingLogger(str(base), max_bytes=2000)
    writer.rotator = _pruning_rotator(base, 2)
    for n in range(400):
        writer.on_message_received(can.Message(timestamp=float(n), arbitration_id=0x109, data=bytes(8)))
    writer.stop()
    rotated = sorted(p.name for p in tmp_path.glob("can_*_#*.log"))
    assert base.exists() and len(rotated) == 2, rotated
    assert rotated[-1].endswith(f"#{writer.rollover_count - 1:03}.log")  # the newest are kept


def test_the_longgod_example_is_a_valid_run_config() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "examples" / "longgod.toml")
    run = AdapterRun(config)  # validation only: nothing is opened before execute()
    assert config.hardware.gpio.backend == "gpiod" and config.hardware.plc.interface == "eth1"
    assert not run.sim_car and run.summary()["result"] == "not-started"
