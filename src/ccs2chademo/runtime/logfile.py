"""Session log files: every file the JSON-lines session log is written to starts with the header.

The header (:func:`~ccs2chademo.runtime.logkinds.header_record`, kind ``session-log``) names the
format and its version (``docs/session-log.md``).  These handlers write it whenever they open their
file: at the start of a run (``ccs2chademo simulate --out``, ``ccs-sim --out``, ``run``) and, for
the rotated log of ``ccs2chademo run``, at the top of every file after a rollover — so every file
can be read on its own.  Appending a run to an existing rotated file writes it again, which also
marks where session time starts again at 0.
"""

from __future__ import annotations

import json
import logging
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler

from .logkinds import header_record

#: The first line of every session log file.
HEADER_LINE = json.dumps(header_record(), separators=(",", ":"))


class SessionLogFileHandler(logging.FileHandler):
    """A :class:`logging.FileHandler` that writes the header line first."""

    def _open(self) -> TextIOWrapper:
        stream = super()._open()
        stream.write(HEADER_LINE + self.terminator)
        return stream


class RotatingSessionLogHandler(RotatingFileHandler):
    """A :class:`RotatingFileHandler` that writes the header line first in every file."""

    def _open(self) -> TextIOWrapper:
        stream = super()._open()
        stream.write(HEADER_LINE + self.terminator)
        return stream
