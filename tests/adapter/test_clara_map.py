"""The openinverter CAN map of the clara mode as data: ZombieVerter's default map, validation with
typed errors, and packing/unpacking 0x358 / 0x109 / 0x357 (issue 13)."""

from __future__ import annotations

import contextlib
import json
from importlib import resources
from pathlib import Path

import can
import cantools
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.adapter.clara_map import (
    DEFAULT_MAP,
    PARAMETERS,
    BadField,
    CanMapError,
    Direction,
    FrameError,
    MapEntry,
    MixedDirection,
    OverlappingBits,
    UnknownParameter,
    pack,
    unpack,
    validate_map,
)
from ccs2chademo.canlog import write_log
from ccs2chademo.chademo.codec import ChademoCodec
from ccs2chademo.cli import cli

FAST = settings(max_examples=150, deadline=None)


def test_zombieverter_0x358_little_endian_as_the_vcu_sends_it() -> None:
    # enable + AC OBC state 2 + allow unlock, SoC 55 %, 384 V battery, 398 V target, 125 A
    data = bytes((0x01 | 0x08 | 0x80, 55, 0x80, 0x01, 0x8E, 0x01, 125, 0))
    assert unpack(DEFAULT_MAP, 0x358, data) == {
        "enable": 1, "AcObcState": 2, "soc": 55, "BatteryVoltage": 384, "TargetVoltage": 398,
        "ChargeCurrent": 125, "AllowUnlock": 1}


def test_0x109_and_0x357_as_zombieverter_reads_them() -> None:
    data = pack(DEFAULT_MAP, 0x109, {"EvseVoltage": 390, "EvseCurrent": 101, "EvseMaxCurrent": 200,
                                     "EvseMaxVoltage": 920})
    assert data == bytes((0x86, 0x01, 101, 0, 200, 0, 0x98, 0x03))
    data = pack(DEFAULT_MAP, 0x357, {"LimitationReason": 1, "EvseAcCurrentLimit": 300, "PortState": 4,
                                     "MaxTemp": 41, "LockState": 2, "CableCurrentLimit": 63})
    assert data == bytes((1, 0x2C, 0x01, 4, 41, 2, 63, 0))


def test_the_default_map_sends_0x109_then_0x357_and_receives_0x358() -> None:
    assert DEFAULT_MAP.sent_ids() == (0x109, 0x357)
    assert DEFAULT_MAP.received_ids() == {0x358}
    assert unpack(DEFAULT_MAP, 0x109, bytes(8)) == {}  # a frame we send is not an input


def test_values_saturate_instead_of_wrapping() -> None:
    data = pack(DEFAULT_MAP, 0x357, {"PortState": 300, "MaxTemp": -5})
    assert data[3] == 0xFF and data[4] == 0


@pytest.mark.parametrize(("entries", "error"), [
    ((MapEntry("Bogus", 0x358, 0, 8),), UnknownParameter),
    ((MapEntry("soc", 0x358, 60, 8),), BadField),
    ((MapEntry("soc", 0x358, 0, 0),), BadField),
    ((MapEntry("soc", 0x800, 0, 8),), BadField),
    ((MapEntry("soc", 0x358, 0, 8, gain=0.0),), BadField),
    ((MapEntry("soc", 0x358, 8, 8), MapEntry("enable", 0x358, 15, 1)), OverlappingBits),
    ((MapEntry("soc", 0x358, 8, 8), MapEntry("EvseVoltage", 0x358, 16, 16)), MixedDirection),
])
def test_invalid_maps_are_typed_errors_naming_the_entry(entries: tuple[MapEntry, ...], error: type) -> None:
    with pytest.raises(error) as caught:
        validate_map(entries)
    assert isinstance(caught.value, CanMapError) and entries[-1].param in str(caught.value)


def test_a_short_frame_sets_nothing() -> None:
    with pytest.raises(FrameError, match="0x358"):
        unpack(DEFAULT_MAP, 0x358, bytes(5))


_received = [p for p in PARAMETERS.values() if p.direction is Direction.RECEIVED]


