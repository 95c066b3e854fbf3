"""Bounded line reading shared by the text log readers.

A log file with no line breaks (a truncated binary, a wrong file) must not be read into memory as
one giant "line": lines longer than :data:`MAX_LINE` characters are cut and reported as overlong,
and the rest of such a line is skipped in bounded chunks.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

#: No CAN log line of any supported text format comes near this (CAN FD candump: ≈ 160 chars).
MAX_LINE = 4096

#: Marks a line that was longer than :data:`MAX_LINE`; its text is dropped.
OVERLONG = "\0overlong"


def numbered_lines(binary: BinaryIO) -> Iterator[tuple[int, str]]:
    """``(line number, text without the line break)`` of a log's binary stream (closed at the end),
    counting from 1; undecodable bytes become U+FFFD so that a corrupt line fails its own parse
    instead of ending the read."""
    with io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="") as file:
        lineno = 0
        while True:
            line = file.readline(MAX_LINE)
            if not line:
                return
            lineno += 1
            if len(line) == MAX_LINE and not line.endswith("\n"):
                while (rest := file.readline(MAX_LINE)) and not rest.endswith("\n"):
                    pass
                yield lineno, OVERLONG
                continue
            yield lineno, line.rstrip("\r\n")


class LineFeed:
    """An iterator of raw lines (with ``\\n``) that remembers the number of the last one handed
    out; a python-can text reader can be re-created over it after it raised on a bad line."""

    def __init__(self, lines: Iterator[tuple[int, str]]) -> None:
        self._lines = lines
        self.lineno = 0

    def __iter__(self) -> LineFeed:
        return self

    def __next__(self) -> str:
        self.lineno, text = next(self._lines)
        return text + "\n"

    def close(self) -> None:
        """python-can closes its file at the end; the underlying file closes with its generator."""
