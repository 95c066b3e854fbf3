"""The openinverter CAN map of the CAN-controlled EV mode (issue 13), as data, and the pure
functions that pack and unpack frames with it.

Why data: in the ccs32clara/Foccci world the frames between the charge controller and the VCU are
not fixed.  The controller is an openinverter node whose *CAN map* says which parameter travels in
which frame, at which bit, with which length and gain, and the VCU (ZombieVerter with
``ConfigFoccci=1``) writes that map over SDO at start.  ZombieVerter's map is the de-facto
standard, so it is :data:`DEFAULT_MAP` here; a ``[clara] map`` in the configuration or SDO writes
(:mod:`.sdo`) replace it.  Facts from the ccs32clara / ZombieVerter public sources (parameter ids,
the ZombieVerter map, little-endian "Intel" bit numbering: the VCU writes the low byte of each
16-bit value first); the code is our own.

Bit numbering: bit *n* of a frame is bit *n* of the 8 data bytes read as one little-endian
64-bit integer (byte 0 holds bits 0–7).  A field's raw value is unsigned; the physical value is
``(raw - offset) / gain`` on reception and ``raw = round(value * gain) + offset`` on sending,
saturated to the field's range (a controller must never crash or wrap on a value it reports).

Errors are typed (:class:`CanMapError` and its subclasses, :class:`FrameError`), never a crash
on arbitrary input: the map may come from a file or from the bus.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

#: openinverter parameters travel as 32-bit values; no field can be wider.
MAX_FIELD_BITS = 32
FRAME_BITS = 64
MAX_STD_ID = 0x7FF


class Direction(Enum):
    """Whether a parameter is an *input* of the controller (the VCU sends it: a received frame) or
    a *value* it reports (a sent frame)."""

    RECEIVED = "received"
    SENT = "sent"


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One openinverter parameter or value the clara mode knows: its unique id (what the CAN map
    and the SDO protocol name it by), direction, range and unit.  ``setting``: the ``[clara]``
    key of a *setting* — a parameter openinverter keeps on ``save`` (its ``PARAM_ENTRY``; the
    VCU's inputs are test parameters, never saved); whole numbers, ``choices`` if given."""

    name: str
    uid: int
    direction: Direction
    minimum: float
    maximum: float
    unit: str
    meaning: str
    setting: str | None = None
    choices: tuple[int, ...] = ()


_R, _S = Direction.RECEIVED, Direction.SENT

#: The parameters by name (the ids are those of the ccs32clara public parameter list).
PARAMETERS: dict[str, ParamSpec] = {p.name: p for p in (
    ParamSpec("TargetVoltage", 3, _R, 0, 1000, "V", "battery voltage the VCU charges to"),
    ParamSpec("ChargeCurrent", 4, _R, 0, 500, "A", "the VCU's charge current request (the CAN watchdog)"),
    ParamSpec("soc", 5, _R, 0, 100, "%", "state of charge"),
    ParamSpec("BatteryVoltage", 6, _R, 0, 1000, "V", "the pack voltage the VCU measures"),
    ParamSpec("enable", 23, _R, 0, 1, "", "1 = charging allowed; 0 stops the session"),
    ParamSpec("AcObcState", 29, _R, 0, 15, "", "the VCU's on-board charger state (basic AC)"),
    ParamSpec("AllowUnlock", 32, _R, 0, 1, "", "1 = the inlet lock may open"),
    # settings: written over SDO, used from the next start, kept on save (the ranges are ours)
    ParamSpec("LockRunTime", 13, _R, 100, 10_000, "ms", "with lock feedback: time for the lock to report",
              setting="lock-timeout-ms"),
    ParamSpec("DemoVoltage", 20, _R, 150, 250, "V", "stand-alone and light-bulb demo voltage", setting="demo-voltage"),
    ParamSpec("NodeId", 21, _R, 1, 63, "", "openinverter node id (SDO on 0x600 + id)", setting="node-id"),
    ParamSpec("DemoControl", 25, _R, 0, 234, "", "0 = CAN (a VCU), 234 = stand-alone", setting="demo-control",
              choices=(0, 234)),
    ParamSpec("MaxPinTemperature", 31, _R, 1, 150, "°C", "above it the session stops (inlet overheat)",
              setting="max-pin-temperature"),
    ParamSpec("opmode", 2000, _S, 0, 255, "", "the controller's state (number)"),
    ParamSpec("temp1", 2003, _S, 0, 255, "°C", "inlet pin temperature 1 (DC+)"),
    ParamSpec("temp2", 2004, _S, 0, 255, "°C", "inlet pin temperature 2 (DC−)"),
    ParamSpec("EvseVoltage", 2006, _S, 0, 1000, "V", "charger present voltage"),
    ParamSpec("InletVoltage", 2007, _S, 0, 1000, "V", "inlet voltage"),
    ParamSpec("EvseMaxCurrent", 2008, _S, 0, 1000, "A", "charger maximum (available) current"),
    ParamSpec("EvseMaxVoltage", 2009, _S, 0, 1000, "V", "charger maximum voltage"),
    ParamSpec("EvseCurrent", 2010, _S, 0, 1000, "A", "charger present current"),
    ParamSpec("ControlPilotDuty", 2012, _S, 0, 100, "%", "the CP PWM duty cycle (basic AC)"),
    ParamSpec("LockState", 2014, _S, 0, 4, "", "0 none, 1 open, 2 closed, 3 opening, 4 closing"),
    ParamSpec("StopReason", 2017, _S, 0, 15, "", "why the session stopped (StopReason numbers)"),
    ParamSpec("CableCurrentLimit", 2020, _S, 0, 255, "A", "cable current limit (proximity pilot)"),
    ParamSpec("EvseAcCurrentLimit", 2021, _S, 0, 1000, "A", "AC current limit from the CP duty cycle"),
    ParamSpec("MaxTemp", 2024, _S, 0, 255, "°C", "hottest inlet temperature"),
    ParamSpec("TempLimitedCurrent", 2027, _S, 0, 1000, "A", "the current limit the inlet temperature allows"),
    ParamSpec("LimitationReason", 2028, _S, 0, 255, "", "0 none, 1 inlet hot"),
    ParamSpec("EVTargetCurrent", 2029, _S, 0, 1000, "A", "the current asked of the charger"),
    ParamSpec("PortState", 2030, _S, 0, 7, "",
              "0 idle, 1 plugged in, 2 ready, 3 AC, 4 DC, 5 stopping, 6 unlock, 7 error"),
)}
PARAMETERS_BY_UID: dict[int, ParamSpec] = {p.uid: p for p in PARAMETERS.values()}


