"""One frozen dataclass per CHAdeMO frame, converted to and from :class:`CanFrame` by the codec.

Field names are the DBC signal names and appear in DBC order, so a frame is built from the
codec's value tuple in one call.  1-bit flags are ``bool``; everything else is in the physical
unit of the DBC (V, A, min, 10 s, kWh; V2X currents already un-inverted).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, TypeVar

from ..runtime import CanFrame
from .codec import FRAME_LENGTH, ChademoFrameError, FrameLengthError, MessageLayout, UnknownFrameError, default_codec

__all__ = [
    "FRAME_TYPES",
    "ChademoFrame",
    "ChademoFrameError",
    "ChargerCapability",
    "ChargerDischargeLimits",
    "ChargerDischargeSequence",
    "ChargerExtended",
    "ChargerStatus",
    "VehicleChargeTime",
    "VehicleDischargeLimits",
    "VehicleDischargeSequence",
    "VehicleExtended",
    "VehicleLimits",
    "VehicleMaker",
    "VehicleMeasured",
    "VehicleStatus",
    "decode",
]

F = TypeVar("F", bound="ChademoFrame")


class ChademoFrame:
    """Mixin of every frame dataclass: ``FRAME_ID`` ties it to its DBC message."""

    FRAME_ID: ClassVar[int]
    _layout: ClassVar[MessageLayout]
    _names: ClassVar[tuple[str, ...]]

    @classmethod
    def _bind(cls) -> None:
        layout = default_codec().layout(cls.FRAME_ID)
        names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
        if names != layout.names:
            raise ChademoFrameError(f"{cls.__name__} fields {names} do not match the DBC {layout.names}")
        cls._layout = layout
        cls._names = names

    def to_can(self) -> CanFrame:
        values = [getattr(self, name) for name in self._names]
        return CanFrame(self.FRAME_ID, self._layout.encode_values(values))

    @classmethod
    def from_can(cls: type[F], frame: CanFrame) -> F:
        if frame.arbitration_id != cls.FRAME_ID or frame.is_extended_id:
            raise UnknownFrameError(f"0x{frame.arbitration_id:03x} is not {cls.__name__} (0x{cls.FRAME_ID:03x})")
        if len(frame.data) != FRAME_LENGTH:
            raise FrameLengthError(f"{cls.__name__}: DLC {len(frame.data)}, expected 8")
        return cls(*cls._layout.values(frame.data))


# ------------------------------------------------------------------------------ vehicle frames


@dataclass(frozen=True, slots=True)
class VehicleLimits(ChademoFrame):
    """0x100 battery limits (chademo.md §3.1)."""

    FRAME_ID: ClassVar[int] = 0x100
    min_charge_current: int = 0
    nonstandard_max_current: int = 0
    min_battery_voltage: int = 0
    max_battery_voltage: int = 0
    charged_rate_reference: int = 100


@dataclass(frozen=True, slots=True)
class VehicleChargeTime(ChademoFrame):
    """0x101 maximum charging time and capacity (chademo.md §3.2)."""

    FRAME_ID: ClassVar[int] = 0x101
    max_charge_time_10s: int = 0xFF
    max_charge_time_min: int = 0
    estimated_charge_time_min: int = 0
    rated_capacity: float = 0.0

    @property
    def max_charge_time_s(self) -> int:
        """byte1 × 10 s unless byte1 is 0xFF, else byte2 × 60 s."""
        if self.max_charge_time_10s != 0xFF:
            return self.max_charge_time_10s * 10
        return self.max_charge_time_min * 60


@dataclass(frozen=True, slots=True)
class VehicleStatus(ChademoFrame):
    """0x102 control and status, the main loop frame (chademo.md §3.3)."""

    FRAME_ID: ClassVar[int] = 0x102
    protocol_number: int = 2
    target_voltage: int = 0
    current_request: int = 0
    fault_over_voltage: bool = False
    fault_under_voltage: bool = False
    fault_current_deviation: bool = False
    fault_high_temperature: bool = False
    fault_voltage_deviation: bool = False
    charging_enabled: bool = False
    shift_not_park: bool = False
    system_fault: bool = False
    contactors_open: bool = False
    stop_before_charging: bool = False
    status_bit5: bool = False
    legacy_dynamic_control: bool = False
    discharge_compatible: bool = False
    charged_rate: int = 0

    @property
    def any_fault(self) -> bool:
        """Any of the 0x102.4 battery fault bits."""
        return (
            self.fault_over_voltage
            or self.fault_under_voltage
            or self.fault_current_deviation
            or self.fault_high_temperature
            or self.fault_voltage_deviation
        )

    def soc(self, reference: int) -> float:
        """SoC % = charged rate / 0x100.6 × 100 (raw value if the reference is 0), clamped to 100."""
        if reference == 0:
            return float(min(self.charged_rate, 100))
        return min(self.charged_rate * 100.0 / reference, 100.0)


@dataclass(frozen=True, slots=True)
class VehicleMeasured(ChademoFrame):
    """0x103, non-standard: measured battery voltage (ZombieVerter; chademo.md §3.7)."""

    FRAME_ID: ClassVar[int] = 0x103
    measured_battery_voltage: int = 0


@dataclass(frozen=True, slots=True)
class VehicleExtended(ChademoFrame):
    """0x110 extended functions of the car (chademo.md §3.6)."""

    FRAME_ID: ClassVar[int] = 0x110
    dynamic_control: bool = False
    high_current_control: bool = False
    high_voltage_control: bool = False
    high_current_request: int = 0


@dataclass(frozen=True, slots=True)
class VehicleDischargeLimits(ChademoFrame):
    """0x200 V2X discharge limits of the car (chademo.md §9); currents in A (the DBC un-inverts them)."""

    FRAME_ID: ClassVar[int] = 0x200
    max_discharge_current: int = 0
    min_discharge_voltage: int = 0
    min_discharge_level: int = 0
    max_charge_level: int = 0xFF


@dataclass(frozen=True, slots=True)
class VehicleDischargeSequence(ChademoFrame):
    """0x201 V2X sequence control of the car (chademo.md §9)."""

    FRAME_ID: ClassVar[int] = 0x201
    sequence_control_number: int = 0
    discharge_completion_time: int = 0
    available_energy: float = 0.0


@dataclass(frozen=True, slots=True)
class VehicleMaker(ChademoFrame):
    """0x700 automaker code (log only)."""

    FRAME_ID: ClassVar[int] = 0x700
    automaker_code: int = 0
    maker_specific: int = 0


# ------------------------------------------------------------------------------ charger frames


@dataclass(frozen=True, slots=True)
class ChargerCapability(ChademoFrame):
    """0x108 charger capability (chademo.md §3.4)."""

    FRAME_ID: ClassVar[int] = 0x108
    welding_detection: int = 1
    available_voltage: int = 0
    available_current: int = 0
    threshold_voltage: int = 0


@dataclass(frozen=True, slots=True)
class ChargerStatus(ChademoFrame):
    """0x109 charger status (chademo.md §3.5)."""

    FRAME_ID: ClassVar[int] = 0x109
    protocol_number: int = 2
    present_voltage: int = 0
    present_current: int = 0
    discharge_compatible: bool = False
    charging: bool = False
    charger_malfunction: bool = False
    connector_locked: bool = False
    battery_incompatible: bool = False
    system_malfunction: bool = False
    stop_control: bool = True
    remaining_time_10s: int = 0
    remaining_time_min: int = 0

    @property
    def status_byte(self) -> int:
        """Byte 5 as the spec's sequences write it (0x20, 0x24, 0x05, 0x25 …)."""
        bits = (
            self.charging,
            self.charger_malfunction,
            self.connector_locked,
            self.battery_incompatible,
            self.system_malfunction,
            self.stop_control,
        )
        return sum(1 << i for i, bit in enumerate(bits) if bit)

    @property
    def remaining_time_s(self) -> int:
        if self.remaining_time_10s != 0xFF:
            return self.remaining_time_10s * 10
        return self.remaining_time_min * 60

    @property
    def error(self) -> bool:
        """Any charger-side error bit the car reacts to with an error stop (chademo.md §11)."""
        return self.charger_malfunction or self.battery_incompatible or self.system_malfunction


