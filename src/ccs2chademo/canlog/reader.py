"""One entry point for every CAN log we meet: :class:`CanLog` yields :class:`can.Message`.

Formats (:func:`detect_format`): the first line decides for our two text formats — SavvyCAN CSV
(its header) and the Arduino text (``Rcvd msgID:``) — whatever the extension; everything else goes
to python-can's reader for the extension (``.log`` candump, ``.asc``, ``.blf``, ``.csv``,
``.trc``, ``.mf4``, ``.db``, each optionally ``.gz``).

Bad lines (policy, docs/can-logs.md): a real log with one corrupt row must still decode, so by
default a line that does not parse is **skipped**, counted in :attr:`CanLog.skipped` and logged as
a warning (the first few individually, then a summary).  ``strict=True`` raises
:class:`CanLogError` with the file and line number instead.  This holds for the SavvyCAN, Arduino
and candump readers, which work line by line; python-can's other readers cannot resume after an
error, so a failure there always raises :class:`CanLogError` (with the number of frames read).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO, cast

import can

from . import arduino, blf, savvycan
from .lines import OVERLONG, LineFeed, numbered_lines

logger = logging.getLogger(__name__)

# Format names of our own readers; python-can's formats are named by their extension
# (``".asc"``, ``".log.gz"`` …).
SAVVYCAN = "savvycan"
ARDUINO = "arduino"

#: Individual warnings per file before only the count is reported.
WARN_LINES = 5


class CanLogError(ValueError):
    """A log that cannot be read (or, with ``strict``, a bad line), with file and line number."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {reason}")


def python_can_suffix(path: Path) -> str | None:
    """The python-can reader key of ``path`` (``".blf"``, ``".asc.gz"`` …), ``None`` if none."""
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    inner = suffixes[-2] if gz and len(suffixes) > 1 else (suffixes[-1] if suffixes and not gz else "")
    if inner not in can.io.player.MESSAGE_READERS:
        return None
    return inner + ".gz" if gz else inner


def detect_format(path: Path) -> str:
    """``"savvycan"``, ``"arduino"`` or a python-can extension; :class:`CanLogError` if unknown."""
    try:
        with path.open("rb") as file:
            head = file.read(256).decode("latin-1").removeprefix("\xef\xbb\xbf")
    except OSError as exc:
        raise CanLogError(path, None, f"cannot read: {exc.strerror or exc}") from None
    if savvycan.is_header(head):
        return SAVVYCAN
    if head.startswith(arduino.MARKER):
        return ARDUINO
    suffix = python_can_suffix(path)
    if suffix is None:
        raise CanLogError(path, None, "unknown log format (not SavvyCAN CSV or Arduino text, and no "
                                      f"python-can extension among {sorted(can.io.player.MESSAGE_READERS)})")
    return suffix


class CanLog:
    """The frames of one log file, in file order.  Iterating again re-reads the file."""

    def __init__(self, path: Path | str, *, strict: bool = False) -> None:
        self.path = Path(path)
        self.strict = strict
        self.format = detect_format(self.path)
        #: Lines that did not parse (skipped) in the last pass.
        self.skipped = 0
        #: Rows dropped because the logger's time restarted after them (SavvyCAN).
        self.dropped = 0

    def __iter__(self) -> Iterator[can.Message]:
        self.skipped = 0
        self.dropped = 0
        try:
            if self.format == SAVVYCAN:
                yield from self._savvycan()
            elif self.format == ARDUINO:
                yield from self._parsed(numbered_lines(self.path), arduino.parse_line)
            elif self.format == ".log":
                yield from self._candump()
            else:
                yield from self._python_can()
        except OSError as exc:
            raise CanLogError(self.path, None, f"cannot read: {exc.strerror or exc}") from None
        if self.skipped:
            logger.warning("%s: skipped %d bad line(s)", self.path, self.skipped)

    # -- line-oriented readers --------------------------------------------------------------
    def _savvycan(self) -> Iterator[can.Message]:
        first = savvycan.restart_line(numbered_lines(self.path))
        lines = numbered_lines(self.path)
        if first is not None:
            for lineno, line in lines:
                if line.strip() and not savvycan.is_header(line):
                    self.dropped += 1
                if lineno + 1 == first:
                    break
            logger.warning("%s: logger time restarts at line %d; dropped the %d row(s) before it",
                           self.path, first, self.dropped)
        yield from self._parsed(lines, savvycan.parse_row, skip=savvycan.is_header)

    def _parsed(self, lines: Iterator[tuple[int, str]], parse: Callable[[str], can.Message],
                skip: Callable[[str], bool] | None = None) -> Iterator[can.Message]:
        for lineno, line in lines:
            if not line.strip() or (skip is not None and skip(line)):
                continue
            try:
                if line == OVERLONG:
                    raise ValueError("overlong line")
                message = parse(line)
            except ValueError as exc:
                self._bad(lineno, str(exc))
                continue
            yield message

    def _candump(self) -> Iterator[can.Message]:
        """python-can's candump reader, re-created after each line it rejects."""
        feed = LineFeed(numbered_lines(self.path))
        while True:
            try:
                # the reader only iterates its file; LineFeed provides exactly that
                yield from can.CanutilsLogReader(file=cast(TextIO, feed))
                return
            except (ValueError, IndexError) as exc:  # python-can's own errors on a malformed line
                self._bad(feed.lineno, f"not a candump line: {exc}")

    def _bad(self, lineno: int, reason: str) -> None:
        if self.strict:
            raise CanLogError(self.path, lineno, reason)
        self.skipped += 1
        if self.skipped <= WARN_LINES:
            logger.warning("%s:%d: skipped: %s", self.path, lineno, reason)

    # -- python-can's binary and structured readers -----------------------------------------
    def _python_can(self) -> Iterator[can.Message]:
        count = 0
        if self.format == ".blf":
            try:
                blf.check(self.path)  # python-can would loop forever on some corrupt files
            except blf.BlfObjectError as exc:
                raise CanLogError(self.path, None, f"{self.format} reader refused the file: {exc}") from None
        try:
            reader = can.LogReader(self.path)
        except Exception as exc:  # python-can raises assorted types on a file it cannot open
            raise CanLogError(self.path, None, f"{self.format} reader failed: {exc}") from None
        try:
            for message in reader:
                count += 1
                yield message
        except Exception as exc:  # struct.error, ValueError, zlib.error … from a corrupt file
            raise CanLogError(self.path, None, f"{self.format} reader failed after {count} frames: {exc}") from None
        finally:
            reader.stop()
