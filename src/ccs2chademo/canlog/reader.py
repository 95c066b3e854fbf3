"""One entry point for every CAN log we meet: :class:`CanLog` yields :class:`can.Message`.

Formats (:func:`detect_format`): the first line decides for our two text formats — SavvyCAN CSV
(its header) and the Arduino text (``Rcvd msgID:``) — whatever the extension; everything else goes
to python-can's reader for the extension (``.log`` candump, ``.asc``, ``.blf``, ``.csv``,
``.trc``, ``.mf4``, ``.db``, each optionally ``.gz``).

A log is a file, or bytes already in memory (an archive member, an upload, standard input): the
same readers read both, from a stream this module opens.  python-can's reader class is taken from
its table of built-in formats (``can.io.player.MESSAGE_READERS``) rather than through
``can.LogReader``, which scans every installed distribution's entry points for reader plugins on
each call — 12 ms per log here, more than reading a small log takes.

Bad lines (policy, docs/can-logs.md): a real log with one corrupt row must still decode, so by
default a line that does not parse is **skipped**, counted in :attr:`CanLog.skipped` and logged as
a warning (the first few individually, then a summary).  ``strict=True`` raises
:class:`CanLogError` with the file and line number instead.  This holds for the SavvyCAN, Arduino
and candump readers, which work line by line; python-can's other readers cannot resume after an
error, so a failure there always raises :class:`CanLogError` (with the number of frames read).
"""

from __future__ import annotations

import gzip
import io
import locale
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TextIO, cast

import can
from can.io.generic import FileIOMessageReader, MessageReader, TextIOMessageReader

from . import arduino, blf, savvycan
from .lines import OVERLONG, LineFeed, numbered_lines

logger = logging.getLogger(__name__)

# Format names of our own readers; python-can's formats are named by their extension
# (``".asc"``, ``".log.gz"`` …).
SAVVYCAN = "savvycan"
ARDUINO = "arduino"

#: Individual warnings per file before only the count is reported.
WARN_LINES = 5

#: Largest log read from a file object into memory.
MAX_MEMORY_LOG = 512 * 1024 * 1024

#: The name of an in-memory log that has none.
MEMORY = "<memory>"


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
            head = file.read(256)
    except OSError as exc:
        raise CanLogError(path, None, f"cannot read: {exc.strerror or exc}") from None
    return _format(head, path)


def _format(head: bytes, name: Path) -> str:
    """:func:`detect_format` of a log that starts with ``head`` and is called ``name``."""
    text = head[:256].decode("latin-1").removeprefix("\xef\xbb\xbf")
    if savvycan.is_header(text):
        return SAVVYCAN
    if text.startswith(arduino.MARKER):
        return ARDUINO
    suffix = python_can_suffix(name)
    if suffix is None:
        raise CanLogError(name, None, "unknown log format (not SavvyCAN CSV or Arduino text, and no "
                                      f"python-can extension among {sorted(can.io.player.MESSAGE_READERS)})")
    return suffix


def _read_into_memory(file: BinaryIO, name: Path) -> bytes:
    try:
        data = file.read(MAX_MEMORY_LOG + 1)
    except OSError as exc:
        raise CanLogError(name, None, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_MEMORY_LOG:
        raise CanLogError(name, None, f"larger than {MAX_MEMORY_LOG} bytes: read it from a file")
    return data


class CanLog:
    """The frames of one log, in file order.  Iterating again re-reads it.

    ``source`` is a file's path, or the log in memory: ``bytes``, or a binary file object read to
    its end once (at most :data:`MAX_MEMORY_LOG` bytes).  ``name`` (default: a file object's own
    name, else ``"<memory>"``) stands for an in-memory log's path in errors and warnings, and its
    extension picks python-can's reader as a file's would (``"upload.blf"``); SQLite ``.db`` logs
    are read from files only.
    """

    def __init__(self, source: Path | str | bytes | BinaryIO, *, strict: bool = False,
                 name: str | None = None) -> None:
        self.strict = strict
        #: the log's content when it was given in memory (None: read from :attr:`path`)
        self._data: bytes | None = None
        if isinstance(source, Path | str):
            self.path = Path(source)
            self.format = detect_format(self.path)
        else:
            own_name = getattr(source, "name", None)
            self.path = Path(name or (own_name if isinstance(own_name, str) else MEMORY))
            self._data = source if isinstance(source, bytes) else _read_into_memory(source, self.path)
            self.format = _format(self._data, self.path)
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
                yield from self._parsed(numbered_lines(self._open()), arduino.parse_line)
            elif self.format == ".log":
                yield from self._candump()
            else:
                yield from self._python_can()
        except OSError as exc:
            raise CanLogError(self.path, None, f"cannot read: {exc.strerror or exc}") from None
        if self.skipped:
            logger.warning("%s: skipped %d bad line(s)", self.path, self.skipped)

    def _open(self, *, gunzip: bool = False) -> BinaryIO:
        """A fresh binary stream of the log (``gunzip``: of its decompressed content)."""
        if self._data is None:
            return cast(BinaryIO, gzip.open(self.path, "rb")) if gunzip else self.path.open("rb")
        memory = io.BytesIO(self._data)
        return cast(BinaryIO, gzip.GzipFile(fileobj=memory, mode="rb")) if gunzip else memory

    # -- line-oriented readers --------------------------------------------------------------
    def _savvycan(self) -> Iterator[can.Message]:
        first = savvycan.restart_line(numbered_lines(self._open()))
        lines = numbered_lines(self._open())
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
        feed = LineFeed(numbered_lines(self._open()))
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
                with self._open() as file:
                    blf.check(file)  # python-can would loop forever on some corrupt files
            except blf.BlfObjectError as exc:
                raise CanLogError(self.path, None, f"{self.format} reader refused the file: {exc}") from None
        try:
            reader = self._python_can_reader()
        except CanLogError:
            raise
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

    def _python_can_reader(self) -> MessageReader:
        """python-can's reader of :attr:`format` over a stream of the log (as ``can.LogReader``
        opens a file: text in the locale's encoding, ``.gz`` decompressed on the fly)."""
        gz = self.format.endswith(".gz")
        reader_type = can.io.player.MESSAGE_READERS[self.format.removesuffix(".gz")]
        if not issubclass(reader_type, FileIOMessageReader):  # SQLite: a database, not a stream
            if self._data is not None or gz:
                raise CanLogError(self.path, None, f"a {self.format} log is read from an uncompressed file only")
            return reader_type(file=self.path)
        binary = self._open(gunzip=gz)
        try:
            if issubclass(reader_type, TextIOMessageReader):
                return reader_type(file=io.TextIOWrapper(binary, encoding=locale.getpreferredencoding(False)))
            return reader_type(file=binary)
        except BaseException:
            binary.close()
            raise