@dataclass(frozen=True, slots=True)
class ChargerExtended(ChademoFrame):
    """0x118 extended functions of the charger (chademo.md §3.6)."""

    FRAME_ID: ClassVar[int] = 0x118
    dynamic_control: bool = False
    high_current_control: bool = False
    high_voltage_control: bool = False
    reset_max_charge_time: bool = False


@dataclass(frozen=True, slots=True)
class ChargerDischargeLimits(ChademoFrame):
    """0x208 V2X discharge limits of the charger (chademo.md §9); currents in A."""

    FRAME_ID: ClassVar[int] = 0x208
    present_discharge_current: int = 0
    available_input_voltage: int = 0
    available_input_current: int = 0
    lower_threshold_voltage: int = 0


@dataclass(frozen=True, slots=True)
class ChargerDischargeSequence(ChademoFrame):
    """0x209 V2X sequence control of the charger (chademo.md §9)."""

    FRAME_ID: ClassVar[int] = 0x209
    sequence_control_number: int = 2
    remaining_discharge_time: int = 0


FRAME_TYPES: dict[int, type[ChademoFrame]] = {
    cls.FRAME_ID: cls
    for cls in (
        VehicleLimits,
        VehicleChargeTime,
        VehicleStatus,
        VehicleMeasured,
        VehicleExtended,
        VehicleDischargeLimits,
        VehicleDischargeSequence,
        VehicleMaker,
        ChargerCapability,
        ChargerStatus,
        ChargerExtended,
        ChargerDischargeLimits,
        ChargerDischargeSequence,
    )
}
for _cls in FRAME_TYPES.values():
    _cls._bind()


def decode(frame: CanFrame) -> ChademoFrame:
    """The dataclass of any CHAdeMO frame; :class:`ChademoFrameError` for unknown IDs or DLC ≠ 8."""
    cls = FRAME_TYPES.get(frame.arbitration_id)
    if cls is None or frame.is_extended_id:
        raise UnknownFrameError(f"0x{frame.arbitration_id:03x} is not a CHAdeMO frame")
    return cls.from_can(frame)
