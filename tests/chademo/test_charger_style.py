"""The CHAdeMO charger in the machine style of docs/machines.md: its moves follow
:data:`CHARGER_SUCCESSORS` and its one timer is the named 100 ms cycle."""

from __future__ import annotations

from itertools import pairwise

import pytest

from ccs2chademo.chademo.charger import CYCLE, ChademoCharger
from ccs2chademo.chademo.interfaces import CHARGER_SUCCESSORS, ChargerState, ChargerTimer, SessionKind
from ccs2chademo.runtime import InputChanged, Log
from ccs2chademo.sim.profiles import PROFILE_NAMES
from tests.chademo.helpers import world

from .test_closed_loop import charge_then_stop


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_a_whole_session_stays_inside_the_table(name: str) -> None:
    w, log = world(name)
    charge_then_stop(w)
    assert log.kinds("chademo", "transition-refused") == []
    states = [ChargerState.IDLE, *(ChargerState(s) for _, s in log.states("chademo"))]
    assert states[-1] is ChargerState.ENDED
    assert all(b in CHARGER_SUCCESSORS[a] for a, b in pairwise(states))


def test_discovery_then_the_real_session_stays_inside_the_table() -> None:
    w, log = world("leaf-ze0-24")
    w.start(SessionKind.DISCOVERY)
    w.run(until=20.0)
    assert w.charger.state is ChargerState.DISCOVERED and w.charger.get_timer() is None
    w.start(SessionKind.CHARGE)
    w.sim.run(until=60.0, stop=lambda: w.charger.state is ChargerState.CHARGING)
    assert w.charger.state is ChargerState.CHARGING
    assert log.kinds("chademo", "transition-refused") == []


@pytest.mark.refused_transitions
def test_a_move_outside_the_table_is_refused_and_logged() -> None:
    charger = ChademoCharger()
    charger._go(ChargerState.CHARGING, 0.0)  # idle → charging skips the whole start
    assert charger.state is ChargerState.IDLE
    assert charger.actions() == [Log("transition-refused", {"state": ChargerState.CHARGING,
                                                            "previous": ChargerState.IDLE})]


def test_the_cycle_is_a_named_timer_running_from_start_to_end() -> None:
    charger = ChademoCharger()
    assert charger.timers.pending() == {}
    charger.receive(InputChanged("start", True), 1.0)
    assert charger.timers.pending() == {ChargerTimer.CYCLE: 1.0 + CYCLE}
    charger.handle_timer(1.0 + CYCLE)
    assert charger.timers.pending() == {ChargerTimer.CYCLE: pytest.approx(1.0 + 2 * CYCLE)}
