"""The CHAdeMO charger machine: what the adapter is toward the car (sans-I/O, 100 ms cycle).

It follows the original adapter's state machine (adapter.md §2.1) with the compliance times and
timeouts of chademo.md §4.1/§10.  Everything is decided once per 100 ms cycle, in the order the
original does it: received car frames (stored on arrival) → state step → frames 0x108, 0x109,
0x118 (+0x208, 0x209 in V2X) back-to-back, only once a 0x102 of this session has arrived.

Inputs: ``CanReceived`` on ``config.link`` (``receive``) — car frames; only DLC 8 and known
vehicle IDs are used, everything else is logged once per ID and ignored.  The others are typed
calls (the adapter's ``ChademoSide`` uses them), and ``receive`` takes the same by name
(``InputChanged``, for the simulated worlds and tests; a value of the wrong type is logged as
``input-rejected``):

* :meth:`~ChademoCharger.start` (``"start"``, a ``SessionKind``; ``True`` means CHARGE) — begin a session (d1 on);
* :meth:`~ChademoCharger.stop` (``"stop"``) — power-off pending / stop button: orderly stop;
* :meth:`~ChademoCharger.permission` (``Input.K``) — the charge permission input j (the car's switch k);
* :meth:`~ChademoCharger.feed` (``"upstream"``, an ``Upstream``) — the power source's capabilities and measurements;
* :meth:`~ChademoCharger.promote` (``"promote"``, a ``ChargerConfig``) — the discovery session becomes the real one.

Outputs: ``SetOutput(Output.D1/Output.D2, bool)``, ``SetOutput("demand", PowerDemand)`` on change,
``SetOutput("discovered", VehicleView)`` when a discovery session has its values, CAN frames,
and logs (states, stop reasons in hex).  :attr:`ChademoCharger.vehicle` is the read-only
:class:`VehicleView` of what has been learned about the car.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..deadline import Timers
from ..rounding import round_int
from ..runtime import CanFrame, CanReceived, Event, InputChanged, MachineBase, SendCan, SetOutput
from ..runtime.signals import Input, Output
from .frames import (
    FRAME_TYPES,
    ChademoFrame,
    ChargerCapability,
    ChargerDischargeLimits,
    ChargerDischargeSequence,
    ChargerExtended,
    ChargerStatus,
    VehicleChargeTime,
    VehicleDischargeLimits,
    VehicleDischargeSequence,
    VehicleExtended,
    VehicleLimits,
    VehicleMeasured,
    VehicleStatus,
)
from .interfaces import (
    CHARGER_SUCCESSORS,
    ChargerConfig,
    ChargerState,
    ChargerTimer,
    PowerDemand,
    SessionKind,
    StopReason,
    Upstream,
    VehicleView,
)

S = ChargerState
#: the member by its value: ``vehicle`` is read every cycle, and ``ChargerState(value)`` is an Enum call
_STATE_BY_VALUE: Final = {state.value: state for state in ChargerState}

#: read per event, step or cycle: module constants, not Enum class attribute lookups
_K_CHARGE: Final = SessionKind.CHARGE
_K_DISCOVERY: Final = SessionKind.DISCOVERY
_OUT_D1: Final = Output.D1
_OUT_D2: Final = Output.D2
_S_CHARGING: Final = S.CHARGING
_S_DISCOVERED: Final = S.DISCOVERED
_S_ENDED: Final = S.ENDED
_S_IDLE: Final = S.IDLE
_S_STOP_UNLOCK: Final = S.STOP_UNLOCK
_S_STOP_WAIT_CONTACTORS_OPEN: Final = S.STOP_WAIT_CONTACTORS_OPEN
_S_STOP_WAIT_CURRENT: Final = S.STOP_WAIT_CURRENT
_S_STOP_WAIT_D1: Final = S.STOP_WAIT_D1
_S_WAIT_CAR_CONTACTORS: Final = S.WAIT_CAR_CONTACTORS
_S_WAIT_CAR_READY: Final = S.WAIT_CAR_READY
_S_WAIT_CAR_REQUEST: Final = S.WAIT_CAR_REQUEST
_S_WAIT_PRECHARGE: Final = S.WAIT_PRECHARGE
_T_CYCLE: Final = ChargerTimer.CYCLE

CYCLE: Final = 0.1  # s, chademo.md §2
READY_TIMEOUT: Final = 8.0  # d1 → k + 0x102.5.0 (chademo.md §4.1)
PRECHARGE_TIMEOUT: Final = 20.0  # k + 5.0 → d2
CONTACTORS_TIMEOUT: Final = 4.0  # d2 → 0x102.5.3 cleared
REQUEST_TIMEOUT: Final = 4.0  # contactors closed → request > 0
CAN_TIMEOUT: Final = 1.0  # no 0x102: fatal (chademo.md §7)
CAN_WARNING: Final = 0.3  # ≈3 missing 0x102: log
STOP_STEP_TIMEOUT: Final = 10.0  # each stop wait, then continue anyway
WELDING_WAIT_09: Final = 4.0  # 0.9: fixed wait for the car's welding detection
D2_TO_D1: Final = 0.5  # d2 off → d1 off
STOP_CURRENT: Final = 5.0  # A: "current ≤ 5 A" (chademo.md §10)
BLEED = 0.83  # reported voltage × 0.83 per 100 ms from k-off (adapter.md §4.1)
INCOMPATIBLE_PERSIST: Final = 2.0  # s a too-high target must persist before the car is ready
V2X_ZERO_CURRENT: Final = 3.0  # s at 0 A in the loop → "discharging" (adapter.md §7)
V2X_KEEPALIVE: Final = 60.0  # s between 1 A keep-alive reports while discharging
V2X_MIN_REMAINING: Final = 5.0  # s, remaining time never below this in V2X
V2X_AVAILABLE_INPUT_VOLTAGE: Final = 500  # V, 0x208.1-2: fixed, whatever the CCS charger offers (adapter.md §7)
V2X_LOWER_THRESHOLD: Final = 250  # V, 0x208.6-7
V2X_DISCHARGE_REPORT: Final = 10  # A, 0x208.0 while discharging (min with the car's maximum)
U8_MAX: Final = 0xFF  # one-byte current fields (0x108.3, 0x109.3, 0x208.3)

VEHICLE_IDS: Final = frozenset(i for i in FRAME_TYPES if i in (0x100, 0x101, 0x102, 0x103, 0x110, 0x200, 0x201, 0x700))
CHARGER_IDS: Final = frozenset((0x108, 0x109, 0x118, 0x208, 0x209))
_UNUSED_IDS: Final = frozenset((0x700,))  # decoded by the DBC, but nothing the charger acts on
_ACTIVE: Final = frozenset((_S_WAIT_CAR_READY, _S_WAIT_PRECHARGE, _S_WAIT_CAR_CONTACTORS, _S_WAIT_CAR_REQUEST,
                           _S_CHARGING))
_AFTER_READY: Final = frozenset((_S_WAIT_PRECHARGE, _S_WAIT_CAR_CONTACTORS, _S_WAIT_CAR_REQUEST, _S_CHARGING))
_STOPPING: Final = frozenset((_S_STOP_WAIT_CURRENT, _S_STOP_WAIT_CONTACTORS_OPEN, _S_STOP_WAIT_D1, _S_STOP_UNLOCK))


def encode_remaining(seconds: float) -> tuple[int, int]:
    """(0x109.6, 0x109.7) as the original adapter encodes it (chademo.md §3.5)."""
    s = max(0, int(seconds))
    if s < 60:
        return s // 10, 0
    return 0xFF, min(s // 60, 0xFF)


def _clamp(value: float, high: int) -> int:
    return max(0, min(int(value), high))


def discharge_floor_soc(level: int, sequence_number: int | None, capacity_kwh: float) -> float | None:
    """0x200.6, the car's discharge floor, as a SoC in %: % for a car that sends a 0x201 sequence
    control number ≥ 1, else kWh × 10 of the rated capacity (0x101) — the reading docs/v2x.md
    gives ("kWh×10 before V2H guideline 1.0, % afterwards").  None when it cannot be told (no
    0x200, or kWh without a capacity)."""
    if sequence_number is not None and sequence_number >= 1:
        return float(min(level, 100))
    if capacity_kwh <= 0:
        return None
    return min(100.0, level / 10.0 / capacity_kwh * 100.0)


# ------------------------------------------------------------------ the charger fields, per cycle
# Pure functions, so that each rule of adapter.md §6.2–§6.4/§7 is stated (and tested) once; the
# adapter's bridge only feeds the CCS values in through ``Upstream`` (its mapping module owns the
# opposite direction, the CCS request fields of adapter.md §6.1).


def available_voltage(evse_maximum_voltage_v: float | None, max_volts: int) -> int:
    """0x108.1–2 = min(power source maximum, max-volts); max-volts while it is unknown (discovery)."""
    if evse_maximum_voltage_v is None:
        return max_volts
    return _clamp(evse_maximum_voltage_v, max_volts)


def threshold_voltage(available_v: int, car_max_v: int) -> int:
    """0x108.4–5 = min(available voltage, car maximum voltage); the available voltage until the car
    has sent its maximum (0 = no 0x102 limits yet)."""
    return min(available_v, car_max_v) if car_max_v > 0 else available_v


@dataclass(slots=True, init=False)
class ChargerCurrent:
    """adapter.md §6.3: ``max_available`` (static) and ``dyn_available`` (latest limit), A."""

    max_available: Final[int]
    dyn_available: Final[int]

    def __init__(self, max_available: int, dyn_available: int) -> None:
        self.max_available = max_available
        self.dyn_available = dyn_available

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ChargerCurrent) and self.max_available == other.max_available and
                self.dyn_available == other.dyn_available)

    def __hash__(self) -> int:
        return hash((self.max_available, self.dyn_available))


def charger_current(cpd_max_a: float, current_demand_max_a: float | None, max_amps: int) -> ChargerCurrent:
    """MaxAvailable = min(ChargeParameterDiscovery limit, max-amps); DynAvailable = min(latest
    CurrentDemandRes limit if present, else the discovery value; max-amps)."""
    dyn = cpd_max_a if current_demand_max_a is None else current_demand_max_a
    return ChargerCurrent(_clamp(cpd_max_a, max_amps), _clamp(dyn, max_amps))


def car_has_dynamic_control(flag_0x110_0_0: bool, flag_0x102_5_6: bool, fallback: bool) -> bool:
    """0x110.0.0, or 0x102.5.6, or config ``dynamic-current-fallback`` (default: every car, chademo.md §3.6)."""
    return flag_0x110_0_0 or flag_0x102_5_6 or fallback


def available_current(limits: ChargerCurrent, *, dynamic: bool, car_request_a: float, delivered_a: float,
                      max_undersupply_a: float) -> int:
    """0x108.3 available current (adapter.md §6.3).

    Dynamic cars see DynAvailable, but while they ask for more than ``delivered + margin`` (and the
    source could give more than that) they see ``delivered + margin``: the car then ramps in step
    with what the CCS charger actually delivers instead of faulting on current deviation.  Others
    (JDEMO) see the static MaxAvailable.  Outside the charging loop pass a request of 0.
    """
    if not dynamic:
        return _clamp(limits.max_available, U8_MAX)
    value = float(limits.dyn_available)
    ceiling = max(0.0, delivered_a) + max_undersupply_a
    if car_request_a > ceiling and limits.dyn_available > ceiling:
        value = ceiling
    return _clamp(value, U8_MAX)


def present_current(measured_a: float | None, *, in_charging_loop: bool, discharging: bool,
                    fake_idle_amps: int) -> int:
    """0x109.3: the source's present current (None: nothing measured, i.e. discovery), clamped to
    0..255; in the charging loop a 0 becomes ``fake-idle-amps`` unless discharging (adapter.md §6.4:
    keeps Leafs and Jdemo kits alive; the V2X keep-alive report passes ``discharging=False``)."""
    amps = 0 if measured_a is None else _clamp(round_int(measured_a), U8_MAX)
    if amps == 0 and in_charging_loop and not discharging:
        amps = fake_idle_amps
    return amps


def bleed_step(volts: int) -> int:
    """One 100 ms step of the simulated voltage bleed after k-off (adapter.md §4.1): whole volts,
    truncated at each step — 400 V → 60 V after 1 s, 7 V after 2 s."""
    return int(volts * BLEED)


def count_down_remaining(remaining_s: float, output_current_a: float, *, v2x: bool) -> float:
    """0x109.6–7 remaining time: counts down one cycle only while current flows; in V2X never
    below 5 s (adapter.md §7)."""
    if output_current_a > 0:
        remaining_s -= CYCLE
    return max(remaining_s, V2X_MIN_REMAINING) if v2x else remaining_s


class ChademoCharger(MachineBase):
    """The adapter's CHAdeMO charger side.  See the module docstring for its interface."""

    def __init__(self, name: str = "chademo", config: ChargerConfig | None = None) -> None:
        super().__init__(name, _S_IDLE, CHARGER_SUCCESSORS)
        self.config = config or ChargerConfig()
        self.upstream = Upstream()
        self.k = False
        self._stop_requested = False
        self._t0 = 0.0
        self._cycles = 0
        self.timers = Timers()
        self._demand: PowerDemand | None = None
        self._tx_cache: dict[int, tuple[ChademoFrame, CanFrame]] = {}
        #: what the discovery session learned (snapshot taken when the car was ready)
        self.discovered: VehicleView | None = None
        self._reset_session()

    # ---------------------------------------------------------------------------- session data
    def _reset_session(self) -> None:
        self.session: SessionKind | None = None
        self._since = 0.0
        self._limits: VehicleLimits | None = None
        self._charge_time: VehicleChargeTime | None = None
        self._status: VehicleStatus | None = None
        self._measured: int | None = None
        self._extended: VehicleExtended | None = None
        self._discharge: VehicleDischargeLimits | None = None
        self._sequence_number: int | None = None  # 0x201.0 (None: no 0x201 yet)
        self._seen = False
        self._last_102 = 0.0
        self._can_warned = False
        self._ignored: set[tuple[int, str]] = set()
        self._rx_last: dict[int, bytes] = {}  # last data per ID (repeats need no decoding)
        self._tx = False
        self._d1 = False
        self._d2 = False
        self._d2_ever = False
        self._locked = False
        self._charging = False
        self._stop_control = True
        self._incompatible = False
        self._incompatible_since: float | None = None
        self._reasons = StopReason.NONE
        self._frozen_target: int | None = None
        self._request_at_d2 = 0
        self._contactors_closed = False
        self._threshold: int | None = None
        self._remaining = 0.0
        self._reported_voltage = 0
        self._discharging = False
        self._zero_since: float | None = None
        self._keepalive_at = 0.0
        self._keepalive = False

    # ---------------------------------------------------------------------------- machine API
    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, CanReceived):
            if event.link == self.config.link:
                self._on_frame(event.frame, now)
        elif isinstance(event, InputChanged):
            self._on_input(event.name, event.value, now)

    def handle_timer(self, now: float) -> None:
        at = self.timers.at(_T_CYCLE)
        if at is not None and now >= at - 1e-9:
            self._on_timer(_T_CYCLE, now)

    def _on_timer(self, purpose: ChargerTimer, now: float) -> None:
        """The one purpose, the cycle: it stays armed while it runs, so the cycle may stop the
        clock (:meth:`_stop_cycle`); otherwise the next one is 100 ms after this one."""
        self._cycle(now)
        if self.timers.at(_T_CYCLE) is not None:
            self._cycles += 1
            self.timers.start(_T_CYCLE, self._t0 + self._cycles * CYCLE)

    def get_timer(self) -> float | None:
        return self.timers.next()

    def _stop_cycle(self) -> None:
        self.timers.cancel(_T_CYCLE)

    # ---------------------------------------------------------------------------- inputs
    def _on_input(self, name: str, value: object, now: float) -> None:
        """An input by name (the simulated worlds, tests): checked, then the typed call below."""
        if name == Input.K:
            self.permission(bool(value), now)
        elif name == "upstream":
            if isinstance(value, Upstream):
                self.feed(value, now)
            else:
                self._log("input-rejected", name=name, reason=f"not an Upstream: {type(value).__name__}")
        elif name == "start":
            kind = _K_CHARGE if value is True else value
            if isinstance(kind, SessionKind):
                self.start(kind, now)
            else:
                self._log("input-rejected", name=name, reason=f"not a SessionKind: {value!r}")
        elif name == "promote":
            if isinstance(value, ChargerConfig):
                self.promote(value, now)
            else:
                self._log("input-rejected", name=name, reason=f"not a ChargerConfig: {type(value).__name__}")
        elif name == "stop" and value:
            self.stop(now)

    # The typed inputs (what adapter/chademo_side.py calls): one method per input of the module
    # docstring's list.
    def permission(self, granted: bool, now: float) -> None:
        """The charge permission input j (the car's switch k)."""
        self.k = granted

    def feed(self, upstream: Upstream, now: float) -> None:
        """The power source's capabilities and measurements."""
        self.upstream = upstream

    def start(self, kind: SessionKind, now: float) -> None:
        """Begin a session (d1 on): the real one, or the short discovery session."""
        self._start(kind, now)

    def promote(self, config: ChargerConfig, now: float) -> None:
        """Make the running discovery session the real one, with the real session's configuration."""
        self._promote(config, now)

    def stop(self, now: float) -> None:
        """Power-off pending / stop button: the orderly stop (once)."""
        if not self._stop_requested:
            self._stop_requested = True
            self._log("stop-requested")

    def _start(self, kind: SessionKind, now: float) -> None:
        if self.state not in (_S_IDLE, _S_DISCOVERED):
            self._log("start-ignored", state=self.state, reason="a real session starts only once")
            return
        self._reset_session()
        self.session = kind
        self._tx = True
        self._set_d1(True)
        self._go(_S_WAIT_CAR_READY, now, session=kind.value)
        self._t0 = now
        self._cycles = 1
        self.timers.start(_T_CYCLE, now + CYCLE)

    def _promote(self, config: ChargerConfig, now: float) -> None:
        """Continue a discovery session that has not ended yet as the real session (with the real
        session's ``config``): for cars that refuse a second session (adapter.md §3, §14 #15/#16),
        recognised from their first frames.  The ready timeout counts from here."""
        if self.session is not _K_DISCOVERY or self.state is not _S_WAIT_CAR_READY:
            self._log("promote-ignored", state=self.state, session=None if self.session is None else self.session.value)
            return
        self.config = config
        self.session = _K_CHARGE
        self._go(_S_WAIT_CAR_READY, now, session=_K_CHARGE.value, promoted=True)

    def _on_frame(self, frame: CanFrame, now: float) -> None:
        if self.session is None or self.state in (_S_ENDED, _S_DISCOVERED, _S_IDLE):
            return
        fid = frame.arbitration_id
        if not frame.is_extended_id and (fid in _UNUSED_IDS or self._rx_last.get(fid) == frame.data):
            # most frames repeat byte for byte: nothing to decode, only the 0x102 age matters
            if fid == 0x102:
                self._saw_102(now)
            return
        if frame.is_extended_id or fid not in VEHICLE_IDS:
            self._ignore(fid, "charger ID (another charger?)" if fid in CHARGER_IDS else "unknown ID")
            return
        if len(frame.data) != 8:
            self._ignore(fid, f"DLC {len(frame.data)}")
            return
        self._rx_last[fid] = frame.data
        decoded = FRAME_TYPES[fid].from_can(frame)
        if isinstance(decoded, VehicleStatus):
            self._saw_102(now)
            if decoded.stop_before_charging:
                self._ignore(fid, "0x102.5.4 stop-before-charging set: ignored (spurious on some e-NV200)")
            self._status = decoded
        elif isinstance(decoded, VehicleLimits):
            self._limits = decoded
        elif isinstance(decoded, VehicleChargeTime):
            self._charge_time = decoded
        elif isinstance(decoded, VehicleMeasured):
            self._measured = decoded.measured_battery_voltage
        elif isinstance(decoded, VehicleExtended):
            self._extended = decoded
        elif isinstance(decoded, VehicleDischargeLimits):
            self._discharge = decoded
        elif isinstance(decoded, VehicleDischargeSequence):
            self._sequence_number = decoded.sequence_control_number

    def _saw_102(self, now: float) -> None:
        if not self._seen:
            self._seen = True
            self._log("car-first-frame", id="0x102", after_d1=round(now - self._t0, 3))
        elif self._can_warned:
            self._log("car-can-back", gap=round(now - self._last_102, 3))
        self._can_warned = False
        self._last_102 = now

    def _ignore(self, fid: int, reason: str) -> None:
        key = (fid, reason)
        if key not in self._ignored:
            self._ignored.add(key)
            self._log("rx-ignored", id=f"0x{fid:03x}", reason=reason)

    # ---------------------------------------------------------------------------- helpers
    def _go(self, state: ChargerState, now: float, **fields: object) -> None:
        if self._enter(state, **fields):  # a refused move (logged) keeps the state and its time
            self._since = now

    def _set_d1(self, on: bool) -> None:
        if on != self._d1:
            self._d1 = on
            self._emit(SetOutput(_OUT_D1, on))

    def _set_d2(self, on: bool) -> None:
        if on != self._d2:
            self._d2 = on
            self._d2_ever = self._d2_ever or on
            self._emit(SetOutput(_OUT_D2, on))

    @property
    def effective_protocol(self) -> int:
        """min(car, charger) decides the sequence rules (chademo.md §8.1)."""
        car = self._status.protocol_number if self._status is not None else self.config.protocol_number
        return min(car, self.config.protocol_number)

    @property
    def car_dynamic(self) -> bool:
        """0x110.0.0, or 0x102.5.6, or (configurable) every car (chademo.md §3.6)."""
        extended, status = self._extended, self._status
        return car_has_dynamic_control(extended is not None and extended.dynamic_control,
                                       status is not None and status.legacy_dynamic_control,
                                       self.config.dynamic_current_fallback)

    def _request(self) -> int:
        return self._status.current_request if self._status is not None else 0

    def _target(self) -> int:
        return self._status.target_voltage if self._status is not None else 0

    def _available_voltage(self) -> int:
        discovery = self.session is _K_DISCOVERY  # no source yet: the configured maximum
        return available_voltage(None if discovery else self.upstream.available_voltage, self.config.max_volts)

    def _current_limits(self) -> ChargerCurrent:
        amps = self.config.max_amps
        if self.session is _K_DISCOVERY:
            return ChargerCurrent(amps, amps)
        up = self.upstream
        return charger_current(up.available_current, up.dynamic_current, amps)

    def _delivered(self) -> int:
        return _clamp(round_int(self.upstream.present_current), U8_MAX)

    # ---------------------------------------------------------------------------- the cycle
    def _cycle(self, now: float) -> None:
        if self.state in _ACTIVE:
            reasons = self._check(now)
            if reasons:
                self._begin_stop(now, reasons)
        self._step(now)
        self._publish_demand()
        if self._tx and self._seen:
            self._send_frames(now)
        if self.state is _S_ENDED:
            self._stop_cycle()

    def _check(self, now: float) -> StopReason:
        """The stop conditions of every state before the stop sequence (adapter.md §2.1)."""
        r = StopReason.NONE
        if self._stop_requested:
            r |= StopReason.USER
        status = self._status
        if self.session is _K_DISCOVERY:
            if status is not None and status.system_fault:
                r |= StopReason.CAR_ERROR
            return r
        up = self.upstream
        if up.fault:
            r |= StopReason.UPSTREAM_FAULT
        if up.stopped:
            r |= StopReason.UPSTREAM_STOPPED
        if self._seen:
            silent = now - self._last_102
            if silent > CAN_TIMEOUT:
                r |= StopReason.CAN_TIMEOUT
            elif silent > CAN_WARNING and not self._can_warned:
                self._can_warned = True
                self._log("car-can-gap", silent=round(silent, 3))
        if self._incompatible:
            r |= StopReason.BATTERY_INCOMPATIBLE
        if status is None:
            return r
        if status.system_fault:
            r |= StopReason.CAR_ERROR
        if self.state in _AFTER_READY:
            if not self.k:
                r |= StopReason.K_OFF
            if not status.charging_enabled:
                r |= StopReason.CAR_DISABLED
            if status.shift_not_park:
                r |= StopReason.NOT_IN_PARK
            if status.any_fault:
                r |= StopReason.BATTERY_FAULT
        if self.state is _S_CHARGING:
            if status.target_voltage == 0:
                r |= StopReason.TARGET_ZERO
            if self._remaining <= 0:
                r |= StopReason.CHARGING_TIME
            if self._threshold is not None and self._contactors_closed and up.present_voltage > self._threshold:
                r |= StopReason.THRESHOLD_VOLTAGE
        return r

    def _step(self, now: float) -> None:
        state = self.state
        elapsed = now - self._since
        if state is _S_WAIT_CAR_READY:
            self._wait_car_ready(now, elapsed)
        elif state is _S_WAIT_PRECHARGE:
            self._refresh_before_loop()
            if self.upstream.precharge_done:
                self._frozen_target = self._target()
                self._request_at_d2 = self._request()
                self._set_d2(True)
                self._go(_S_WAIT_CAR_CONTACTORS, now, frozen_target=self._frozen_target)
            elif elapsed >= PRECHARGE_TIMEOUT:
                self._begin_stop(now, StopReason.PRECHARGE_TIMEOUT)
        elif state is _S_WAIT_CAR_CONTACTORS:
            self._refresh_before_loop()
            self._wait_car_contactors(now, elapsed)
        elif state is _S_WAIT_CAR_REQUEST:
            self._refresh_before_loop()
            if self._request() > 0:
                self._start_charging(now)
            elif elapsed >= REQUEST_TIMEOUT:
                self._begin_stop(now, StopReason.REQUEST_TIMEOUT)
        elif state is _S_CHARGING:
            self._charging_loop(now)
        elif state is _S_STOP_WAIT_CURRENT:
            timed_out = elapsed >= STOP_STEP_TIMEOUT
            if elapsed <= 0 and self._charging:
                return  # one frame with 5.5 = 1 while 5.0 is still 1 (chademo.md §3.5), even at 0 A
            # |current|: a V2X discharger's current is negative and must fall just the same
            if abs(self.upstream.present_current) <= STOP_CURRENT or timed_out:
                if timed_out:
                    self._log("stop-step-timeout", step="current", current=self.upstream.present_current)
                self._charging = False
                self._remaining = 0.0
                self._discharging = False
                if self._d2_ever:
                    self._go(_S_STOP_WAIT_CONTACTORS_OPEN, now)
                else:
                    self._car_contactors_open(now, "d2 never set")
        elif state is _S_STOP_WAIT_CONTACTORS_OPEN:
            self._wait_contactors_open(now, elapsed)
        elif state is _S_STOP_WAIT_D1:
            if elapsed >= D2_TO_D1 - 1e-9:
                self._set_d1(False)
                self._locked = False
                self._go(_S_STOP_UNLOCK, now)
        elif state is _S_STOP_UNLOCK:
            # the frame with 0x109.5.2 cleared went out last cycle: logical unlock, CAN off
            self._tx = False
            self._go(_S_ENDED, now, reasons=self._reasons.describe())

    def _refresh_before_loop(self) -> None:
        """Threshold and remaining time follow the car until the charging loop (adapter.md §2.1)."""
        limits = self._limits
        car_max = limits.max_battery_voltage if limits is not None else 0
        self._threshold = threshold_voltage(self._available_voltage(), car_max)
        if self._charge_time is not None:
            self._remaining = float(self._charge_time.max_charge_time_s)

    def _wait_car_ready(self, now: float, elapsed: float) -> None:
        self._refresh_before_loop()
        status = self._status
        target = self._target()
        too_high = target > self._available_voltage()
        if too_high and self._incompatible_since is None:
            self._incompatible_since = now
        elif not too_high:
            self._incompatible_since = None
        ready = self.k and status is not None and status.charging_enabled
        discovery = self.session is _K_DISCOVERY
        if ready and discovery:
            view = self.vehicle
            self.discovered = view
            self._emit(SetOutput("discovered", view))
            self._log("discovery-done", target=view.target_voltage, max=view.max_battery_voltage, soc=view.soc)
            self._set_d1(False)
            self._tx = False
            self._stop_cycle()
            self._go(_S_DISCOVERED, now)
            return
        since = self._incompatible_since
        if not discovery and since is not None and (ready or now - since >= INCOMPATIBLE_PERSIST):
            if not self._incompatible:
                self._incompatible = True
                self._log("battery-incompatible", target=target, available=self._available_voltage())
            return  # 0x109.5.3 goes out this cycle, the stop follows on the next one
        if ready:
            self._locked = True
            self._go(_S_WAIT_PRECHARGE, now, after_d1=round(now - self._t0, 3))
        elif not discovery and elapsed >= READY_TIMEOUT:
            self._begin_stop(now, StopReason.CAR_READY_TIMEOUT)

    def _wait_car_contactors(self, now: float, elapsed: float) -> None:
        status = self._status
        if self.effective_protocol >= 2:
            closed = status is not None and not status.contactors_open
            how = "0x102.5.3 cleared"
        else:
            rising = self._request_at_d2 == 0 and self._request() > 0
            assumed = elapsed >= self.config.assume_car_contactors_closed_after_ms / 1000 - 1e-9
            closed = rising or assumed
            how = "request rose from 0" if rising else "assumed after d2 (0.9)"
        if closed:
            self._contactors_closed = True
            self._go(_S_WAIT_CAR_REQUEST, now, how=how, after_d2=round(elapsed, 3))
            if self._request() > 0:
                self._start_charging(now)
        elif elapsed >= CONTACTORS_TIMEOUT:
            self._begin_stop(now, StopReason.CONTACTORS_TIMEOUT)

    def _start_charging(self, now: float) -> None:
        # 0x109.5.0 set and 5.5 cleared in the same frame (chademo.md §3.5)
        self._refresh_before_loop()
        self._charging = True
        self._stop_control = False
        self._zero_since = now
        self._go(_S_CHARGING, now, request=self._request(), remaining_s=self._remaining)

    def _charging_loop(self, now: float) -> None:
        flowing = self.upstream.present_current > 0
        self._remaining = count_down_remaining(self._remaining, self.upstream.present_current, v2x=self.config.v2x)
        if not self.config.v2x:
            return
        if flowing:
            self._zero_since = now
            if self._discharging:
                self._discharging = False
                self._log("v2x-discharging", on=False)
        elif self._zero_since is not None and now - self._zero_since >= V2X_ZERO_CURRENT and not self._discharging:
            self._discharging = True
            self._keepalive_at = now
            self._log("v2x-discharging", on=True)
        self._keepalive = self._discharging and now >= self._keepalive_at
        if self._keepalive:
            self._keepalive_at = now + V2X_KEEPALIVE

    def _begin_stop(self, now: float, reasons: StopReason) -> None:
        self._reasons |= reasons
        self._reported_voltage = self._present_voltage_live()
        self._stop_control = True
        self._keepalive = False
        self._log("stop", reasons=self._reasons.describe(), state=self.state)
        self._go(_S_STOP_WAIT_CURRENT, now)

    def _wait_contactors_open(self, now: float, elapsed: float) -> None:
        if not self.k:
            self._reported_voltage = bleed_step(self._reported_voltage)
        status = self._status
        if self.effective_protocol >= 2:
            if status is not None and status.contactors_open:
                self._car_contactors_open(now, "0x102.5.3 set")
            elif elapsed >= STOP_STEP_TIMEOUT:
                self._log("stop-step-timeout", step="car_contactors_open")
                self._car_contactors_open(now, "timeout")
        elif elapsed >= WELDING_WAIT_09 - 1e-9:
            self._car_contactors_open(now, "fixed 4 s wait (0.9)")

    def _car_contactors_open(self, now: float, how: str) -> None:
        self._reported_voltage = 0
        self._contactors_closed = False
        self._set_d2(False)
        self._go(_S_STOP_WAIT_D1, now, how=how)

    # ---------------------------------------------------------------------------- outputs
    def _present_voltage_live(self) -> int:
        if self.config.zero_voltage_until_car_contactors_closed and not self._contactors_closed:
            return 0
        return _clamp(round_int(self.upstream.present_voltage), 0xFFFF)

    def _publish_demand(self) -> None:
        state = self.state
        charging = state is _S_CHARGING
        target = self._frozen_target if self._frozen_target is not None else self._target()
        if self._threshold is not None:
            target = min(target, self._threshold)
        discharge = 0
        if self._discharging and charging:  # the faked request ends with the loop (stop: ramp to 0)
            car_max = self._discharge.max_discharge_current if self._discharge is not None else 0
            discharge = car_max or self.config.max_discharge_amps_fallback
        demand = PowerDemand(
            precharge=state is _S_WAIT_PRECHARGE,
            d2=self._d2,
            car_contactors_closed=self._contactors_closed,
            charging=charging,
            stopping=state in _STOPPING or state is _S_ENDED,
            voltage=target,
            current=min(self._request(), self._current_limits().dyn_available) if charging else 0,
            discharge_current=discharge,
        )
        if demand != self._demand:
            self._demand = demand
            self._emit(SetOutput("demand", demand))

    def _available_current(self) -> int:
        """0x108.3: dynamic (delivered + margin while the car asks for more) or static (adapter.md §6.3)."""
        request = self._request() if self.state is _S_CHARGING else 0
        return available_current(self._current_limits(), dynamic=self.car_dynamic, car_request_a=request,
                                 delivered_a=self._delivered(), max_undersupply_a=self.config.max_undersupply_amps)

    def _status_frame(self) -> ChargerStatus:
        state = self.state
        discovery = self.session is _K_DISCOVERY
        if discovery:
            voltage = _clamp(round_int(self.upstream.estimated_battery_voltage), 0xFFFF)
        elif state in _STOPPING:
            voltage = self._reported_voltage
        else:
            voltage = self._present_voltage_live()
        current = present_current(None if discovery else self.upstream.present_current,
                                  in_charging_loop=state is _S_CHARGING,
                                  discharging=self._discharging and not self._keepalive,
                                  fake_idle_amps=self.config.fake_idle_amps)
        byte6, byte7 = encode_remaining(self._remaining)
        return ChargerStatus(
            protocol_number=self.config.protocol_number,
            present_voltage=voltage,
            present_current=current,
            discharge_compatible=self.config.v2x and not discovery,
            charging=self._charging,
            connector_locked=self._locked,
            battery_incompatible=self._incompatible,
            stop_control=self._stop_control,
            remaining_time_10s=byte6,
            remaining_time_min=byte7,
        )

    def _frames(self) -> list[ChademoFrame]:
        available_voltage = self._available_voltage()
        threshold = self._threshold if self._threshold is not None else available_voltage
        out: list[ChademoFrame] = [
            ChargerCapability(
                welding_detection=int(self.config.welding_detection),
                available_voltage=available_voltage,
                available_current=self._available_current(),
                threshold_voltage=threshold,
            ),
            self._status_frame(),
            ChargerExtended(dynamic_control=True),
        ]
        if self.config.v2x and self.session is _K_CHARGE:
            car_max = self._discharge.max_discharge_current if self._discharge is not None else 0
            out.append(
                ChargerDischargeLimits(
                    present_discharge_current=min(V2X_DISCHARGE_REPORT, car_max) if self._discharging else 0,
                    available_input_voltage=V2X_AVAILABLE_INPUT_VOLTAGE,
                    available_input_current=self._current_limits().max_available,
                    lower_threshold_voltage=V2X_LOWER_THRESHOLD,
                )
            )
            out.append(ChargerDischargeSequence(2, 5 if self._discharging else 0))
        return out

    def _send_frames(self, now: float) -> None:
        link = self.config.link
        cache = self._tx_cache
        for frame in self._frames():
            cached = cache.get(frame.FRAME_ID)
            if cached is None or cached[0] != frame:
                cached = (frame, frame.to_can())
                cache[frame.FRAME_ID] = cached
            self._emit(SendCan(link, cached[1]))

    # ---------------------------------------------------------------------------- the view
    @property
    def stop_reasons(self) -> StopReason:
        return self._reasons

    @property
    def vehicle(self) -> VehicleView:
        status = self._status
        limits = self._limits
        reference = limits.charged_rate_reference if limits is not None else 100
        faults = 0
        if status is not None:
            bits = (
                status.fault_over_voltage,
                status.fault_under_voltage,
                status.fault_current_deviation,
                status.fault_high_temperature,
                status.fault_voltage_deviation,
            )
            faults = sum(1 << i for i, bit in enumerate(bits) if bit)
        return VehicleView(
            state=_STATE_BY_VALUE[self.state],
            session=self.session,
            seen=self._seen,
            protocol_number=status.protocol_number if status is not None else 0,
            effective_protocol=self.effective_protocol,
            target_voltage=self._target(),
            frozen_target_voltage=self._frozen_target,
            max_battery_voltage=limits.max_battery_voltage if limits is not None else 0,
            min_battery_voltage=limits.min_battery_voltage if limits is not None else 0,
            min_charge_current=limits.min_charge_current if limits is not None else 0,
            current_request=self._request(),
            soc=status.soc(reference) if status is not None else None,
            soc_trusted=self.k and status is not None and status.charging_enabled,
            rated_capacity_kwh=self._charge_time.rated_capacity if self._charge_time is not None else 0.0,
            max_charge_time_s=self._charge_time.max_charge_time_s if self._charge_time is not None else 0,
            measured_voltage=self._measured,
            dynamic_control=self.car_dynamic,
            legacy_dynamic_bit=status.legacy_dynamic_control if status is not None else False,
            sends_0x110=self._extended is not None,
            discharge_compatible=status.discharge_compatible if status is not None else False,
            max_discharge_current=self._discharge.max_discharge_current if self._discharge is not None else 0,
            k=self.k,
            ready=self.k and status is not None and status.charging_enabled,
            car_contactors_closed=self._contactors_closed,
            car_reports_contactors_open=status.contactors_open if status is not None else False,
            battery_faults=faults,
            system_fault=status.system_fault if status is not None else False,
            not_in_park=status.shift_not_park if status is not None else False,
            stop_reasons=self._reasons,
            d1=self._d1,
            d2=self._d2,
            locked=self._locked,
            charging=self._charging,
            discharge_floor_soc=None if self._discharge is None else discharge_floor_soc(
                self._discharge.min_discharge_level, self._sequence_number,
                self._charge_time.rated_capacity if self._charge_time is not None else 0.0),
        )
