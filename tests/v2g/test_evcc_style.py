"""The Evcc in the machine style of docs/machines.md: its states are :class:`EvccState` (values
the session log shows), its moves follow :data:`SUCCESSORS` and its timers have named purposes."""

from __future__ import annotations

from itertools import pairwise

import pytest

from ccs2chademo.runtime import LinkUp
from ccs2chademo.v2g.evcc import STATES, SUCCESSORS, Evcc, EvccConfig, EvccState, EvccTimer
from ccs2chademo.v2g.messages import Kind

from .test_evcc import OK, Drive, current_demand


def test_state_values_are_the_session_log_names() -> None:
    assert [s.value for s in EvccState][:4] == ["Idle", "Connecting", "SupportedAppProtocol", "SessionSetup"]
    evcc = Evcc("evcc", EvccConfig())
    assert evcc.state == "Idle" and type(evcc.state) is str  # the plain value: logs and comparisons see it


def test_every_successor_lies_ahead() -> None:
    """Rule 13 (states only move forward) holds for the table itself."""
    order = {s.value: i for i, s in enumerate(STATES)}
    assert set(SUCCESSORS) == set(order)
    for state, nexts in SUCCESSORS.items():
        assert all(order[n] > order[state] for n in nexts), state
    assert all(EvccState.SAFE_SHUTDOWN in nexts for s, nexts in SUCCESSORS.items()
               if s not in (EvccState.SAFE_SHUTDOWN, EvccState.END))


def test_a_whole_session_stays_inside_the_table() -> None:
    d = Drive()
    current_demand(d)
    d.evcc.receive(LinkUp("tcp"), d.now)  # nothing to do: already connected
    assert [k for _, k, _ in d.log if k == "transition-refused"] == []
    assert all(b in SUCCESSORS[a] for a, b in pairwise(d.evcc.states))


@pytest.mark.refused_transitions
def test_a_move_outside_the_table_is_refused_and_logged() -> None:
    d = Drive()
    d.to(Kind.SESSION_SETUP)
    d.evcc._go(EvccState.CURRENT_DEMAND)  # SessionSetup → CurrentDemand skips the session
    d._drain()
    assert d.evcc.state == "SessionSetup" and d.evcc.status.state == "SessionSetup"
    assert (d.now, "transition-refused", {"state": "CurrentDemand", "previous": "SessionSetup"}) in d.log


def test_a_sent_request_arms_its_named_response_timeout() -> None:
    d = Drive()
    assert d.evcc.timers.pending() == {EvccTimer.START: 0.0}
    d.to(Kind.SESSION_SETUP)
    assert d.evcc.timers.pending() == {EvccTimer.RESPONSE_TIMEOUT: d.now + 2.0}
    d.answer(OK[Kind.SESSION_SETUP])
    assert list(d.evcc.timers.pending()) == [EvccTimer.RESPONSE_TIMEOUT]
    assert d.evcc.awaiting is Kind.SERVICE_DISCOVERY


def test_a_response_timeout_names_its_request() -> None:
    d = Drive()
    d.to(Kind.SESSION_SETUP)
    sent = d.now
    d.at(sent + 2.0)
    assert d.evcc.status.stop_reason == "timeout:SessionSetup"
    assert (sent + 2.0, "timeout", {"msg": Kind.SESSION_SETUP, "state": "SessionSetup"}) in d.log
    assert list(d.evcc.timers.pending()) == [EvccTimer.SAFE_OPEN]  # the next step of the safe shutdown


def test_one_timer_at_a_time() -> None:
    d = Drive()
    current_demand(d)
    assert len(d.evcc.timers.pending()) == 1
    for _ in range(5):
        d.answer(OK[Kind.CURRENT_DEMAND])
        assert list(d.evcc.timers.pending()) == [EvccTimer.RESPONSE_TIMEOUT]


@pytest.mark.refused_transitions
def test_secc_moves_and_timers_are_named() -> None:
    from ccs2chademo.runtime import DataReceived, LinkDown
    from ccs2chademo.v2g import codec, v2gtp
    from ccs2chademo.v2g.messages import DIN_PROTOCOL, EvMessage
    from ccs2chademo.v2g.secc import SECC_SUCCESSORS, SeccState, SeccTimer

    from .test_secc import make_secc

    secc = make_secc()
    secc.receive(LinkUp("tcp"), 0.0)
    assert secc.state == "Handshake" and secc.timers.pending() == {SeccTimer.IDLE_TIMEOUT: 60.0}
    sap = codec.encode_request(EvMessage(Kind.SUPPORTED_APP_PROTOCOL, protocols=(DIN_PROTOCOL,)), None)
    secc.receive(DataReceived("tcp", v2gtp.encode(sap)), 1.0)
    assert set(secc.timers.pending()) == {SeccTimer.REPLY, SeccTimer.IDLE_TIMEOUT}  # the reply waits its latency
    secc.handle_timer(secc.timers.pending()[SeccTimer.REPLY])
    assert secc.state == "Session" and secc.timers.pending() == {SeccTimer.IDLE_TIMEOUT: 61.0}
    secc.receive(LinkDown("tcp", "closed"), 2.0)
    assert secc.state == "Listening" and secc.timers.pending() == {}
    secc._enter(SeccState.SESSION.value)  # listening → session skips the handshake
    records = [(a.kind, a.fields) for a in secc.actions() if hasattr(a, "kind")]
    assert ("transition-refused", {"state": "Session", "previous": "Listening"}) in records
    assert [k for k, _ in records if k == "state"] == ["state", "state", "state"]
    assert all(s in SECC_SUCCESSORS for s in ("Listening", "Handshake", "Session"))
