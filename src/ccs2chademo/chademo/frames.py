"""One dataclass per CHAdeMO frame, converted to and from :class:`CanFrame` by the codec.

Field names are the DBC signal names and appear in DBC order, so a frame is built from the
codec's value tuple in one call.  1-bit flags are ``bool``; everything else is in the physical
unit of the DBC (V, A, min, 10 s, kWh; V2X currents already un-inverted).

The frames are hot value records (docs/perf.md, "Compiling the per-event modules"): the simulated
car and the charger build one per CAN frame they send, about 80 per simulated second, and compare
it with the last one sent to reuse its encoding.  The module is compiled, so each class declares
its fields ``Final`` and writes its own ``__init__`` (a frozen dataclass's sets every field through
``object.__setattr__``), ``__eq__`` (the dataclass's runs interpreted) and so ``__hash__`` (the
hash of the field tuple, as the dataclass's: compiled, ``unsafe_hash=True`` beside a written
``__eq__`` leaves the class unhashable).  tests/chademo/test_frame_records.py checks them against
the fields.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, Final, TypeVar

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
    """Base of every frame dataclass: ``FRAME_ID`` ties it to its DBC message."""

    FRAME_ID: ClassVar[int]
    _layout: ClassVar[MessageLayout]
    _names: ClassVar[tuple[str, ...]]

    @classmethod
    def _bind(cls, frame_id: int) -> None:
        cls.FRAME_ID = frame_id
        layout = default_codec().layout(frame_id)
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


@dataclass(slots=True, init=False)
class VehicleLimits(ChademoFrame):
    """0x100 battery limits (chademo.md §3.1)."""

    min_charge_current: Final[int]
    nonstandard_max_current: Final[int]
    min_battery_voltage: Final[int]
    max_battery_voltage: Final[int]
    charged_rate_reference: Final[int]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        min_charge_current: int = 0,
        nonstandard_max_current: int = 0,
        min_battery_voltage: int = 0,
        max_battery_voltage: int = 0,
        charged_rate_reference: int = 100,
    ) -> None:
        self.min_charge_current = min_charge_current
        self.nonstandard_max_current = nonstandard_max_current
        self.min_battery_voltage = min_battery_voltage
        self.max_battery_voltage = max_battery_voltage
        self.charged_rate_reference = charged_rate_reference

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not VehicleLimits:
            return NotImplemented
        return (
            self.min_charge_current == other.min_charge_current
            and self.nonstandard_max_current == other.nonstandard_max_current
            and self.min_battery_voltage == other.min_battery_voltage
            and self.max_battery_voltage == other.max_battery_voltage
            and self.charged_rate_reference == other.charged_rate_reference
        )

    def __hash__(self) -> int:
        return hash((self.min_charge_current, self.nonstandard_max_current, self.min_battery_voltage,
                     self.max_battery_voltage, self.charged_rate_reference))


@dataclass(slots=True, init=False)
class VehicleChargeTime(ChademoFrame):
    """0x101 maximum charging time and capacity (chademo.md §3.2)."""

    max_charge_time_10s: Final[int]
    max_charge_time_min: Final[int]
    estimated_charge_time_min: Final[int]
    rated_capacity: Final[float]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        max_charge_time_10s: int = 0xFF,
        max_charge_time_min: int = 0,
        estimated_charge_time_min: int = 0,
        rated_capacity: float = 0.0,
    ) -> None:
        self.max_charge_time_10s = max_charge_time_10s
        self.max_charge_time_min = max_charge_time_min
        self.estimated_charge_time_min = estimated_charge_time_min
        self.rated_capacity = rated_capacity

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not VehicleChargeTime:
            return NotImplemented
        return (
            self.max_charge_time_10s == other.max_charge_time_10s
            and self.max_charge_time_min == other.max_charge_time_min
            and self.estimated_charge_time_min == other.estimated_charge_time_min
            and self.rated_capacity == other.rated_capacity
        )

    def __hash__(self) -> int:
        return hash((self.max_charge_time_10s, self.max_charge_time_min, self.estimated_charge_time_min,
                     self.rated_capacity))

    @property
    def max_charge_time_s(self) -> int:
        """byte1 × 10 s unless byte1 is 0xFF, else byte2 × 60 s."""
        if self.max_charge_time_10s != 0xFF:
            return self.max_charge_time_10s * 10
        return self.max_charge_time_min * 60


@dataclass(slots=True, init=False)
class VehicleStatus(ChademoFrame):
    """0x102 control and status, the main loop frame (chademo.md §3.3)."""

    protocol_number: Final[int]
    target_voltage: Final[int]
    current_request: Final[int]
    fault_over_voltage: Final[bool]
    fault_under_voltage: Final[bool]
    fault_current_deviation: Final[bool]
    fault_high_temperature: Final[bool]
    fault_voltage_deviation: Final[bool]
    charging_enabled: Final[bool]
    shift_not_park: Final[bool]
    system_fault: Final[bool]
    contactors_open: Final[bool]
    stop_before_charging: Final[bool]
    status_bit5: Final[bool]
    legacy_dynamic_control: Final[bool]
    discharge_compatible: Final[bool]
    charged_rate: Final[int]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        protocol_number: int = 2,
        target_voltage: int = 0,
        current_request: int = 0,
        fault_over_voltage: bool = False,
        fault_under_voltage: bool = False,
        fault_current_deviation: bool = False,
        fault_high_temperature: bool = False,
        fault_voltage_deviation: bool = False,
        charging_enabled: bool = False,
        shift_not_park: bool = False,
        system_fault: bool = False,
        contactors_open: bool = False,
        stop_before_charging: bool = False,
        status_bit5: bool = False,
        legacy_dynamic_control: bool = False,
        discharge_compatible: bool = False,
        charged_rate: int = 0,
    ) -> None:
        self.protocol_number = protocol_number
        self.target_voltage = target_voltage
        self.current_request = current_request
        self.fault_over_voltage = fault_over_voltage
        self.fault_under_voltage = fault_under_voltage
        self.fault_current_deviation = fault_current_deviation
        self.fault_high_temperature = fault_high_temperature
        self.fault_voltage_deviation = fault_voltage_deviation
        self.charging_enabled = charging_enabled
        self.shift_not_park = shift_not_park
        self.system_fault = system_fault
        self.contactors_open = contactors_open
        self.stop_before_charging = stop_before_charging
        self.status_bit5 = status_bit5
        self.legacy_dynamic_control = legacy_dynamic_control
        self.discharge_compatible = discharge_compatible
        self.charged_rate = charged_rate

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not VehicleStatus:
            return NotImplemented
        return (
            self.protocol_number == other.protocol_number
            and self.target_voltage == other.target_voltage
            and self.current_request == other.current_request
            and self.fault_over_voltage == other.fault_over_voltage
            and self.fault_under_voltage == other.fault_under_voltage
            and self.fault_current_deviation == other.fault_current_deviation
            and self.fault_high_temperature == other.fault_high_temperature
            and self.fault_voltage_deviation == other.fault_voltage_deviation
            and self.charging_enabled == other.charging_enabled
            and self.shift_not_park == other.shift_not_park
            and self.system_fault == other.system_fault
            and self.contactors_open == other.contactors_open
            and self.stop_before_charging == other.stop_before_charging
            and self.status_bit5 == other.status_bit5
            and self.legacy_dynamic_control == other.legacy_dynamic_control
            and self.discharge_compatible == other.discharge_compatible
            and self.charged_rate == other.charged_rate
        )

    def __hash__(self) -> int:
        return hash((self.protocol_number, self.target_voltage, self.current_request, self.fault_over_voltage,
                     self.fault_under_voltage, self.fault_current_deviation, self.fault_high_temperature,
                     self.fault_voltage_deviation, self.charging_enabled, self.shift_not_park, self.system_fault,
                     self.contactors_open, self.stop_before_charging, self.status_bit5, self.legacy_dynamic_control,
                     self.discharge_compatible, self.charged_rate))

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


@dataclass(slots=True, init=False)
class VehicleMeasured(ChademoFrame):
    """0x103, non-standard: measured battery voltage (ZombieVerter; chademo.md §3.7)."""

    measured_battery_voltage: Final[int]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        measured_battery_voltage: int = 0,
    ) -> None:
        self.measured_battery_voltage = measured_battery_voltage

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not VehicleMeasured:
            return NotImplemented
        return self.measured_battery_voltage == other.measured_battery_voltage

    def __hash__(self) -> int:
        return hash((self.measured_battery_voltage,))


@dataclass(slots=True, init=False)
class VehicleExtended(ChademoFrame):
    """0x110 extended functions of the car (chademo.md §3.6)."""

    dynamic_control: Final[bool]
    high_current_control: Final[bool]
    high_voltage_control: Final[bool]
    high_current_request: Final[int]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        dynamic_control: bool = False,
        high_current_control: bool = False,
        high_voltage_control: bool = False,
        high_current_request: int = 0,
    ) -> None:
        self.dynamic_control = dynamic_control
        self.high_current_control = high_current_control
        self.high_voltage_control = high_voltage_control
        self.high_current_request = high_current_request

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not VehicleExtended:
            return NotImplemented
        return (
            self.dynamic_control == other.dynamic_control
            and self.high_current_control == other.high_current_control
            and self.high_voltage_control == other.high_voltage_control
            and self.high_current_request == other.high_current_request
        )

    def __hash__(self) -> int:
        return hash((self.dynamic_control, self.high_current_control, self.high_voltage_control,
                     self.high_current_request))


@dataclass(slots=True, init=False)
class VehicleDischargeLimits(ChademoFrame):
    """0x200 V2X discharge limits of the car (chademo.md §9); currents in A (the DBC un-inverts them)."""

    max_discharge_current: Final[int]
    min_discharge_voltage: Final[int]
    min_discharge_level: Final[int]
    max_charge_level: Final[int]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        max_discharge_current: int = 0,
        min_discharge_voltage: int = 0,
        min_discharge_level: int = 0,
        max_charge_level: int = 0xFF,
    ) -> None:
        self.max_discharge_current = max_discharge_current
        self.min_discharge_voltage = min_discharge_voltage
        self.min_discharge_level = min_discharge_level
        self.max_charge_level = max_charge_level

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not VehicleDischargeLimits:
            return NotImplemented
        return (
            self.max_discharge_current == other.max_discharge_current
            and self.min_discharge_voltage == other.min_discharge_voltage
            and self.min_discharge_level == other.min_discharge_level
            and self.max_charge_level == other.max_charge_level
        )

    def __hash__(self) -> int:
        return hash((self.max_discharge_current, self.min_discharge_voltage, self.min_discharge_level,
                     self.max_charge_level))


@dataclass(slots=True, init=False)
class VehicleDischargeSequence(ChademoFrame):
    """0x201 V2X sequence control of the car (chademo.md §9)."""

    sequence_control_number: Final[int]
    discharge_completion_time: Final[int]
    available_energy: Final[float]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        sequence_control_number: int = 0,
        discharge_completion_time: int = 0,
        available_energy: float = 0.0,
    ) -> None:
        self.sequence_control_number = sequence_control_number
        self.discharge_completion_time = discharge_completion_time
        self.available_energy = available_energy

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not VehicleDischargeSequence:
            return NotImplemented
        return (
            self.sequence_control_number == other.sequence_control_number
            and self.discharge_completion_time == other.discharge_completion_time
            and self.available_energy == other.available_energy
        )

    def __hash__(self) -> int:
        return hash((self.sequence_control_number, self.discharge_completion_time, self.available_energy))


@dataclass(slots=True, init=False)
class VehicleMaker(ChademoFrame):
    """0x700 automaker code (log only)."""

    automaker_code: Final[int]
    maker_specific: Final[int]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        automaker_code: int = 0,
        maker_specific: int = 0,
    ) -> None:
        self.automaker_code = automaker_code
        self.maker_specific = maker_specific

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not VehicleMaker:
            return NotImplemented
        return (
            self.automaker_code == other.automaker_code
            and self.maker_specific == other.maker_specific
        )

    def __hash__(self) -> int:
        return hash((self.automaker_code, self.maker_specific))


# ------------------------------------------------------------------------------ charger frames


@dataclass(slots=True, init=False)
class ChargerCapability(ChademoFrame):
    """0x108 charger capability (chademo.md §3.4)."""

    welding_detection: Final[int]
    available_voltage: Final[int]
    available_current: Final[int]
    threshold_voltage: Final[int]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        welding_detection: int = 1,
        available_voltage: int = 0,
        available_current: int = 0,
        threshold_voltage: int = 0,
    ) -> None:
        self.welding_detection = welding_detection
        self.available_voltage = available_voltage
        self.available_current = available_current
        self.threshold_voltage = threshold_voltage

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not ChargerCapability:
            return NotImplemented
        return (
            self.welding_detection == other.welding_detection
            and self.available_voltage == other.available_voltage
            and self.available_current == other.available_current
            and self.threshold_voltage == other.threshold_voltage
        )

    def __hash__(self) -> int:
        return hash((self.welding_detection, self.available_voltage, self.available_current, self.threshold_voltage))


@dataclass(slots=True, init=False)
class ChargerStatus(ChademoFrame):
    """0x109 charger status (chademo.md §3.5)."""

    protocol_number: Final[int]
    present_voltage: Final[int]
    present_current: Final[int]
    discharge_compatible: Final[bool]
    charging: Final[bool]
    charger_malfunction: Final[bool]
    connector_locked: Final[bool]
    battery_incompatible: Final[bool]
    system_malfunction: Final[bool]
    stop_control: Final[bool]
    remaining_time_10s: Final[int]
    remaining_time_min: Final[int]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        protocol_number: int = 2,
        present_voltage: int = 0,
        present_current: int = 0,
        discharge_compatible: bool = False,
        charging: bool = False,
        charger_malfunction: bool = False,
        connector_locked: bool = False,
        battery_incompatible: bool = False,
        system_malfunction: bool = False,
        stop_control: bool = True,
        remaining_time_10s: int = 0,
        remaining_time_min: int = 0,
    ) -> None:
        self.protocol_number = protocol_number
        self.present_voltage = present_voltage
        self.present_current = present_current
        self.discharge_compatible = discharge_compatible
        self.charging = charging
        self.charger_malfunction = charger_malfunction
        self.connector_locked = connector_locked
        self.battery_incompatible = battery_incompatible
        self.system_malfunction = system_malfunction
        self.stop_control = stop_control
        self.remaining_time_10s = remaining_time_10s
        self.remaining_time_min = remaining_time_min

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not ChargerStatus:
            return NotImplemented
        return (
            self.protocol_number == other.protocol_number
            and self.present_voltage == other.present_voltage
            and self.present_current == other.present_current
            and self.discharge_compatible == other.discharge_compatible
            and self.charging == other.charging
            and self.charger_malfunction == other.charger_malfunction
            and self.connector_locked == other.connector_locked
            and self.battery_incompatible == other.battery_incompatible
            and self.system_malfunction == other.system_malfunction
            and self.stop_control == other.stop_control
            and self.remaining_time_10s == other.remaining_time_10s
            and self.remaining_time_min == other.remaining_time_min
        )

    def __hash__(self) -> int:
        return hash((self.protocol_number, self.present_voltage, self.present_current, self.discharge_compatible,
                     self.charging, self.charger_malfunction, self.connector_locked, self.battery_incompatible,
                     self.system_malfunction, self.stop_control, self.remaining_time_10s, self.remaining_time_min))

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


@dataclass(slots=True, init=False)
class ChargerExtended(ChademoFrame):
    """0x118 extended functions of the charger (chademo.md §3.6)."""

    dynamic_control: Final[bool]
    high_current_control: Final[bool]
    high_voltage_control: Final[bool]
    reset_max_charge_time: Final[bool]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        dynamic_control: bool = False,
        high_current_control: bool = False,
        high_voltage_control: bool = False,
        reset_max_charge_time: bool = False,
    ) -> None:
        self.dynamic_control = dynamic_control
        self.high_current_control = high_current_control
        self.high_voltage_control = high_voltage_control
        self.reset_max_charge_time = reset_max_charge_time

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not ChargerExtended:
            return NotImplemented
        return (
            self.dynamic_control == other.dynamic_control
            and self.high_current_control == other.high_current_control
            and self.high_voltage_control == other.high_voltage_control
            and self.reset_max_charge_time == other.reset_max_charge_time
        )

    def __hash__(self) -> int:
        return hash((self.dynamic_control, self.high_current_control, self.high_voltage_control,
                     self.reset_max_charge_time))


@dataclass(slots=True, init=False)
class ChargerDischargeLimits(ChademoFrame):
    """0x208 V2X discharge limits of the charger (chademo.md §9); currents in A."""

    present_discharge_current: Final[int]
    available_input_voltage: Final[int]
    available_input_current: Final[int]
    lower_threshold_voltage: Final[int]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        present_discharge_current: int = 0,
        available_input_voltage: int = 0,
        available_input_current: int = 0,
        lower_threshold_voltage: int = 0,
    ) -> None:
        self.present_discharge_current = present_discharge_current
        self.available_input_voltage = available_input_voltage
        self.available_input_current = available_input_current
        self.lower_threshold_voltage = lower_threshold_voltage

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not ChargerDischargeLimits:
            return NotImplemented
        return (
            self.present_discharge_current == other.present_discharge_current
            and self.available_input_voltage == other.available_input_voltage
            and self.available_input_current == other.available_input_current
            and self.lower_threshold_voltage == other.lower_threshold_voltage
        )

    def __hash__(self) -> int:
        return hash((self.present_discharge_current, self.available_input_voltage, self.available_input_current,
                     self.lower_threshold_voltage))


@dataclass(slots=True, init=False)
class ChargerDischargeSequence(ChademoFrame):
    """0x209 V2X sequence control of the charger (chademo.md §9)."""

    sequence_control_number: Final[int]
    remaining_discharge_time: Final[int]

    # hot record: a native __init__ (see the module docstring)
    def __init__(
        self,
        sequence_control_number: int = 2,
        remaining_discharge_time: int = 0,
    ) -> None:
        self.sequence_control_number = sequence_control_number
        self.remaining_discharge_time = remaining_discharge_time

    # hot record: compared field by field in C (see the module docstring)
    def __eq__(self, other: object) -> bool:
        if type(other) is not ChargerDischargeSequence:
            return NotImplemented
        return (
            self.sequence_control_number == other.sequence_control_number
            and self.remaining_discharge_time == other.remaining_discharge_time
        )

    def __hash__(self) -> int:
        return hash((self.sequence_control_number, self.remaining_discharge_time))


#: the frame classes by ID.  ``_bind`` gives each its ``FRAME_ID`` here rather than in its body: compiled, a
#: dataclass takes every assignment in its class body for a field (mypyc hands them all to the decorator).
FRAME_TYPES: dict[int, type[ChademoFrame]] = {
    0x100: VehicleLimits,
    0x101: VehicleChargeTime,
    0x102: VehicleStatus,
    0x103: VehicleMeasured,
    0x110: VehicleExtended,
    0x200: VehicleDischargeLimits,
    0x201: VehicleDischargeSequence,
    0x700: VehicleMaker,
    0x108: ChargerCapability,
    0x109: ChargerStatus,
    0x118: ChargerExtended,
    0x208: ChargerDischargeLimits,
    0x209: ChargerDischargeSequence,
}
for _frame_id, _cls in FRAME_TYPES.items():
    _cls._bind(_frame_id)


def decode(frame: CanFrame) -> ChademoFrame:
    """The dataclass of any CHAdeMO frame; :class:`ChademoFrameError` for unknown IDs or DLC ≠ 8."""
    cls = FRAME_TYPES.get(frame.arbitration_id)
    if cls is None or frame.is_extended_id:
        raise UnknownFrameError(f"0x{frame.arbitration_id:03x} is not a CHAdeMO frame")
    return cls.from_can(frame)
