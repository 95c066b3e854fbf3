"""Virtual time: a discrete-event scheduler that runs machines as fast as the CPU allows.

Time is kept as integer nanoseconds so that periodic deadlines (``n × 0.1 s``) are exact over
hours of session time, and every queue entry carries a sequence number: **entries with equal
deadlines run in the order they were scheduled** (FIFO).  All randomness comes from ``seed``
through :meth:`VirtualRuntime.rng_for`, so a scenario run twice gives identical logs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Final, cast, final

from mypy_extensions import mypyc_attr

from ..rounding import round_int
from .core import Runtime, Slot
from .events import Event
from .sessionlog import SessionLog

NS: Final = 1_000_000_000


def to_ns(t: float) -> int:
    return round_int(t * NS)


@final
# compiled: a freed entry is kept for the next one (run() drops the entry it popped, the next event
# pushes one): ≈ 2.5 M fewer instructions of the session below than a fresh allocation each time
@mypyc_attr(free_list_len=1)
class QueueEntry:
    """One entry of the event queue: runs ``fn(arg)`` at ``t_ns``, ``seq`` breaks ties (FIFO).

    A machine's timer entry has no ``fn`` and its slot as ``arg``; the slot keeps its queued
    entries and the one due (:meth:`VirtualRuntime._arm`), compared by (``t_ns``, ``seq``).
    Compiled, the fields are C struct members and the ints are tagged machine words.
    """

    __slots__ = ("arg", "fn", "seq", "t_ns")

    def __init__(self, t_ns: int, seq: int, fn: Callable[[Any], None] | None, arg: Any) -> None:
        self.t_ns = t_ns
        self.seq = seq
        self.fn = fn
        self.arg = arg


def _before(a: QueueEntry, b: QueueEntry) -> bool:
    """``(a.t_ns, a.seq) < (b.t_ns, b.seq)``: the queue's one order (sequence numbers are unique, so
    two entries are never equal)."""
    return a.t_ns < b.t_ns or (a.t_ns == b.t_ns and a.seq < b.seq)


# The queue is a binary heap written out here rather than ``heapq`` on (time, sequence, fn, arg)
# tuples: heapq compares the tuples through Python rich comparison (the tuple, then its ints), each
# entry was a tuple with its time boxed, and a timer's entry carried a (slot, key) tuple and a bound
# method.  Compiled, these loops compare the entries' native int fields, and run() calls a timer
# directly: World.run of a 20 → 22 % session went from 737.4 M to ≈ 639 M instructions (callgrind,
# −13 %); pure Python runs 5–7 % slower than with heapq.  heapq's pop (the hole goes down to a leaf,
# then the last entry rises) measured ≈ 4 M more here than the plain sift-down below.  Sequence
# numbers are unique, so any heap pops the entries in exactly (time, sequence) order.


def _push(heap: list[QueueEntry], entry: QueueEntry) -> None:
    pos = len(heap)
    heap.append(entry)
    while pos > 0:
        up = (pos - 1) >> 1
        parent = heap[up]
        if _before(parent, entry):
            break
        heap[pos] = parent
        pos = up
    heap[pos] = entry


def _pop(heap: list[QueueEntry]) -> QueueEntry:
    """Remove and return the first entry of a non-empty heap."""
    last = heap.pop()
    n = len(heap)
    if n == 0:
        return last
    first = heap[0]
    pos = 0
    child = 1
    while child < n:
        low = heap[child]
        if child + 1 < n:
            right = heap[child + 1]
            if _before(right, low):
                child += 1
                low = right
        if _before(last, low):
            break
        heap[pos] = low
        pos = child
        child = 2 * pos + 1
    heap[pos] = last
    return first


class VirtualRuntime(Runtime):
    """The virtual-time runtime.  ``run()`` pops events in (time, sequence) order."""

    def __init__(self, seed: int = 0, log: SessionLog | None = None) -> None:
        self.seed = seed
        self._heap: list[QueueEntry] = []
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
        _push(self._heap, QueueEntry(t_ns, self._seq, fn, arg))

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
        due = QueueEntry(t_ns if t_ns > self._now_ns else self._now_ns, self._seq, None, slot)
        slot.due = due
        for entry in slot.queued:
            if _before(entry, due):
                return
        self._queue_timer(slot, due)

    def _queue_timer(self, slot: Slot, entry: QueueEntry) -> None:
        slot.queued.append(entry)
        _push(self._heap, entry)

    def _timer(self, slot: Slot, entry: QueueEntry) -> None:
        slot.queued.remove(entry)
        due = slot.due
        if due is None:
            return
        if entry is not due:  # the deadline moved on (later: an entry comes no later than ``due``)
            for other in slot.queued:
                if other is due or _before(other, due):
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

    def _run(self, heap: list[QueueEntry], until_ns: int | None,
             stop: Callable[[], bool] | None, budget: int | None) -> None:
        while heap and not self._stopped:
            if until_ns is not None and heap[0].t_ns > until_ns:
                self._now_ns = until_ns
                self._now = until_ns / NS
                break
            entry = _pop(heap)
            t_ns = entry.t_ns
            if t_ns != self._now_ns:
                self._now_ns = t_ns
                self._now = t_ns / NS
            fn = entry.fn
            if fn is None:
                self._timer(cast(Slot, entry.arg), entry)
            else:
                fn(entry.arg)
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
