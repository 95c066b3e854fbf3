"""The typed values the CHAdeMO charger machine exchanges with the rest of the adapter.

* :class:`ChargerConfig` — the adapter parameters (adapter.md §12.1) the charger side uses;
* :class:`Upstream` — what the power source behind us can deliver and presently delivers
  (fed by the adapter bridge from CCS, or by :class:`ccs2chademo.sim.dc_source.DcSource`);
* :class:`PowerDemand` — what the charger wants from the power source (an output);
* :class:`VehicleView` — what the charger has learned about the car (read-only);
* :class:`StopReason` — why a session stopped, an OR-ed bit mask logged in hex (adapter.md §2.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntFlag, StrEnum
from typing import Final

from ..runtime.machine import successor_table


class SessionKind(Enum):
    """A real charging session, or the short "discovery" session of the two-session flow."""

    CHARGE = "charge"
    DISCOVERY = "discovery"


class ChargerState(StrEnum):
    """States of :class:`~ccs2chademo.chademo.charger.ChademoCharger` (adapter.md §2.1)."""

    IDLE = "idle"
    WAIT_CAR_READY = "wait_car_ready"
    WAIT_PRECHARGE = "wait_precharge"
    WAIT_CAR_CONTACTORS = "wait_car_contactors"
    WAIT_CAR_REQUEST = "wait_car_request"
    CHARGING = "charging"
    STOP_WAIT_CURRENT = "stop_wait_current"
    STOP_WAIT_CONTACTORS_OPEN = "stop_wait_contactors_open"
    STOP_WAIT_D1 = "stop_wait_d1"
    STOP_UNLOCK = "stop_unlock"
    ENDED = "ended"
    DISCOVERED = "discovered"


_C = ChargerState
#: What may follow each charger state (docs/machines.md): the adapter.md §2.1 sequence; every
#: state before charging ends may stop; a discovery session ends in ``discovered``, from which
#: the real session starts.
CHARGER_SUCCESSORS = successor_table({
    _C.IDLE: {_C.WAIT_CAR_READY},
    _C.DISCOVERED: {_C.WAIT_CAR_READY},
    _C.WAIT_CAR_READY: {_C.WAIT_PRECHARGE, _C.DISCOVERED, _C.STOP_WAIT_CURRENT},
    _C.WAIT_PRECHARGE: {_C.WAIT_CAR_CONTACTORS, _C.STOP_WAIT_CURRENT},
    _C.WAIT_CAR_CONTACTORS: {_C.WAIT_CAR_REQUEST, _C.STOP_WAIT_CURRENT},
    _C.WAIT_CAR_REQUEST: {_C.CHARGING, _C.STOP_WAIT_CURRENT},
    _C.CHARGING: {_C.STOP_WAIT_CURRENT},
    _C.STOP_WAIT_CURRENT: {_C.STOP_WAIT_CONTACTORS_OPEN, _C.STOP_WAIT_D1},  # d2 never set: straight to d1
    _C.STOP_WAIT_CONTACTORS_OPEN: {_C.STOP_WAIT_D1},
    _C.STOP_WAIT_D1: {_C.STOP_UNLOCK},
    _C.STOP_UNLOCK: {_C.ENDED},
    _C.ENDED: set(),
})


class ChargerTimer(StrEnum):
    """What :class:`~ccs2chademo.chademo.charger.ChademoCharger` waits for: its one timer."""

    CYCLE = "cycle"  # the 100 ms cycle (chademo.md §2); armed from start to the end of the session


class StopReason(IntFlag):
    """Why the charger stopped; several may be set (logged as ``0x…``)."""

    NONE = 0
    USER = 0x1  # stop button / power-off pending (InputChanged("stop", True))
    CAR_READY_TIMEOUT = 0x2  # no k + 0x102.5.0 within 8 s of d1
    PRECHARGE_TIMEOUT = 0x4  # upstream precharge not done within 20 s of ready
    CONTACTORS_TIMEOUT = 0x8  # car contactors not closed within 4 s of d2
    REQUEST_TIMEOUT = 0x10  # no current request within 4 s of the contactors closing
    CAN_TIMEOUT = 0x20  # no 0x102 for 1 s
    K_OFF = 0x40  # charge permission k/j dropped
    CAR_DISABLED = 0x80  # 0x102.5.0 cleared
    NOT_IN_PARK = 0x100  # 0x102.5.1
    CAR_ERROR = 0x200  # 0x102.5.2 vehicle charging system fault
    BATTERY_FAULT = 0x400  # any 0x102.4.x
    BATTERY_INCOMPATIBLE = 0x800  # target above our available voltage (0x109.5.3 sent)
    CHARGING_TIME = 0x1000  # remaining charging time ran out
    TARGET_ZERO = 0x2000  # target voltage dropped to 0 while charging
    THRESHOLD_VOLTAGE = 0x4000  # output reached the threshold voltage 0x108.4-5
    UPSTREAM_STOPPED = 0x8000  # the power source ended its session
    UPSTREAM_FAULT = 0x10000  # the power source reported a fault

    def describe(self) -> str:
        """``0x240 (K_OFF|CAR_ERROR)`` — the hex mask the original firmware logs, plus names."""
        names = "|".join(flag.name or "" for flag in StopReason if flag and flag in self)
        return f"0x{int(self):x} ({names or 'NONE'})"


@dataclass(frozen=True, slots=True)
class ChargerConfig:
    """Adapter parameters the CHAdeMO charger side uses (adapter.md §12.1 keys in brackets).

    ``protocol_number`` 2 claims CHAdeMO 1.0 (default); 1 claims 0.9 [chademo-0.9].
    """

    protocol_number: int = 2
    welding_detection: bool = True  # [chademo-wd] 0x108.0
    max_volts: int = 500  # [max-volts] cap of 0x108.1-2
    max_amps: int = 200  # [max-amps] cap of 0x108.3
    max_undersupply_amps: int = 10  # [max-undersupply-amps] dynamic: 0x108.3 = delivered + this
    dynamic_current_fallback: bool = True  # [dynamic-current-fallback] treat every car as dynamic
    fake_idle_amps: int = 1  # [fake-idle-amps] reported in the charging loop while 0 A flows
    v2x: bool = False  # [v2x] discharge fields (0x109.4, 0x208/0x209)
    assume_car_contactors_closed_after_ms: int = 2000  # [assume-car-contactors-closed-after-ms] 0.9
    max_discharge_amps_fallback: int = 40  # [max-discharge-amps-fallback] V2X request without 0x200
    #: Report 0 V in 0x109 until the car's contactors are closed (adapter.md §2 step 7: the adapter
    #: contactor is open, so the inlet really is at 0 V).  A plain DC charger reports its output.
    zero_voltage_until_car_contactors_closed: bool = True
    link: str = "can"

    def __post_init__(self) -> None:
        if self.protocol_number not in (1, 2):
            raise ValueError("protocol_number: 1 (claim 0.9) or 2 (claim 1.0)")
        for name in ("max_amps", "fake_idle_amps", "max_undersupply_amps", "max_discharge_amps_fallback"):
            if not 0 <= getattr(self, name) <= 255:
                raise ValueError(f"{name} must be 0…255 A")
        if not 0 < self.max_volts <= 0xFFFF:
            raise ValueError("max_volts must be 1…65535 V")


@dataclass(slots=True, init=False)
class Upstream:
    """What the power source can deliver and presently delivers (``InputChanged("upstream", …)``).

    In the adapter: ``available_*`` from ChargeParameterDiscoveryRes, ``dynamic_current`` from the
    latest CurrentDemandRes, ``present_*`` from EVSEPresentVoltage/Current, ``precharge_done``
    from the CCS precharge stall flag (the d2 gate), ``stopped``/``fault`` from EVSEStatusCode.
    """

    available_voltage: Final[float]
    available_current: Final[float]
    dynamic_current: Final[float | None]  # None: same as available_current
    present_voltage: Final[float]
    present_current: Final[float]
    precharge_done: Final[bool]
    stopped: Final[bool]
    fault: Final[bool]
    #: Battery-voltage estimate (adapter.md §5) reported in 0x109 during the discovery session.
    estimated_battery_voltage: Final[float]

    def __init__(
        self,
        available_voltage: float = 500.0,
        available_current: float = 200.0,
        dynamic_current: float | None = None,
        present_voltage: float = 0.0,
        present_current: float = 0.0,
        precharge_done: bool = False,
        stopped: bool = False,
        fault: bool = False,
        estimated_battery_voltage: float = 0.0,
    ) -> None:
        self.available_voltage = available_voltage
        self.available_current = available_current
        self.dynamic_current = dynamic_current
        self.present_voltage = present_voltage
        self.present_current = present_current
        self.precharge_done = precharge_done
        self.stopped = stopped
        self.fault = fault
        self.estimated_battery_voltage = estimated_battery_voltage

    def __eq__(self, other: object) -> bool:
        # compiled field by field (dataclasses' __eq__ runs interpreted); the bridge compares on every cycle
        return (isinstance(other, Upstream) and self.available_voltage == other.available_voltage and
                self.available_current == other.available_current and
                self.dynamic_current == other.dynamic_current and self.present_voltage == other.present_voltage and
                self.present_current == other.present_current and self.precharge_done == other.precharge_done and
                self.stopped == other.stopped and self.fault == other.fault and
                self.estimated_battery_voltage == other.estimated_battery_voltage)

    def __hash__(self) -> int:
        return hash((self.available_voltage, self.available_current, self.dynamic_current, self.present_voltage,
                     self.present_current, self.precharge_done, self.stopped, self.fault,
                     self.estimated_battery_voltage))


@dataclass(slots=True, init=False)
class PowerDemand:
    """What the charger wants from the power source (``SetOutput("demand", …)`` on change).

    ``precharge``: locked and waiting for the insulation test / precharge (before d2);
    ``car_contactors_closed``: the car's contactors are (judged) closed — the adapter may close
    its contactor; ``current``: the car's request in the charging loop limited to the dynamic
    maximum, else 0 (hides idle requests, adapter.md §14 #11); ``voltage``: the car's target,
    frozen when d2 is set, capped at the threshold; ``discharge_current``: V2X, the current the
    adapter fakes as request toward a CCS discharger while discharging (adapter.md §7).
    """

    precharge: Final[bool]
    d2: Final[bool]
    car_contactors_closed: Final[bool]
    charging: Final[bool]
    stopping: Final[bool]
    voltage: Final[int]
    current: Final[int]
    discharge_current: Final[int]

    def __init__(
        self,
        precharge: bool = False,
        d2: bool = False,
        car_contactors_closed: bool = False,
        charging: bool = False,
        stopping: bool = False,
        voltage: int = 0,
        current: int = 0,
        discharge_current: int = 0,
    ) -> None:
        self.precharge = precharge
        self.d2 = d2
        self.car_contactors_closed = car_contactors_closed
        self.charging = charging
        self.stopping = stopping
        self.voltage = voltage
        self.current = current
        self.discharge_current = discharge_current

    def __eq__(self, other: object) -> bool:
        # compiled field by field (dataclasses' __eq__ runs interpreted); the charger compares on every cycle
        return (isinstance(other, PowerDemand) and self.precharge == other.precharge and self.d2 == other.d2 and
                self.car_contactors_closed == other.car_contactors_closed and self.charging == other.charging and
                self.stopping == other.stopping and self.voltage == other.voltage and
                self.current == other.current and self.discharge_current == other.discharge_current)

    def __hash__(self) -> int:
        return hash((self.precharge, self.d2, self.car_contactors_closed, self.charging, self.stopping, self.voltage,
                     self.current, self.discharge_current))


# A hot record (Final fields, a hand-written __init__, tests/test_records.py): the charger makes one
# every 100 ms cycle for the bridge, and a frozen dataclass sets each of its 33 fields through object.__setattr__.
@dataclass(slots=True, init=False, unsafe_hash=True)
class VehicleView:
    """What the charger knows about the car, plus its own session state (``charger.vehicle``)."""

    state: Final[ChargerState]
    session: Final[SessionKind | None]
    seen: Final[bool]  # a 0x102 arrived in this session
    protocol_number: Final[int]  # the car's 0x102.0 (0 until seen)
    effective_protocol: Final[int]  # min(car, ours): 1 = 0.9 rules, >= 2 = 1.0 rules
    target_voltage: Final[int]
    frozen_target_voltage: Final[int | None]  # snapshot at d2
    max_battery_voltage: Final[int]
    min_battery_voltage: Final[int]
    min_charge_current: Final[int]
    current_request: Final[int]
    soc: Final[float | None]  # % after the 0x100.6 divider, clamped to 100; None before any 0x102
    soc_trusted: Final[bool]  # k on and 0x102.5.0 = 1 (chademo.md §3.3)
    rated_capacity_kwh: Final[float]
    max_charge_time_s: Final[int]
    measured_voltage: Final[int | None]  # 0x103 (non-standard)
    dynamic_control: Final[bool]  # 0x110.0.0, or 0x102.5.6, or the configured fallback
    legacy_dynamic_bit: Final[bool]  # 0x102.5.6 itself (car recognition, adapter/recognition.py)
    sends_0x110: Final[bool]  # a 0x110 frame arrived in this session (car recognition)
    discharge_compatible: Final[bool]  # 0x102.5.7
    max_discharge_current: Final[int]  # 0x200.0 (A)
    k: Final[bool]
    ready: Final[bool]  # k and 0x102.5.0
    car_contactors_closed: Final[bool]  # judged by the protocol rules
    car_reports_contactors_open: Final[bool]  # 0x102.5.3
    battery_faults: Final[int]  # 0x102.4 bits 0..4
    system_fault: Final[bool]  # 0x102.5.2
    not_in_park: Final[bool]  # 0x102.5.1
    stop_reasons: Final[StopReason]
    d1: Final[bool]
    d2: Final[bool]
    locked: Final[bool]  # 0x109.5.2
    charging: Final[bool]  # 0x109.5.0
    #: 0x200.6 as a SoC, % (chademo/charger.py discharge_floor_soc).  Left out of the repr, which the
    #: session log's ``discovered`` output record shows, so every log stays as it was before this
    #: field existed; not Final only because a field() specifier is a class-level value to mypy.
    discharge_floor_soc: float | None = field(repr=False)

    def __init__(
        self,
        state: ChargerState,
        session: SessionKind | None,
        seen: bool,
        protocol_number: int,
        effective_protocol: int,
        target_voltage: int,
        frozen_target_voltage: int | None,
        max_battery_voltage: int,
        min_battery_voltage: int,
        min_charge_current: int,
        current_request: int,
        soc: float | None,
        soc_trusted: bool,
        rated_capacity_kwh: float,
        max_charge_time_s: int,
        measured_voltage: int | None,
        dynamic_control: bool,
        legacy_dynamic_bit: bool,
        sends_0x110: bool,
        discharge_compatible: bool,
        max_discharge_current: int,
        k: bool,
        ready: bool,
        car_contactors_closed: bool,
        car_reports_contactors_open: bool,
        battery_faults: int,
        system_fault: bool,
        not_in_park: bool,
        stop_reasons: StopReason,
        d1: bool,
        d2: bool,
        locked: bool,
        charging: bool,
        discharge_floor_soc: float | None = None,
    ) -> None:
        self.state = state
        self.session = session
        self.seen = seen
        self.protocol_number = protocol_number
        self.effective_protocol = effective_protocol
        self.target_voltage = target_voltage
        self.frozen_target_voltage = frozen_target_voltage
        self.max_battery_voltage = max_battery_voltage
        self.min_battery_voltage = min_battery_voltage
        self.min_charge_current = min_charge_current
        self.current_request = current_request
        self.soc = soc
        self.soc_trusted = soc_trusted
        self.rated_capacity_kwh = rated_capacity_kwh
        self.max_charge_time_s = max_charge_time_s
        self.measured_voltage = measured_voltage
        self.dynamic_control = dynamic_control
        self.legacy_dynamic_bit = legacy_dynamic_bit
        self.sends_0x110 = sends_0x110
        self.discharge_compatible = discharge_compatible
        self.max_discharge_current = max_discharge_current
        self.k = k
        self.ready = ready
        self.car_contactors_closed = car_contactors_closed
        self.car_reports_contactors_open = car_reports_contactors_open
        self.battery_faults = battery_faults
        self.system_fault = system_fault
        self.not_in_park = not_in_park
        self.stop_reasons = stop_reasons
        self.d1 = d1
        self.d2 = d2
        self.locked = locked
        self.charging = charging
        self.discharge_floor_soc = discharge_floor_soc
