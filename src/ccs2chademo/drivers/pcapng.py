"""pcapng recording of what our ports send and receive, for Wireshark (link type Ethernet).

* :class:`PcapngWriter` writes the three block types a capture needs (section header,
  interface description, enhanced packet) — they are simple enough not to need a library.
* :class:`Tap` wraps any :class:`~ccs2chademo.runtime.Port` and records every frame going out
  and coming in.  Raw Ethernet (HomePlug) is written as it is; UDP datagrams and TCP byte
  streams of the virtual world, which have no headers, get synthetic Ethernet/IPv6/UDP or TCP
  headers with correct checksums and sequence numbers (SYN/SYN-ACK/ACK on connect, FIN on
  close, RST on reset), so Wireshark's V2G dissectors see a plausible conversation.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from ..runtime.core import Port
from ..runtime.events import (
    Address,
    DataReceived,
    Event,
    FrameReceived,
    LinkDown,
    LinkUp,
    SendCan,
    SendData,
    SendFrame,
)
from ..v2g import ipv6

LINKTYPE_ETHERNET = 1
_SHB, _IDB, _EPB = 0x0A0D0D0A, 0x00000001, 0x00000006
_OPT_COMMENT, _OPT_TSRESOL = 1, 9


def _pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % 4)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + _pad(value)


def _block(block_type: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def session_epoch() -> float:
    """The Unix time a simulated session's time 0 maps to in its capture: the wall clock at the
    session start (Wireshark shows real dates, not 1970), or ``SOURCE_DATE_EPOCH`` when set (the
    reproducible-builds convention: two runs of the same code then write identical bytes).  Read
    once by the command that starts the session; the virtual world only adds its offset."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH")
    if fixed is not None:
        try:
            return float(int(fixed))
        except ValueError:
            raise ValueError(f"SOURCE_DATE_EPOCH={fixed!r} is not an integer Unix time") from None
    return float(int(time.time()))


class PcapngWriter:
    """Writes one section with one Ethernet interface; timestamps in microseconds.

    ``epoch`` is the Unix time that session time 0 maps to (virtual runs start at 0).
    """

    def __init__(self, stream: BinaryIO, epoch: float = 0.0, interface: str = "ccs2chademo") -> None:
        self.stream = stream
        self.epoch = epoch
        self.frames = 0
        shb_options = _option(4, b"ccs2chademo") + _option(0, b"")  # shb_userappl
        stream.write(_block(_SHB, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + shb_options))
        idb_options = _option(2, interface.encode()) + _option(_OPT_TSRESOL, b"\x06") + _option(0, b"")
        stream.write(_block(_IDB, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, 0) + idb_options))

    def write(self, t: float, frame: bytes, comment: str | None = None) -> None:
        micros = round((self.epoch + t) * 1e6)
        body = struct.pack("<IIIII", 0, micros >> 32, micros & 0xFFFFFFFF, len(frame), len(frame)) + _pad(frame)
        if comment:
            body += _option(_OPT_COMMENT, comment.encode()) + _option(0, b"")
        self.stream.write(_block(_EPB, body))
        self.frames += 1

    def flush(self) -> None:
        self.stream.flush()


class RotatingPcapngWriter:
    """A pcapng file that is rotated by size, for adapters that run for months.

    When the file reaches ``max_bytes`` it becomes ``NAME.1.pcapng`` (older ones shift to
    ``.2``, …; at most ``keep`` are kept) and a new file starts with its own section and
    interface header, so every file opens on its own in Wireshark.  Rotation happens only
    between frames.
    """

    def __init__(self, path: Path, max_bytes: int, keep: int, epoch: float = 0.0,
                 interface: str = "ccs2chademo") -> None:
        if max_bytes <= 0 or keep < 1:
            raise ValueError("max_bytes must be positive and keep at least 1")
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep
        self.epoch = epoch
        self.interface = interface
        self.frames = 0
        self._open()

    def _open(self) -> None:
        self._stream: BinaryIO = self.path.open("wb")
        self._writer = PcapngWriter(self._stream, self.epoch, self.interface)

    def rotated(self, n: int) -> Path:
        return self.path.with_name(f"{self.path.stem}.{n}{self.path.suffix}")

    def write(self, t: float, frame: bytes, comment: str | None = None) -> None:
        if self._stream.tell() >= self.max_bytes:
            self._rotate()
        self._writer.write(t, frame, comment)
        self.frames += 1

    def _rotate(self) -> None:
        self._stream.close()
        self.rotated(self.keep).unlink(missing_ok=True)
        for n in range(self.keep - 1, 0, -1):
            if self.rotated(n).exists():
                self.rotated(n).replace(self.rotated(n + 1))
        self.path.replace(self.rotated(1))
        self._open()

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()


Sink = Callable[[float, bytes, str], None]


