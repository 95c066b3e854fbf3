"""Ethernet + IPv6 + UDP/TCP packets as bytes, with real checksums (no sockets).

Two users: the pcapng writer, which gives the byte streams and datagrams of the virtual world
synthetic headers so that Wireshark opens the file, and the simulated NIC, which carries SDP as
real IPv6/UDP frames through the simulated modems.  The checksum is the RFC 8200 pseudo-header
sum (mandatory for UDP over IPv6, ccs-ev.md §6); tests check it against captured frames.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

ETH_IPV6 = 0x86DD
PROTO_TCP = 6
PROTO_UDP = 17
IPV6_HEADER = 40
ETH_HEADER = 14

# TCP flags
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class PacketError(ValueError):
    """Bytes that are not the IPv6 packet a caller asked for."""


def checksum(data: bytes) -> int:
    """Internet checksum (RFC 1071), ones' complement of the ones' complement sum."""
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _pseudo(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    return src + dst + struct.pack("!I3xB", length, proto)


def multicast_mac(address: ipaddress.IPv6Address) -> bytes:
    """RFC 2464: 33:33 + the low 32 bits of the group address (ff02::1 → 33:33:00:00:00:01)."""
    return b"\x33\x33" + address.packed[12:]


def link_local_from_mac(mac: bytes) -> ipaddress.IPv6Address:
    """Modified EUI-64 link-local address of ``mac`` (what the Linux kernel configures)."""
    eui = bytes([mac[0] ^ 0x02]) + mac[1:3] + b"\xff\xfe" + mac[3:6]
    return ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + eui)


def mac_from_link_local(address: ipaddress.IPv6Address) -> bytes | None:
    """Inverse of :func:`link_local_from_mac` when the address is EUI-64 based, else ``None``."""
    iid = address.packed[8:]
    if not address.is_link_local or iid[3:5] != b"\xff\xfe":
        return None
    return bytes([iid[0] ^ 0x02]) + iid[1:3] + iid[5:8]


def _ip6(src: ipaddress.IPv6Address, dst: ipaddress.IPv6Address, proto: int, payload: bytes, hop_limit: int,
         traffic_class: int, flow_label: int) -> bytes:
    first = (6 << 28) | (traffic_class << 20) | flow_label
    return struct.pack("!IHBB", first, len(payload), proto, hop_limit) + src.packed + dst.packed + payload


def _eth(dst_mac: bytes, src_mac: bytes, packet: bytes) -> bytes:
    return dst_mac + src_mac + ETH_IPV6.to_bytes(2, "big") + packet


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One side of a conversation: Ethernet and IPv6 address and a port."""

    mac: bytes
    ip: ipaddress.IPv6Address
    port: int


def udp_frame(src: Endpoint, dst: Endpoint, payload: bytes, hop_limit: int = 64, traffic_class: int = 0,
              flow_label: int = 0) -> bytes:
    length = 8 + len(payload)
    header = struct.pack("!HHHH", src.port, dst.port, length, 0)
    csum = checksum(_pseudo(src.ip.packed, dst.ip.packed, PROTO_UDP, length) + header + payload) or 0xFFFF
    udp = header[:6] + csum.to_bytes(2, "big") + payload
    return _eth(dst.mac, src.mac, _ip6(src.ip, dst.ip, PROTO_UDP, udp, hop_limit, traffic_class, flow_label))


def tcp_frame(src: Endpoint, dst: Endpoint, seq: int, ack: int, flags: int, payload: bytes = b"",
              window: int = 65535, hop_limit: int = 64) -> bytes:
    header = struct.pack("!HHIIBBHHH", src.port, dst.port, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                         window, 0, 0)
    segment = header + payload
    csum = checksum(_pseudo(src.ip.packed, dst.ip.packed, PROTO_TCP, len(segment)) + segment)
    segment = segment[:16] + csum.to_bytes(2, "big") + segment[18:]
    return _eth(dst.mac, src.mac, _ip6(src.ip, dst.ip, PROTO_TCP, segment, hop_limit, 0, 0))


@dataclass(frozen=True, slots=True)
class UdpPacket:
    src_mac: bytes
    dst_mac: bytes
    src: ipaddress.IPv6Address
    dst: ipaddress.IPv6Address
    sport: int
    dport: int
    hop_limit: int
    payload: bytes


def parse_udp(frame: bytes, verify: bool = True) -> UdpPacket:
    """Parse an Ethernet/IPv6/UDP frame (no extension headers); raise :class:`PacketError`."""
    if len(frame) < ETH_HEADER + IPV6_HEADER + 8:
        raise PacketError(f"{len(frame)} bytes is too short for IPv6/UDP")
    if frame[12:14] != ETH_IPV6.to_bytes(2, "big") or frame[14] >> 4 != 6:
        raise PacketError("not IPv6")
    plen, next_header, hop_limit = struct.unpack_from("!HBB", frame, 18)
    if next_header != PROTO_UDP:
        raise PacketError(f"next header {next_header}, not UDP")
    ip = frame[ETH_HEADER:]
    if len(ip) < IPV6_HEADER + plen:
        raise PacketError(f"IPv6 payload length {plen} exceeds the frame")
    udp = ip[IPV6_HEADER : IPV6_HEADER + plen]
    sport, dport, ulen, csum = struct.unpack_from("!HHHH", udp)
    if ulen != plen or ulen < 8:
        raise PacketError(f"UDP length {ulen} disagrees with IPv6 payload length {plen}")
    src, dst = ip[8:24], ip[24:40]
    if (verify and checksum(_pseudo(src, dst, PROTO_UDP, ulen) + udp) not in (0, 0xFFFF)) or csum == 0:
        raise PacketError("bad UDP checksum")
    return UdpPacket(frame[6:12], frame[0:6], ipaddress.IPv6Address(src), ipaddress.IPv6Address(dst), sport, dport,
                     hop_limit, bytes(udp[8:]))
