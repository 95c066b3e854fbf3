"""Interop: the iso15118 package's EV (its EVCC, not ours) against our ``ccs2chademo charger-sim``.

Our charger side runs in one network namespace (``charger-sim --iface``: SLAC EVSE, SDP server,
SECC), their EV in the other (``python -m iso15118.evcc.main`` in .venv-peer with its simulated
EV controller, DC, EIM, no TLS).  Their EVCC has no SLAC at all: it starts with SDP on
``NETWORK_INTERFACE`` as if the PLC link were up (SLAC is a separate package), which on a veth
pair is exactly "SLAC bypassed"; our SDP server answers whether or not SLAC ran.  The EV
configuration is its JSON file (``EVCC_CONFIG_PATH``).  Needs root, the ``ip`` command,
.venv-peer (``make .venv-peer``) and a Java runtime; skipped otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ccs2chademo.drivers.linux import netns

from .helpers import PEER_PYTHON, stop, why_not

pytestmark = [pytest.mark.root, pytest.mark.slow]

#: (our schema name, their protocol name): one run each.
PROTOCOLS = [("din", "DIN_SPEC_70121"), ("iso2", "ISO_15118_2")]


def _ev_config(path: Path, protocol: str) -> Path:
    """Their EV's configuration file (field names of iso15118.evcc.evcc_config.EVCCConfig)."""
    path.write_text(json.dumps({"supportedProtocols": [protocol], "supportedEnergyServices": ["DC"],
                                "energyTransferMode": "DC_extended", "isCertInstallNeeded": False,
                                "useTls": False, "sdpRetryCycles": 3, "chargeLoopCycle": 10}))
    return path


@pytest.mark.parametrize(("schema", "protocol"), PROTOCOLS, ids=[p[0] for p in PROTOCOLS])
def test_iso15118_ev_completes_a_session_with_our_charger_sim(schema: str, protocol: str, tmp_path: Path) -> None:
    reason = why_not()
    if reason:
        pytest.skip(reason)
    config = _ev_config(tmp_path / "evcc.json", protocol)
    peer_log = tmp_path / "ev.log"
    with netns.VethPair(prefix="isoev") as pair, peer_log.open("w") as sink:
        charger = subprocess.Popen(
            pair.command(pair.ns_a, sys.executable, "-m", "ccs2chademo", "charger-sim", "--iface", pair.if_a,
                         "--personality", "abb", "--timeout", "150", "--json"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        env = {**os.environ, "NETWORK_INTERFACE": pair.if_b, "EVCC_CONFIG_PATH": str(config), "LOG_LEVEL": "INFO"}
        # the EV logs every message: a file, not a pipe nobody drains; cwd: it reads .env from there
        ev = subprocess.Popen(pair.command(pair.ns_b, str(PEER_PYTHON), "-m", "iso15118.evcc.main"), env=env,
                              cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT)
        try:
            out, err = charger.communicate(timeout=200)
        finally:
            stop(ev)
            stop(charger)
    log = peer_log.read_text(errors="replace")
    lines = out.strip().splitlines()
    assert lines, f"charger-sim printed nothing: {err[-3000:]}\nEV: {log[-3000:]}"
    summary = json.loads(lines[-1])
    assert summary["result"] == "completed", f"{summary}\nEV: {log[-4000:]}"
    assert summary["sdp_answered"] >= 1 and summary["slac_matched"] == []  # their EV never ran SLAC
    assert summary["secc_states"] == ["Listening", "Handshake", "Session", "Listening"], summary
    assert summary["v2g_requests"] >= 15 and summary["delivered_ah"] > 0, summary  # it charged
    # their EV logs every decoded message: it saw CurrentDemand and SessionStop answered, nothing refused
    assert "CurrentDemandRes" in log and "SessionStopRes" in log, log[-3000:]
    assert 'ResponseCode":"OK"' in log and 'ResponseCode":"FAILED' not in log, log[-3000:]
