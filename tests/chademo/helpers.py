"""A minimal SavvyCAN CSV reader for the tests (the real reader lives in the log package)."""

from __future__ import annotations

from pathlib import Path

from ccs2chademo.runtime import CanFrame


def read_savvycan(path: Path) -> list[tuple[float, CanFrame]]:
    """``(seconds from the first row, frame)`` per row; bytes beyond LEN are dropped."""
    rows: list[tuple[float, CanFrame]] = []
    t0: int | None = None
    with path.open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            cells = line.rstrip().rstrip(",").split(",")
            stamp = int(cells[0])
            t0 = stamp if t0 is None else t0
            length = int(cells[5])
            data = bytes(int(cell, 16) for cell in cells[6 : 6 + length])
            rows.append(((stamp - t0) / 1e6, CanFrame(int(cells[1], 16), data)))
    return rows
