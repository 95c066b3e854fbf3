"""The shared machine pieces of docs/machines.md: a successor table refuses moves it does not
list (logged, state kept); named timers fire earliest first, ties in the order they were armed."""

from __future__ import annotations

from enum import StrEnum

import pytest

from ccs2chademo.deadline import Timers
from ccs2chademo.runtime import Log
from ccs2chademo.runtime.machine import MachineBase, successor_table


class Door(StrEnum):
    SHUT = "shut"
    OPEN = "open"
    LOCKED = "locked"


TABLE = successor_table({Door.SHUT: {Door.OPEN, Door.LOCKED}, Door.OPEN: {Door.SHUT}, Door.LOCKED: {Door.SHUT}})


class DoorMachine(MachineBase):
    def __init__(self) -> None:
        super().__init__("door", Door.SHUT, TABLE)


def test_allowed_move_is_logged_as_state() -> None:
    door = DoorMachine()
    assert door._enter(Door.OPEN, reason="push")
    assert door.state is Door.OPEN
    assert door.actions() == [Log("state", {"state": Door.OPEN, "previous": Door.SHUT, "reason": "push"})]


@pytest.mark.refused_transitions
def test_move_outside_the_table_is_refused_and_logged() -> None:
    door = DoorMachine()
    door._enter(Door.OPEN)
    door.actions()
    assert not door._enter(Door.LOCKED)  # open → locked is not in the table
    assert door.state is Door.OPEN
    assert door.actions() == [Log("transition-refused", {"state": Door.LOCKED, "previous": Door.OPEN})]


def test_staying_is_always_allowed_and_silent() -> None:
    door = DoorMachine()
    assert door._enter(Door.SHUT)
    assert door.actions() == []


def test_table_naming_an_undefined_state_fails_at_import() -> None:
    with pytest.raises(ValueError, match="locked"):
        successor_table({Door.SHUT: {Door.LOCKED}})


def test_timers_fire_earliest_first_ties_in_arming_order() -> None:
    timers = Timers()
    timers.start("b", 2.0)
    timers.start("a", 1.0)
    timers.start("c", 2.0)
    assert timers.next() == 1.0
    assert timers.pending() == {"b": 2.0, "a": 1.0, "c": 2.0}
    assert timers.expired(0.5) == []
    assert timers.expired(2.0) == ["a", "b", "c"]
    assert timers.next() is None


def test_rearming_moves_a_timer_and_cancel_forgets_it() -> None:
    timers = Timers()
    timers.start("x", 1.0)
    timers.start("y", 1.0)
    timers.start("x", 1.0)  # re-armed: now behind y
    assert timers.expired(1.0) == ["y", "x"]
    timers.start("z", 3.0)
    timers.cancel("z")
    timers.cancel("never-armed")
    assert timers.next() is None and timers.at("z") is None