@st.composite
def maps_and_values(draw: st.DrawFn) -> tuple[list[MapEntry], dict[str, float]]:
    """A random valid one-frame map of received parameters and in-range integer values."""
    names = draw(st.lists(st.sampled_from([p.name for p in _received]), min_size=1, max_size=4, unique=True))
    entries, values, bit = [], {}, 0
    for name in names:
        length = draw(st.integers(1, 16))
        bit += draw(st.integers(0, 3))
        if bit + length > 64:
            break
        entries.append(MapEntry(name, 0x123, bit, length))
        values[name] = float(draw(st.integers(0, (1 << length) - 1)))
        bit += length
    return entries, values


@FAST
@given(maps_and_values())
def test_pack_unpack_round_trip(case: tuple[list[MapEntry], dict[str, float]]) -> None:
    entries, values = case
    can_map = validate_map(entries)
    data = pack(can_map, 0x123, values, Direction.RECEIVED)  # as the VCU builds it
    assert unpack(can_map, 0x123, data) == {e.param: values[e.param] for e in entries}


@FAST
@given(st.dictionaries(st.sampled_from(["EvseVoltage", "EvseCurrent", "EvseMaxCurrent", "EvseMaxVoltage"]),
                       st.integers(0, 0xFFFF)))
def test_sent_frames_round_trip_as_the_vcu_reads_them(values: dict[str, int]) -> None:
    sent = pack(DEFAULT_MAP, 0x109, values)
    assert unpack(DEFAULT_MAP, 0x109, sent, Direction.SENT) == {
        name: values.get(name, 0) for name in ("EvseVoltage", "EvseCurrent", "EvseMaxCurrent", "EvseMaxVoltage")}


@FAST
@given(st.integers(0, 0x7FF), st.binary(max_size=8))
def test_arbitrary_frames_never_crash(frame_id: int, data: bytes) -> None:
    try:
        values = unpack(DEFAULT_MAP, frame_id, data)
    except FrameError:
        return
    assert set(values) <= set(PARAMETERS)


@FAST
@given(st.lists(st.tuples(st.text(max_size=12) | st.sampled_from(sorted(PARAMETERS)), st.integers(-5, 0x900),
                          st.integers(-3, 70), st.integers(-1, 40), st.floats(allow_nan=True)), max_size=5))
def test_arbitrary_maps_validate_or_raise_a_typed_error(rows: list[tuple[str, int, int, int, float]]) -> None:
    with contextlib.suppress(CanMapError):  # anything else (TypeError, IndexError …) fails the test
        validate_map(MapEntry(p, i, s, n, g) for p, i, s, n, g in rows)


def test_the_shipped_clara_dbc_is_the_default_map() -> None:
    text = resources.files("ccs2chademo.chademo").joinpath("clara.dbc").read_text(encoding="utf-8")
    codec = ChademoCodec(text)
    for frame_id in (0x358, 0x109, 0x357):
        layout = {s.name: (s.start, s.length) for s in cantools.database.load_string(text).get_message_by_frame_id(
            frame_id).signals}
        assert layout == {e.param: (e.start, e.length) for e in DEFAULT_MAP.in_frame(frame_id)}
        assert codec.knows(frame_id)


def test_can_decode_takes_the_clara_dbc(tmp_path: Path) -> None:
    data = pack(DEFAULT_MAP, 0x358, {"enable": 1, "soc": 55, "BatteryVoltage": 384, "TargetVoltage": 398,
                                     "ChargeCurrent": 125}, Direction.RECEIVED)
    path = tmp_path / "clara.log"
    write_log([can.Message(timestamp=1.0, arbitration_id=0x358, data=data, is_extended_id=False, channel="can0"),
               can.Message(timestamp=1.1, arbitration_id=0x596, data=bytes.fromhex("8000310000000008"),
                           is_extended_id=False, channel="can0")], path)
    result = CliRunner().invoke(cli, ["can", "decode", "--json", "--dbc", "clara", str(path)])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["name"] == "VcuChargeRequest" and first["signals"]["ChargeCurrent"] == 125
    assert second["name"] == "SdoAnswer" and second["signals"]["command"] == 0x80
