"""Keeping an SDO save in the configuration file (clara mode, docs/clara-mode.md): the [clara]
table replaced atomically with a backup, the rest of the file as it was, the map read back the
same, nothing written half-way."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ccs2chademo.adapter.clara_map import DEFAULT_MAP, MapEntry, validate_map
from ccs2chademo.adapter.clara_side import ClaraSave
from ccs2chademo.adapter.config import ConfigError, build_config, load_config
from ccs2chademo.adapter.config_file import persist_clara
from ccs2chademo.adapter.runner import AdapterRun, RunOptions
from ccs2chademo.adapter.sdo import SdoServer, request
from ccs2chademo.drivers.sim.gpio import SimGpio
from ccs2chademo.sim.zombie_vcu import zombieverter_configuration

FILE = """\
# my adapter
mode = "clara"
max-amps = 125

[clara]
# the inlet has a switch
lock-feedback = true
demo-voltage = 230

[hardware.plc]
interface = "eth1"
"""
#: a map a VCU might write: ZombieVerter's without CableCurrentLimit, plus EVTargetCurrent in 0x10a
#: with a gain and an offset that must survive the round trip
WRITTEN_MAP = validate_map((*(e for e in DEFAULT_MAP.entries if e.param != "CableCurrentLimit"),
                            MapEntry("EVTargetCurrent", 0x10A, 0, 16, gain=-2.5, offset=-7)))


def config_file(tmp_path: Path, text: str = FILE) -> Path:
    path = tmp_path / "adapter.toml"
    path.write_text(text, encoding="utf-8")
    return path


def saved_over_sdo() -> Any:
    """What an SDO save of WRITTEN_MAP with node id 5 hands to the runtime."""
    clara = load_config_clara()
    return clara.with_sdo({**clara.sdo_settings(), "NodeId": 5.0}, WRITTEN_MAP)


def load_config_clara() -> Any:
    return build_config({"mode": "clara", "clara": {"lock-feedback": True, "demo-voltage": 230}}).clara


def test_a_save_is_written_and_reloads_to_the_same_map_and_settings(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    clara = saved_over_sdo()
    backup = persist_clara(path, clara)
    assert backup == tmp_path / "adapter.toml.bak" and backup.read_text(encoding="utf-8") == FILE
    reloaded = load_config(path)
    assert reloaded.clara == clara and reloaded.clara.can_map() == WRITTEN_MAP
    assert reloaded.max_amps == 125 and reloaded.hardware.plc.interface == "eth1"  # the rest as it was
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my adapter\nmode = \"clara\"\nmax-amps = 125\n")
    assert "[hardware.plc]\ninterface = \"eth1\"" in text and text.count("[clara]") == 1
    assert "id = 0x10a\nstart = 0\nlength = 16\ngain = -2.5\noffset = -7\n" in text
    # a server started from the file reads the map back as the one that was saved, byte for byte
    before, after = SdoServer(5, WRITTEN_MAP), SdoServer(5, reloaded.clara.can_map())
    for index in (0x3100, 0x3101, 0x3102, 0x3180):
        for sub in range(16):
            assert after.handle(request(0x40, index, sub), {}) == before.handle(request(0x40, index, sub), {})
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_zombieverters_save_at_every_start_leaves_an_unchanged_file_alone(tmp_path: Path) -> None:
    """ZombieVerter (ConfigFoccci=1) clears, writes and saves its map at every start: when that
    is the map and the settings the file already gives, nothing is rewritten."""
    path = config_file(tmp_path)
    sdo = SdoServer(22, DEFAULT_MAP)
    frames = zombieverter_configuration()
    clara = load_config_clara()
    outcomes = [sdo.handle(f, clara.sdo_settings()) for f in [frames[0]] * 11 + [frames[1]] * 8 + frames[2:]]
    persist = outcomes[-1].persist
    assert persist is not None
    assert persist_clara(path, clara.with_sdo(persist.settings, persist.can_map)) is None
    assert path.read_text(encoding="utf-8") == FILE and not (tmp_path / "adapter.toml.bak").exists()


def test_a_file_the_table_cannot_be_cut_from_is_not_touched(tmp_path: Path) -> None:
    """[clara] written as an inline table: replacing it line by line would not give the settings
    meant — refused before anything is written."""
    path = config_file(tmp_path, 'mode = "clara"\nclara = { demo-voltage = 230 }\n')
    before = path.read_bytes()
    with pytest.raises(ConfigError):
        persist_clara(path, saved_over_sdo())
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["adapter.toml"]


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rename of the new file fails (a full disk, a power cut before it): the old file is
    intact, the temporary file gone."""
    path = config_file(tmp_path)
    real_replace = os.replace

    def failing(src: Any, dst: Any) -> None:
        if Path(dst) == path:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError):
        persist_clara(path, saved_over_sdo())
    assert path.read_text(encoding="utf-8") == FILE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter.toml", "adapter.toml.bak"]


class _Log:
    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    def record(self, t: float, source: str, kind: str, fields: dict[str, Any]) -> None:
        self.records.append((kind, fields))


@pytest.mark.parametrize("with_file", [True, False])
def test_run_keeps_the_save_the_bridge_hands_over(tmp_path: Path, with_file: bool) -> None:
    """``ccs2chademo run``: the clara side's save output is written to the --config file (and
    logged); without a file it is logged as not kept."""
    path = config_file(tmp_path)
    config = build_config({"mode": "clara", "hardware": {"gpio": {"backend": "sim"}, "plc": {"interface": "veth9"},
                                                          "can": {"interface": "virtual"}}})
    run = AdapterRun(config, RunOptions(config_path=path if with_file else None))  # nothing opened yet
    log = _Log()
    run.gpio = SimGpio(config.hardware.gpio)
    run.rt = type("R", (), {"log": log})()  # type: ignore[assignment]
    run._output("clara_save", ClaraSave(saved_over_sdo()), 3.0)
    ((kind, fields),) = log.records
    assert kind == "clara-saved" and fields["entries"] == len(WRITTEN_MAP.entries)
    if with_file:
        assert fields["written"] and fields["backup"].endswith("adapter.toml.bak")
        assert load_config(path).clara.node_id == 5
    else:
        assert not fields["written"] and fields["error"] == "no configuration file"
        assert path.read_text(encoding="utf-8") == FILE
