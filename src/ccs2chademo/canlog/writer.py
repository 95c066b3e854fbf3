"""Writing frames in any of python-can's log formats, chosen by the output file's extension."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import can

from .reader import CanLogError, python_can_suffix


def write_log(messages: Iterable[can.Message], path: Path | str) -> int:
    """Write ``messages`` to ``path`` (``.log`` candump, ``.asc``, ``.blf``, ``.csv``, ``.trc`` …);
    returns the number written.  :class:`CanLogError` for an extension python-can cannot write."""
    path = Path(path)
    suffix = python_can_suffix(path)
    if suffix is None or suffix.removesuffix(".gz") not in can.io.logger.MESSAGE_WRITERS:
        raise CanLogError(path, None, "cannot write this format; use one of "
                                      f"{sorted(can.io.logger.MESSAGE_WRITERS)} (optionally .gz)")
    count = 0
    with can.Logger(path) as writer:
        for message in messages:
            writer.on_message_received(message)
            count += 1
    return count
