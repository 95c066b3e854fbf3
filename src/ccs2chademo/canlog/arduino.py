"""The Arduino serial-monitor text of ``diy-car-177v-session.txt`` (data README section 2.2).

One frame per line, ``Rcvd msgID: 0x102; 01; B1; 00; 00; 00; 08; 28; 00  00:01:34.652``: the ID in
hex, the data bytes byte 0 first, two spaces and the logger's time of day ``hh:mm:ss.mmm``, which
becomes the timestamp in seconds (only differences matter; the logger prints in batches, so equal
stamps are normal).
"""

from __future__ import annotations

import re

import can

MARKER = "Rcvd msgID:"

_LINE = re.compile(
    r"Rcvd msgID: 0x(?P<id>[0-9A-Fa-f]{1,8})(?P<data>(?:; [0-9A-Fa-f]{2}){0,8})"
    r"\s+(?P<h>\d{1,3}):(?P<m>[0-5]\d):(?P<s>[0-5]\d\.\d{3})\s*"
)
_MAX_ID = 0x1FFFFFFF
_MAX_STD_ID = 0x7FF


def parse_line(line: str) -> can.Message:
    """One line as a :class:`can.Message`; ``ValueError`` with the reason otherwise."""
    match = _LINE.fullmatch(line)
    if match is None:
        raise ValueError("not a 'Rcvd msgID: 0x…; bytes…  hh:mm:ss.mmm' line")
    can_id = int(match["id"], 16)
    if can_id > _MAX_ID:
        raise ValueError(f"ID 0x{match['id']} is not a 29-bit CAN identifier")
    data = bytes.fromhex(match["data"].replace("; ", ""))
    return can.Message(
        timestamp=int(match["h"]) * 3600 + int(match["m"]) * 60 + float(match["s"]),
        arbitration_id=can_id,
        is_extended_id=can_id > _MAX_STD_ID,
        dlc=len(data),
        data=data,
    )
