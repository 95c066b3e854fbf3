"""Typed values that flow into machines (events) and out of them (actions).

A machine never touches the world: the runtime turns the world into *events* and carries out the
*actions* a machine returns.  Everything here is a small frozen dataclass so that logs, tests and
the two runtimes (virtual and wall-clock) agree on one vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Opaque peer address of a datagram (an ``(host, port, …)`` tuple on Linux, a station name in
#: the simulation).  Machines that care (SDP) only echo it back.
Address = Any


@dataclass(frozen=True, slots=True)
class CanFrame:
    """One classic CAN frame; kept independent of python-can so machines stay dependency-free."""

    arbitration_id: int
    data: bytes
    is_extended_id: bool = False

    @property
    def dlc(self) -> int:
        return len(self.data)


# --------------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class DataReceived:
    """A chunk of a byte stream (TCP).  Chunk boundaries carry no meaning."""

    link: str
    data: bytes


@dataclass(frozen=True, slots=True)
class FrameReceived:
    """One datagram or Ethernet frame; ``source`` is set where the medium knows it (UDP)."""

    link: str
    frame: bytes
    source: Address = None


@dataclass(frozen=True, slots=True)
class CanReceived:
    link: str
    frame: CanFrame


@dataclass(frozen=True, slots=True)
class LinkUp:
    """A stream link is connected (both ends receive it)."""

    link: str
    peer: Address = None


@dataclass(frozen=True, slots=True)
class LinkDown:
    """A stream link ended: ``reason`` is ``"closed"`` (FIN), ``"reset"`` (RST) or ``"error: …"``."""

    link: str
    reason: str


@dataclass(frozen=True, slots=True)
class SendFailed:
    """The driver could not send (modem rebooting, interface down).  Machines decide to retry."""

    link: str
    reason: str


@dataclass(frozen=True, slots=True)
class InputChanged:
    """A hardware or upstream input took a new value (a GPIO level, a button, a typed record)."""

    name: str
    value: Any


Event = DataReceived | FrameReceived | CanReceived | LinkUp | LinkDown | SendFailed | InputChanged


# -------------------------------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class SendData:
    link: str
    data: bytes


@dataclass(frozen=True, slots=True)
class SendFrame:
    link: str
    frame: bytes
    dest: Address = None


@dataclass(frozen=True, slots=True)
class SendCan:
    link: str
    frame: CanFrame


@dataclass(frozen=True, slots=True)
class OpenLink:
    """Connect a stream link (e.g. TCP to ``("fe80::1", 15118)``); answered by LinkUp/LinkDown."""

    link: str
    target: Address = None


@dataclass(frozen=True, slots=True)
class CloseLink:
    """Close a stream link: FIN when ``abort`` is false, RST when true."""

    link: str
    abort: bool = False


@dataclass(frozen=True, slots=True)
class SetOutput:
    """Drive a named output (a GPIO role such as ``"contactor"``, or a value for another machine)."""

    name: str
    value: Any


@dataclass(frozen=True, slots=True)
class Log:
    """A decision or state change for the session log; the runtime stamps time and source."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)


Action = SendData | SendFrame | SendCan | OpenLink | CloseLink | SetOutput | Log
