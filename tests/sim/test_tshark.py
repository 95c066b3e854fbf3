"""Wireshark reads our simulated captures without complaint (issue 14, item 4).

tshark dissects the pcapng of a whole simulated session (``simulate --out``: HomePlug, SDP, TCP
with V2GTP) and of an EV session (``ccs-sim --out``); any frame with an expert info of warning
level or above (a malformed frame is an error) fails the test.  The same check run over a real
capture that has such frames proves the check can fail.  The captures must also start at a real
date (the session's wall-clock start, or SOURCE_DATE_EPOCH), not in 1970.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import dpkt
import pytest
from click.testing import CliRunner

from ccs2chademo.cli import cli

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "captures"
#: Wireshark's expert severities (epan/proto.h): chat 0x200000, note 0x400000, warn 0x600000, error 0x800000.
PI_WARN = 0x600000

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark (make debian-tshark)")


def complaints(path: Path) -> list[str]:
    """``frame: severity message`` for every expert info of warning level or above."""
    done = subprocess.run(["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "separator=/t",
                           "-e", "frame.number", "-e", "_ws.expert.severity", "-e", "_ws.expert.message"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    found = []
    for line in done.stdout.splitlines():
        number, severities, messages = [*line.split("\t"), "", ""][:3]
        for severity, message in zip(severities.split(","), messages.split(","), strict=False):
            if severity and int(severity) >= PI_WARN:
                found.append(f"frame {number}: {int(severity):#x} {message}")
    return found


def first_time(path: Path) -> float:
    with path.open("rb") as f:
        return next(iter(dpkt.pcapng.Reader(f)))[0]


def test_the_check_fails_on_a_real_capture_with_stray_bytes() -> None:
    real = DATA / "2022-10-26_WP4_networkEstablishedButHiddenCommunication.pcapng"
    assert real.exists(), f"missing shared data: {real}"
    assert any("Trailing stray characters" in c for c in complaints(real))  # a real modem's stale version bytes


def test_simulated_session_capture_is_clean_and_dated(tmp_path: Path) -> None:
    started = time.time()
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["simulate", "--soc-start", "78", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pcap = out / "ccs.pcapng"
    assert complaints(pcap) == []
    done = subprocess.run(["tshark", "-n", "-r", str(pcap), "-c", "20"], capture_output=True, text=True, timeout=120,
                          check=True)
    answers = [line for line in done.stdout.splitlines() if "GET_SW.CNF" in line]
    assert answers and all(" 297 " in line for line in answers), done.stdout  # a real modem's frame size
    assert started - 2 <= first_time(pcap) <= time.time() + 60  # time 0 = the session's wall-clock start


def test_ev_session_capture_is_clean_and_source_date_epoch_fixes_its_start(tmp_path: Path) -> None:
    result = CliRunner(env={"SOURCE_DATE_EPOCH": "1700000000"}).invoke(
        cli, ["ccs-sim", "--charger", "customer-interaction", "--protocol", "iso2", "--minutes", "0.05",
              "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    pcap = tmp_path / "session.pcapng"
    assert complaints(pcap) == []
    assert 1_700_000_000 <= first_time(pcap) < 1_700_000_100
    bad = CliRunner(env={"SOURCE_DATE_EPOCH": "soon"}).invoke(cli, ["ccs-sim", "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0 and "SOURCE_DATE_EPOCH" in bad.output
