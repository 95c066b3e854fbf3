"""The machine protocol every protocol and control state machine follows (after h11 / aioquic).

A machine is fed events with the time they happened and is asked what it wants done.  It keeps
at most one deadline; the runtime calls :meth:`Machine.handle_timer` at or after it.  Time is a
float in seconds of *session time*; machines never read a clock themselves.
"""

from __future__ import annotations

from typing import Any, Protocol

from mypy_extensions import mypyc_attr

from .events import Action, Event, Log


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
    change state (which logs ``{"kind": "state", "state": …, "previous": …}``).
    """

    def __init__(self, name: str, initial_state: str = "init") -> None:
        self.name = name
        self.state = initial_state
        self._pending: list[Action] = []

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

    def _enter(self, state: str, **fields: Any) -> None:
        if state == self.state:
            return
        previous, self.state = self.state, state
        self._pending.append(Log("state", {"state": state, "previous": previous, **fields}))
