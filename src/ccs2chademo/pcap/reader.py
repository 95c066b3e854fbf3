"""Read pcap and pcapng files into ``(frame number, timestamp, Ethernet frame)`` with typed errors.

The parsing itself is dpkt's; this module only picks the format by its magic number, insists on
Ethernet link type (every capture in shared/data is, data/README section 1.2) and turns whatever dpkt
raises on a corrupt or truncated file into :class:`PcapError`.  The file is read into memory
first: dpkt reads a block by the length field it finds, and on a real file object a corrupt
4 GB length would make the buffered reader allocate that much; from memory it gets what exists.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import dpkt

#: Link type of Ethernet (DLT_EN10MB / LINKTYPE_ETHERNET).
LINKTYPE_ETHERNET = 1

#: Largest capture we load; the real ones are all under 1 MB.
MAX_FILE_SIZE = 512 * 1024 * 1024

_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1",  # microseconds, little-endian
    b"\xa1\xb2\xc3\xd4",  # microseconds, big-endian
    b"\x4d\x3c\xb2\xa1",  # nanoseconds, little-endian
    b"\xa1\xb2\x3c\x4d",  # nanoseconds, big-endian
}


class PcapError(ValueError):
    """The file cannot be read as a capture; ``frame`` is the 1-based frame where it failed (0: header)."""

    def __init__(self, message: str, frame: int = 0) -> None:
        super().__init__(message if not frame else f"{message} (after frame {frame - 1})")
        self.frame = frame


class PcapFormatError(PcapError):
    """Not a pcap/pcapng file, or a header dpkt rejects."""


class PcapTruncatedError(PcapError):
    """The file ends, or a block length is corrupt, in the middle of a record."""


class PcapLinkTypeError(PcapError):
    """A capture of something other than Ethernet."""


@dataclass(frozen=True, slots=True)
class Frame:
    number: int  #: 1-based, as Wireshark counts (and the format-B ``Packet #N`` lines)
    time: float  #: capture timestamp, seconds since the Unix epoch (UTC)
    data: bytes  #: the whole Ethernet frame


def _load(source: str | Path | bytes | BinaryIO) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str | Path):
        try:
            with open(source, "rb") as fh:
                data = fh.read(MAX_FILE_SIZE + 1)
        except OSError as exc:
            raise PcapFormatError(f"cannot read {source}: {exc.strerror or exc}") from exc
    else:
        data = source.read(MAX_FILE_SIZE + 1)
    if len(data) > MAX_FILE_SIZE:
        raise PcapFormatError(f"capture larger than {MAX_FILE_SIZE} bytes")
    return data


def _intact_pcapng(data: bytes) -> tuple[int, str | None]:
    """Walk the pcapng block structure: end offset of the last whole block, and what broke after it.

    dpkt stops silently on a few stray trailing bytes; checking every block's two length fields
    here catches truncation and corrupt lengths before dpkt sees them.
    """
    pos, order = 0, "<"
    while pos < len(data):
        if len(data) - pos < 12:
            return pos, f"file ends inside a block header at byte {pos}"
        if data[pos : pos + 4] == _PCAPNG_MAGIC:  # section header: byte order of this section
            order = "<" if data[pos + 8 : pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        (length,) = struct.unpack_from(order + "I", data, pos + 4)
        if length < 12 or length % 4:
            return pos, f"corrupt block length {length} at byte {pos}"
        if pos + length > len(data):
            return pos, f"file ends inside a block of {length} bytes at byte {pos}"
        (trailer,) = struct.unpack_from(order + "I", data, pos + length - 4)
        if trailer != length:
            return pos, f"block at byte {pos} has lengths {length} and {trailer}"
        pos += length
    return pos, None


def _intact_pcap(data: bytes) -> tuple[int, str | None]:
    """The same walk over classic pcap's 24-byte file header and 16-byte record headers."""
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    if len(data) < 24:
        return 0, "file ends inside the pcap file header"
    pos = 24
    while pos < len(data):
        if len(data) - pos < 16:
            return pos, f"file ends inside a record header at byte {pos}"
        (caplen,) = struct.unpack_from(order + "I", data, pos + 8)
        if pos + 16 + caplen > len(data):
            return pos, f"file ends inside a record of {caplen} bytes at byte {pos}"
        pos += 16 + caplen
    return pos, None


def _open(data: bytes) -> tuple[dpkt.pcap.Reader | dpkt.pcapng.Reader, str | None]:
    magic = data[:4]
    if magic == _PCAPNG_MAGIC:
        end, damage = _intact_pcapng(data)
        kind: type[dpkt.pcap.Reader | dpkt.pcapng.Reader] = dpkt.pcapng.Reader
    elif magic in _PCAP_MAGICS:
        end, damage = _intact_pcap(data)
        kind = dpkt.pcap.Reader
    elif len(data) < 4:
        raise PcapTruncatedError(f"file of {len(data)} bytes is too short for a capture header")
    else:
        raise PcapFormatError(f"not a pcap or pcapng file (magic {magic.hex()})")
    try:
        return kind(io.BytesIO(data[:end])), damage
    except (ValueError, dpkt.Error, struct.error) as exc:
        if damage is not None:
            raise PcapTruncatedError(damage) from exc
        raise PcapFormatError(f"bad capture header: {exc or type(exc).__name__}") from exc


def read_frames(source: str | Path | bytes | BinaryIO) -> Iterator[Frame]:
    """Yield every packet of a pcap/pcapng capture of Ethernet, in file order.

    Raises :class:`PcapError` (a subclass per cause) when the file is not a capture, is not of
    Ethernet, or is cut or corrupt part-way; the frames before the damage have been yielded.
    """
    reader, damage = _open(_load(source))
    linktype = reader.datalink()
    if linktype != LINKTYPE_ETHERNET:
        raise PcapLinkTypeError(f"link type {linktype} is not Ethernet ({LINKTYPE_ETHERNET})")
    number = 0
    packets = iter(reader)
    while True:
        try:
            item = next(packets, None)
        except (ValueError, dpkt.Error, struct.error) as exc:
            raise PcapFormatError(f"corrupt packet record: {exc or type(exc).__name__}", number + 1) from exc
        if item is None:
            break
        number += 1
        timestamp, data = item
        yield Frame(number, float(timestamp), bytes(data))
    if damage is not None:
        raise PcapTruncatedError(damage, number + 1)
