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

F_SETPIPE_SZ = 1031  # <fcntl.h> on Linux: set a pipe's buffer size (rounded up to a page)


class StalledFifo:
    """``fifo`` (created here) copied to ``copy`` by a thread that starts reading ``stall_s`` after
    the writer opened it; :meth:`close` waits for the writer to close it (or gives up)."""

    def __init__(self, fifo: Path, copy: Path, stall_s: float, buffer: int = 4096) -> None:
        self.fifo, self.copy, self.stall_s, self.buffer = fifo, copy, stall_s, buffer
        fifo.unlink(missing_ok=True)
        os.mkfifo(fifo)
        #: when the writer opened the FIFO, and when the reader started to read (``time.time()``,
        #: the clock of the adapter's CAN log)
        self.opened_at: float | None = None
        self.reading_at: float | None = None
        self._thread = threading.Thread(target=self._copy, name="stalled-fifo", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        fd = os.open(self.fifo, os.O_RDONLY)  # returns once the adapter opened it for writing
        self.opened_at = time.time()
        try:
            fcntl.fcntl(fd, F_SETPIPE_SZ, self.buffer)
            time.sleep(self.stall_s)
            self.reading_at = time.time()
            with self.copy.open("ab") as out:
                while chunk := os.read(fd, 65536):
                    out.write(chunk)
                    out.flush()
        finally:
            os.close(fd)

    def close(self, timeout: float = 10.0) -> None:
        if self.opened_at is None:  # the adapter never opened it: let the reader's open() return
            os.close(os.open(self.fifo, os.O_RDWR | os.O_NONBLOCK))
        self._thread.join(timeout)
