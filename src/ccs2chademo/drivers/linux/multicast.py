"""IPv6 link-local UDP for SDP: ``ff02::1`` port 15118 on one interface, with its scope id.

A link-local or multicast destination means nothing without the interface, so the port fills
in the interface's scope id whenever a machine leaves it out (``SendFrame(dest=("ff02::1",
15118))`` just works).  The socket joins the group on the interface, sends multicast out of
that interface only, with the hop limit the caller asks for (cars use 10…255, ccs-ev.md §6), and does not
loop its own multicast back.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
from typing import Any

from ...runtime.events import Address
from ...v2g.sdp import MULTICAST
from . import iface
from .net import UdpPort


class MulticastUdpPort(UdpPort):
    """A UDP socket on ``ifname`` bound to ``port`` (0 = ephemeral), member of ``group``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ifname: str, port: int = 0, group: str = MULTICAST,
                 hop_limit: int = 10) -> None:
        super().__init__(loop)
        self.ifname = ifname
        self.port = port
        self.group = group
        self.hop_limit = hop_limit
        self.scope_id = 0

    async def start(self) -> None:
        self.scope_id = iface.index(self.ifname)
        try:
            sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, self.ifname.encode())
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, self.scope_id)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, self.hop_limit)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, self.hop_limit)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
            membership = ipaddress.IPv6Address(self.group).packed + struct.pack("@I", self.scope_id)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, membership)
            sock.bind(("::", self.port, 0, 0))
        except OSError as exc:
            raise iface.translate(exc, "opening the SDP UDP socket", self.ifname) from None
        sock.setblocking(False)
        self.sock = sock
        await super().start()

    def _destination(self, dest: Address) -> Any:
        """A link-local peer needs the interface's scope id."""
        return iface.with_scope(dest, self.scope_id)
