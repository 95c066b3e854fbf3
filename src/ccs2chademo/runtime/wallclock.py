"""Wall-clock runtime: the same machines, driven by asyncio over real I/O ports.

Session time is ``loop.time()`` minus the moment the runtime was created, so logs of a real run
and of a simulation share one time axis.  Port callbacks arrive from the event loop and are
delivered at once; :meth:`AsyncRuntime.inject` defers to the loop so that nothing re-enters a
machine while it is being serviced.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from .core import Runtime, Slot
from .events import Event
from .sessionlog import SessionLog


class AsyncRuntime(Runtime):
    def __init__(self, log: SessionLog | None = None, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or asyncio.get_event_loop_policy().get_event_loop()
        self._t0 = self.loop.time()
        self._handles: dict[str, asyncio.TimerHandle] = {}
        self._done = asyncio.Event()
        self.error: BaseException | None = None
        self.closed = False
        super().__init__(log)

    def now(self) -> float:
        return self.loop.time() - self._t0

    def _arm(self, slot: Slot) -> None:
        if self.closed:
            return
        name = slot.machine.name
        old = self._handles.pop(name, None)
        if old is not None:
            old.cancel()
        if slot.deadline is not None:
            self._handles[name] = self.loop.call_at(self._t0 + slot.deadline, self._guarded, self.fire, slot)

    def inject(self, name: str, event: Event) -> None:
        if self.closed:
            return
        slot = self.slots[name]
        self.loop.call_soon(self._guarded, lambda s: self.deliver(s, event), slot)

    def deliver(self, slot: Slot, event: Event) -> None:
        if self.closed:
            return
        try:
            super().deliver(slot, event)
        except Exception as exc:  # a machine bug must end the run, not vanish in a callback
            self._fail(exc)

    def _guarded(self, fn: Callable[[Slot], None], slot: Slot) -> None:
        try:
            fn(slot)
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        self._done.set()

    def stop(self) -> None:
        self._done.set()

    def close(self) -> None:
        """Stop for good: cancel every timer and ignore later events and injections.

        For a run that was *cancelled* (a signal during ``await run()``): its drivers are closed
        afterwards, and a machine woken by a late socket callback or an armed timer must not act
        on closed ports.  Idempotent."""
        self.closed = True
        self._done.set()
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()

    async def run(self, until: float | None = None, stop: Callable[[], bool] | None = None,
                  poll: float = 0.01) -> float:
        """Run until ``until`` seconds of session time, until ``stop()`` is true, or ``stop()``
        is called; re-raises the first exception a machine raised."""
        self._done.clear()
        while not self._done.is_set():
            if stop is not None and stop():
                break
            if until is not None and self.now() >= until:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), poll)
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        if self.error is not None:
            raise self.error
        return self.now()
