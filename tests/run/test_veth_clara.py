"""Clara mode's two-process proof (issue 13): ``charger-sim`` and ``run`` with ``mode = "clara"``
in two network namespaces over a veth pair (unique names per session: parallel runs never
collide; skipped with the reason when not root).  The car is a DIY conversion: a ZombieVerter-like
VCU on the adapter's python-can ``virtual`` channel (its SDO map configuration, then 0x358),
the inlet lock with its feedback switch on the sim GPIO, the inlet contactors on two lines.
A short charge: the stop button 2 s into CurrentDemand."""

from __future__ import annotations

import json

import pytest

from ccs2chademo.sim.veth_session import VethSession

from .helpers import artifacts, needs_netns

pytestmark = needs_netns


def test_clara_session_over_veth(request: pytest.FixtureRequest) -> None:
    with VethSession(artifacts(request), personality="tesla-sc", soc=60.0, stop_after_s=2.0, mode="clara") as session:
        adapter = session.wait("adapter", 90.0)
        charger = session.wait("charger", 30.0)
        changes = session.gpio_changes()
        records = session.records()
    assert adapter.returncode == 0, adapter.stderr[-3000:]
    assert charger.returncode == 0, charger.stderr[-3000:]
    summary = adapter.summary()
    assert summary is not None, adapter.stdout
    assert summary["mode"] == "clara" and summary["result"] == "completed" and summary["stop_reason"] == "button"
    assert "CurrentDemand" in summary["ccs_states"] and summary["ccs_states"][-1] == "End"
    assert "charging" in summary["downstream_states"] and summary["downstream_states"][-1] == "ended"
    assert summary["energy_kwh"] > 0.002

    # the VCU configured its map over SDO on the CAN bus, and the controller answered every step
    saved = [r for r in records if r["kind"] == "clara-map" and r.get("saved")]
    assert saved and saved[0]["entries"] == 17
    # the runtime keeps the save: ZombieVerter's map is what the file already gives, so it is not rewritten
    kept = [r for r in records if r["kind"] == "clara-saved"]
    assert [(r["entries"], r["written"], "error" in r) for r in kept] == [(17, False, False)]

    # GPIO: locked (and its feedback seen) before both inlet contactor lines closed; unlocked
    # only after they opened; everything but the lock safe at the end
    on = {role: [c["t"] for c in changes if c["role"] == role and c["value"]] for role in
          ("lock", "contactor", "inlet_contactor")}
    off = {role: [c["t"] for c in changes if c["role"] == role and not c["value"]] for role in
           ("lock", "contactor", "inlet_contactor")}
    assert on["lock"] and on["contactor"] and on["inlet_contactor"]
    assert on["lock"][0] < on["contactor"][0] and off["lock"][-1] > off["contactor"][-1]
    feedback = [r["t"] for r in records if r["kind"] == "clara-lock-feedback" and r["locked"]]
    closed = [r["t"] for r in records if r["kind"] == "contactor" and r.get("closed")]
    assert feedback and closed and feedback[0] < closed[0], json.dumps(session.story())
    end = {c["role"]: c["value"] for c in changes}
    assert end["contactor"] is False and end["inlet_contactor"] is False and end["lock"] is False
    assert changes[-1]["role"] == "power_hold" and changes[-1]["value"] is False
