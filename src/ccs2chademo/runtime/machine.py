"""The machine protocol every protocol and control state machine follows (after h11 / aioquic).

A machine is fed events with the time they happened and is asked what it wants done.  It keeps
at most one deadline; the runtime calls :meth:`Machine.handle_timer` at or after it.  Time is a
float in seconds of *session time*; machines never read a clock themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from mypy_extensions import mypyc_attr

from .events import Action, Event, Log

logger = logging.getLogger(__name__)

#: A machine's transition table: the states each state may be followed by (h11's ``_state.py``
#: is the model).  Keys and members are the machine's ``StrEnum`` states.
Successors = Mapping[str, frozenset[str]]


def successor_table(table: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """A transition table in the form :class:`MachineBase` checks, validated once at import: every
    successor named is itself a state of the table (a typo fails loudly, not at the transition)."""
    out = {str(state): frozenset(str(n) for n in nexts) for state, nexts in table.items()}
    unknown = {n for nexts in out.values() for n in nexts} - out.keys()
    if unknown:
        raise ValueError(f"successor table names states it does not define: {sorted(unknown)}")
    return out


class Machine(Protocol):
    name: str

    def receive(self, event: Event, now: float) -> None: ...

    def handle_timer(self, now: float) -> None: ...

    def get_timer(self) -> float | None: ...

    def actions(self) -> list[Action]: ...


@mypyc_attr(allow_interpreted_subclasses=True)  # machines outside the compiled modules derive from it
class MachineBase:
    """Convenience base: an action queue, structured log records and a logged ``state``.

    Subclasses call :meth:`_emit` for actions, :meth:`_log` for decisions and :meth:`_enter` to
    change state (which logs ``{"kind": "state", "state": …, "previous": …}``).  A machine built
    with a ``successors`` table may only move along it: :meth:`_enter` refuses any other move,
    logs ``transition-refused`` and leaves the state as it was (docs/machines.md).
    """

    def __init__(self, name: str, initial_state: str = "init", successors: Successors | None = None) -> None:
        self.name = name
        self.state = initial_state
        self._pending: list[Action] = []
        self._successors: Successors | None = successors

    # -- protocol ---------------------------------------------------------------------------
    def receive(self, event: Event, now: float) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def handle_timer(self, now: float) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def get_timer(self) -> float | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def actions(self) -> list[Action]:
        out, self._pending = self._pending, []
        return out

    # -- helpers ----------------------------------------------------------------------------
    def _emit(self, action: Action) -> None:
        self._pending.append(action)

    def _log(self, kind: str, **fields: Any) -> None:
        self._pending.append(Log(kind, fields))

    def _enter(self, state: str, **fields: Any) -> bool:
        """Move to ``state`` (logged); False, and no move, when the table does not allow it."""
        if state == self.state:
            return True
        table = self._successors
        if table is not None and state not in table.get(self.state, ()):
            logger.warning("%s: transition %s -> %s refused", self.name, self.state, state,
                           extra={"machine": self.name, "state": str(self.state), "refused": str(state)})
            self._pending.append(Log("transition-refused", {"state": state, "previous": self.state}))
            return False
        previous, self.state = self.state, state
        self._pending.append(Log("state", {"state": state, "previous": previous, **fields}))
        return True


class _ProtocolMachine(MachineBase):
    """A machine that follows the :class:`Machine` protocol without deriving from
    :class:`MachineBase`, as one: every call goes to it."""

    def __init__(self, machine: Machine) -> None:
        super().__init__(machine.name)
        self.machine = machine

    def receive(self, event: Event, now: float) -> None:
        self.machine.receive(event, now)

    def handle_timer(self, now: float) -> None:
        self.machine.handle_timer(now)

    def get_timer(self) -> float | None:
        return self.machine.get_timer()

    def actions(self) -> list[Action]:
        return self.machine.actions()


def machine_base(machine: Machine) -> MachineBase:
    """``machine`` as a :class:`MachineBase`: itself, or wrapped if it only follows the protocol.

    Why: a holder that calls a machine at every event (the runtime's slots, the CCS connection's
    session) keeps it as a ``MachineBase``, so that compiled, each call is a vtable call; through
    the :class:`Machine` protocol, each looked the method up by name (≈ 3 % of a compiled
    session's instructions for the runtime's calls alone)."""
    return machine if isinstance(machine, MachineBase) else _ProtocolMachine(machine)
