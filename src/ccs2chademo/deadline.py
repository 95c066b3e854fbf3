"""Deadline comparison that survives the virtual runtime's integer-nanosecond clock.

A machine computes ``now + 0.5`` as a float; the virtual runtime schedules it at the *rounded*
nanosecond and calls ``handle_timer`` with that time, which may be a hair below the float
deadline.  Comparing with ``now < deadline`` would then do nothing, the runtime would re-arm the
same deadline, and the run would spin at one instant.  Every deadline check goes through
:func:`due`, which allows one microsecond of slack.
"""

from __future__ import annotations

from .runtime.machine import MachineBase

SLACK = 1e-6


def due(deadline: float | None, now: float) -> bool:
    return deadline is not None and deadline <= now + SLACK


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
