"""Build Ethernet/IPv6/TCP frames and pcap files with dpkt, for reassembly tests."""

from __future__ import annotations

import io

import dpkt

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
