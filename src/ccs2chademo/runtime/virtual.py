"""Virtual time: a discrete-event scheduler that runs machines as fast as the CPU allows.

Time is kept as integer nanoseconds so that periodic deadlines (``n × 0.1 s``) are exact over
hours of session time, and every queue entry carries a sequence number: **entries with equal
deadlines run in the order they were scheduled** (FIFO).  All randomness comes from ``seed``
through :meth:`VirtualRuntime.rng_for`, so a scenario run twice gives identical logs.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from typing import Any, Final

from ..rounding import round_int
from .core import Runtime, Slot
from .events import Event
from .sessionlog import SessionLog

NS: Final = 1_000_000_000
#: bound once (compiled: C statics); ``heapq.heappush`` looks the function up in the module at every call
_push: Final = heapq.heappush
_pop: Final = heapq.heappop


def to_ns(t: float) -> int:
    return round_int(t * NS)


class VirtualRuntime(Runtime):
    """The virtual-time runtime.  ``run()`` pops events in (time, sequence) order."""

    def __init__(self, seed: int = 0, log: SessionLog | None = None) -> None:
        self.seed = seed
        self._heap: list[tuple[int, int, Callable[[Any], None], Any]] = []
        self._seq = 0
        self._now_ns = 0
        self._now = 0.0
        self.events_run = 0
        self._stopped = False
        #: inside :meth:`run`: whether frames are logged, read from the logger when the run began
        self._running = False
        self._frames_debug = False
        super().__init__(log)

    # -- time and randomness ----------------------------------------------------------------
    def now(self) -> float:
        return self._now

    @property
    def now_ns(self) -> int:
        return self._now_ns

    def rng_for(self, name: str) -> random.Random:
        """An independent, reproducible random stream for one link or model (by name)."""
        return random.Random(f"{self.seed}:{name}")

    # -- scheduling -------------------------------------------------------------------------
    def call_at_ns(self, t_ns: int, fn: Callable[[Any], None], arg: Any = None) -> None:
        if t_ns < self._now_ns:
            t_ns = self._now_ns
        self._seq += 1
        _push(self._heap, (t_ns, self._seq, fn, arg))

    def call_at(self, t: float, fn: Callable[[Any], None], arg: Any = None) -> None:
        self.call_at_ns(to_ns(t), fn, arg)

    def call_later(self, delay: float, fn: Callable[[Any], None], arg: Any = None) -> None:
        self.call_at_ns(self._now_ns + to_ns(delay), fn, arg)

    def every(self, period: float, fn: Callable[[float], None], start: float | None = None) -> None:
        """Call ``fn(now)`` at ``start + n × period`` for ever (physics steps of models)."""
        period_ns = to_ns(period)
        if period_ns <= 0:
            raise ValueError("period must be positive")
        first = self._now_ns if start is None else to_ns(start)

        def tick(n: int) -> None:
            fn(self._now)
            self.call_at_ns(first + (n + 1) * period_ns, tick, n + 1)

        self.call_at_ns(first, tick, 0)

    def _frames_logged(self) -> bool:
        """Whether frames are logged, as the logger said when :meth:`run` began.

        ``Logger.isEnabledFor`` is an interpreted call (≈ 3 % of a compiled session's instructions
        when asked at every event and frame); the level is read again at every :meth:`run`, which
        ``World.run`` calls once per virtual second.  Outside a run (machines started by ``add``)
        the logger is asked each time."""
        return self._frames_debug if self._running else super()._frames_logged()

    def inject(self, name: str, event: Event) -> None:
        self.call_at_ns(self._now_ns, self._deliver_to, (self.slots[name], event))

    def _deliver_to(self, arg: tuple[Slot, Event]) -> None:
        self.deliver(arg[0], arg[1])

    def _arm(self, slot: Slot) -> None:
        """Schedule ``slot``'s timer at its new deadline, keeping the entry it may already have.

        The timer fires at the (time, sequence) key a fresh entry would have now, so the order of
        events is that of one entry per arm.  But a deadline moves at nearly every message (a
        reply timer before an idle timeout, the next cycle after a response), and one entry per
        move left a stale entry behind each time — 14 % of the events of a default session, and
        a queue thousands of entries deep.  So an entry of the slot that comes no later than the
        new key is kept: when it is reached it goes back in at the key then due
        (:meth:`_timer`).  Only a deadline earlier than every entry of the slot adds one.
        """
        if slot.deadline is None:
            slot.due = None  # the slot's entries are dropped when reached
            return
        t_ns = round_int(slot.deadline * NS)
        self._seq += 1
        due = (t_ns if t_ns > self._now_ns else self._now_ns, self._seq)
        slot.due = due
        for key in slot.queued:
            if key <= due:
                return
        self._queue_timer(slot, due)

    def _queue_timer(self, slot: Slot, key: tuple[int, int]) -> None:
        slot.queued.append(key)
        _push(self._heap, (key[0], key[1], self._timer, (slot, key)))

    def _timer(self, arg: tuple[Slot, tuple[int, int]]) -> None:
        slot, key = arg
        slot.queued.remove(key)
        due = slot.due
        if due is None:
            return
        if key != due:  # the deadline moved on (later: an entry comes no later than ``due``)
            for other in slot.queued:
                if other <= due:
                    return
            self._queue_timer(slot, due)
            return
        deadline = slot.deadline
        slot.deadline = None
        slot.due = None
        # the clock is integer ns: never hand a machine a `now` a hair before its own deadline
        slot.machine.handle_timer(self._now if deadline is None or self._now >= deadline else deadline)
        self._service(slot)

    # -- running ----------------------------------------------------------------------------
    def stop(self) -> None:
        """Make ``run()`` return after the current event (e.g. from a model's callback)."""
        self._stopped = True

    def run(
        self,
        until: float | None = None,
        stop: Callable[[], bool] | None = None,
        max_events: int | None = None,
    ) -> float:
        """Run until ``until`` (inclusive), until ``stop()`` is true, or the queue is empty.

        Returns the virtual time reached.
        """
        until_ns = None if until is None else to_ns(until)
        heap = self._heap
        budget = max_events
        self._stopped = False
        self._frames_debug = super()._frames_logged()
        self._running = True
        try:
            self._run(heap, until_ns, stop, budget)
        finally:
            self._running = False
        return self._now

    def _run(self, heap: list[tuple[int, int, Callable[[Any], None], Any]], until_ns: int | None,
             stop: Callable[[], bool] | None, budget: int | None) -> None:
        while heap and not self._stopped:
            if until_ns is not None and heap[0][0] > until_ns:
                self._now_ns = until_ns
                self._now = until_ns / NS
                break
            t_ns, _, fn, arg = _pop(heap)
            if t_ns != self._now_ns:
                self._now_ns = t_ns
                self._now = t_ns / NS
            fn(arg)
            self.events_run += 1
            if stop is not None and stop():
                break
            if budget is not None:
                budget -= 1
                if budget <= 0:
                    break
        else:
            if until_ns is not None and not self._stopped and self._now_ns < until_ns:
                self._now_ns = until_ns
                self._now = until_ns / NS
