"""Frame dataclasses: round trips through the codec, typed errors, real-log decoding."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.chademo import frames
from ccs2chademo.chademo.codec import FrameLengthError, UnknownFrameError
from ccs2chademo.runtime import CanFrame
from tests.chademo.helpers import read_savvycan
from tests.conftest import shared_data


@pytest.mark.parametrize("cls", frames.FRAME_TYPES.values(), ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None)
@given(payload=st.binary(min_size=8, max_size=8))
def test_from_can_to_can_keeps_every_signal_bit(cls: type[frames.ChademoFrame], payload: bytes) -> None:
    frame = cls.from_can(CanFrame(cls.FRAME_ID, payload))
    again = frame.to_can()
    assert cls.from_can(again) == frame
    # bits outside the signals (reserved bytes) are dropped, every signal bit survives
    layout = cls._layout
    mask = sum(s.mask << s.shift for s in layout.signals)
    assert int.from_bytes(again.data, "little") == int.from_bytes(payload, "little") & mask


def test_flags_are_bools_and_defaults_encode() -> None:
    status = frames.VehicleStatus.from_can(CanFrame(0x102, bytes.fromhex("029A010000C90300")))
    assert status.charging_enabled is True and status.shift_not_park is False
    assert frames.ChargerStatus().to_can().data == bytes([2, 0, 0, 0, 0, 0x20, 0, 0])
    assert frames.ChargerExtended(dynamic_control=True).to_can().data == bytes([1, 0, 0, 0, 0, 0, 0, 0])
    limits = frames.ChargerDischargeLimits(0, 500, 15, 250).to_can().data
    assert limits == bytes.fromhex("FFF401F00000FA00")


def test_derived_values() -> None:
    assert frames.VehicleChargeTime(0xFF, 60).max_charge_time_s == 3600
    assert frames.VehicleChargeTime(228, 0).max_charge_time_s == 2280
    status = frames.VehicleStatus(charged_rate=143)
    assert status.soc(255) == pytest.approx(56.08, abs=0.01)
    assert status.soc(0) == 100.0
    assert frames.VehicleStatus(charged_rate=73).soc(100) == 73.0
    assert frames.ChargerStatus(charging=True, connector_locked=True, stop_control=True).status_byte == 0x25


def test_wrong_dlc_and_unknown_ids_are_typed_errors() -> None:
    with pytest.raises(FrameLengthError):
        frames.VehicleStatus.from_can(CanFrame(0x102, bytes(6)))
    with pytest.raises(UnknownFrameError):
        frames.VehicleStatus.from_can(CanFrame(0x100, bytes(8)))
    with pytest.raises(UnknownFrameError):
        frames.decode(CanFrame(0x202, bytes(8)))
    with pytest.raises(UnknownFrameError):
        frames.decode(CanFrame(0x102, bytes(8), is_extended_id=True))
    with pytest.raises(frames.ChademoFrameError):
        dataclasses.replace(frames.VehicleStatus(), target_voltage=-5).to_can()


def test_leaf_ze0_log_decodes_to_sane_values() -> None:
    seen: dict[int, int] = {}
    for _, frame in read_savvycan(shared_data("chademo", "leaf-ze0-v2x-evse-start-stop.csv")):
        decoded = frames.decode(frame)
        seen[frame.arbitration_id] = seen.get(frame.arbitration_id, 0) + 1
        if isinstance(decoded, frames.VehicleStatus):
            assert decoded.target_voltage == 410 and decoded.protocol_number == 2
            assert decoded.current_request <= 15
        elif isinstance(decoded, frames.VehicleLimits):
            assert decoded.max_battery_voltage == 435
        elif isinstance(decoded, frames.ChargerCapability):
            assert decoded.available_voltage == 500 and decoded.available_current in (0, 15)
        elif isinstance(decoded, frames.ChargerStatus):
            assert 0 <= decoded.present_voltage <= 510 and decoded.present_current <= 15
        assert decoded.to_can().data == frame.data or frame.arbitration_id in (0x100, 0x101, 0x200, 0x208, 0x209)
    assert set(seen) == {0x100, 0x101, 0x102, 0x200, 0x108, 0x109, 0x208, 0x209}
