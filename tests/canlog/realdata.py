"""The CHAdeMO logs of ``shared/data/chademo`` read and decoded once per test process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from ccs2chademo.canlog import CanLog
from ccs2chademo.canlog.decode import DecodedFrame, decode_messages

from ..conftest import shared_data

#: IDs the data README counts as CHAdeMO (car, charger, Leaf's 0x202 and 0x700).
CHADEMO_IDS = frozenset({0x100, 0x101, 0x102, 0x103, 0x108, 0x109, 0x110, 0x118,
                         0x200, 0x201, 0x202, 0x208, 0x209, 0x700})


@dataclass
class Decoded:
    log: CanLog
    frames: list[DecodedFrame]

    def of(self, name: str) -> list[DecodedFrame]:
        return [f for f in self.frames if f.name == name and f.error is None]

    def values(self, name: str, signal: str) -> list[Any]:
        return [f.signals[signal] for f in self.of(name)]

    def changes(self, name: str, signal: str) -> list[Any]:
        """The value sequence with repeats collapsed (``[240, 240, 100]`` → ``[240, 100]``)."""
        out: list[Any] = []
        for value in self.values(name, signal):
            if not out or out[-1] != value:
                out.append(value)
        return out

    def status_109(self) -> list[int]:
        """0x109 byte 5 rebuilt from the DBC's bits, repeats collapsed (README hex sequences)."""
        bits = ("charging", "charger_malfunction", "connector_locked", "battery_incompatible",
                "system_malfunction", "stop_control")
        out: list[int] = []
        for frame in self.of("ChargerStatus"):
            byte = sum(int(frame.signals[b]) << i for i, b in enumerate(bits))
            if not out or out[-1] != byte:
                out.append(byte)
        return out

    def first(self, name: str) -> float:
        return self.of(name)[0].t


@cache
def decoded(relative: str) -> Decoded:
    log = CanLog(shared_data("chademo", *relative.split("/")))
    return Decoded(log, list(decode_messages(log)))
