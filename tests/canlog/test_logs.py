"""Every CAN log of shared/data/chademo: read with the stated frame counts, every CHAdeMO frame
decoded through chademo.dbc to sane values and the data README's example values, and encoded
back to the logged bytes (data README section 2; chademo.md §2, §3, §9)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from ccs2chademo.chademo.codec import default_codec

from ..conftest import shared_data
from .realdata import CHADEMO_IDS, decoded


@dataclass(frozen=True)
class Stated:
    """What the data README section 2.1 states about a file."""

    path: str
    frames: int
    chademo: int
    duration: float
    dropped: int = 0  # rows before a logger-time restart (README counts them, we drop them)


STATED = [
    Stated("leaf-ze0-v2x-evse-start-stop.csv", 4072, 4072, 51.1),
    Stated("leaf-ze1-62kwh-charging.csv", 4692, 4692, 39.5),
    Stated("diy-car-177v-session.txt", 3872, 3552, 91.5),
    # 13 314 rows; the 4 before the restart (car-bus IDs 0x1D6 …, none CHAdeMO) are dropped.
    Stated("diy-car-v2x-charger-fail.csv", 13314, 1007, 47.2, dropped=4),
    Stated("zombieverter/FAILCHAD.csv", 154, 154, 11.5),
    Stated("zombieverter/Failcan2.csv", 252, 252, 7.9),
    Stated("zombieverter/FailedInstaVolt.csv", 269, 269, 181.9),
    Stated("zombieverter/GeniePointFail.csv", 374, 374, 12.0),
    Stated("zombieverter/abb_nissan.csv", 2923, 2138, 66.2),
    Stated("zombieverter/ea_target.csv", 3139, 2301, 70.4),
    Stated("zombieverter/evgo_kildare.csv", 4014, 3011, 84.3),
    Stated("zombieverter/evgo_walmart.csv", 4931, 3608, 111.0),
]

#: The one frame whose reserved bits are set: evgo_walmart's corrupted 0x101 at 88.6 s (README:
#: "bytes shifted"), ``FF FE 00 …`` — byte 0 is reserved, so the DBC cannot carry it.
CORRUPT = {("zombieverter/evgo_walmart.csv", 0x101, bytes.fromhex("fffe000000000000"))}


def test_every_log_file_has_a_case() -> None:
    root = shared_data("chademo")
    logs = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != "openinverter.txt"}
    assert logs == {s.path for s in STATED}


@pytest.mark.parametrize("stated", STATED, ids=lambda s: s.path)
def test_frame_counts_and_duration(stated: Stated) -> None:
    d = decoded(stated.path)
    assert d.log.skipped == 0
    assert d.log.dropped == stated.dropped
    assert len(d.frames) == stated.frames - stated.dropped
    assert sum(f.arbitration_id in CHADEMO_IDS and not f.is_extended_id for f in d.frames) == stated.chademo
    assert d.frames[-1].t == pytest.approx(stated.duration, abs=0.06)
    assert all(b.t >= a.t for a, b in itertools.pairwise(d.frames)), "time runs forward"


@pytest.mark.parametrize("stated", STATED, ids=lambda s: s.path)
def test_chademo_frames_decode_to_sane_values(stated: Stated) -> None:
    codec = default_codec()
    d = decoded(stated.path)
    for frame in d.frames:
        known = not frame.is_extended_id and codec.knows(frame.arbitration_id)
        assert (frame.name is not None) == known, frame
        assert frame.error is None, frame  # every CHAdeMO frame of the logs has DLC 8
        if not known:
            assert frame.signals == {}
            assert frame.arbitration_id not in CHADEMO_IDS - {0x202}, frame  # 0x202: Leaf, meaning unknown
            continue
        message = codec.database.get_message_by_frame_id(frame.arbitration_id)
        for signal in message.signals:
            value = frame.signals[signal.name]
            if signal.unit == "V":
                assert 0 <= value <= 1000, (frame, signal.name)
            elif signal.unit == "A":
                assert 0 <= value <= 255, (frame, signal.name)
            elif signal.name == "protocol_number":
                assert value in (1, 2), frame  # chademo.md §8.1: every car and charger here sends 1 or 2
        # the reference decoder agrees with the fast codec
        assert codec.database.decode_message(frame.arbitration_id, frame.data, decode_choices=False) \
            == pytest.approx(frame.signals)


@pytest.mark.parametrize("stated", STATED, ids=lambda s: s.path)
def test_encoding_the_decoded_signals_gives_the_logged_bytes(stated: Stated) -> None:
    """Byte-exact round trip.  The DBC leaves reserved bits out (e.g. 0x100 byte 7, 0x101 bytes 0, 4
    and 7, 0x102.4 bits 5–7): they are zero in every logged frame but one, checked here too."""
    codec = default_codec()
    corrupt_seen = 0
    for frame in decoded(stated.path).frames:
        if frame.name is None:
            continue
        layout = codec.layout(frame.arbitration_id)
        covered = sum(s.mask << s.shift for s in layout.signals).to_bytes(8, "little")
        reserved_clear = bytes(b & m for b, m in zip(frame.data, covered, strict=True))
        encoded = layout.encode(frame.signals)
        assert encoded == reserved_clear, frame
        if (stated.path, frame.arbitration_id, frame.data) in CORRUPT:
            assert encoded != frame.data
            corrupt_seen += 1
        else:
            assert encoded == frame.data, f"reserved bits set in {frame}"
    assert corrupt_seen == sum(path == stated.path for path, _, _ in CORRUPT)
