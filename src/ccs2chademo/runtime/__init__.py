"""The sans-I/O runtime: the machine protocol, typed events/actions and the two drivers of machines.

* :class:`VirtualRuntime` — virtual time, as fast as the CPU allows, deterministic per seed;
* :class:`AsyncRuntime` — wall clock, asyncio, real ports (:mod:`ccs2chademo.drivers.linux`).

See ``docs/architecture.md`` for how to write a machine.
"""

from .core import LinkError, Port, Runtime, Slot
from .events import (
    Action,
    CanFrame,
    CanReceived,
    CloseLink,
    DataReceived,
    Event,
    FrameReceived,
    InputChanged,
    LinkDown,
    LinkUp,
    Log,
    OpenLink,
    SendCan,
    SendData,
    SendFailed,
    SendFrame,
    SetOutput,
)
from .links import ByteLink, CanBus, FrameMedium, Impairment, StationPort, StreamPort
from .machine import Machine, MachineBase
from .sessionlog import SessionLog
from .virtual import VirtualRuntime
from .wallclock import AsyncRuntime

__all__ = [
    "Action",
    "AsyncRuntime",
    "ByteLink",
    "CanBus",
    "CanFrame",
    "CanReceived",
    "CloseLink",
    "DataReceived",
    "Event",
    "FrameMedium",
    "FrameReceived",
    "Impairment",
    "InputChanged",
    "LinkDown",
    "LinkError",
    "LinkUp",
    "Log",
    "Machine",
    "MachineBase",
    "OpenLink",
    "Port",
    "Runtime",
    "SendCan",
    "SendData",
    "SendFailed",
    "SendFrame",
    "SessionLog",
    "SetOutput",
    "Slot",
    "StationPort",
    "StreamPort",
    "VirtualRuntime",
]
