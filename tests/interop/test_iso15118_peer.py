"""Interop: our Evcc against the iso15118 package's SECC (not ours), over a veth pair.

The SECC runs in one network namespace with our ramping EVSE controller (peer_secc.py, in
.venv-peer), our EV side in the other (ev_side.py, SDP then a whole session).  Needs root,
the ``ip`` command, .venv-peer (``make .venv-peer``) and a Java runtime; skipped otherwise.
The ISO 15118-20 runs are in test_iso15118_peer20.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import run_against_peer_secc, why_not

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.mark.parametrize(("schema", "protocols"), [("din", "DIN_SPEC_70121"), ("iso2", "ISO_15118_2")])
def test_session_to_current_demand_and_session_stop_against_iso15118_secc(schema: str, protocols: str,
                                                                          tmp_path: Path) -> None:
    reason = why_not()
    if reason:
        pytest.skip(reason)
    run = run_against_peer_secc(tmp_path, protocols, ["3", schema])
    out = run.summary
    assert out is not None, f"EV side printed nothing: {run.ev_stderr[-3000:]}\npeer: {run.peer_log[-3000:]}"
    assert out["result"] == "completed", f"{out}\npeer: {run.peer_log[-4000:]}"
    assert "CurrentDemand" in out["states"] and out["states"][-2:] == ["SessionStop", "End"]
    assert out["stop_reason"] == "ev-stop-request:CurrentDemand" and out["safe_end"]
    assert out["schema"] == schema
