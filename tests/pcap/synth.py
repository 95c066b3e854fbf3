"""Build Ethernet/IPv6/TCP frames and pcap files with dpkt, for reassembly tests."""

from __future__ import annotations

import io
from collections.abc import Sequence

import dpkt

from ccs2chademo.v2g import v2gtp

EV_IP = bytes.fromhex("fe80000000000000021122fffe334455")
EVSE_IP = bytes.fromhex("fe8000000000000002aabbfffeccddee")
EV_MAC = bytes.fromhex("021122334455")
EVSE_MAC = bytes.fromhex("02aabbccddee")


def tcp_frame(from_ev: bool, seq: int, flags: int, payload: bytes = b"", ev_port: int = 50000,
              evse_port: int = 51111, ack: int = 0) -> bytes:
    sport, dport = (ev_port, evse_port) if from_ev else (evse_port, ev_port)
    src, dst = (EV_IP, EVSE_IP) if from_ev else (EVSE_IP, EV_IP)
    tcp = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, data=payload)
    ip = dpkt.ip6.IP6(src=src, dst=dst, nxt=dpkt.ip.IP_PROTO_TCP, hlim=64, plen=len(bytes(tcp)), data=tcp)
    eth = dpkt.ethernet.Ethernet(src=EV_MAC if from_ev else EVSE_MAC, dst=EVSE_MAC if from_ev else EV_MAC,
                                 type=dpkt.ethernet.ETH_TYPE_IP6, data=ip)
    return bytes(eth)


def pcap_bytes(frames: list[bytes], start: float = 1_700_000_000.0, step: float = 0.01,
               linktype: int = dpkt.pcap.DLT_EN10MB) -> bytes:
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, linktype=linktype)
    for i, frame in enumerate(frames):
        writer.writepkt(frame, ts=start + i * step)
    return out.getvalue()


def session_frames(messages: Sequence[tuple[bool, bytes] | tuple[bool, bytes, int]], ev_isn: int = 1000,
                   evse_isn: int = 2000,
                   cuts: tuple[int, ...] | list[int] = (100_000,), dup: frozenset[int] | set[int] = frozenset(),
                   ev_port: int = 50000) -> list[bytes]:
    """Handshake, then each message's V2GTP bytes cut into segments (``cuts`` = sizes, cycled);
    a message is ``(from_ev, payload)`` or ``(from_ev, payload, V2GTP payload type)``."""
    frames = [tcp_frame(True, ev_isn, dpkt.tcp.TH_SYN, ev_port=ev_port),
              tcp_frame(False, evse_isn, dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK, ev_port=ev_port)]
    seq = {True: (ev_isn + 1) % 2**32, False: (evse_isn + 1) % 2**32}
    k = 0
    for from_ev, payload, *payload_type in messages:
        wire = v2gtp.encode(payload, *payload_type)
        while wire:
            size = cuts[k % len(cuts)]
            k += 1
            piece, wire = wire[:size], wire[size:]
            frame = tcp_frame(from_ev, seq[from_ev], dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, piece, ev_port=ev_port)
            frames.append(frame)
            if k in dup:  # the capture holds the frame twice, or TCP retransmitted it
                frames.append(frame)
            seq[from_ev] = (seq[from_ev] + len(piece)) % 2**32
    frames.append(tcp_frame(True, seq[True], dpkt.tcp.TH_FIN | dpkt.tcp.TH_ACK, ev_port=ev_port))
    return frames
