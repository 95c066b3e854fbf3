"""TLS over real kernel TCP: ``charger-sim --tls`` and ``ccs2chademo run`` with ``[ccs] tls =
"require"`` in two network namespaces joined by a veth pair (the PKI made for the test run,
sim/pki.py).  A whole ISO 15118-2 session over TLS 1.3, then a charger whose chain leads to a root
the adapter does not hold: no power, the stop reason named, everything off."""

from __future__ import annotations

import pytest

from ccs2chademo.sim.veth_session import VethSession

from .helpers import artifacts, assert_safe_shutdown, needs_netns

pytestmark = needs_netns


def _tls_records(session: VethSession, kind: str) -> list[dict[str, object]]:
    return [r for r in session.records() if r.get("kind") == kind and r.get("part") == "tls"]


def test_a_whole_session_over_tls_on_veth(request: pytest.FixtureRequest) -> None:
    with VethSession(artifacts(request), personality="tesla-sc", soc=60.0, stop_after_s=3.0, tls="ok") as session:
        adapter = session.wait("adapter", 90.0)
        charger = session.wait("charger", 30.0)
        changes = session.gpio_changes()
        established = _tls_records(session, "tls-established")
        keylog = session.keylog.read_text() if session.keylog.exists() else ""
    assert adapter.returncode == 0, adapter.stderr[-3000:]
    assert charger.returncode == 0, charger.stderr[-3000:]
    summary, chg = adapter.summary(), charger.summary()
    assert summary is not None and chg is not None
    assert summary["result"] == "completed" and summary["stop_reason"] == "button", session.story()
    assert "CurrentDemand" in summary["ccs_states"] and summary["energy_kwh"] > 0.002
    assert chg["result"] == "completed" and chg["tls"] == "ok"
    [ours] = established
    assert (ours["version"], ours["cipher"], ours["verified"]) == ("TLSv1.3", "TLS_AES_256_GCM_SHA384", True)
    assert "CLIENT_TRAFFIC_SECRET_0" in keylog  # Wireshark can decrypt veth.pcapng with it
    assert any(c["role"] == "contactor" and c["value"] for c in changes)
    assert_safe_shutdown(changes)


@pytest.mark.slow
def test_an_untrusted_charger_over_veth_gets_no_power(request: pytest.FixtureRequest) -> None:
    with VethSession(artifacts(request), personality="tesla-sc", soc=60.0, stop_after_s=None, tls="wrong-root",
                     charger_timeout_s=120.0) as session:
        adapter = session.wait("adapter", 120.0)
        changes = session.gpio_changes()
        failed = _tls_records(session, "tls-failed")
    assert adapter.returncode == 0, adapter.stderr[-3000:]
    summary = adapter.summary()
    assert summary is not None
    assert summary["stop_reason"] == "ccs: tls-bad-certificate:Idle", session.story()
    assert summary["energy_kwh"] == 0.0 and not summary["invariant_violations"]
    assert failed and {r["detail"] for r in failed} == {"unable to get local issuer certificate"}
    assert not any(c["role"] == "contactor" and c["value"] for c in changes)
    assert_safe_shutdown(changes)
