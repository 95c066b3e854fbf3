"""Extraction against the real captures and their pyPLC companions (data/README section 1)."""

from __future__ import annotations

import collections
import dataclasses

import pytest

from ccs2chademo.pcap import read_frames

from .capture_table import FORMAT_A, FORMAT_B, PACKET_COUNTS, V2G_COUNTS, capture, decoded_a, decoded_b
from .companions import parse_decoded, to_utc_seconds, utc_offset
from .conftest import extracted


@pytest.mark.parametrize("name", sorted(PACKET_COUNTS))
def test_frame_count_matches_readme(name: str) -> None:
    assert sum(1 for _ in read_frames(capture(name))) == PACKET_COUNTS[name]


@pytest.mark.parametrize("name", sorted(V2G_COUNTS))
def test_v2g_message_count_matches_readme(name: str) -> None:
    assert len(extracted(name).messages) == V2G_COUNTS[name]


@pytest.mark.parametrize("name", sorted(V2G_COUNTS))
def test_each_connection_opens_with_the_handshake(name: str) -> None:
    by_conn = collections.defaultdict(list)
    for m in extracted(name).messages:
        by_conn[m.connection].append(m)
    for messages in by_conn.values():
        first, *rest = [(m.direction, m.schema, m.payload[:2]) for m in messages[:2]]
        assert first == ("ev->evse", "apphand", b"\x80\x00")
        assert rest in ([], [("evse->ev", "apphand", b"\x80\x40")])
        assert all(m.schema == "din" and m.payload[:2] == b"\x80\x9a" for m in messages[2:])
        # requests and responses alternate: V2G is strictly request/response
        assert [m.direction for m in messages] == ["ev->evse", "evse->ev"] * (len(messages) // 2) + ["ev->evse"] * (
            len(messages) % 2)


def _direction_of(name: str, hexstr: str) -> str:
    """Format B has no direction: DIN message names end in Req/Res, SAP documents start 8000/8040."""
    if name:
        return "ev->evse" if name.endswith("Req") else "evse->ev"
    return {"8000": "ev->evse", "8040": "evse->ev"}[hexstr[:4]]


def _ipv6_frame_numbers(name: str) -> dict[int, int]:
    """Format B's ``Packet #N`` counts IPv6 frames only (not every frame, as the README says): N → frame."""
    ipv6 = (f.number for f in read_frames(capture(name)) if f.data[12:14] == b"\x86\xdd")
    return {n: frame for n, frame in enumerate(ipv6, 1)}


@pytest.mark.parametrize("name", sorted(FORMAT_B))
def test_format_b_entries_are_our_messages_frame_for_frame(name: str) -> None:
    messages = extracted(name).messages
    by_frame = {m.frame: m for m in messages}
    to_frame = _ipv6_frame_numbers(name)
    entries = [dataclasses.replace(e, frame=to_frame[e.frame or 0]) for e in parse_decoded(decoded_b(name))]
    retransmissions = [e for e in entries if e.frame not in by_frame]
    assert len(retransmissions) == FORMAT_B[name]
    offset = utc_offset(entries[0].local_time, by_frame[entries[0].frame].time)
    kept = [e for e in entries if e.frame in by_frame]
    assert [(e.frame, e.hex) for e in kept] == [(m.frame, m.hex) for m in messages]
    for e in kept:
        m = by_frame[e.frame]  # type: ignore[index]
        assert m.direction == _direction_of(e.name, e.hex)
        assert to_utc_seconds(e.local_time, offset) == pytest.approx(m.time, abs=1e-6)
    for e in retransmissions:  # the converter listed a retransmitted segment: same bytes, earlier message
        assert any(m.hex == e.hex and m.frame < e.frame and m.direction == _direction_of(e.name, e.hex)
                   for m in messages)


@pytest.mark.parametrize("name", FORMAT_A)
def test_format_a_entries_are_our_din_messages_in_order(name: str) -> None:
    din = [m for m in extracted(name).messages if m.schema == "din"]
    entries = parse_decoded(decoded_a(name))
    offset = utc_offset(entries[0].local_time, din[0].time)
    assert offset.total_seconds() == 3600  # README: one hour ahead of the capture's UTC
    start, end = din[0].time - 1.0, din[-1].time + 1.0
    inside = [e for e in entries if start <= to_utc_seconds(e.local_time, offset) <= end]
    assert [(e.direction, e.hex) for e in inside] == [(m.direction, m.hex) for m in din]
    for e, m in zip(inside, din, strict=True):
        # pyPLC stamps when it encodes/decodes: up to 20 ms before the frame, at times ~1 s after it
        assert -0.05 < to_utc_seconds(e.local_time, offset) - m.time < 1.1
    outside = [e for e in entries if e not in inside]
    if name.startswith("2022-12-20"):  # a second session, 10:05–10:06 local, that the capture lacks
        assert len(outside) == 246 - 133
        assert all(e.local_time.hour == 10 and e.local_time.minute in (5, 6) for e in outside)
    else:
        assert outside == []


def test_every_pev_frame_twice_capture_is_deduplicated() -> None:
    """2022-12-20: each PEV TCP frame was recorded twice; the copies are dropped by sequence number."""
    name = "2022-12-20_alpi_currentDemandSequenceErrorShutdown.pcapng"
    messages = extracted(name).messages
    assert len({m.frame for m in messages}) == len(messages) == 135
    ev = [m for m in messages if m.direction == "ev->evse"]
    assert len(ev) == 68 and len({m.frame for m in ev}) == 68


def test_raw_records_are_homeplug_and_sdp_frames() -> None:
    x = extracted("2024-06-18_Griffigroen_pyPLC_polestar2_discharging_with_additional_prechargeCircuit.pcapng")
    kinds = collections.Counter(r.kind for r in x.raw)
    assert kinds == {"homeplug": 51, "sdp": 2}
    sdp = [r for r in x.raw if r.kind == "sdp"]
    assert sdp[0].data[:8] == bytes.fromhex("01fe900000000002")  # request, ccs-ev.md §6
    assert sdp[1].data[:8] == bytes.fromhex("01fe900100000014") and len(sdp[1].data) == 28
    assert all(r.data[12:14] == b"\x88\xe1" for r in x.raw if r.kind == "homeplug")
