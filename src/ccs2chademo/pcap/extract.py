"""The capture → V2G records pipeline: frames, TCP reassembly, V2GTP framing, schema following."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..v2g import v2gtp
from .follower import PAYLOAD_SCHEMAS, Negotiator, SessionFollower
from .frames import HomePlugFrame, SdpDatagram, TcpSegment, classify
from .negotiate import negotiated_schema
from .reader import read_frames
from .records import EV_TO_EVSE, EVSE_TO_EV, RawRecord, V2gRecord
from .tcp import Reassembler

log = logging.getLogger(__name__)

Record = V2gRecord | RawRecord


@dataclass(slots=True)
class _ConnectionState:
    follower: SessionFollower
    to_evse: v2gtp.V2gtpStream = field(default_factory=v2gtp.V2gtpStream)
    to_ev: v2gtp.V2gtpStream = field(default_factory=v2gtp.V2gtpStream)


def iter_records(source: str | Path | bytes | BinaryIO,
                 negotiate: Negotiator | None = negotiated_schema) -> Iterator[Record]:
    """Yield V2G messages and raw SDP/HomePlug frames in capture order.

    ``negotiate`` learns each connection's schema from its handshake (None: first bytes only).

    A broken V2GTP header ends that direction of that connection (logged; the rest of the
    capture goes on).  A damaged file raises :class:`~ccs2chademo.pcap.reader.PcapError` after
    the records before the damage.
    """
    tcp = Reassembler()
    states: list[_ConnectionState] = []
    for frame in read_frames(source):
        item = classify(frame)
        if isinstance(item, HomePlugFrame):
            yield RawRecord("homeplug", frame, frame.data)
        elif isinstance(item, SdpDatagram):
            yield RawRecord("sdp", frame, item.payload)
        elif isinstance(item, TcpSegment):
            chunk = tcp.feed(item)
            if chunk is None:
                continue
            conn = chunk.connection
            while len(states) <= conn.index:
                states.append(_ConnectionState(SessionFollower(negotiate)))
            state = states[conn.index]
            stream = state.to_evse if chunk.from_ev else state.to_ev
            if stream.error is not None:
                continue
            try:
                messages = stream.feed(chunk.data)
            except v2gtp.V2gtpError as exc:
                if exc.offset == 0 and chunk.data[:1] == b"\x16":  # a TLS handshake record (docs/tls.md)
                    log.warning("frame %d, connection %d: a TLS stream, not decoded here (Wireshark decrypts it "
                                "with the key log, docs/tls.md)", frame.number, conn.index)
                    continue
                log.warning("frame %d, connection %d: V2GTP stream broken, rest of this direction ignored: %s",
                            frame.number, conn.index, exc)
                continue
            for message in messages:
                if message.payload_type != v2gtp.PayloadType.EXI and message.payload_type not in PAYLOAD_SCHEMAS:
                    log.warning("frame %d: V2GTP payload type %#06x on TCP skipped", frame.number,
                                message.payload_type)
                    continue
                schema = state.follower.schema_for(chunk.from_ev, message.payload, message.payload_type)
                yield V2gRecord(frame.time, frame.number, conn.index, EV_TO_EVSE if chunk.from_ev else EVSE_TO_EV,
                                schema, message.payload)


@dataclass(frozen=True, slots=True)
class Extraction:
    messages: list[V2gRecord]
    raw: list[RawRecord]


def extract(source: str | Path | bytes | BinaryIO, negotiate: Negotiator | None = negotiated_schema) -> Extraction:
    """All records of a capture, V2G messages and raw frames apart."""
    messages: list[V2gRecord] = []
    raw: list[RawRecord] = []
    for record in iter_records(source, negotiate):
        if isinstance(record, V2gRecord):
            messages.append(record)
        else:
            raw.append(record)
    return Extraction(messages, raw)
