"""CAN transport for :class:`~ccs2chademo.runtime.AsyncRuntime`: a runtime ``Port`` over a
python-can bus.

The bus is chosen by configuration (:class:`CanBusConfig`): ``virtual`` for simulation and tests,
``socketcan`` on the adapter's hardware, ``udp_multicast`` between processes, or any other
python-can interface.

* **Receiving**: python-can's :class:`can.Notifier` bound to the asyncio loop.  Buses with a file
  descriptor (socketcan, udp_multicast) are watched with ``loop.add_reader`` — no thread; buses
  without one (virtual) get python-can's reader thread, which hands every frame to the loop.
  Either way :class:`CanReceived` is delivered on the loop thread.
* **Sending keeps order**: a CHAdeMO charger sends 0x108, 0x109, 0x118 (0x208, 0x209) back to back
  every 100 ms and the order is required (chademo.md §2).  Frames go through one FIFO per port:
  a frame is handed to the bus only when every earlier frame has left or been given up, and a
  frame the controller has no room for is retried (non-blocking send, short sleeps) for up to
  ``send_timeout`` — the original firmware's "wait ≤ 10 ms for each frame to leave" — so nothing
  is ever reordered and the event loop is never blocked.
* **Transmit errors** (:class:`can.CanError`: no ACK, bus off, interface down): log and continue
  (chademo.md §7); the frame is dropped and the machine gets :class:`SendFailed`.  The queue is
  bounded: when it is full the oldest waiting frame is dropped the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import can

from ..runtime.core import LinkError, Port
from ..runtime.events import CanFrame, CanReceived, SendCan, SendData, SendFailed, SendFrame

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CanBusConfig:
    """Which python-can bus a port opens, and how patient its sender is."""

    interface: str = "virtual"
    channel: str = "chademo"
    bitrate: int = 500_000  # chademo.md §2 (ignored by interfaces that configure it elsewhere)
    options: Mapping[str, Any] = field(default_factory=dict)  # further can.Bus() keyword arguments
    send_timeout: float = 0.010  # per frame, waiting for room in the controller's queue
    max_queue: int = 64  # frames waiting to be sent (≈ 1 s of a CHAdeMO charger's traffic)

    def open(self) -> can.BusABC:
        return can.Bus(interface=self.interface, channel=self.channel, bitrate=self.bitrate, **self.options)


class _Listener(can.Listener):
    def __init__(self, port: CanPort) -> None:
        self.port = port

    def on_message_received(self, msg: can.Message) -> None:
        self.port._received(msg)

    def on_error(self, exc: Exception) -> None:
        logger.error("%s: receiving stopped: %s", self.port.link or self.port.bus.channel_info, exc)


class CanPort(Port):
    """One node on a python-can bus; call :meth:`start` inside the running loop, :meth:`shutdown`
    at the end (it also shuts the bus down)."""

    #: Pause between attempts to hand a frame to a full controller queue.
    RETRY_INTERVAL = 0.001

    def __init__(self, bus: can.BusABC, loop: asyncio.AbstractEventLoop, *, send_timeout: float = 0.010,
                 max_queue: int = 64) -> None:
        super().__init__()
        self.bus = bus
        self.loop = loop
        self.send_timeout = send_timeout
        self.max_queue = max_queue
        self._waiting: deque[can.Message] = deque()
        self._sender: asyncio.Task[None] | None = None
        self._notifier: can.Notifier | None = None
        self._failures = 0  # consecutive transmit failures (log the first, summarise on recovery)
        self._last_error = ""

    @classmethod
    def from_config(cls, config: CanBusConfig, loop: asyncio.AbstractEventLoop) -> CanPort:
        return cls(config.open(), loop, send_timeout=config.send_timeout, max_queue=config.max_queue)

    def start(self) -> None:
        # timeout: how often python-can's reader thread (buses without a file descriptor) checks
        # for stop(); it bounds how long shutdown() waits for that thread
        self._notifier = can.Notifier(self.bus, [_Listener(self)], timeout=0.05, loop=self.loop)

    def shutdown(self) -> None:
        if self._notifier is not None:
            self._notifier.stop()
            self._notifier = None
        if self._sender is not None:
            self._sender.cancel()
            self._sender = None
        self._waiting.clear()
        self.bus.shutdown()

    @property
    def queued(self) -> int:
        """Frames accepted but not yet handed to the bus."""
        return len(self._waiting) + (self._sender is not None)

    # -- receiving --------------------------------------------------------------------------
    def _received(self, msg: can.Message) -> None:
        if msg.is_error_frame or msg.is_remote_frame:
            logger.debug("%s: ignored %s", self.link, "error frame" if msg.is_error_frame else "remote frame")
            return
        self.emit(CanReceived(self.link, CanFrame(msg.arbitration_id, bytes(msg.data), msg.is_extended_id)))

    # -- sending ----------------------------------------------------------------------------
    def transmit(self, action: SendData | SendFrame | SendCan) -> None:
        if not isinstance(action, SendCan):
            raise LinkError(f"{self.link!r} is a CAN bus: send SendCan")
        frame = action.frame
        msg = can.Message(arbitration_id=frame.arbitration_id, data=frame.data, is_extended_id=frame.is_extended_id)
        if self._sender is None and self._try_send(msg):
            return  # the common case: nothing queued, the controller had room
        if len(self._waiting) >= self.max_queue:
            self._give_up(self._waiting.popleft(), "transmit queue full")
        self._waiting.append(msg)
        if self._sender is None:
            self._sender = self.loop.create_task(self._drain())

    def _try_send(self, msg: can.Message) -> bool:
        try:
            self.bus.send(msg, timeout=0)
        except can.CanError as exc:
            self._last_error = str(exc)
            return False
        if self._failures:
            logger.info("%s: transmitting again after %d failed frame(s)", self.link, self._failures)
            self._failures = 0
        return True

    async def _drain(self) -> None:
        """Send the waiting frames strictly in order, each retried for up to ``send_timeout``."""
        try:
            while self._waiting:
                msg = self._waiting.popleft()
                give_up = self.loop.time() + self.send_timeout
                while not self._try_send(msg):
                    if self.loop.time() >= give_up:
                        self._give_up(msg, self._last_error)
                        break
                    await asyncio.sleep(self.RETRY_INTERVAL)
        finally:
            self._sender = None

    def _give_up(self, msg: can.Message, reason: str) -> None:
        self._failures += 1
        level = logging.WARNING if self._failures == 1 else logging.DEBUG
        logger.log(level, "%s: frame 0x%03x not sent: %s", self.link, msg.arbitration_id, reason)
        self.loop.call_soon(self.emit, SendFailed(self.link, f"0x{msg.arbitration_id:03x}: {reason}"))
