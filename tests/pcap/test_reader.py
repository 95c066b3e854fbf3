"""The capture reader: both file formats, and typed errors for everything that is not a whole capture."""

from __future__ import annotations

import contextlib
import io

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.pcap import (
    PcapError,
    PcapFormatError,
    PcapLinkTypeError,
    PcapTruncatedError,
    extract,
    iter_records,
    read_frames,
)

from .capture_table import capture
from .conftest import extracted
from .synth import pcap_bytes

ABB = "2022-11-25_v0.2_ABB_until_ChargeParamDiscovery.pcapng"


def _abb_bytes() -> bytes:
    return capture(ABB).read_bytes()


def test_classic_pcap_gives_the_same_messages_as_pcapng() -> None:
    frames = list(read_frames(capture(ABB)))
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, nano=True)
    for f in frames:
        writer.writepkt(f.data, ts=f.time)
    again = extract(out.getvalue())
    ref = extracted(ABB)
    assert [(m.frame, m.direction, m.payload) for m in again.messages] == [
        (m.frame, m.direction, m.payload) for m in ref.messages]
    assert [m.time for m in again.messages] == pytest.approx([m.time for m in ref.messages], abs=1e-6)


def test_timestamps_are_utc_epoch_seconds() -> None:
    first = next(read_frames(capture(ABB)))
    assert 1669334400 <= first.time < 1669420800  # 2022-11-25 UTC
    assert first.number == 1


@pytest.mark.parametrize("data", [b"", b"\x0a\x0d", b"garbage" * 50, b"\x00" * 4096, b"PK\x03\x04" + bytes(100)])
def test_garbage_is_a_typed_error(data: bytes) -> None:
    with pytest.raises(PcapError):
        list(read_frames(data))


def test_missing_file_is_a_typed_error(tmp_path: object) -> None:
    with pytest.raises(PcapFormatError, match="cannot read"):
        list(read_frames("/nonexistent/capture.pcapng"))


def test_truncated_pcapng_yields_frames_before_the_cut_then_raises() -> None:
    data = _abb_bytes()
    cut = len(data) // 2
    got = []
    with pytest.raises(PcapTruncatedError) as info:
        got.extend(read_frames(data[:cut]))
    assert 0 < len(got) < 488
    assert [f.data for f in got] == [f.data for f in list(read_frames(data))[: len(got)]]
    assert info.value.frame == len(got) + 1


def test_truncated_classic_pcap_raises() -> None:
    data = pcap_bytes([bytes(60)] * 5)
    with pytest.raises(PcapTruncatedError):
        list(read_frames(data[:-7]))
    with pytest.raises(PcapTruncatedError):
        list(read_frames(data[:30]))
    assert len(list(read_frames(data))) == 5


def test_corrupt_block_length_is_a_typed_error() -> None:
    data = bytearray(_abb_bytes())
    pos = 0
    while int.from_bytes(data[pos : pos + 4], "little") != 6:  # walk to the first enhanced packet block
        pos += int.from_bytes(data[pos + 4 : pos + 8], "little")
    for bad in (0xFFFFFFF0, 4, 13):
        data[pos + 4 : pos + 8] = bad.to_bytes(4, "little")
        with pytest.raises(PcapTruncatedError):
            list(read_frames(bytes(data)))


def test_other_link_type_is_refused() -> None:
    with pytest.raises(PcapLinkTypeError):
        list(read_frames(pcap_bytes([bytes(40)], linktype=dpkt.pcap.DLT_RAW)))


def test_pipeline_passes_the_error_on_after_earlier_records() -> None:
    data = _abb_bytes()
    records = []
    with pytest.raises(PcapTruncatedError):
        records.extend(iter_records(data[: len(data) - 5000]))
    assert records


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_captures_never_crash(data: st.DataObject) -> None:
    raw = bytearray(_abb_bytes()[:20000])
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    with contextlib.suppress(PcapError):
        extract(bytes(raw[:cut]))
