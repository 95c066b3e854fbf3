"""The host's Ethernet interface in the virtual world, split the way Linux splits it.

On Linux the controller opens an AF_PACKET socket for ethertype 0x88E1 (SLAC) and a UDP socket
for SDP on the *same* interface.  :class:`SimNic` gives the same two views of one station on a
host-side :class:`~ccs2chademo.runtime.FrameMedium`: :meth:`raw_port` (HomePlug frames only)
and :meth:`udp_port` (real IPv6/UDP frames built with :mod:`ccs2chademo.v2g.ipv6`, so SDP
crosses the simulated modems exactly like the real packets would).  ``SendFailed`` of the
station (carrier lost while the modem reboots) reaches every view.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ..homeplug.frames import is_homeplug
from ..runtime.core import LinkError, Port
from ..runtime.events import Event, FrameReceived, SendCan, SendData, SendFailed, SendFrame
from ..runtime.links import StationPort
from ..v2g import ipv6


class _View(Port):
    def __init__(self, nic: SimNic) -> None:
        super().__init__()
        self.nic = nic


class RawView(_View):
    """HomePlug frames (ethertype 0x88E1) in and out, like an AF_PACKET socket."""

    def transmit(self, action: SendData | SendFrame | SendCan) -> None:
        if not isinstance(action, SendFrame):
            raise LinkError(f"{self.link!r} carries Ethernet frames: send SendFrame")
        self.nic.station.transmit(SendFrame(self.nic.station.link, action.frame))


class UdpView(_View):
    """An IPv6 UDP socket bound to ``port`` (also receiving the ``ff02::1`` group)."""

    def __init__(self, nic: SimNic, port: int, hop_limit: int) -> None:
        super().__init__(nic)
        self.port = port
        self.hop_limit = hop_limit

    def transmit(self, action: SendData | SendFrame | SendCan) -> None:
        if not isinstance(action, SendFrame) or not isinstance(action.dest, tuple):
            raise LinkError(f"{self.link!r} is a UDP socket: send SendFrame(dest=(host, port))")
        dst_ip = ipaddress.IPv6Address(str(action.dest[0]).split("%")[0])
        dst_mac = ipv6.multicast_mac(dst_ip) if dst_ip.is_multicast else self.nic.neighbour(dst_ip)
        src = ipv6.Endpoint(self.nic.mac, self.nic.ip, self.port)
        dst = ipv6.Endpoint(dst_mac, dst_ip, int(action.dest[1]))
        self.nic.station.transmit(SendFrame(self.nic.station.link, ipv6.udp_frame(src, dst, action.frame,
                                                                                   self.hop_limit)))


class SimNic:
    """One Ethernet interface with a MAC and its EUI-64 link-local address."""

    def __init__(self, station: StationPort, mac: bytes) -> None:
        self.station = station
        self.mac = mac
        self.ip = ipv6.link_local_from_mac(mac)
        self.views: list[_View] = []
        self.neighbours: dict[ipaddress.IPv6Address, bytes] = {}
        station.bind("eth", self._receive)

    def raw_port(self) -> RawView:
        view = RawView(self)
        self.views.append(view)
        return view

    def udp_port(self, port: int, hop_limit: int = 10) -> UdpView:
        view = UdpView(self, port, hop_limit)
        self.views.append(view)
        return view

    def neighbour(self, ip: ipaddress.IPv6Address) -> bytes:
        """Neighbour discovery, simplified: learnt from received frames, else derived from EUI-64."""
        mac = self.neighbours.get(ip) or ipv6.mac_from_link_local(ip)
        if mac is None:
            raise LinkError(f"no neighbour entry for {ip}")
        return mac

    def _receive(self, event: Event) -> None:
        if isinstance(event, SendFailed):
            for view in self.views:
                view.emit(SendFailed(view.link, event.reason))
            return
        if not isinstance(event, FrameReceived):
            return
        frame = event.frame
        dest = frame[0:6]
        if dest != self.mac and not dest[0] & 1 and not is_homeplug(frame):
            return
        if is_homeplug(frame):
            for view in self.views:
                if isinstance(view, RawView):
                    view.emit(FrameReceived(view.link, frame, frame[6:12]))
            return
        try:
            packet = ipv6.parse_udp(frame)
        except ipv6.PacketError:
            return
        if packet.dst != self.ip and packet.dst != ipaddress.IPv6Address("ff02::1"):
            return
        self.neighbours[packet.src] = packet.src_mac
        source: tuple[Any, ...] = (str(packet.src), packet.sport, 0, 0)
        for view in self.views:
            if isinstance(view, UdpView) and view.port == packet.dport:
                view.emit(FrameReceived(view.link, packet.payload, source))
