"""V2GTP (ISO 15118-2 section 7.8): the 8-byte header in front of every EXI message and SDP payload.

``01 FE`` (version, inverted version) + payload type (2 bytes) + payload length (4 bytes), all
big-endian.  TCP carries a byte stream, so :class:`V2gtpStream` reassembles messages by the
length field however the segments were split or coalesced (ccs-ev.md §7, robustness rule 3).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

HEADER: Final = struct.Struct(">BBHI")
HEADER_SIZE: Final = HEADER.size
VERSION: Final = 0x01

#: Largest payload we accept.  The biggest V2G messages (PnC certificate chains) are a few kB;
#: a bound keeps a corrupt length field from making us buffer without limit.
MAX_PAYLOAD: Final = 64 * 1024


class PayloadType(IntEnum):
    EXI = 0x8001  #: DIN / ISO 15118-2 messages; under ISO 15118-20 the SupportedAppProtocol handshake only
    # ISO 15118-20 names the message set of each EXI payload by its payload type (its V2GTP payload
    # type table; the iso15118 package's ISOV20PayloadTypes has the same values)
    ISO20_COMMON_MESSAGES = 0x8002
    ISO20_AC = 0x8003
    ISO20_DC = 0x8004
    ISO20_ACDP = 0x8005
    ISO20_WPT = 0x8006
    SDP_REQUEST = 0x9000
    SDP_RESPONSE = 0x9001


class V2gtpError(ValueError):
    """A V2GTP header is not acceptable; ``offset`` is where in the stream it started."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(f"{message} (at stream offset {offset})")
        self.offset = offset


@dataclass(slots=True, init=False)
class V2gtpMessage:
    """One V2GTP message (a hot record, one per message each way: ``Final`` fields, a written-out
    ``__init__``, ``__eq__`` and ``__hash__``, which compiled run as C; tests/test_records.py)."""

    payload_type: Final[int]
    payload: Final[bytes]

    def __init__(self, payload_type: int, payload: bytes) -> None:
        self.payload_type = payload_type
        self.payload = payload

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, V2gtpMessage) and self.payload_type == other.payload_type and
                self.payload == other.payload)

    def __hash__(self) -> int:
        return hash((self.payload_type, self.payload))


def encode(payload: bytes, payload_type: int = PayloadType.EXI) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise V2gtpError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return HEADER.pack(VERSION, VERSION ^ 0xFF, payload_type, len(payload)) + payload


def parse_header(data: bytes | bytearray, offset: int = 0, max_payload: int = MAX_PAYLOAD) -> tuple[int, int]:
    """Return ``(payload_type, payload_length)`` of the header at ``data[offset:]``."""
    if len(data) - offset < HEADER_SIZE:
        raise V2gtpError(f"header needs {HEADER_SIZE} bytes, got {len(data) - offset}", offset)
    version, inverted, payload_type, length = HEADER.unpack_from(data, offset)
    if version != VERSION or inverted != VERSION ^ 0xFF:
        raise V2gtpError(f"bad protocol version bytes {version:02x} {inverted:02x}", offset)
    if length > max_payload:
        raise V2gtpError(f"payload length {length} exceeds bound {max_payload}", offset)
    return payload_type, length


def decode(data: bytes, max_payload: int = MAX_PAYLOAD) -> V2gtpMessage:
    """Decode one complete datagram (SDP over UDP): header + exactly ``length`` bytes."""
    payload_type, length = parse_header(data, 0, max_payload)
    if len(data) != HEADER_SIZE + length:
        raise V2gtpError(f"datagram holds {len(data) - HEADER_SIZE} payload bytes, header says {length}")
    return V2gtpMessage(payload_type, bytes(data[HEADER_SIZE:]))


class V2gtpStream:
    """Accumulates TCP bytes and yields whole messages; a bad header poisons the stream."""

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._buffer = bytearray()
        self._consumed = 0  # stream offset of _buffer[0], for error reports
        self.error: V2gtpError | None = None

    def feed(self, data: bytes) -> list[V2gtpMessage]:
        if self.error is not None:
            raise self.error
        if not self._buffer and len(data) >= HEADER_SIZE:  # the usual chunk: exactly one message
            try:
                payload_type, length = parse_header(data, 0, self.max_payload)
            except V2gtpError:
                pass  # reported below, with its stream offset
            else:
                if len(data) == HEADER_SIZE + length:
                    self._consumed += len(data)
                    return [V2gtpMessage(payload_type, bytes(data[HEADER_SIZE:]))]
        self._buffer += data
        out: list[V2gtpMessage] = []
        buf = self._buffer
        pos = 0
        while len(buf) - pos >= HEADER_SIZE:
            try:
                payload_type, length = parse_header(buf, pos, self.max_payload)
            except V2gtpError as exc:
                self.error = V2gtpError(str(exc).rsplit(" (at", 1)[0], self._consumed + pos)
                raise self.error from None
            end = pos + HEADER_SIZE + length
            if len(buf) < end:
                break
            out.append(V2gtpMessage(payload_type, bytes(buf[pos + HEADER_SIZE : end])))
            pos = end
        if pos:
            del buf[:pos]
            self._consumed += pos
        return out

    @property
    def pending(self) -> int:
        """Bytes held that do not yet form a whole message."""
        return len(self._buffer)
