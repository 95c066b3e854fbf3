"""Raw Ethernet port for HomePlug management frames: AF_PACKET bound to one interface and 0x88E1.

No libpcap: the kernel filters by ethertype, asyncio watches the descriptor
(``loop.add_reader``).  Frames we sent ourselves come back on packet sockets as
``PACKET_OUTGOING`` and are dropped, so two sockets in one process do not hear each other's
output.  Send errors (a modem rebooting takes the carrier down: ``ENETDOWN``, ``ENOBUFS``)
become ``SendFailed`` events, never exceptions.
"""

from __future__ import annotations

import asyncio
import socket

from ...homeplug.frames import ETHERTYPE, MIN_FRAME
from ...runtime.core import LinkError, Port
from ...runtime.events import FrameReceived, SendCan, SendData, SendFailed, SendFrame
from . import iface

MAX_FRAME = 1514


class RawEthernetPort(Port):
    """``SendFrame(frame)`` out (padded to 60 bytes), ``FrameReceived(frame, source=src MAC)`` in."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ifname: str, ethertype: int = ETHERTYPE) -> None:
        super().__init__()
        self.loop = loop
        self.ifname = ifname
        self.ethertype = ethertype
        self.sock: socket.socket | None = None
        self.mac = b""
        self.received = 0
        self.sent = 0

    def start(self) -> None:
        """Open and bind the socket; raises :class:`~.iface.NetDriverError` subclasses."""
        iface.index(self.ifname)
        try:
            # protocol 0 until bound: a packet socket opened with 0x88E1 would hear that ethertype
            # on every interface until bind() narrows it to ours (packet(7)); with 0 it hears
            # nothing, and bind() sets interface and protocol together
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except OSError as exc:
            raise iface.translate(exc, "opening a raw packet socket", self.ifname) from None
        try:
            sock.bind((self.ifname, self.ethertype))
        except OSError as exc:
            sock.close()
            raise iface.translate(exc, "binding a raw packet socket", self.ifname) from None
        sock.setblocking(False)
        self.sock = sock
        self.mac = bytes(sock.getsockname()[4])
        self.loop.add_reader(sock.fileno(), self._readable)

    def shutdown(self) -> None:
        if self.sock is not None:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None

    def _readable(self) -> None:
        sock = self.sock
        while sock is not None:
            try:
                frame, address = sock.recvfrom(MAX_FRAME + 4)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self.emit(SendFailed(self.link, f"receive failed: {exc}"))
                return
            if address[2] == socket.PACKET_OUTGOING:
                continue
            self.received += 1
            self.emit(FrameReceived(self.link, frame, frame[6:12]))
            sock = self.sock

    def transmit(self, action: SendData | SendFrame | SendCan) -> None:
        if not isinstance(action, SendFrame):
            raise LinkError(f"{self.link!r} is a raw Ethernet port: send SendFrame")
        frame = action.frame
        if len(frame) < MIN_FRAME:
            frame += bytes(MIN_FRAME - len(frame))
        if self.sock is None:
            self.loop.call_soon(self.emit, SendFailed(self.link, "socket not started"))
            return
        try:
            self.sock.send(frame)
            self.sent += 1
        except OSError as exc:
            self.loop.call_soon(self.emit, SendFailed(self.link, str(exc)))
