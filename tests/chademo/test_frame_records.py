"""The CHAdeMO frames as hot value records: hand-written ``__init__``, ``__eq__`` and ``__hash__``.

Each frame class writes what a frozen dataclass used to generate (chademo/frames.py says why), so
these check the hand-written members against the fields: every parameter in field order with the
defaults the frozen dataclasses had, each value stored unchanged, equality by class and by every
single field, the dataclass's hash, and the round trip through the codec.
"""

from __future__ import annotations

import dataclasses
import inspect
import os

import pytest

from ccs2chademo._build import compiled_origins
from ccs2chademo.chademo import frames
from ccs2chademo.chademo.frames import ChademoFrame
from ccs2chademo.runtime import CanFrame

#: the defaults of the frozen dataclasses these classes replace, in field order
DEFAULTS: dict[type[ChademoFrame], tuple[int | float | bool, ...]] = {
    frames.VehicleLimits: (0, 0, 0, 0, 100),
    frames.VehicleChargeTime: (0xFF, 0, 0, 0.0),
    frames.VehicleStatus: (2, 0, 0, False, False, False, False, False, False, False, False, False, False, False,
                           False, False, 0),
    frames.VehicleMeasured: (0,),
    frames.VehicleExtended: (False, False, False, 0),
    frames.VehicleDischargeLimits: (0, 0, 0, 0xFF),
    frames.VehicleDischargeSequence: (0, 0, 0.0),
    frames.VehicleMaker: (0, 0),
    frames.ChargerCapability: (1, 0, 0, 0),
    frames.ChargerStatus: (2, 0, 0, False, False, False, False, False, False, True, 0, 0),
    frames.ChargerExtended: (False, False, False, False),
    frames.ChargerDischargeLimits: (0, 0, 0, 0),
    frames.ChargerDischargeSequence: (2, 0),
}

CLASSES = list(frames.FRAME_TYPES.values())


def names(cls: type[ChademoFrame]) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]


def sample(cls: type[ChademoFrame], byte: int) -> dict[str, object]:
    """Valid field values by name, decoded from a payload of ``byte`` repeated: 0x5A and 0xA5 give
    every multi-bit signal two different values (every bit differs), each within the DBC range."""
    frame = cls.from_can(CanFrame(cls.FRAME_ID, bytes([byte] * 8)))
    return {name: getattr(frame, name) for name in names(cls)}


def other_value(cls: type[ChademoFrame], name: str, value: object) -> object:
    """A different valid value of the same field."""
    if isinstance(value, bool):
        return not value
    return sample(cls, 0xA5)[name]


def test_every_frame_class_is_covered() -> None:
    assert set(DEFAULTS) == set(CLASSES)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_init_takes_every_field_in_order_with_the_old_defaults(cls: type[ChademoFrame]) -> None:
    params = inspect.signature(cls).parameters
    assert list(params) == names(cls)
    assert tuple(p.default for p in params.values()) == DEFAULTS[cls]
    record = cls()
    for name, default in zip(names(cls), DEFAULTS[cls], strict=True):
        assert getattr(record, name) == default and type(getattr(record, name)) is type(default), name
    assert "FRAME_ID" not in repr(record)  # a field only by mistake (frames.FRAME_TYPES says why)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_init_stores_every_value_unchanged(cls: type[ChademoFrame]) -> None:
    values = sample(cls, 0x5A)
    for record in (cls(**values), cls(*values.values())):
        for name, value in values.items():
            assert getattr(record, name) == value and type(getattr(record, name)) is type(value), name


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_equal_by_value_and_hashed_as_the_dataclass_was(cls: type[ChademoFrame]) -> None:
    values = sample(cls, 0x5A)
    one, two = cls(**values), cls(*values.values())
    assert one == two and (one != two) is False
    assert hash(one) == hash(two) == hash(tuple(values.values()))
    assert cls() == cls() and hash(cls()) == hash(cls())


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_any_single_field_differing_makes_frames_unequal(cls: type[ChademoFrame]) -> None:
    values = sample(cls, 0x5A)
    frame = cls(**values)
    for name, value in values.items():
        changed = dataclasses.replace(frame, **{name: other_value(cls, name, value)})  # type: ignore[type-var]
        assert changed != frame and (changed == frame) is False, name
        assert frame != changed and (frame == changed) is False, name


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_another_class_is_never_equal(cls: type[ChademoFrame]) -> None:
    frame = cls.from_can(CanFrame(cls.FRAME_ID, bytes(8)))
    for other in CLASSES:
        if other is not cls:
            assert frame != other.from_can(CanFrame(other.FRAME_ID, bytes(8)))
    same_values: object = tuple(getattr(frame, name) for name in names(cls))
    assert frame != same_values
    assert frame.__eq__(object()) is NotImplemented


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_from_can_of_to_can_is_the_frame(cls: type[ChademoFrame]) -> None:
    for byte in (0x5A, 0xA5):
        frame = cls(**sample(cls, byte))
        assert cls.from_can(frame.to_can()) == frame
    assert cls.from_can(cls().to_can()) == cls()


@pytest.mark.skipif(not compiled_origins(), reason="pure-Python build")
@pytest.mark.skipif(bool(os.environ.get("CCS2CHADEMO_PURE")), reason="pure-Python build")
def test_compiled_frames_refuse_assignment() -> None:
    status = frames.VehicleStatus()
    with pytest.raises(AttributeError):
        status.target_voltage = 400  # type: ignore[misc]
