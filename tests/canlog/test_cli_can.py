"""``ccs2chademo can decode`` and ``can convert`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccs2chademo.canlog import CanLog
from ccs2chademo.cli import cli

from ..conftest import shared_data

ZE0 = ("chademo", "leaf-ze0-v2x-evse-start-stop.csv")


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["can", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_decode_json_one_object_per_frame() -> None:
    lines = _run("decode", "--json", str(shared_data(*ZE0))).splitlines()
    assert len(lines) == 4072
    objects = [json.loads(line) for line in lines]
    assert all(set(o) == {"t", "id", "name", "signals"} for o in objects)
    first = objects[0]
    assert first["t"] == 0.0 and first["id"] == "0x100" and first["name"] == "VehicleLimits"
    assert first["signals"]["max_battery_voltage"] == 435 and first["signals"]["charged_rate_reference"] == 240
    status = next(o for o in objects if o["id"] == "0x102")
    assert status["t"] == pytest.approx(0.019827) and status["signals"]["target_voltage"] == 410
    assert objects[-1]["t"] == pytest.approx(51.062248)


def test_decode_json_lists_unknown_ids_and_wrong_dlc(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Time Stamp,ID,Extended,Dir,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8\n"
                    "1000000,00000404,false,Rx,0,8,06,6B,FF,FE,00,00,00,00,\n"
                    "1100000,00000102,false,Rx,0,7,01,B1,00,00,00,08,28,00,\n"
                    "1200000,18CC0102,true,Rx,0,8,01,B1,00,00,00,08,28,00,\n")
    unknown, short, extended = (json.loads(line) for line in _run("decode", "--json", str(path)).splitlines())
    assert unknown == {"t": 0.0, "id": "0x404", "name": None, "signals": {}}
    assert short["name"] == "VehicleStatus" and short["signals"] == {} and "DLC 7" in short["error"]
    assert short["t"] == pytest.approx(0.1)
    assert extended == {"t": pytest.approx(0.2), "id": "0x18cc0102", "name": None, "signals": {}}


def test_decode_human_output() -> None:
    out = _run("decode", str(shared_data("chademo", "diy-car-177v-session.txt"))).splitlines()
    assert len(out) == 3872
    assert out[0].split() == ["0.000000", "0x404", "?", "06", "6b", "ff", "fe", "00", "00", "00", "00"]
    status = next(line for line in out if " 0x102 " in line)
    assert "VehicleStatus" in status and "target_voltage=177" in status


def test_decode_bad_input_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_text("nothing")
    result = CliRunner().invoke(cli, ["can", "decode", str(path)])
    assert result.exit_code != 0 and "unknown log format" in result.output
    bad = tmp_path / "x.txt"
    bad.write_text("Rcvd msgID: 0x102; 01  00:00:01.000\nRcvd msgID: oops\n")
    result = CliRunner().invoke(cli, ["can", "decode", "--strict", str(bad)])
    assert result.exit_code != 0 and f"{bad}:2:" in result.output
    assert len(_run("decode", str(bad)).splitlines()) == 1  # not strict: skipped


def _frames(path: Path) -> list[tuple[float, int, bool, int, bytes]]:
    messages = list(CanLog(path))
    t0 = messages[0].timestamp
    return [(round(m.timestamp - t0, 6), m.arbitration_id, m.is_extended_id, m.dlc, bytes(m.data)) for m in messages]


@pytest.mark.parametrize("suffix", [".log", ".asc", ".blf", ".csv"])
@pytest.mark.parametrize("source", ["leaf-ze1-62kwh-charging.csv", "diy-car-177v-session.txt",
                                    "diy-car-v2x-charger-fail.csv"])
def test_convert_reads_back_equal_frames(tmp_path: Path, source: str, suffix: str) -> None:
    """Times are compared relative to the first frame: ASC and BLF store offsets from a start
    time, and a negative logger clock (Leaf ZE1 62 kWh) is shifted to start at 0."""
    original = shared_data("chademo", source)
    target = tmp_path / f"out{suffix}"
    _run("convert", str(original), str(target))
    assert _frames(target) == _frames(original)


def test_convert_to_unknown_format_fails(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["can", "convert", str(shared_data(*ZE0)), str(tmp_path / "x.pcap")])
    assert result.exit_code != 0 and "cannot write" in result.output
