"""Interop: our Evcc against the iso15118 package's SECC (not ours), over a veth pair.

The SECC runs in one network namespace with our ramping EVSE controller (peer_secc.py, in
.venv-peer), our EV side in the other (ev_side.py, SDP then a whole DIN session).  Needs root,
the ``ip`` command, .venv-peer (``make .venv-peer``) and a Java runtime; skipped otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ccs2chademo.drivers.linux import netns

from .helpers import HERE, PEER_PYTHON, stop, why_not

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.mark.parametrize(("schema", "protocols"), [("din", "DIN_SPEC_70121"), ("iso2", "ISO_15118_2")])
def test_session_to_current_demand_and_session_stop_against_iso15118_secc(schema: str, protocols: str,
                                                                          tmp_path: Path) -> None:
    reason = why_not()
    if reason:
        pytest.skip(reason)
    peer_log = tmp_path / "peer.log"
    with netns.VethPair(prefix="iso") as pair, peer_log.open("w") as sink:
        env = {**os.environ, "NETWORK_INTERFACE": pair.if_a, "PROTOCOLS": protocols, "AUTH_MODES": "EIM",
               "LOG_LEVEL": "INFO"}
        # the peer logs every message: a file, not a pipe nobody drains while the session runs
        peer = subprocess.Popen(pair.command(pair.ns_a, str(PEER_PYTHON), str(HERE / "peer_secc.py")), env=env,
                                stdout=sink, stderr=subprocess.STDOUT)
        try:
            ev = subprocess.run(pair.command(pair.ns_b, sys.executable, str(HERE / "ev_side.py"), pair.if_b, "3",
                                                schema),
                                capture_output=True, text=True, timeout=240, check=False)
        finally:
            stop(peer)
    log = peer_log.read_text(errors="replace")
    lines = ev.stdout.strip().splitlines()
    assert lines, f"EV side printed nothing: {ev.stderr[-3000:]}\npeer: {log[-3000:]}"
    out = json.loads(lines[-1])
    assert out["result"] == "completed", f"{out}\npeer: {log[-4000:]}"
    assert "CurrentDemand" in out["states"] and out["states"][-2:] == ["SessionStop", "End"]
    assert out["stop_reason"] == "ev-stop-request:CurrentDemand" and out["safe_end"]
    assert out["schema"] == schema
