"""The HomePlug machines in the machine style of docs/machines.md: state enums whose values the
session log shows, successor tables that hold every real move, timers with named purposes."""

from __future__ import annotations

import random
from enum import StrEnum

import pytest

from ccs2chademo.homeplug import frames as F
from ccs2chademo.homeplug.connection import ConnectionState, ConnectionTimer, PevConnection
from ccs2chademo.homeplug.finder import FinderState, FinderTimer, ModemFinder
from ccs2chademo.homeplug.slac import EvseState, EvseTimer, PevState, PevTimer, SlacEvse, SlacPev
from ccs2chademo.runtime import Action, FrameReceived, Log, MachineBase, SendFrame
from ccs2chademo.v2g.loopback import OneShotRequester

PEV_MAC = bytes.fromhex("020000000001")
EVSE_MAC = bytes.fromhex("020000000099")
NID, NMK = bytes(6) + b"\x01", bytes(16)


def refused(actions: list[Action]) -> list[Log]:
    return [a for a in actions if isinstance(a, Log) and a.kind == "transition-refused"]


def test_slac_pair_runs_inside_both_tables_with_named_timers() -> None:
    """PEV and EVSE exchange frames (the PEV's SET_KEY answered as its local modem would)."""
    pev = SlacPev(PEV_MAC, random.Random(3))
    evse = SlacEvse(EVSE_MAC, NID, NMK, configure_modem=False)
    pev.start(0.0)
    assert pev.timers.pending() == {PevTimer.PARAM_CNF: 1.0, PevTimer.GUARD: 15.0}
    seen: list[Action] = []
    timers: set[str] = set()
    now = 0.0
    while pev.state != PevState.DONE:
        moved = True
        while moved:  # every frame is delivered before the time moves on
            moved = False
            for source, target in ((pev, evse), (evse, pev)):
                for action in source.actions():
                    moved = True
                    seen.append(action)
                    if isinstance(action, SendFrame):
                        if isinstance(F.decode(action.frame), F.SetKeyReq):  # the local modem accepts
                            cnf = F.SetKeyCnf(dest=PEV_MAC, source=bytes.fromhex("00b052000001"), result=1)
                            pev.receive(FrameReceived("plc", cnf.encode()), now)
                        else:
                            target.receive(FrameReceived("plc", action.frame), now)
        timers |= set(pev.timers.pending()) | set(evse.timers.pending())
        deadlines = [t for t in (pev.get_timer(), evse.get_timer()) if t is not None]
        if pev.state == PevState.DONE or not deadlines:
            break
        now = min(deadlines)
        assert now < 5.0, pev.state
        for m in (pev, evse):
            m.handle_timer(now)
    seen += pev.actions() + evse.actions()
    assert pev.state == PevState.DONE and pev.timers.pending() == {}  # done: no step, no guard
    assert refused(seen) == []
    assert {PevTimer.NEXT_START_ATTEN, PevTimer.NEXT_SOUND, PevTimer.MATCH, EvseTimer.SEND} <= timers


@pytest.mark.parametrize(("machine", "state"), [
    (SlacPev(PEV_MAC, random.Random(0)), PevState.DONE),  # idle → done skips the whole exchange
    (SlacEvse(EVSE_MAC, NID, NMK), EvseState.SERVING),  # configuring → serving skips the modem restart
    (ModemFinder(PEV_MAC), FinderState.DONE),  # idle → done without a search
    (PevConnection(PEV_MAC, random.Random(0)), ConnectionState.CONNECTED),
])
@pytest.mark.refused_transitions
def test_a_move_outside_the_table_is_refused_and_logged(machine: MachineBase, state: StrEnum) -> None:
    before = machine.state
    machine.actions()
    assert not machine._enter(state.value)
    assert machine.state == before
    assert refused(machine.actions()) == [Log("transition-refused", {"state": state, "previous": before})]


def test_evse_modem_configuration_timers() -> None:
    evse = SlacEvse(EVSE_MAC, NID, NMK)
    assert evse.timers.pending() == {EvseTimer.SET_KEY_RETRY: 0.0}
    evse.handle_timer(0.0)
    assert evse.timers.pending() == {EvseTimer.SET_KEY_RETRY: 1.0}  # retried until the modem confirms
    evse.receive(FrameReceived("plc", F.SetKeyCnf(dest=EVSE_MAC, source=bytes(6), result=1).encode()), 0.2)
    assert evse.state == EvseState.MODEM_RESTART and evse.timers.pending() == {EvseTimer.MODEM_RESTART: 8.2}
    evse.handle_timer(8.2)
    assert evse.state == EvseState.SERVING and evse.timers.pending() == {}
    assert refused(evse.actions()) == []


def test_finder_and_connection_timers_are_named() -> None:
    finder = ModemFinder(PEV_MAC)
    finder.start(0.0)
    assert finder.timers.pending() == {FinderTimer.WINDOW: 0.5}
    finder.handle_timer(0.5)  # nobody answered
    assert finder.state == FinderState.PAUSING and finder.timers.pending() == {FinderTimer.PAUSE: 1.0}
    conn = PevConnection(PEV_MAC, random.Random(0), session=OneShotRequester(), start_at=0.25)
    assert conn.timers.pending() == {ConnectionTimer.POWER_ON: 0.25}
    conn.handle_timer(0.25)
    assert conn.state == ConnectionState.MODEM and conn.timers.pending() == {}
    assert conn.get_timer() == 0.75  # the finder's answer window