class CanMapError(ValueError):
    """A CAN map that cannot be used; the message names the entry."""


class UnknownParameter(CanMapError):
    """An entry names a parameter the clara mode does not know."""


class BadField(CanMapError):
    """An entry's frame id, bit position, length or gain is out of range."""


class OverlappingBits(CanMapError):
    """Two entries of the same frame share bits."""


class MixedDirection(CanMapError):
    """One frame id would be both received and sent, or an entry puts an input in a sent frame
    (or a value in a received one)."""


class FrameError(ValueError):
    """A received frame does not carry what the map says it carries (too short)."""


@dataclass(frozen=True, slots=True)
class MapEntry:
    """One parameter in one frame: ``start`` bit (see the module docstring), ``length`` bits,
    ``gain`` (raw units per physical unit) and ``offset`` (raw)."""

    param: str
    frame_id: int
    start: int
    length: int
    gain: float = 1.0
    offset: int = 0

    @property
    def spec(self) -> ParamSpec:
        return PARAMETERS[self.param]

    @property
    def mask(self) -> int:
        return ((1 << self.length) - 1) << self.start

    def describe(self) -> str:
        return f"{self.param} in 0x{self.frame_id:03x} bits {self.start}+{self.length}"


@dataclass(frozen=True, slots=True)
class CanMap:
    """A validated map (build it with :func:`validate_map`): entries in order, by frame id."""

    entries: tuple[MapEntry, ...]

    def received_ids(self) -> frozenset[int]:
        return frozenset(e.frame_id for e in self.entries if e.spec.direction is Direction.RECEIVED)

    def sent_ids(self) -> tuple[int, ...]:
        """The sent frame ids in the order of their first entry (the order they go out)."""
        seen: dict[int, None] = {}
        for e in self.entries:
            if e.spec.direction is Direction.SENT:
                seen.setdefault(e.frame_id, None)
        return tuple(seen)

    def in_frame(self, frame_id: int) -> tuple[MapEntry, ...]:
        return tuple(e for e in self.entries if e.frame_id == frame_id)

    def frames(self, direction: Direction) -> list[tuple[int, tuple[MapEntry, ...]]]:
        """One direction's frames in the order of their first entry, each with its entries in map
        order: openinverter's message list, which SDO reads and removals number (:mod:`.sdo`)."""
        grouped: dict[int, list[MapEntry]] = {}
        for e in self.entries:
            if e.spec.direction is direction:
                grouped.setdefault(e.frame_id, []).append(e)
        return [(frame_id, tuple(entries)) for frame_id, entries in grouped.items()]


