"""ISO 15118-20 DC over real kernel TCP: ``charger-sim --personality iso20-dc`` and ``ccs2chademo
run`` with ``[ccs] iso20-priority = 1`` in two network namespaces joined by a veth pair — over TLS
1.3 (what real -20 chargers require), and over plain TCP with ``iso20-without-tls``."""

from __future__ import annotations

import pytest

from ccs2chademo.sim.veth_session import VethSession

from .helpers import artifacts, assert_safe_shutdown, needs_netns

pytestmark = needs_netns


@pytest.mark.parametrize(("tls", "ccs"), [("ok", "iso20-priority = 1"),
                                          (None, "iso20-priority = 1\niso20-without-tls = true")],
                         ids=["tls13", "plain"])
def test_a_whole_iso20_session_on_veth(request: pytest.FixtureRequest, tls: str | None, ccs: str) -> None:
    with VethSession(artifacts(request), personality="iso20-dc", soc=60.0, stop_after_s=3.0, tls=tls,
                     ccs_config=ccs) as session:
        adapter = session.wait("adapter", 90.0)
        charger = session.wait("charger", 30.0)
        changes = session.gpio_changes()
        negotiated = [r for r in session.records() if r.get("kind") == "negotiated"]
        selected = [r for r in session.records() if r.get("kind") == "service-selected"]
    assert adapter.returncode == 0, adapter.stderr[-3000:]
    assert charger.returncode == 0, charger.stderr[-3000:]
    summary = adapter.summary()
    assert summary is not None
    assert summary["result"] == "completed" and summary["stop_reason"] == "button", session.story()
    assert "DC_ChargeLoop" in summary["ccs_states"] and summary["energy_kwh"] > 0.002
    assert [r["schema_id"] for r in negotiated] == [3]
    assert [r["control_mode"] for r in selected] == ["scheduled"]
    assert any(c["role"] == "contactor" and c["value"] for c in changes)
    assert_safe_shutdown(changes)
