"""Sort Ethernet frames into what V2G extraction needs: TCP over IPv6, SDP datagrams, HomePlug.

dpkt parses the headers.  A frame dpkt cannot parse, or one of a kind we do not follow (IPv4,
ICMPv6, other ethertypes), comes back as ``None``: a capture is a sniff of a shared medium and
unrelated or broken frames are normal in it, so they are skipped, not errors.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass

import dpkt

from ..v2g import v2gtp
from .reader import Frame

log = logging.getLogger(__name__)

#: HomePlug AV management messages (SLAC, SET_KEY, …), ccs-ev.md §2.
ETHERTYPE_HOMEPLUG = 0x88E1
#: UDP port of the SECC Discovery Protocol, ccs-ev.md §6.
SDP_PORT = 15118
_SDP_TYPES = (v2gtp.PayloadType.SDP_REQUEST, v2gtp.PayloadType.SDP_RESPONSE)

Endpoint = tuple[bytes, int]  #: (IPv6 address, port)


@dataclass(frozen=True, slots=True)
class TcpSegment:
    frame: Frame
    src: Endpoint
    dst: Endpoint
    seq: int
    flags: int
    payload: bytes

    @property
    def syn(self) -> bool:
        return bool(self.flags & dpkt.tcp.TH_SYN)

    @property
    def ack(self) -> bool:
        return bool(self.flags & dpkt.tcp.TH_ACK)


@dataclass(frozen=True, slots=True)
class SdpDatagram:
    frame: Frame
    payload: bytes  #: the UDP payload: V2GTP header + SDP request/response


@dataclass(frozen=True, slots=True)
class HomePlugFrame:
    frame: Frame


Classified = TcpSegment | SdpDatagram | HomePlugFrame | None


def classify(frame: Frame) -> Classified:
    try:
        eth = dpkt.ethernet.Ethernet(frame.data)
    except (dpkt.Error, struct.error, ValueError) as exc:
        log.debug("frame %d: not Ethernet (%s)", frame.number, exc)
        return None
    if eth.type == ETHERTYPE_HOMEPLUG:
        return HomePlugFrame(frame)
    ip = eth.data
    if not isinstance(ip, dpkt.ip6.IP6):
        return None
    transport = ip.data
    if isinstance(transport, dpkt.tcp.TCP):
        return TcpSegment(frame, (ip.src, transport.sport), (ip.dst, transport.dport), transport.seq,
                          transport.flags, bytes(transport.data))
    if isinstance(transport, dpkt.udp.UDP) and SDP_PORT in (transport.sport, transport.dport):
        payload = bytes(transport.data)
        try:
            payload_type, _ = v2gtp.parse_header(payload)
        except v2gtp.V2gtpError as exc:
            log.warning("frame %d: UDP to port %d is not V2GTP: %s", frame.number, SDP_PORT, exc)
            return None
        if payload_type in _SDP_TYPES:
            return SdpDatagram(frame, payload)
        log.warning("frame %d: V2GTP payload type %#06x on the SDP port", frame.number, payload_type)
    return None
