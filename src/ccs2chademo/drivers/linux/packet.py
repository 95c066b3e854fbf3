"""Raw Ethernet for SLAC: an AF_PACKET socket for ethertype 0x88E1 on one interface (asyncio).

Why AF_PACKET and not a UDP socket: SLAC and the modem's management messages are HomePlug AV
MMEs directly on Ethernet (ccs-ev.md §2), with no IP.  The port speaks the events of the virtual
:class:`~ccs2chademo.sim.nic.RawView`: ``SendFrame(frame)`` out (the whole Ethernet frame, as the
machines build it) and ``FrameReceived(frame, source=<sender MAC>)`` in.  The kernel also hands a
packet socket the frames this host sends (``PACKET_OUTGOING``); those are dropped, so a machine
never hears itself, as on a real modem link.  Needs ``CAP_NET_RAW``.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from ...homeplug.frames import ETHERTYPE
from ...runtime.core import LinkError, Port
from ...runtime.events import FrameReceived, SendCan, SendData, SendFailed, SendFrame

logger = logging.getLogger(__name__)

PACKET_OUTGOING = 4  # linux/if_packet.h
MAX_FRAME = 1518


class PacketPort(Port):
    """HomePlug frames in and out of ``iface``; :meth:`start` inside the loop, :meth:`shutdown` at the end."""

    def __init__(self, loop: asyncio.AbstractEventLoop, iface: str, ethertype: int = ETHERTYPE) -> None:
        super().__init__()
        self.loop = loop
        self.iface = iface
        self.ethertype = ethertype
        self.sock: socket.socket | None = None
        self.sent = 0
        self.received = 0

    def start(self) -> None:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(self.ethertype))
        try:
            sock.bind((self.iface, self.ethertype))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.sock = sock
        self.loop.add_reader(sock.fileno(), self._readable)

    def _readable(self) -> None:
        assert self.sock is not None
        while True:
            try:
                frame, addr = self.sock.recvfrom(MAX_FRAME)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                logger.warning("%s: receive failed: %s", self.iface, exc)
                return
            if addr[2] == PACKET_OUTGOING or len(frame) < 14:
                continue
            self.received += 1
            self.emit(FrameReceived(self.link, frame, frame[6:12]))

    def transmit(self, action: SendData | SendFrame | SendCan) -> None:
        if not isinstance(action, SendFrame):
            raise LinkError(f"{self.link!r} carries Ethernet frames: send SendFrame")
        if self.sock is None:
            self.loop.call_soon(self.emit, SendFailed(self.link, "socket not started"))
            return
        frame = action.frame
        if len(frame) < 60:
            frame = frame + bytes(60 - len(frame))  # Ethernet minimum, as a NIC would pad
        try:
            self.sock.send(frame)
            self.sent += 1
        except OSError as exc:  # interface down, carrier lost: the machine retries on its timer
            self.loop.call_soon(self.emit, SendFailed(self.link, str(exc)))

    def shutdown(self) -> None:
        if self.sock is not None:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
