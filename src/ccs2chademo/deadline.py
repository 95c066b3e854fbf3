"""Deadline comparison for composite machines, and a base for single-timer machines.

The runtimes never hand a machine a ``now`` earlier than the deadline it asked for (see
docs/architecture.md).  A composite machine, however, is woken for the *earliest* of its parts'
deadlines and then checks each part's deadline against that ``now`` itself; a part's float
deadline may lie a rounding error above it (the virtual clock is integer nanoseconds).
:func:`due` allows one microsecond of slack so such a part is not skipped and re-armed at the
same instant.
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from .runtime.machine import MachineBase

SLACK = 1e-6


def due(deadline: float | None, now: float) -> bool:
    return deadline is not None and deadline <= now + SLACK


@mypyc_attr(allow_interpreted_subclasses=True)  # machines outside the compiled modules derive from it
class TimerMachine(MachineBase):
    """A machine with one deadline: ``_deadline`` is cleared when due, then ``_expired`` runs
    (which may set the next one).  Saves every single-timer machine the same three methods."""

    _deadline: float | None = None

    def get_timer(self) -> float | None:
        return self._deadline

    def handle_timer(self, now: float) -> None:
        if due(self._deadline, now):
            self._deadline = None
            self._expired(now)

    def _expired(self, now: float) -> None:  # pragma: no cover - overridden
        raise NotImplementedError
