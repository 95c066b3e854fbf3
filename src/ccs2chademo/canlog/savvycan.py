"""SavvyCAN's CSV export (``Time Stamp,ID,Extended,Dir,Bus,LEN,D1,…,D8,``).

The real exports in ``shared/data/chademo`` show the quirks handled here (data README section 2.2):

* ``Time Stamp`` is integer **microseconds** of the logger's clock; only differences matter.  It
  may be negative (still increasing), printed as an unsigned 64-bit number (≥ 2⁶³: subtract
  2⁶⁴), or **restart** (jump back and count up again) — the rows before the last restart belong
  to an earlier logging run and are dropped (:func:`restart_line` finds where it happened).
* ``Extended`` is unreliable (11-bit IDs marked ``true``): the ID value decides (> 0x7FF).
* every row ends with a trailing comma; ``LEN`` may be below 8 and the ``D`` columns beyond it
  are padding.
"""

from __future__ import annotations

from collections.abc import Iterable

import can

HEADER = "Time Stamp,ID,Extended"

_U64 = 1 << 64
_MAX_ID = 0x1FFFFFFF
_MAX_STD_ID = 0x7FF


def is_header(line: str) -> bool:
    return line.startswith(HEADER)


def micros(cell: str) -> int:
    """The logger's time in µs, unsigned-64-bit negatives folded back (2⁶⁴ − n → −n)."""
    value = int(cell)
    if not -(1 << 63) <= value < _U64:
        raise ValueError(f"time stamp {cell!r} out of 64-bit range")
    return value - _U64 if value >= 1 << 63 else value


def parse_row(line: str) -> can.Message:
    """One data row as a :class:`can.Message`; ``ValueError`` with the reason otherwise."""
    cells = line.split(",")
    if cells[-1] == "":
        cells.pop()  # the trailing comma of every row
    if len(cells) < 6:
        raise ValueError(f"expected at least 6 columns, got {len(cells)}")
    can_id = int(cells[1], 16)
    if not 0 <= can_id <= _MAX_ID:
        raise ValueError(f"ID {cells[1]!r} is not a 29-bit CAN identifier")
    dlc = int(cells[5])
    if not 0 <= dlc <= 8:
        raise ValueError(f"LEN {cells[5]!r} is not a classic CAN DLC (0..8)")
    data_cells = cells[6:6 + dlc]
    if len(data_cells) < dlc or any(len(c) != 2 for c in data_cells):
        raise ValueError(f"LEN {dlc} needs {dlc} two-digit hex data bytes")
    bus = cells[4]
    return can.Message(
        timestamp=micros(cells[0]) / 1e6,
        arbitration_id=can_id,
        is_extended_id=can_id > _MAX_STD_ID,
        dlc=dlc,
        data=bytes.fromhex("".join(data_cells)),
        is_rx=cells[3].strip().lower() != "tx",
        channel=int(bus) if bus.isdigit() else bus,
    )


def restart_line(lines: Iterable[tuple[int, str]]) -> int | None:
    """Line number of the first row after the last timestamp restart, or ``None``.

    A restart is a backward jump the following row confirms (it also lies below the time before
    the jump).  A single row out of order, after which the old series resumes, is not a restart:
    it is kept where it is.  Rows that do not parse are ignored here (the reader reports them).
    """
    last: int | None = None
    prev: int | None = None
    pending: tuple[int, int] | None = None  # (line of a backward jump, time just before it)
    for lineno, line in lines:
        try:
            stamp = micros(line.split(",", 1)[0])
        except ValueError:
            continue
        if pending is not None:
            if stamp < pending[1]:
                last = pending[0]
            pending = None
        if prev is not None and stamp < prev:
            pending = (lineno, prev)
        prev = stamp
    return last
