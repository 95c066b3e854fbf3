"""A log file on a stalling SD card, for ``run`` on a veth pair (sim/veth_session.py).

An SD card now and then takes seconds to accept writes.  Here the kernel stands in for it: the
adapter's log path is a FIFO with a 4 KiB buffer, and a reader thread copies it to a regular file
— reading nothing for the first ``stall_s`` seconds.  Once the buffer is full, every ``write`` to
it blocks until the reader resumes, as a write to a stalled card would (the adapter must not care:
drivers/offload.py).  Linux only (``F_SETPIPE_SZ``).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path


class StalledFifo:
    """``fifo`` (created here, its buffer set before anyone writes) copied to ``copy`` by a thread
    that reads nothing for the first ``stall_s`` seconds; :meth:`close` lets it finish once the
    writer has closed its end (or gives up after ``timeout``)."""

    def __init__(self, fifo: Path, copy: Path, stall_s: float, buffer: int = 4096) -> None:
        self.fifo, self.copy, self.stall_s = fifo, copy, stall_s
        fifo.unlink(missing_ok=True)
        os.mkfifo(fifo)
        # the read end first (non-blocking: no writer yet), so the buffer is set while it is empty
        # (F_SETPIPE_SZ refuses to shrink a pipe below what it holds); then an end of our own for
        # writing, so the reader sees end-of-file only after close(), not before the adapter opened
        self._read = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        fcntl.fcntl(self._read, fcntl.F_SETPIPE_SZ, buffer)
        os.set_blocking(self._read, True)
        self._hold: int | None = os.open(fifo, os.O_WRONLY)
        #: when the reader started to read (``time.time()``, the clock of the adapter's CAN log)
        self.reading_at: float | None = None
        self._thread = threading.Thread(target=self._copy, name="stalled-fifo", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        try:
            time.sleep(self.stall_s)
            self.reading_at = time.time()
            with self.copy.open("ab") as out:
                while chunk := os.read(self._read, 65536):
                    out.write(chunk)
                    out.flush()
        finally:
            os.close(self._read)

    def close(self, timeout: float = 10.0) -> None:
        if self._hold is not None:
            os.close(self._hold)
            self._hold = None
        self._thread.join(timeout)
