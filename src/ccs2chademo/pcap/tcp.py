"""TCP reassembly per connection and direction, as a passive observer of a capture.

Rules (data/README section 1.2): segments are grouped per direction of a 4-tuple; a SYN with an ISN
other than the current connection's starts a new connection on the same 4-tuple (cars reuse
nothing, but a listener restarted mid-capture may); bytes are put in order by sequence number
and bytes already delivered are dropped, which removes TCP retransmissions and the captures
where every PEV frame was recorded twice.  The SYN sender is the car.  A connection seen
without its SYN (capture started late) takes its first data segment as the stream start and
the sender of the first data as the car, since in V2G the car always speaks first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .frames import Endpoint, TcpSegment
from .reader import Frame

log = logging.getLogger(__name__)

_MOD = 1 << 32
_HALF = 1 << 31

#: Out-of-order bytes and segments held per direction while waiting for a gap to fill (the
#: segment bound keeps the drain loop linear-ish on a capture of many tiny early segments).
MAX_PENDING = 1 << 20
MAX_PENDING_SEGMENTS = 1024


@dataclass(slots=True)
class HalfStream:
    """One direction's byte stream; ``feed`` returns the bytes that became contiguous."""

    base: int | None = None  #: sequence number of stream byte 0
    delivered: int = 0  #: stream bytes handed out so far
    pending: dict[int, bytes] = field(default_factory=dict)  #: stream offset → early bytes
    pending_bytes: int = 0

    def start(self, isn: int) -> None:
        """A SYN consumes one sequence number: data starts at ISN + 1."""
        if self.base is None:
            self.base = (isn + 1) % _MOD

    def feed(self, seq: int, payload: bytes) -> bytes:
        if not payload:
            return b""
        if self.base is None:
            self.base = seq
        offset = (seq - self.base) % _MOD
        if offset >= _HALF:  # before the stream start: an old retransmission
            offset -= _MOD
        end = offset + len(payload)
        if end <= self.delivered:
            return b""  # every byte already delivered: a retransmission or duplicate frame
        if offset > self.delivered:
            self._hold(offset, payload)
            return b""
        out = bytearray(payload[self.delivered - offset :])
        self.delivered = end
        while self.pending:
            ready = [start for start in self.pending if start <= self.delivered]
            if not ready:
                break
            for start in sorted(ready):
                chunk = self.pending.pop(start)
                self.pending_bytes -= len(chunk)
                if start + len(chunk) > self.delivered:
                    out += chunk[self.delivered - start :]
                    self.delivered = start + len(chunk)
        return bytes(out)

    def _hold(self, offset: int, payload: bytes) -> None:
        if self.pending_bytes + len(payload) > MAX_PENDING or len(self.pending) >= MAX_PENDING_SEGMENTS:
            log.warning("dropping %d out-of-order bytes: %d in %d segments already held", len(payload),
                        self.pending_bytes, len(self.pending))
            return
        old = self.pending.get(offset)
        if old is not None:
            if len(old) >= len(payload):
                return
            self.pending_bytes -= len(old)
        self.pending[offset] = payload
        self.pending_bytes += len(payload)


@dataclass(slots=True)
class Connection:
    index: int  #: 0-based, in the order connections first appear in the capture
    ev: Endpoint  #: the car (SYN sender)
    evse: Endpoint
    ev_isn: int | None
    to_evse: HalfStream = field(default_factory=HalfStream)
    to_ev: HalfStream = field(default_factory=HalfStream)


@dataclass(frozen=True, slots=True)
class StreamData:
    """Bytes that became contiguous in one direction of one connection, and the frame that did it."""

    connection: Connection
    from_ev: bool
    data: bytes
    frame: Frame


def _key(a: Endpoint, b: Endpoint) -> tuple[Endpoint, Endpoint]:
    return (a, b) if a <= b else (b, a)


class Reassembler:
    """Feed segments in capture order; each call returns the in-order bytes it released."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        self._current: dict[tuple[Endpoint, Endpoint], Connection] = {}

    def _new(self, ev: Endpoint, evse: Endpoint, isn: int | None) -> Connection:
        conn = Connection(len(self.connections), ev, evse, isn)
        self.connections.append(conn)
        self._current[_key(ev, evse)] = conn
        return conn

    def feed(self, seg: TcpSegment) -> StreamData | None:
        conn = self._current.get(_key(seg.src, seg.dst))
        if seg.syn and not seg.ack:
            if conn is None or conn.ev != seg.src or conn.ev_isn != seg.seq:
                conn = self._new(seg.src, seg.dst, seg.seq)
        elif conn is None:
            if not seg.payload:
                return None  # a stray ACK/FIN/RST of a connection we never saw open
            conn = self._new(seg.src, seg.dst, None)
        from_ev = seg.src == conn.ev
        half = conn.to_evse if from_ev else conn.to_ev
        seq = seg.seq
        if seg.syn:
            half.start(seq)
            seq = (seq + 1) % _MOD
        data = half.feed(seq, seg.payload)
        return StreamData(conn, from_ev, data, seg.frame) if data else None
