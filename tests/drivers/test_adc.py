"""IIO ADC over a sysfs-shaped directory tree (files are the real interface)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ccs2chademo.drivers.hardware_config import AdcConfig
from ccs2chademo.drivers.linux.adc import AdcError, IioAdc, NoAdc, find_device, open_adc
from ccs2chademo.runtime.events import InputChanged


def _device(root: Path, n: int, name: str, files: dict[str, str]) -> Path:
    path = root / f"iio:device{n}"
    path.mkdir(parents=True)
    (path / "name").write_text(name + "\n")
    for file, text in files.items():
        (path / file).write_text(text + "\n")
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "sys" / "bus" / "iio" / "devices"
    _device(root, 0, "cpu_thermal", {"in_temp0_raw": "41000"})
    # An ADS1115-like device: per-channel scale in mV per count (full scale 4.096 V → 0.125 mV).
    _device(root, 1, "ads1115", {"in_voltage0_raw": "8800", "in_voltage0_scale": "0.125",
                                 "in_voltage1_raw": "15200", "in_voltage1_scale": "0.125"})
    return root


def _cfg(**over: Any) -> AdcConfig:
    data: dict[str, Any] = {"backend": "iio", "device": "ads1115",
                            "channels": {"vcc12": {"index": 0, "divider": 11}, "vcc4": {"index": 1, "divider": 2}}}
    data.update(over)
    return AdcConfig.model_validate(data)


def test_reads_volts_through_scale_and_divider(root: Path) -> None:
    adc = IioAdc(_cfg(), root)
    assert adc.path == root / "iio:device1"
    volts = adc.read_all()
    assert volts["vcc12"] == pytest.approx(8800 * 0.125 / 1000 * 11)  # 12.1 V
    assert volts["vcc4"] == pytest.approx(15200 * 0.125 / 1000 * 2)  # 3.8 V
    assert adc.sample() == [InputChanged("vcc12", 12.1), InputChanged("vcc4", 3.8)]


def test_values_are_re_read_each_sample(root: Path) -> None:
    adc = IioAdc(_cfg(), root)
    (root / "iio:device1" / "in_voltage1_raw").write_text("16000\n")
    (root / "iio:device1" / "in_voltage1_scale").write_text("0.0625\n")  # gain changed at run time
    assert adc.read("vcc4") == pytest.approx(16000 * 0.0625 / 1000 * 2)


def test_shared_scale_and_offset(tmp_path: Path) -> None:
    _device(tmp_path, 3, "soc-adc", {"in_voltage2_raw": "1000", "in_voltage_scale": "3.0",
                                     "in_voltage_offset": "-100"})
    adc = IioAdc(_cfg(device="iio:device3", channels={"vcc12": {"index": 2, "divider": 11}}), tmp_path)
    assert adc.read("vcc12") == pytest.approx((1000 - 100) * 3.0 / 1000 * 11)


@pytest.mark.parametrize(("over", "words"), [
    ({"device": "iio:device7"}, "iio:device7 not found"),
    ({"device": "mcp3008"}, "no IIO device named 'mcp3008'.*found: cpu_thermal, ads1115"),
    ({"channels": {"vcc12": {"index": 5}}}, "vcc12: .*in_voltage5_raw does not exist"),
])
def test_missing_device_or_channel_is_a_typed_error(root: Path, over: dict[str, Any], words: str) -> None:
    with pytest.raises(AdcError, match=words):
        IioAdc(_cfg(**over), root)


def test_a_channel_without_a_scale_is_refused(root: Path) -> None:
    (root / "iio:device1" / "in_voltage1_scale").unlink()
    with pytest.raises(AdcError, match=r"vcc4: .*no in_voltage1_scale or in_voltage_scale"):
        IioAdc(_cfg(), root)


@pytest.mark.parametrize("content", ["", "twelve", "\xff\xfe"])
def test_garbage_in_a_file_is_a_typed_error(root: Path, content: str) -> None:
    adc = IioAdc(_cfg(), root)
    (root / "iio:device1" / "in_voltage0_raw").write_bytes(content.encode("latin-1"))
    with pytest.raises(AdcError, match="in_voltage0_raw"):
        adc.read("vcc12")


def test_a_vanished_file_is_a_typed_error(root: Path) -> None:
    adc = IioAdc(_cfg(), root)
    (root / "iio:device1" / "in_voltage0_raw").unlink()
    with pytest.raises(AdcError, match="cannot read"):
        adc.read("vcc12")
    with pytest.raises(AdcError, match="'vdd' is not configured"):
        adc.read("vdd")


def test_find_device_by_number_or_name(root: Path) -> None:
    assert find_device("iio:device0", root).name == "iio:device0"
    assert find_device("ads1115", root).name == "iio:device1"


def test_none_backend(root: Path) -> None:
    adc = open_adc(AdcConfig(), root)
    assert isinstance(adc, NoAdc) and adc.read_all() == {} and adc.sample() == []
    assert isinstance(open_adc(_cfg(), root), IioAdc)
