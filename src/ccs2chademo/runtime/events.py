"""Typed values that flow into machines (events) and out of them (actions).

A machine never touches the world: the runtime turns the world into *events* and carries out the
*actions* a machine returns.  Everything here is a small value record so that logs, tests and
the two runtimes (virtual and wall-clock) agree on one vocabulary.

The records are dataclasses with ``Final`` fields and a hand-written ``__init__`` rather than
``frozen=True``: mypy still rejects any assignment after construction, compiled (mypyc)
instances refuse it at run time too, and the compiled constructor is ≈25× cheaper than a frozen
dataclass's (which sets every field through ``object.__setattr__``) — the simulation builds
about a million of them per charging session.  They compare and hash by value as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

#: Opaque peer address of a datagram (an ``(host, port, …)`` tuple on Linux, a station name in
#: the simulation).  Machines that care (SDP) only echo it back.
Address = Any


@dataclass(slots=True, init=False, unsafe_hash=True)
class CanFrame:
    """One classic CAN frame; kept independent of python-can so machines stay dependency-free."""

    arbitration_id: Final[int]
    data: Final[bytes]
    is_extended_id: Final[bool]

    def __init__(self, arbitration_id: int, data: bytes, is_extended_id: bool = False) -> None:
        self.arbitration_id = arbitration_id
        self.data = data
        self.is_extended_id = is_extended_id

    @property
    def dlc(self) -> int:
        return len(self.data)


# Events and actions that carry the same fields share one record shape (and its constructor); each
# is still its own class, so an event never compares equal to the action of the same shape.


@dataclass(slots=True, init=False, unsafe_hash=True)
class _LinkBytes:
    link: Final[str]
    data: Final[bytes]

    def __init__(self, link: str, data: bytes) -> None:
        self.link = link
        self.data = data


@dataclass(slots=True, init=False, unsafe_hash=True)
class _LinkCan:
    link: Final[str]
    frame: Final[CanFrame]

    def __init__(self, link: str, frame: CanFrame) -> None:
        self.link = link
        self.frame = frame


@dataclass(slots=True, init=False, unsafe_hash=True)
class _LinkReason:
    link: Final[str]
    reason: Final[str]

    def __init__(self, link: str, reason: str) -> None:
        self.link = link
        self.reason = reason


@dataclass(slots=True, init=False, unsafe_hash=True)
class _NamedValue:
    name: Final[str]
    value: Final[Any]

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.value = value


# --------------------------------------------------------------------------------------- events


class DataReceived(_LinkBytes):
    """A chunk of a byte stream (TCP).  Chunk boundaries carry no meaning."""


@dataclass(slots=True, init=False, unsafe_hash=True)
class FrameReceived:
    """One datagram or Ethernet frame; ``source`` is set where the medium knows it (UDP)."""

    link: Final[str]
    frame: Final[bytes]
    source: Final[Address]

    def __init__(self, link: str, frame: bytes, source: Address = None) -> None:
        self.link = link
        self.frame = frame
        self.source = source


class CanReceived(_LinkCan):
    """A CAN frame heard on the bus."""


@dataclass(slots=True, init=False, unsafe_hash=True)
class LinkUp:
    """A stream link is connected (both ends receive it)."""

    link: Final[str]
    peer: Final[Address]

    def __init__(self, link: str, peer: Address = None) -> None:
        self.link = link
        self.peer = peer


class LinkDown(_LinkReason):
    """A stream link ended: ``reason`` is ``"closed"`` (FIN), ``"reset"`` (RST) or ``"error: …"``."""


class SendFailed(_LinkReason):
    """The driver could not send (modem rebooting, interface down).  Machines decide to retry."""


class InputChanged(_NamedValue):
    """A hardware or upstream input took a new value (a GPIO level, a button, a typed record)."""


Event = DataReceived | FrameReceived | CanReceived | LinkUp | LinkDown | SendFailed | InputChanged


# -------------------------------------------------------------------------------------- actions


class SendData(_LinkBytes):
    """Write bytes to a stream link."""


@dataclass(slots=True, init=False, unsafe_hash=True)
class SendFrame:
    link: Final[str]
    frame: Final[bytes]
    dest: Final[Address]

    def __init__(self, link: str, frame: bytes, dest: Address = None) -> None:
        self.link = link
        self.frame = frame
        self.dest = dest


class SendCan(_LinkCan):
    """Put a frame on a CAN bus."""


@dataclass(slots=True, init=False, unsafe_hash=True)
class OpenLink:
    """Connect a stream link (e.g. TCP to ``("fe80::1", 15118)``); answered by LinkUp/LinkDown."""

    link: Final[str]
    target: Final[Address]

    def __init__(self, link: str, target: Address = None) -> None:
        self.link = link
        self.target = target


@dataclass(slots=True, init=False, unsafe_hash=True)
class CloseLink:
    """Close a stream link: FIN when ``abort`` is false, RST when true."""

    link: Final[str]
    abort: Final[bool]

    def __init__(self, link: str, abort: bool = False) -> None:
        self.link = link
        self.abort = abort


class SetOutput(_NamedValue):
    """Drive a named output (a GPIO role such as ``"contactor"``, or a value for another machine)."""


@dataclass(slots=True, init=False, unsafe_hash=True)
class Log:
    """A decision or state change for the session log; the runtime stamps time and source."""

    kind: Final[str]
    fields: Final[dict[str, Any]]

    def __init__(self, kind: str, fields: dict[str, Any] | None = None) -> None:
        self.kind = kind
        self.fields = {} if fields is None else fields


Action = SendData | SendFrame | SendCan | OpenLink | CloseLink | SetOutput | Log
