"""SDP, the SECC Discovery Protocol (ccs-ev.md §6): two V2GTP datagrams over IPv6 UDP port 15118.

The request (10 bytes) asks for security and transport; the response (28 bytes) announces the
charger's link-local address and TCP port.  Decoding is strict on purpose: a response whose
payload is not exactly 20 bytes, or whose address is not link-local, is refused with a typed
error, because connecting anywhere else than the announced link-local address/port is the
classic field failure (ccs-ev.md §16 rule 1).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import IntEnum

from .v2gtp import PayloadType, V2gtpError, encode, parse_header

SDP_PORT = 15118
MULTICAST = "ff02::1"
REQUEST_PAYLOAD = 2
RESPONSE_PAYLOAD = 20
_LINK_LOCAL = ipaddress.IPv6Network("fe80::/10")


class Security(IntEnum):
    TLS = 0x00
    NONE = 0x10


class Transport(IntEnum):
    TCP = 0x00
    UDP = 0x10


class SdpError(ValueError):
    """An SDP datagram we must not act on."""


class SdpLengthError(SdpError):
    """Payload length is not the one SDP defines (2 for a request, 20 for a response)."""


class SdpAddressError(SdpError):
    """The announced SECC address is not an IPv6 link-local address (fe80::/10)."""


@dataclass(frozen=True, slots=True)
class SdpRequest:
    security: int = Security.NONE
    transport: int = Transport.TCP

    def encode(self) -> bytes:
        return encode(bytes([self.security, self.transport]), PayloadType.SDP_REQUEST)


@dataclass(frozen=True, slots=True)
class SdpResponse:
    address: ipaddress.IPv6Address
    port: int
    security: int = Security.NONE
    transport: int = Transport.TCP

    def encode(self) -> bytes:
        if not 0 < self.port < 65536:
            raise SdpError(f"port {self.port} out of range")
        body = self.address.packed + self.port.to_bytes(2, "big") + bytes([self.security, self.transport])
        return encode(body, PayloadType.SDP_RESPONSE)


def _payload(datagram: bytes, payload_type: int, length: int) -> bytes:
    try:
        got_type, got_length = parse_header(datagram, 0, max_payload=0xFFFF)
    except V2gtpError as exc:
        raise SdpError(f"bad V2GTP header: {exc}") from None
    if got_type != payload_type:
        raise SdpError(f"payload type 0x{got_type:04x}, expected 0x{payload_type:04x}")
    if got_length != length:
        raise SdpLengthError(f"payload length {got_length}, SDP requires {length}")
    if len(datagram) != 8 + length:
        raise SdpLengthError(f"datagram holds {len(datagram) - 8} payload bytes, header says {got_length}")
    return datagram[8:]


def decode_request(datagram: bytes) -> SdpRequest:
    body = _payload(datagram, PayloadType.SDP_REQUEST, REQUEST_PAYLOAD)
    return SdpRequest(body[0], body[1])


def decode_response(datagram: bytes) -> SdpResponse:
    body = _payload(datagram, PayloadType.SDP_RESPONSE, RESPONSE_PAYLOAD)
    address = ipaddress.IPv6Address(body[:16])
    if address not in _LINK_LOCAL:
        raise SdpAddressError(f"announced address {address} is not link-local (fe80::/10)")
    port = int.from_bytes(body[16:18], "big")
    if port == 0:
        raise SdpError("announced port 0")
    return SdpResponse(address, port, body[18], body[19])


def describe(datagram: bytes) -> dict[str, object]:
    """A JSON-ready summary of one SDP datagram (for ``ccs2chademo pcap``); never raises."""
    try:
        if datagram[2:4] == b"\x90\x00":
            request = decode_request(datagram)
            return {"type": "SDP request", "security": request.security, "transport": request.transport}
        response = decode_response(datagram)
    except SdpError as exc:
        return {"type": "invalid SDP", "error": str(exc), "length": len(datagram)}
    return {"type": "SDP response", "address": str(response.address), "port": response.port,
            "security": response.security, "transport": response.transport}
