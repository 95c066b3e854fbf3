"""Writing frames in any of python-can's log formats, chosen by the output file's extension."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from pathlib import Path

import can

from .reader import CanLogError, python_can_suffix


def write_log(messages: Iterable[can.Message], path: Path | str) -> int:
    """Write ``messages`` to ``path`` (``.log`` candump, ``.asc``, ``.blf``, ``.csv``, ``.trc`` …);
    returns the number written.  :class:`CanLogError` for an extension python-can cannot write.

    A log whose clock starts below zero (SavvyCAN's negative logger time) is shifted to start at
    0 s: only time differences carry meaning, and BLF stores times as unsigned offsets from the
    first frame, so python-can would garble the first frames of such a log.
    """
    path = Path(path)
    suffix = python_can_suffix(path)
    if suffix is None or suffix.removesuffix(".gz") not in can.io.logger.MESSAGE_WRITERS:
        raise CanLogError(path, None, "cannot write this format; use one of "
                                      f"{sorted(can.io.logger.MESSAGE_WRITERS)} (optionally .gz)")
    count = 0
    with can.Logger(path) as writer:
        for message in _non_negative(messages):
            writer.on_message_received(message)
            count += 1
    return count


def _non_negative(messages: Iterable[can.Message]) -> Iterator[can.Message]:
    offset: float | None = None
    for message in messages:
        if offset is None:
            offset = -message.timestamp if message.timestamp < 0 else 0.0
        if offset:
            message = copy.copy(message)
            message.timestamp += offset
        yield message
