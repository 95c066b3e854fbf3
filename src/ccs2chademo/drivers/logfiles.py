"""Rotated JSON-lines session log for long runs on hardware.

Why rotation here and not in :mod:`ccs2chademo.runtime.sessionlog`: a simulation writes one
bounded file per run, while an adapter in the field runs for days on an SD card, so the file
must stay bounded too.  :class:`logging.handlers.RotatingFileHandler` rolls over between
records, so every file holds whole JSON lines and each can be read on its own (each starts with the
format header, ``docs/session-log.md``); ``rotate_count`` old files are kept (``session.jsonl.1`` is
the newest of them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..runtime.logfile import RotatingSessionLogHandler
from ..runtime.sessionlog import LOGGER_NAME, JsonLinesFormatter
from .hardware_config import LoggingConfig
from .offload import OffloadedHandler, WriterThread


@contextmanager
def rotating_session_log(path: Path, max_bytes: int, backup_count: int, level: int = logging.INFO,
                         writer: WriterThread | None = None) -> Iterator[logging.Handler]:
    """Write the session log to ``path`` (appending, rotated) while the context is open; with a
    ``writer``, the records are formatted here and written on its thread (drivers/offload.py)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    file = RotatingSessionLogHandler(path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8")
    handler: logging.Handler = file if writer is None else OffloadedHandler(file, writer)
    handler.setFormatter(JsonLinesFormatter())
    handler.setLevel(level)
    session = logging.getLogger(LOGGER_NAME)
    saved_level = session.level
    if session.getEffectiveLevel() > level:
        session.setLevel(level)
    session.addHandler(handler)
    try:
        yield handler
    finally:
        session.removeHandler(handler)
        handler.close()
        session.setLevel(saved_level)


@contextmanager
def session_log_from_config(config: LoggingConfig, level: int = logging.INFO,
                            writer: WriterThread | None = None) -> Iterator[logging.Handler | None]:
    """The ``[hardware.logging]`` session log, or nothing when no path is configured."""
    if config.session_log is None:
        yield None
        return
    with rotating_session_log(config.session_log, config.rotate_bytes, config.rotate_count, level,
                              writer) as handler:
        yield handler
