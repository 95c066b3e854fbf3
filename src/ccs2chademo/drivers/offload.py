"""File writes off the event loop: ``run`` never waits for the disk.

Why: on a Raspberry Pi the session log, the pcapng and the CAN log go to an SD card, and an SD
card's writes stall now and then for hundreds of milliseconds — for seconds when the kernel
throttles a process that dirtied many pages.  A write from the event loop holds everything the
loop does for that long: the next CurrentDemandReq (the charger answers within 1 s or the session
ends), the 100 ms CHAdeMO cycle the car watches.  So the loop only *prepares* what it logs (formats
it, so nothing it changes afterwards can leak in) and hands the write to one writer thread, which
performs the writes in the order they were handed over.

* :meth:`WriterThread.close` returns once everything handed over is written (closing a file is
  handed over like a write, so it happens after that file's last record).
* The queue is unbounded: while the disk stalls it holds what the loop logged meanwhile (a few
  hundred records a second at most), and a write that fails is reported once (with a count at
  the end) without stopping later writes — the adapter keeps charging with a full disk.
* What a hard kill finds still queued is lost: the last few milliseconds of logs.

A thread, not asyncio's executor: one ordered queue for every file, without a future per write.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from queue import SimpleQueue
from types import TracebackType
from typing import Any

logger = logging.getLogger(__name__)

_Job = tuple[Callable[..., object], tuple[Any, ...]]


class WriterThread:
    """``with WriterThread() as writer:`` … ``writer.submit(stream.write, data)``; the thread runs
    from ``__enter__`` (or :meth:`start`) to :meth:`close`."""

    def __init__(self, name: str = "ccs2chademo-writer") -> None:
        self._queue: SimpleQueue[_Job | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._running = False
        #: writes that raised (the first one is logged with its traceback)
        self.failures = 0

    def start(self) -> None:
        """Start the thread (once: after :meth:`close` writes happen on the caller's thread)."""
        if self._thread.ident is None:
            self._running = True
            self._thread.start()

    def submit(self, fn: Callable[..., object], *args: Any) -> None:
        """Call ``fn(*args)`` on the writer thread, after everything submitted before (while the
        thread does not run: at once, on the caller's thread — a late record is written, not lost)."""
        if not self._running:
            self._call(fn, args)
            return
        self._queue.put((fn, args))

    def wrap(self, fn: Callable[..., object]) -> Callable[..., None]:
        """``fn`` as a function that submits its call instead of making it."""
        return lambda *args: self.submit(fn, *args)

    def close(self, timeout: float = 10.0) -> None:
        """Perform what was submitted, then stop the thread — waiting at most ``timeout`` seconds:
        a card that never comes back must not keep the process from exiting (what is still
        queued then is lost, and said so)."""
        if not self._running:
            return
        self._running = False
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.error("log writes still pending after %.0f s: exiting without them", timeout)
        if self.failures > 1:
            logger.error("%d log writes failed in all", self.failures)

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            self._call(*job)

    def _call(self, fn: Callable[..., object], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception:
            self.failures += 1
            if self.failures == 1:
                logger.exception("a log write failed; the adapter goes on, later failures are only counted")

    def __enter__(self) -> WriterThread:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class OffloadedHandler(logging.Handler):
    """A logging handler that formats a record on the caller's thread (with ``target``'s own
    formatter unless it is given another) and leaves writing the line to ``target`` on the writer
    thread.

    The target writes the finished line as it is (its formatter is ``%(message)s`` meanwhile), so
    its rotation, header and flush behave as they do on their own.  An owned target is closed by
    :meth:`close`; a borrowed one (:func:`offloaded`) gets its formatter back by :meth:`detach`."""

    def __init__(self, target: logging.Handler, writer: WriterThread, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.target = target
        self.writer = writer
        self._target_formatter = target.formatter
        self.setFormatter(target.formatter)
        target.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.writer.submit(self.target.handle, logging.makeLogRecord({"msg": line, "levelno": record.levelno,
                                                                      "levelname": record.levelname}))

    def detach(self) -> None:
        """Give the target its formatter back, after the lines submitted before."""
        self.writer.submit(self.target.setFormatter, self._target_formatter)

    def close(self) -> None:
        """Closes the target after the lines submitted before."""
        self.writer.submit(self.target.close)
        super().close()


@contextmanager
def offloaded(logger: logging.Logger, writer: WriterThread) -> Iterator[None]:
    """While open, the handlers ``logger`` has now write through ``writer`` (``run -v``'s console
    lines: a terminal, a file or journald can stall as a card can); then they are put back."""
    pairs = [(handler, OffloadedHandler(handler, writer, handler.level)) for handler in list(logger.handlers)]
    for handler, wrapper in pairs:
        logger.removeHandler(handler)
        logger.addHandler(wrapper)
    try:
        yield
    finally:
        for handler, wrapper in pairs:
            logger.removeHandler(wrapper)
            wrapper.detach()
            logger.addHandler(handler)
