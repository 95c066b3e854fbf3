"""What both runtimes share: binding machines to ports, carrying out actions, logging.

A :class:`Port` is one end of a link as a machine sees it (a TCP connection, a station on a
shared Ethernet medium, a node on a CAN bus).  The virtual world and the wall-clock world offer
ports with the same interface, so a machine is wired the same way in a simulation and on Linux.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from mypy_extensions import mypyc_attr

from .events import (
    Action,
    Address,
    CanFrame,
    CanReceived,
    CloseLink,
    DataReceived,
    Event,
    FrameReceived,
    Log,
    OpenLink,
    SendCan,
    SendData,
    SendFrame,
    SetOutput,
)
from .machine import Machine, MachineBase, machine_base
from .sessionlog import SessionLog

if TYPE_CHECKING:
    from .virtual import QueueEntry

logger = logging.getLogger(__name__)

Deliver = Callable[[Event], None]
OutputSink = Callable[[str, Any, float], None]


@mypyc_attr(native_class=False)  # compiled classes cannot derive from RuntimeError
class LinkError(RuntimeError):
    """A link cannot do what was asked (unknown link, open on a datagram medium, …)."""


@mypyc_attr(allow_interpreted_subclasses=True)  # Linux ports live in pure-Python modules
class Port(ABC):
    """One machine's end of a link.  Subclasses deliver events through ``self._deliver``."""

    def __init__(self) -> None:
        self.link = ""
        self._deliver: Deliver | None = None

    def bind(self, link: str, deliver: Deliver) -> None:
        self.link = link
        self._deliver = deliver

    def emit(self, event: Event) -> None:
        if self._deliver is not None:
            self._deliver(event)

    @abstractmethod
    def transmit(self, action: SendData | SendFrame | SendCan) -> None: ...

    def open(self, target: Address) -> None:
        raise LinkError(f"link {self.link!r} cannot be opened")

    def close(self, abort: bool) -> None:
        raise LinkError(f"link {self.link!r} cannot be closed")


@dataclass(eq=False)
class Slot:
    """A machine as the runtime holds it: its ports, its output sink and its timer bookkeeping.

    ``machine`` is held as a :class:`MachineBase` (:func:`~.machine.machine_base`): compiled, the
    runtime's calls per event (``receive`` or ``handle_timer``, ``actions``, ``get_timer``) are then
    vtable calls."""

    machine: MachineBase
    ports: dict[str, Port]
    on_output: OutputSink | None
    deadline: float | None = None
    #: virtual runtime: the entry (time ns, sequence) the timer fires at, and this slot's entries in
    #: the queue (``runtime/virtual.py``: a moved deadline keeps its entry)
    due: QueueEntry | None = None
    queued: list[QueueEntry] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


def frame_fields(action: SendData | SendFrame | SendCan) -> dict[str, Any]:
    if isinstance(action, SendCan):
        return can_fields(action.link, action.frame)
    data = action.data if isinstance(action, SendData) else action.frame
    return {"link": action.link, "data": data}


def can_fields(link: str, frame: CanFrame) -> dict[str, Any]:
    return {"link": link, "id": f"0x{frame.arbitration_id:03x}", "data": frame.data}


