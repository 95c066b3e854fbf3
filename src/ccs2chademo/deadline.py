"""Deadline comparison for composite machines, named timers, and a base for single-timer machines.

The runtimes never hand a machine a ``now`` earlier than the deadline it asked for (see
docs/architecture.md).  A composite machine, however, is woken for the *earliest* of its parts'
deadlines and then checks each part's deadline against that ``now`` itself; a part's float
deadline may lie a rounding error above it (the virtual clock is integer nanoseconds).
:func:`due` allows one microsecond of slack so such a part is not skipped and re-armed at the
same instant.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import mypyc_attr

from .runtime.machine import MachineBase

SLACK: Final = 1e-6


def due(deadline: float | None, now: float) -> bool:
    return deadline is not None and deadline <= now + SLACK


class Timers:
    """A machine's deadlines, each with a named purpose (a member of the machine's own timer
    ``StrEnum``): what a machine waits for is visible in a test (:meth:`pending`) and in a log,
    instead of hiding in a stored lambda.

    Starting a purpose again re-arms it; :meth:`expired` hands out the due purposes earliest
    first, equal deadlines in the order they were started (the runtime's FIFO rule).
    """

    def __init__(self) -> None:
        self._at: dict[str, float] = {}
        #: the earliest deadline, kept on every change: ``get_timer`` asks after every event
        self._next: float | None = None

    def _update(self) -> None:
        best: float | None = None
        for at in self._at.values():  # a loop, not min(): compiled, it compares unboxed floats
            if best is None or at < best:
                best = at
        self._next = best

    def start(self, purpose: str, at: float) -> None:
        deadlines = self._at
        old = deadlines.get(purpose)  # get + del: compiled primitives, where pop(key, None) is a method call
        if old is not None:
            del deadlines[purpose]  # a re-armed purpose queues behind those already waiting
        deadlines[purpose] = at
        nxt = self._next
        if nxt is None or at < nxt:
            self._next = at
        elif old is not None and old <= nxt:  # the earliest one moved later: look again
            self._update()

    def only(self, purpose: str, at: float) -> None:
        """Arm ``purpose`` alone: :meth:`clear` then :meth:`start`, in one step (a one-at-a-time
        machine re-arms on every message)."""
        self._at.clear()
        self._at[purpose] = at
        self._next = at

    def cancel(self, purpose: str) -> None:
        deadlines = self._at
        old = deadlines.get(purpose)  # get + del: compiled primitives, where pop(key, None) is a method call
        if old is None:
            return
        del deadlines[purpose]
        nxt = self._next
        if nxt is not None and old <= nxt:  # only the earliest leaving moves it
            self._update()

    def clear(self) -> None:
        self._at.clear()
        self._next = None

    def next(self) -> float | None:
        """The earliest deadline (the machine's ``get_timer``), None when nothing waits."""
        return self._next

    def at(self, purpose: str) -> float | None:
        return self._at.get(purpose)

    def expired(self, now: float) -> list[str]:
        """The purposes due at ``now``, removed, earliest first."""
        if not due(self._next, now):
            return []
        deadlines = self._at
        hits = [purpose for purpose, at in deadlines.items() if due(at, now)]
        if len(hits) > 1:  # a stable sort: equal deadlines stay in the order they were started
            hits.sort(key=deadlines.__getitem__)
        for purpose in hits:
            del deadlines[purpose]
        self._update()
        return hits

    def pending(self) -> dict[str, float]:
        """Purpose → deadline of everything armed (for tests and the live view)."""
        return dict(self._at)


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
