"""The shipped systemd unit: the directives the watchdog and the safe shutdown rely on."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "ccs2chademo.service"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def test_unit_directives() -> None:
    unit = _unit()
    service = unit["Service"]
    assert service["Type"] == "notify"
    assert service["WatchdogSec"] == "5"  # adapter.md §8: 5 s watchdog
    assert service["Restart"] == "always"
    assert service["KillSignal"] == "SIGTERM"
    assert service["ExecStart"].endswith("ccs2chademo run --config /etc/ccs2chademo/adapter.toml")
    assert set(service["AmbientCapabilities"].split()) == {"CAP_NET_RAW", "CAP_NET_ADMIN"}
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit() -> None:
    out = subprocess.run(["systemd-analyze", "verify", str(UNIT)], capture_output=True, text=True, timeout=30)
    problems = [line for line in (out.stdout + out.stderr).splitlines()
                if line.strip() and "is not executable" not in line]  # the venv exists only on the board
    assert problems == []
