"""The fast codec agrees exactly with cantools, and the DBC matches the spec's byte layouts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.chademo.codec import (
    ChademoFrameError,
    EncodeError,
    FrameLengthError,
    MessageLayout,
    UnknownFrameError,
    default_codec,
)
from ccs2chademo.runtime import CanFrame

CODEC = default_codec()
LAYOUTS = CODEC.layouts
EXPECTED_IDS = {0x100, 0x101, 0x102, 0x103, 0x108, 0x109, 0x110, 0x118, 0x200, 0x201, 0x208, 0x209, 0x700}


def test_every_message_of_the_brief_is_in_the_dbc() -> None:
    assert {layout.frame_id for layout in LAYOUTS} == EXPECTED_IDS
    for message in CODEC.database.messages:
        assert message.comment, message.name
        for signal in message.signals:
            assert signal.comment, f"{message.name}.{signal.name}"
            assert signal.byte_order == "little_endian"


def _physical(layout: MessageLayout, data: st.DataObject) -> dict[str, int | float]:
    """Random values reachable from raw values (so cantools' round trip is exact)."""
    out: dict[str, int | float] = {}
    for signal in layout.signals:
        raw = data.draw(st.integers(0, signal.mask), label=signal.name)
        out[signal.name] = signal.to_physical(raw)
    return out


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.name)
@settings(max_examples=60, deadline=None)
@given(payload=st.binary(min_size=8, max_size=8))
def test_decode_agrees_with_cantools(layout: MessageLayout, payload: bytes) -> None:
    reference = CODEC.database.decode_message(layout.frame_id, payload, decode_choices=False)
    ours = layout.decode(payload)
    assert ours == reference
    assert [type(v) for v in ours.values()] == [type(v) for v in reference.values()]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_encode_agrees_with_cantools(layout: MessageLayout, data: st.DataObject) -> None:
    signals = _physical(layout, data)
    assert layout.encode(signals) == CODEC.database.encode_message(layout.frame_id, signals)
    assert layout.decode(layout.encode(signals)) == signals


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_encode_of_arbitrary_in_range_values_agrees(layout: MessageLayout, data: st.DataObject) -> None:
    """Unrounded physical values (e.g. 12.34 kWh) are rounded exactly like cantools rounds them."""
    signals: dict[str, int | float] = {}
    for signal in layout.signals:
        if signal.kind == 2:
            signals[signal.name] = data.draw(st.floats(signal.minimum, signal.maximum), label=signal.name)
        else:
            lo, hi = int(signal.minimum), int(signal.maximum)
            signals[signal.name] = data.draw(
                st.integers(lo, hi) | st.floats(lo, hi) | st.booleans() if 1 <= hi < 2**53 else st.integers(lo, hi),
                label=signal.name,
            )
    assert layout.encode(signals) == CODEC.database.encode_message(layout.frame_id, signals)


@pytest.mark.parametrize(
    ("frame_id", "hex_data", "expected"),
    [
        # Leaf ZE0 first frames (chademo.md §12.2)
        (0x100, "00000000B301F000", {"max_battery_voltage": 435, "charged_rate_reference": 240}),
        (
            0x102,
            "029A010000C80300",
            {
                "protocol_number": 2,
                "target_voltage": 410,
                "contactors_open": 1,
                "legacy_dynamic_control": 1,
                "discharge_compatible": 1,
                "charged_rate": 3,
            },
        ),
        (0x200, "FF000000FA00FFFF", {"max_discharge_current": 0, "min_discharge_voltage": 250}),
        (
            0x108,
            "01F4010FB3010000",
            {"welding_detection": 1, "available_voltage": 500, "available_current": 15, "threshold_voltage": 435},
        ),
        (
            0x109,
            "0200000001 20FFFF".replace(" ", ""),
            {
                "protocol_number": 2,
                "discharge_compatible": 1,
                "stop_control": 1,
                "remaining_time_10s": 255,
                "remaining_time_min": 255,
            },
        ),
        # real V2X EVSE 0x208: present 0 A, 500 V, 15 A available, 250 V threshold (chademo.md §9)
        (
            0x208,
            "FFF401F00000FA00",
            {
                "present_discharge_current": 0,
                "available_input_voltage": 500,
                "available_input_current": 15,
                "lower_threshold_voltage": 250,
            },
        ),
        (0x101, "0000000000620100", {"rated_capacity": pytest.approx(35.4)}),
        (0x101, "00FF3C0000000000", {"max_charge_time_10s": 255, "max_charge_time_min": 60}),
        (0x110, "0100000000000000", {"dynamic_control": 1}),
        (0x103, "A701000000000000", {"measured_battery_voltage": 423}),
    ],
)
def test_spec_examples(frame_id: int, hex_data: str, expected: dict[str, object]) -> None:
    decoded = CODEC.decode(frame_id, bytes.fromhex(hex_data))
    for name, value in expected.items():
        assert decoded[name] == value, name


def test_status_byte_5_bits() -> None:
    decoded = CODEC.decode(0x109, bytes([0, 0, 0, 0, 0, 0x25, 0, 0]))
    assert (decoded["charging"], decoded["connector_locked"], decoded["stop_control"]) == (1, 1, 1)
    assert decoded["charger_malfunction"] == decoded["battery_incompatible"] == decoded["system_malfunction"] == 0


def test_bad_input_is_a_typed_error() -> None:
    with pytest.raises(FrameLengthError):
        CODEC.decode(0x102, bytes(7))
    with pytest.raises(FrameLengthError):
        CODEC.decode(0x102, bytes(9))
    with pytest.raises(UnknownFrameError):
        CODEC.decode(0x123, bytes(8))
    with pytest.raises(UnknownFrameError):
        CODEC.layout("NoSuchMessage")
    with pytest.raises(UnknownFrameError):
        CODEC.decode_frame(CanFrame(0x102, bytes(8), is_extended_id=True))
    layout = CODEC.layout("VehicleStatus")
    good = layout.decode(bytes(8))
    with pytest.raises(EncodeError):
        layout.encode({**good, "target_voltage": 70000})
    with pytest.raises(EncodeError):
        layout.encode({**good, "current_request": -1})
    with pytest.raises(EncodeError):
        layout.encode({k: v for k, v in good.items() if k != "charged_rate"})
    with pytest.raises(EncodeError):
        layout.encode({**good, "bogus": 1})
    with pytest.raises(EncodeError):
        layout.encode({**good, "charged_rate": "x"})  # type: ignore[dict-item]
    assert issubclass(EncodeError, ChademoFrameError)
