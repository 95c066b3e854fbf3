from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccs2chademo.v2g.v2gtp import MAX_PAYLOAD, PayloadType, V2gtpError, V2gtpStream, decode, encode

SAP_REQ = bytes.fromhex("8000dbab9371d3234b71d1b981899189d191818991d26b9b3a232b30020000040040")


def test_header_layout() -> None:
    frame = encode(SAP_REQ)
    assert frame[:8] == bytes.fromhex("01fe800100000022")
    assert decode(frame).payload == SAP_REQ
    assert encode(b"\x10\x00", PayloadType.SDP_REQUEST) == bytes.fromhex("01fe9000000000021000")


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=8), st.data())
def test_stream_reassembles_any_split(payloads: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(encode(p) for p in payloads)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    framer, got = V2gtpStream(), []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        got += [m.payload for m in framer.feed(stream[a:b])]
    assert got == payloads and framer.pending == 0


def test_bad_version_and_oversized_length_are_typed_errors() -> None:
    framer = V2gtpStream()
    with pytest.raises(V2gtpError, match="version"):
        framer.feed(encode(b"ok") + b"\x02\xfd\x80\x01\x00\x00\x00\x00")
    with pytest.raises(V2gtpError):
        framer.feed(b"more")  # poisoned: the stream cannot resynchronise
    with pytest.raises(V2gtpError, match="exceeds"):
        V2gtpStream().feed(bytes.fromhex("01fe8001") + (MAX_PAYLOAD + 1).to_bytes(4, "big"))
    with pytest.raises(V2gtpError, match="header says"):
        decode(encode(b"abc") + b"x")
    with pytest.raises(V2gtpError, match="needs 8"):
        decode(b"\x01\xfe")
