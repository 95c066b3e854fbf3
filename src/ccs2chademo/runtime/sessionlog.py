"""The session log: every state change, frame and decision as one structured ``logging`` record.

Records go to the ``ccs2chademo.session`` logger with the structured part in ``extra`` under the
key ``session`` (``t`` in seconds of session time, ``source``, ``kind``, ``fields``).  Two
formatters render them: JSON lines (the machine-readable session log, one object per line) and a
console line per event that reads like the adapter's serial log (for ``-v``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from mypy_extensions import mypyc_attr

from .logfile import SessionLogFileHandler

LOGGER_NAME = "ccs2chademo.session"

#: Kinds logged at DEBUG (high volume: every frame); everything else is INFO.
FRAME_KINDS = frozenset({"tx", "rx"})


def _plain(value: Any) -> Any:
    """Make a field JSON-friendly and stable: bytes as hex, enums by name, tuples as lists."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    name = getattr(value, "name", None)
    if name is not None and hasattr(value, "value"):  # Enum members
        return name
    if isinstance(value, str | int | bool) or value is None:
        return value
    return str(value)


@mypyc_attr(allow_interpreted_subclasses=True)  # tests record what passes through
class SessionLog:
    """Front end used by runtimes and tools; cheap when nobody listens at that level."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(LOGGER_NAME)

    def record(self, t: float, source: str, kind: str, fields: Mapping[str, Any] | None = None) -> None:
        level = logging.DEBUG if kind in FRAME_KINDS else logging.INFO
        if not self.logger.isEnabledFor(level):
            return
        entry = {"t": round(t, 6), "source": source, "kind": kind, "fields": _plain(fields or {})}
        self.logger.log(level, "%s %s", source, kind, extra={"session": entry})


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: ``{"t", "source", "kind", **fields}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = getattr(record, "session", None)
        if entry is None:
            entry = {"t": None, "source": record.name, "kind": "log", "fields": {"message": record.getMessage()}}
        out = {"t": entry["t"], "source": entry["source"], "kind": entry["kind"]}
        for key, value in entry["fields"].items():
            out.setdefault(key, value)
        return json.dumps(out, separators=(",", ":"))


class ConsoleFormatter(logging.Formatter):
    """``[  12.345] chademo     state  state=WaitForCarReady previous=Start`` — one line per event."""

    def format(self, record: logging.LogRecord) -> str:
        entry = getattr(record, "session", None)
        if entry is None:
            return f"[        ] {record.name:<12} {record.getMessage()}"
        parts = " ".join(f"{k}={v}" for k, v in entry["fields"].items())
        return f"[{entry['t']:9.3f}] {entry['source']:<12} {entry['kind']:<8} {parts}".rstrip()


@contextmanager
def capture(
    stream: IO[str] | None = None,
    path: Path | None = None,
    level: int = logging.INFO,
    console: bool = False,
) -> Iterator[logging.Logger]:
    """Attach a JSON-lines (or console) handler to the session logger for the duration of a run.

    A JSON-lines file (``path``) starts with the format header (``docs/session-log.md``); a
    ``stream`` gets the records only."""
    logger = logging.getLogger(LOGGER_NAME)
    handler: logging.Handler
    if path is not None:
        opener = logging.FileHandler if console else SessionLogFileHandler  # a JSON-lines file starts with the header
        handler = opener(path, mode="w", encoding="utf-8")
    else:
        handler = logging.StreamHandler(stream)
    handler.setFormatter(ConsoleFormatter() if console else JsonLinesFormatter())
    handler.setLevel(level)
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(min(level, old_level) if old_level else level)
    logger.propagate = False
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        handler.close()
        logger.setLevel(old_level)
        logger.propagate = old_propagate
