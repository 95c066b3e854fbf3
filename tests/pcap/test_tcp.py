"""TCP reassembly and schema following on synthetic captures built from real messages."""

from __future__ import annotations

import dpkt
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.pcap import SessionFollower, extract
from ccs2chademo.pcap.tcp import HalfStream

from .conftest import extracted
from .synth import pcap_bytes, session_frames, tcp_frame

ACK, PSH = dpkt.tcp.TH_ACK, dpkt.tcp.TH_PUSH
POLESTAR = "2024-06-18_Griffigroen_pyPLC_polestar2_discharging_with_additional_prechargeCircuit.pcapng"


def _session() -> list[tuple[bool, bytes]]:
    return [(m.direction == "ev->evse", m.payload) for m in extracted(POLESTAR).messages[:24]]


@settings(max_examples=60, deadline=None)
@given(ev_isn=st.integers(0, 2**32 - 1), evse_isn=st.integers(0, 2**32 - 1),
       cuts=st.lists(st.integers(1, 40), min_size=1, max_size=6), dup=st.sets(st.integers(1, 200), max_size=20))
def test_any_segmentation_and_duplication_gives_the_same_messages(ev_isn: int, evse_isn: int, cuts: list[int],
                                                                  dup: set[int]) -> None:
    messages = _session()
    got = extract(pcap_bytes(session_frames(messages, ev_isn, evse_isn, cuts, dup))).messages
    assert [(m.direction == "ev->evse", m.payload) for m in got] == messages
    assert {m.connection for m in got} == {0}
    assert [m.schema for m in got[:3]] == ["apphand", "apphand", "din"]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_half_stream_reorders_and_drops_repeats(data: st.DataObject) -> None:
    stream = bytes(range(256)) * 3
    isn = data.draw(st.integers(0, 2**32 - 1))
    bounds = sorted(data.draw(st.sets(st.integers(1, len(stream) - 1), max_size=30)))
    pieces = [(a, stream[a:b]) for a, b in zip([0, *bounds], [*bounds, len(stream)], strict=True)]
    order = data.draw(st.permutations(pieces + data.draw(st.lists(st.sampled_from(pieces), max_size=10))))
    half = HalfStream()
    half.start(isn)
    out = b"".join(half.feed((isn + 1 + offset) % 2**32, piece) for offset, piece in order)
    assert out == stream and half.pending == {}


def test_new_isn_on_the_same_ports_is_a_new_connection() -> None:
    messages = _session()[:4]
    frames = session_frames(messages) + session_frames(messages, 9000, 7000)
    got = extract(pcap_bytes(frames)).messages
    assert [m.connection for m in got] == [0] * 4 + [1] * 4
    assert [m.schema for m in got] == ["apphand", "apphand", "din", "din"] * 2


def test_repeated_syn_is_the_same_connection() -> None:
    messages = _session()[:4]
    frames = session_frames(messages)
    frames.insert(1, frames[0])
    assert {m.connection for m in extract(pcap_bytes(frames)).messages} == {0}


def test_capture_started_mid_connection() -> None:
    """No SYN: the first data segment starts the stream and its sender is the car."""
    messages = _session()[4:10]
    frames = session_frames(messages, 5, 6)[2:]
    got = extract(pcap_bytes(frames)).messages
    assert [(m.direction == "ev->evse", m.payload) for m in got] == messages
    assert all(m.schema == "din" for m in got)


def test_broken_v2gtp_header_ends_only_that_direction() -> None:
    messages = _session()[:6]
    frames = session_frames(messages, 1, 2)
    bad = tcp_frame(True, 999_999, ACK, b"\x02\xfd\x80\x01\x00\x00\x00\x01\x00")  # garbage at a far seq
    frames.insert(2, tcp_frame(True, 2, ACK | PSH, b"\x02\xfd\x80\x01\x00\x00\x00\x00"))  # bad version bytes
    got = extract(pcap_bytes([*frames, bad])).messages
    assert got and all(m.direction == "evse->ev" for m in got)


def test_follower_uses_the_negotiator_and_falls_back_to_first_bytes() -> None:
    seen: list[tuple[bytes, bytes]] = []

    def negotiate(req: bytes, res: bytes) -> str | None:
        seen.append((req, res))
        return "iso2"

    f = SessionFollower(negotiate)
    assert f.schema_for(True, b"\x80\x00\x01") == "apphand"
    assert f.schema_for(False, b"\x80\x40\x00") == "apphand"
    assert seen == [(b"\x80\x00\x01", b"\x80\x40\x00")]
    assert f.schema_for(True, b"\x80\x9a\x02") == "iso2"  # the negotiated schema wins over first bytes
    g = SessionFollower(lambda req, res: None)
    g.schema_for(True, b"\x80\x00")
    g.schema_for(False, b"\x80\x40")
    assert g.schema_for(True, b"\x80\x98\x02") == "iso2"
    assert g.schema_for(True, b"\x80\x9a\x02") == "din"
    assert g.schema_for(True, b"\x12\x34") is None


def test_early_segments_are_held_within_bounds() -> None:
    half = HalfStream()
    half.start(0)
    for i in range(3000):  # one-byte segments at stream offsets 1, 3, 5, …: each beyond a gap
        half.feed(2 + 2 * i, b"x")
    assert len(half.pending) == 1024 and half.pending_bytes == 1024
    assert half.feed(1, b"y") == b"yx"  # offset 0 fills the first gap and releases offset 1
    assert half.feed(3, b"z") == b"zx"  # offset 2, then the held offset 3
    assert len(half.pending) == 1022
