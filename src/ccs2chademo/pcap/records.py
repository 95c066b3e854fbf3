"""What extraction yields: V2G messages with their schema, and raw SDP / HomePlug frames."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .reader import Frame

Direction = Literal["ev->evse", "evse->ev"]
EV_TO_EVSE: Direction = "ev->evse"
EVSE_TO_EV: Direction = "evse->ev"
RawKind = Literal["homeplug", "sdp"]


@dataclass(frozen=True, slots=True)
class V2gRecord:
    """One V2GTP EXI message, timed by the frame that completed it."""

    time: float  #: capture timestamp in seconds since the Unix epoch (UTC)
    frame: int  #: 1-based number of the frame that completed the message
    connection: int  #: 0-based index of the TCP connection in the capture
    direction: Direction
    schema: str | None  #: "apphand", "din", "iso2", "iso20-cm", "iso20-dc" …, or None when no rule could tell
    payload: bytes  #: the EXI document (V2GTP header stripped)

    @property
    def hex(self) -> str:
        return self.payload.hex()


@dataclass(frozen=True, slots=True)
class RawRecord:
    """An SDP datagram (``data`` = UDP payload, V2GTP header included) or a HomePlug frame
    (``data`` = the whole Ethernet frame, as SLAC offsets count from its start, ccs-ev.md §2.1)."""

    kind: RawKind
    frame: Frame
    data: bytes

    @property
    def time(self) -> float:
        return self.frame.time

    @property
    def hex(self) -> str:
        return self.data.hex()