def _check_entry(entry: MapEntry) -> None:
    if entry.param not in PARAMETERS:
        raise UnknownParameter(f"{entry.describe()}: unknown parameter {entry.param!r} "
                               f"(known: {', '.join(sorted(PARAMETERS))})")
    if not 0 <= entry.frame_id <= MAX_STD_ID:
        raise BadField(f"{entry.describe()}: frame id must be 0x000…0x7ff")
    if not 1 <= entry.length <= MAX_FIELD_BITS:
        raise BadField(f"{entry.describe()}: length must be 1…{MAX_FIELD_BITS} bits")
    if entry.start < 0 or entry.start + entry.length > FRAME_BITS:
        raise BadField(f"{entry.describe()}: the field must lie within the 64 bits of a frame")
    if not entry.gain or entry.gain != entry.gain or abs(entry.gain) == float("inf"):
        raise BadField(f"{entry.describe()}: gain must be a finite number other than 0")


def validate_map(entries: Iterable[MapEntry]) -> CanMap:
    """A :class:`CanMap`, or the first problem as a typed :class:`CanMapError`: unknown
    parameter, field out of the frame, overlapping bits in one frame, a frame both received and
    sent.  A parameter may appear in several frames (as openinverter allows)."""
    checked = tuple(entries)
    direction_of: dict[int, Direction] = {}
    used: dict[int, list[MapEntry]] = {}
    for entry in checked:
        _check_entry(entry)
        direction = entry.spec.direction
        first = direction_of.setdefault(entry.frame_id, direction)
        if first is not direction:
            raise MixedDirection(f"{entry.describe()}: frame 0x{entry.frame_id:03x} already carries "
                                 f"{first.value} parameters; {entry.param} is {direction.value}")
        for other in used.setdefault(entry.frame_id, []):
            if other.mask & entry.mask:
                raise OverlappingBits(f"{entry.describe()} overlaps {other.describe()}")
        used[entry.frame_id].append(entry)
    return CanMap(checked)


def _zv(param: str, frame_id: int, start: int, length: int) -> MapEntry:
    return MapEntry(param, frame_id, start, length)


#: ZombieVerter's map (what it writes with ``ConfigFoccci=1``): 0x358 from the VCU, 0x109 and
#: 0x357 from the controller, 1 V / 1 A / 1 % per bit.
DEFAULT_MAP = validate_map((
    _zv("EvseVoltage", 0x109, 0, 16),
    _zv("EvseCurrent", 0x109, 16, 16),
    _zv("EvseMaxCurrent", 0x109, 32, 16),
    _zv("EvseMaxVoltage", 0x109, 48, 16),
    _zv("LimitationReason", 0x357, 0, 8),
    _zv("EvseAcCurrentLimit", 0x357, 8, 16),
    _zv("PortState", 0x357, 24, 8),
    _zv("MaxTemp", 0x357, 32, 8),
    _zv("LockState", 0x357, 40, 8),
    _zv("CableCurrentLimit", 0x357, 48, 8),
    _zv("enable", 0x358, 0, 1),
    _zv("AcObcState", 0x358, 2, 4),
    _zv("soc", 0x358, 8, 8),
    _zv("BatteryVoltage", 0x358, 16, 16),
    _zv("TargetVoltage", 0x358, 32, 16),
    _zv("ChargeCurrent", 0x358, 48, 16),
    _zv("AllowUnlock", 0x358, 7, 1),
))


def unpack(can_map: CanMap, frame_id: int, data: bytes, direction: Direction = Direction.RECEIVED) -> dict[str, float]:
    """The parameters a received frame carries, in map order (empty for a frame the map does not
    receive).  A frame too short for one of its fields is a :class:`FrameError` — nothing of it is
    used, so a truncated frame never sets half its parameters.  ``direction=SENT`` reads the
    controller's own frames (what the VCU does)."""
    entries = [e for e in can_map.in_frame(frame_id) if e.spec.direction is direction]
    if not entries:
        return {}
    need = max((e.start + e.length + 7) // 8 for e in entries)
    if len(data) < need:
        raise FrameError(f"frame 0x{frame_id:03x}: {len(data)} data bytes, the map needs {need}")
    word = int.from_bytes(bytes(data[:8]).ljust(8, b"\0"), "little")
    values: dict[str, float] = {}
    for e in entries:
        raw = (word >> e.start) & ((1 << e.length) - 1)
        values[e.param] = (raw - e.offset) / e.gain
    return values


def pack(can_map: CanMap, frame_id: int, values: Mapping[str, float], direction: Direction = Direction.SENT) -> bytes:
    """The 8 data bytes of a sent frame from ``values`` (missing parameters are 0); every field
    saturates at its range instead of wrapping.  ``direction=RECEIVED`` builds the VCU's frames."""
    word = 0
    for e in can_map.in_frame(frame_id):
        if e.spec.direction is not direction:
            continue
        top = (1 << e.length) - 1
        raw = round(values.get(e.param, 0.0) * e.gain) + e.offset
        word |= max(0, min(top, raw)) << e.start
    return word.to_bytes(8, "little")