class Tap(Port):
    """Records a port's traffic into ``sink(t, ethernet_frame, comment)`` and passes it through.

    ``kind`` is ``"ethernet"`` (frames already are Ethernet), ``"udp"`` (datagrams; ``local`` is
    our endpoint, peers come from ``SendFrame.dest``/``FrameReceived.source`` with MACs from
    EUI-64 or multicast mapping) or ``"tcp"`` (a byte stream between ``local`` and ``peer``;
    without ``peer`` it is taken from the ``LinkUp`` peer address of each connection).
    """

    def __init__(self, inner: Port, sink: Sink, clock: Callable[[], float], kind: str = "ethernet",
                 local: ipv6.Endpoint | None = None, peer: ipv6.Endpoint | None = None) -> None:
        super().__init__()
        if kind not in ("ethernet", "udp", "tcp"):
            raise ValueError("kind is 'ethernet', 'udp' or 'tcp'")
        if kind != "ethernet" and local is None:
            raise ValueError(f"a {kind} tap needs the local endpoint")
        self.inner = inner
        self.sink = sink
        self.clock = clock
        self.kind = kind
        self.local = local
        self.peer = peer
        self._seq = [0, 0]  # next sequence number: [ours, peer's]

    # -- Port -------------------------------------------------------------------------------
    def bind(self, link: str, deliver: Callable[[Event], None]) -> None:
        super().bind(link, deliver)
        self.inner.bind(link, self._incoming)

    def transmit(self, action: SendData | SendFrame | SendCan) -> None:
        self._record_out(action)
        self.inner.transmit(action)

    def open(self, target: Address) -> None:
        self.inner.open(target)

    def close(self, abort: bool) -> None:
        if self.kind == "tcp":
            self._tcp(True, ipv6.RST | ipv6.ACK if abort else ipv6.FIN | ipv6.ACK, b"", "close")
        self.inner.close(abort)

    # -- recording --------------------------------------------------------------------------
    def _incoming(self, event: Event) -> None:
        try:
            self._record_in(event)
        finally:
            self.emit(event)

    def _record_out(self, action: SendData | SendFrame | SendCan) -> None:
        if isinstance(action, SendFrame):
            if self.kind == "ethernet":
                self.sink(self.clock(), action.frame, "tx")
            elif self.kind == "udp":
                self._udp(True, action.dest, action.frame)
        elif isinstance(action, SendData) and self.kind == "tcp":
            self._tcp(True, ipv6.PSH | ipv6.ACK, action.data, "tx")

    def _record_in(self, event: Event) -> None:
        if isinstance(event, FrameReceived):
            if self.kind == "ethernet":
                self.sink(self.clock(), event.frame, "rx")
            elif self.kind == "udp":
                self._udp(False, event.source, event.frame)
        elif self.kind == "tcp":
            if isinstance(event, DataReceived):
                self._tcp(False, ipv6.PSH | ipv6.ACK, event.data, "rx")
            elif isinstance(event, LinkUp):
                if isinstance(event.peer, tuple) and len(event.peer) >= 2:
                    with contextlib.suppress(ValueError):  # not an IPv6 peer: keep the configured one
                        self.peer = self._remote(event.peer)
                self._handshake()
            elif isinstance(event, LinkDown):
                flags = ipv6.RST | ipv6.ACK if event.reason == "reset" else ipv6.FIN | ipv6.ACK
                self._tcp(False, flags, b"", f"peer {event.reason}")

    def _remote(self, address: Any) -> ipv6.Endpoint:
        host = ipaddress.IPv6Address(str(address[0]).split("%")[0])
        mac = ipv6.multicast_mac(host) if host.is_multicast else (ipv6.mac_from_link_local(host) or bytes(6))
        return ipv6.Endpoint(mac, host, int(address[1]))

    def _udp(self, outgoing: bool, address: Any, payload: bytes) -> None:
        assert self.local is not None
        if not isinstance(address, tuple) or len(address) < 2:
            return
        remote = self._remote(address)
        src, dst = (self.local, remote) if outgoing else (remote, self.local)
        self.sink(self.clock(), ipv6.udp_frame(src, dst, payload), "tx" if outgoing else "rx")

    def _handshake(self) -> None:
        self._seq = [1000, 5000]
        self._tcp(True, ipv6.SYN, b"", "connect", advance=1)
        self._tcp(False, ipv6.SYN | ipv6.ACK, b"", "accept", advance=1)
        self._tcp(True, ipv6.ACK, b"", "connected")

    def _tcp(self, outgoing: bool, flags: int, payload: bytes, comment: str, advance: int = 0) -> None:
        assert self.local is not None
        if self.peer is None:
            return  # nothing connected yet
        me, other = (0, 1) if outgoing else (1, 0)
        src, dst = (self.local, self.peer) if outgoing else (self.peer, self.local)
        ack = self._seq[other] if flags & ipv6.ACK else 0
        frame = ipv6.tcp_frame(src, dst, self._seq[me], ack, flags, payload)
        self._seq[me] += len(payload) + advance + (1 if flags & ipv6.FIN else 0)
        self.sink(self.clock(), frame, comment)