@mypyc_attr(allow_interpreted_subclasses=True)  # AsyncRuntime is not compiled
class Runtime(ABC):
    """Drives machines: delivers events, carries out actions, keeps each machine's timer armed."""

    def __init__(self, log: SessionLog | None = None) -> None:
        self.log = log or SessionLog()
        self.slots: dict[str, Slot] = {}

    # -- wiring -----------------------------------------------------------------------------
    def add(
        self,
        machine: Machine,
        ports: Mapping[str, Port] | None = None,
        on_output: OutputSink | None = None,
    ) -> Slot:
        if machine.name in self.slots:
            raise ValueError(f"a machine named {machine.name!r} is already running")
        slot = Slot(machine_base(machine), dict(ports or {}), on_output)
        self.slots[machine.name] = slot
        for link, port in slot.ports.items():
            port.bind(link, self._deliverer(slot))
        self._start(slot)
        return slot

    def _deliverer(self, slot: Slot) -> Deliver:
        def deliver(event: Event) -> None:
            self.deliver(slot, event)

        return deliver

    # -- to be provided by a concrete runtime -----------------------------------------------
    @abstractmethod
    def now(self) -> float: ...

    @abstractmethod
    def _arm(self, slot: Slot) -> None:
        """(Re)arm the timer of ``slot`` at ``slot.deadline`` (``None``: disarm)."""

    @abstractmethod
    def inject(self, name: str, event: Event) -> None:
        """Queue an event for a machine from outside (never re-entrant)."""

    def _start(self, slot: Slot) -> None:
        self._service(slot)

    def _frames_logged(self) -> bool:
        """Whether the frames a machine receives and sends are logged ("rx"/"tx" records, DEBUG).

        Asked for every event and every frame sent; a runtime may answer from what it read when
        its run began (:class:`~.virtual.VirtualRuntime`)."""
        return self.log.logger.isEnabledFor(logging.DEBUG)

    # -- the engine -------------------------------------------------------------------------
    def deliver(self, slot: Slot, event: Event) -> None:
        now = self.now()
        if self._frames_logged():
            self._log_rx(slot, event, now)
        slot.machine.receive(event, now)
        self._service(slot)

    def fire(self, slot: Slot) -> None:
        """Run a machine's timer; ``now`` is never earlier than the deadline it asked for."""
        now = self.now()
        deadline = slot.deadline
        slot.machine.handle_timer(now if deadline is None or now >= deadline else deadline)
        self._service(slot)

    def _service(self, slot: Slot) -> None:
        machine = slot.machine
        actions = machine.actions()
        if actions:
            for action in actions:  # compiled, a vtable call; a bound-method local was a Python-level call
                self._dispatch(slot, action)
        deadline = machine.get_timer()
        armed = slot.deadline
        # compiled: two floats compare in C; ``!=`` of two ``float | None`` is a generic rich comparison
        if (deadline != armed) if deadline is not None and armed is not None else deadline is not armed:
            slot.deadline = deadline
            self._arm(slot)

    def _dispatch(self, slot: Slot, action: Action) -> None:
        cls = type(action)
        if cls is SendCan or cls is SendFrame or cls is SendData:  # the hot path: frames
            send = cast(SendData | SendFrame | SendCan, action)
            port = slot.ports.get(send.link)
            if port is None:
                raise LinkError(f"machine {slot.machine.name!r} has no link {send.link!r}")
            if self._frames_logged():
                self.log.record(self.now(), slot.machine.name, "tx", frame_fields(send))
            port.transmit(send)
            return
        name = slot.machine.name
        if isinstance(action, Log):
            self.log.record(self.now(), name, action.kind, action.fields)
        elif isinstance(action, SetOutput):
            if slot.outputs.get(action.name, _UNSET) != action.value:
                slot.outputs[action.name] = action.value
                # str(): a signal name (runtime/signals.py) is logged as its value, like a free string
                self.log.record(self.now(), name, "output", {"name": str(action.name), "value": action.value})
            if slot.on_output is not None:
                slot.on_output(action.name, action.value, self.now())
        elif isinstance(action, OpenLink):
            self.log.record(self.now(), name, "open", {"link": action.link, "target": action.target})
            self._port(slot, action.link).open(action.target)
        elif isinstance(action, CloseLink):
            self.log.record(self.now(), name, "close", {"link": action.link, "abort": action.abort})
            self._port(slot, action.link).close(action.abort)
        else:  # pragma: no cover - exhaustive over Action
            raise TypeError(f"unknown action {action!r}")

    def _port(self, slot: Slot, link: str) -> Port:
        try:
            return slot.ports[link]
        except KeyError:
            raise LinkError(f"machine {slot.machine.name!r} has no link {link!r}") from None

    def _log_rx(self, slot: Slot, event: Event, now: float) -> None:
        if isinstance(event, DataReceived):
            self.log.record(now, slot.machine.name, "rx", {"link": event.link, "data": event.data})
        elif isinstance(event, FrameReceived):
            self.log.record(now, slot.machine.name, "rx", {"link": event.link, "data": event.frame})
        elif isinstance(event, CanReceived):
            self.log.record(now, slot.machine.name, "rx", can_fields(event.link, event.frame))


_UNSET = object()
