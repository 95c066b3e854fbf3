"""Hostile chargers over real kernel TCP (issue 15): ``charger-sim --personality hostile-…`` on
one end of a veth pair, ``ccs2chademo run`` on the other.  The V2GTP length field of 4 GB and
the reply dripped one byte per second end the session safe, both processes exit 0, the adapter's
outputs end in the shutdown order.  (Every hostile personality in virtual time:
tests/sim/test_hostile.py.)"""

from __future__ import annotations

import pytest

from ccs2chademo.sim.veth_session import VethSession

from .helpers import artifacts, assert_safe_shutdown, needs_netns

pytestmark = [needs_netns, pytest.mark.slow]


@pytest.mark.parametrize(("personality", "reason", "record"), [
    ("hostile-v2gtp-4gb", "ccs: tcp-error:CurrentDemand", "exceeds bound"),
    ("hostile-drip", "ccs: timeout:CurrentDemand", "timeout"),
])
def test_hostile_charger_over_veth(request: pytest.FixtureRequest, personality: str, reason: str,
                                   record: str) -> None:
    with VethSession(artifacts(request), personality=personality, stop_after_s=None) as session:
        adapter = session.wait("adapter", 90.0)
        charger = session.wait("charger", 30.0)
        changes = session.gpio_changes()
        records = session.records()
    assert adapter.returncode == 0 and charger.returncode == 0, adapter.stderr[-2000:]
    summary, chg = adapter.summary(), charger.summary()
    assert summary is not None and chg is not None
    assert summary["stop_reason"] == reason, session.story()
    assert not summary["invariant_violations"] and summary["ccs_states"][-1] == "End"
    assert chg["personality"] == personality and chg["result"] == "aborted"
    assert any(record in str(r.get("reason", "")) or r.get("kind") == record for r in records)
    assert_safe_shutdown(changes)
