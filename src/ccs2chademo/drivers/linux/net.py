"""TCP and UDP ports over the kernel's sockets (asyncio), for :class:`AsyncRuntime`.

They speak the same events as the virtual :mod:`ccs2chademo.runtime.links`: ``LinkUp``,
``DataReceived``, ``LinkDown("closed" | "reset" | "error: …")`` for streams, ``FrameReceived``
with the sender's address for datagrams.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from ...runtime.core import LinkError, Port
from ...runtime.events import (
    Address,
    DataReceived,
    FrameReceived,
    LinkDown,
    LinkUp,
    SendCan,
    SendData,
    SendFailed,
    SendFrame,
)
from .iface import with_scope


class _StreamProtocol(asyncio.Protocol):
    def __init__(self, port: _TcpPort) -> None:
        self.port = port
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.port._connected(self)

    def data_received(self, data: bytes) -> None:
        self.port.emit(DataReceived(self.port.link, data))

    def eof_received(self) -> bool:
        return False  # close our side too: a FIN from the peer ends the session

    def connection_lost(self, exc: Exception | None) -> None:
        self.port._lost(self, exc)


class _TcpPort(Port):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self._proto: _StreamProtocol | None = None
        self._closing = False

    def transmit(self, action: SendData | SendFrame | SendCan) -> None:
        if not isinstance(action, SendData):
            raise LinkError(f"{self.link!r} is a TCP stream: send SendData")
        if self._proto is None or self._proto.transport is None or self._proto.transport.is_closing():
            self.loop.call_soon(self.emit, SendFailed(self.link, "not connected"))
            return
        self._proto.transport.write(action.data)

    def close(self, abort: bool) -> None:
        proto, self._proto = self._proto, None
        if proto is not None and proto.transport is not None:
            self._closing = True
            if abort:
                proto.transport.abort()
            else:
                proto.transport.close()

    def _connected(self, proto: _StreamProtocol) -> None:
        self._proto = proto
        self._closing = False
        assert proto.transport is not None
        self.emit(LinkUp(self.link, peer=proto.transport.get_extra_info("peername")))

    def _lost(self, proto: _StreamProtocol, exc: Exception | None) -> None:
        if self._closing and self._proto is None:
            self._closing = False
            return  # we closed it: no event
        if proto is self._proto:
            self._proto = None
        reason = "closed" if exc is None else ("reset" if isinstance(exc, ConnectionResetError) else f"error: {exc}")
        self.emit(LinkDown(self.link, reason))


class TcpClientPort(_TcpPort):
    """Connects on ``OpenLink(target=(host, port[, flowinfo, scope_id]))``.

    With ``scope_id`` (the interface index) a link-local IPv6 target without one gets it, so a
    machine can connect to the address SDP announced without knowing interface names.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, family: int = socket.AF_UNSPEC, scope_id: int = 0) -> None:
        super().__init__(loop)
        self.family = family
        self.scope_id = scope_id

    def open(self, target: Address) -> None:
        if not isinstance(target, tuple) or len(target) < 2:
            raise LinkError(f"{self.link!r}: open needs a (host, port) target, got {target!r}")
        self.loop.create_task(self._connect(with_scope(target, self.scope_id)))

    async def _connect(self, target: tuple[Any, ...]) -> None:
        try:
            if len(target) > 2:  # IPv6 with scope id: connect an explicit socket
                sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                sock.setblocking(False)
                await self.loop.sock_connect(sock, target)
                await self.loop.create_connection(lambda: _StreamProtocol(self), sock=sock)
            else:
                await self.loop.create_connection(lambda: _StreamProtocol(self), target[0], target[1],
                                                  family=self.family)
        except OSError as exc:
            reason = "refused" if isinstance(exc, ConnectionRefusedError) else f"error: {exc}"
            self.emit(LinkDown(self.link, reason))


class TcpServerPort(_TcpPort):
    """Listens on ``(host, port)``; each accepted connection replaces the previous one."""

    def __init__(self, loop: asyncio.AbstractEventLoop, host: str, port: int) -> None:
        super().__init__(loop)
        self.host = host
        self.port = port
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await self.loop.create_server(lambda: _StreamProtocol(self), self.host, self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    def _connected(self, proto: _StreamProtocol) -> None:
        if self._proto is not None and self._proto.transport is not None:
            self._closing = True
            self._proto.transport.close()
        super()._connected(proto)

    def shutdown(self) -> None:
        if self.server is not None:
            self.server.close()


class _DatagramProtocol(asyncio.DatagramProtocol):
    def __init__(self, port: UdpPort) -> None:
        self.port = port

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.port.emit(FrameReceived(self.port.link, data, addr))

    def error_received(self, exc: Exception) -> None:
        self.port.emit(SendFailed(self.port.link, str(exc)))


class UdpPort(Port):
    """A UDP socket bound to ``local``; ``SendFrame.dest`` is the ``(host, port)`` to send to."""

    def __init__(self, loop: asyncio.AbstractEventLoop, local: tuple[Any, ...] | None = None,
                 sock: socket.socket | None = None) -> None:
        super().__init__()
        self.loop = loop
        self.local = local
        self.sock = sock
        self.transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        if self.sock is not None:
            self.transport, _ = await self.loop.create_datagram_endpoint(lambda: _DatagramProtocol(self),
                                                                         sock=self.sock)
        else:
            self.transport, _ = await self.loop.create_datagram_endpoint(lambda: _DatagramProtocol(self),
                                                                         local_addr=self.local)
        self.local = self.transport.get_extra_info("sockname")

    def transmit(self, action: SendData | SendFrame | SendCan) -> None:
        if not isinstance(action, SendFrame):
            raise LinkError(f"{self.link!r} is a UDP socket: send SendFrame")
        if self.transport is None:
            self.loop.call_soon(self.emit, SendFailed(self.link, "socket not started"))
            return
        try:
            self.transport.sendto(action.frame, self._destination(action.dest))
        except OSError as exc:
            self.loop.call_soon(self.emit, SendFailed(self.link, str(exc)))

    def _destination(self, dest: Address) -> Any:
        """The socket address a ``SendFrame.dest`` is sent to (as given, here)."""
        return dest

    def shutdown(self) -> None:
        if self.transport is not None:
            self.transport.close()
