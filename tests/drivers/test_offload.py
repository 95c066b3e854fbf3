"""The writer thread (drivers/offload.py): ``run``'s log files are written off the event loop, in
order, completely by ``close()`` — and a stalled file (a real pipe nobody reads, standing in for an
SD card that stalls) holds the writer thread, never the caller."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import threading
from pathlib import Path

import pytest

from ccs2chademo.drivers.logfiles import rotating_session_log
from ccs2chademo.drivers.offload import WriterThread, offloaded
from ccs2chademo.runtime.logfile import HEADER_LINE
from ccs2chademo.runtime.sessionlog import ConsoleFormatter, SessionLog


def test_everything_submitted_is_done_in_order_by_close() -> None:
    done: list[int] = []
    with WriterThread() as writer:
        for i in range(2000):
            writer.submit(done.append, i)
    assert done == list(range(2000))


def test_a_failing_write_is_counted_and_the_writes_after_it_still_happen(caplog: pytest.LogCaptureFixture) -> None:
    done: list[str] = []

    def broken(_: str) -> None:
        raise OSError(28, "No space left on device")

    with WriterThread() as writer:
        writer.submit(done.append, "before")
        writer.submit(broken, "x")
        writer.submit(broken, "y")
        writer.submit(done.append, "after")
    assert done == ["before", "after"] and writer.failures == 2
    assert "No space left on device" in caplog.text and "2 log writes failed" in caplog.text


def test_without_the_thread_a_write_happens_at_once() -> None:
    """Before ``start`` and after ``close`` (a record logged while the run shuts down) nothing is
    queued where no thread would write it."""
    done: list[int] = []
    writer = WriterThread()
    writer.submit(done.append, 1)
    assert done == [1]
    with writer:
        pass
    writer.submit(done.append, 2)
    assert done == [1, 2]


def test_a_stalled_session_log_holds_the_writer_thread_not_the_logging_caller(tmp_path: Path) -> None:
    """The session log is a FIFO with a 4 KiB buffer whose reader stops reading: without the
    writer thread the second kilobyte-sized batch of records would block the logging call (the
    event loop in ``run``).  With it, 400 records are logged while the reader sleeps; once it
    reads again, every line arrives, in order, after the header."""
    fifo = tmp_path / "session.jsonl"
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the buffer is set while the pipe is empty
    fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 4096)
    os.set_blocking(fd, True)
    release = threading.Event()
    received: list[bytes] = []

    def reader() -> None:
        release.wait(30.0)
        while chunk := os.read(fd, 65536):
            received.append(chunk)
        os.close(fd)

    reading = threading.Thread(target=reader, daemon=True)
    reading.start()
    log = SessionLog()

    def logging_caller() -> None:
        for i in range(400):
            log.record(i / 10, "adapter", "state", {"state": f"s{i}", "pad": "x" * 60})

    with WriterThread() as writer, rotating_session_log(fifo, 1_000_000, 2, writer=writer):
        caller = threading.Thread(target=logging_caller, daemon=True)
        caller.start()
        caller.join(20.0)
        assert not caller.is_alive(), "the logging call blocked on the stalled file"
        assert not received  # the reader has read nothing yet: the records wait in the writer
        release.set()
    reading.join(20.0)
    lines = b"".join(received).decode().splitlines()
    assert lines[0] == HEADER_LINE
    assert [json.loads(line)["state"] for line in lines[1:]] == [f"s{i}" for i in range(400)]


def test_closing_gives_up_on_a_file_that_never_comes_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A dead card must not keep ``run`` from exiting: ``close`` waits its timeout, then says
    what it left behind."""
    fifo = tmp_path / "dead"
    os.mkfifo(fifo)
    keep = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader that never reads
    fcntl.fcntl(keep, fcntl.F_SETPIPE_SZ, 4096)
    out = os.open(fifo, os.O_WRONLY)
    writer = WriterThread()
    with writer:
        for _ in range(3):
            writer.submit(os.write, out, b"x" * 4096)  # the second one blocks for good
        writer.close(timeout=0.5)
    assert "log writes still pending" in caplog.text
    os.close(keep)  # the blocked write fails (EPIPE) and the thread ends
    os.close(out)


def test_console_lines_go_through_the_writer_and_the_console_handler_is_put_back_as_it_was() -> None:
    """``run -v``: the session logger's console handler writes through the writer thread while
    the run lasts — the same lines as without it — and is itself again afterwards."""
    logger = logging.getLogger("ccs2chademo.test-offload")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    direct, through = io.StringIO(), io.StringIO()
    formatter = ConsoleFormatter()
    console = logging.StreamHandler(through)
    console.setFormatter(formatter)
    logger.addHandler(console)
    log = SessionLog(logger)
    fields = {"state": "CurrentDemand", "previous": "PowerDeliveryOn"}
    writer = WriterThread()
    with offloaded(logger, writer), writer:
        assert logger.handlers != [console]
        for i in range(50):
            log.record(i * 0.1, "adapter", "state", fields)
    assert logger.handlers == [console] and console.formatter is formatter
    plain = logging.getLogger("ccs2chademo.test-offload-direct")
    plain.propagate = False
    plain.setLevel(logging.INFO)
    reference = logging.StreamHandler(direct)
    reference.setFormatter(formatter)
    plain.addHandler(reference)
    for i in range(50):
        SessionLog(plain).record(i * 0.1, "adapter", "state", fields)
    assert through.getvalue() == direct.getvalue() and through.getvalue().count("\n") == 50
