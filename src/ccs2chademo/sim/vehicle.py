"""The simulated CHAdeMO car (sans-I/O): what real cars do on the CAN bus and the j/k, d1/d2 lines.

Behaviour and timings follow chademo.md §12 (calibrated on the two Leaf logs) and are set per
car by a :class:`~ccs2chademo.sim.profiles.VehicleProfile`.  The car decides once per frame
cycle (100 ms; 225 ms for ZombieVerter cars) and sends its frames ``timing.spacing_s`` apart.

Inputs: ``InputChanged("d1"/"d2", bool)``; ``InputChanged("d2_supply", amps)`` — what the
charger's d2 loop can deliver (the original adapter ≈1.3 A); ``InputChanged("electrical",
CarElectrical)`` — inlet voltage/current, battery voltage and SoC from the world model;
``CanReceived`` charger frames.  Test knobs: ``InputChanged("shift", "park"|"drive")``,
``InputChanged("fault", name)`` (a 0x102.4 bit name or ``"system"``), ``InputChanged("stop",
True)`` (the driver ends charging), ``InputChanged("can_silent", bool)`` (the car's CAN dies),
``InputChanged("over_request", bool)`` (the car asks ``OVER_REQUEST_A`` above what 0x108 offers).

Outputs: ``SetOutput("k", bool)``, ``SetOutput("contactors", bool)``, CAN frames, logs (and
``dtcs``, the trouble codes the car stored, e.g. after a failed welding check).

V2X (a ``discharge_compatible`` profile at a charger that sets 0x109.4): the car ramps its
0x200 maximum discharge current once the charging loop runs, accepts current flowing *out*
(negative inlet current) as a discharge instead of an under-delivery, faults on the V2H
guideline's over-current rule, and ends the session at its discharge floor (0x200.6) — see
:class:`~ccs2chademo.sim.profiles.V2x` and ``docs/v2x.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ..chademo.frames import (
    ChademoFrame,
    ChargerCapability,
    ChargerStatus,
    VehicleChargeTime,
    VehicleDischargeLimits,
    VehicleDischargeSequence,
    VehicleExtended,
    VehicleLimits,
    VehicleMeasured,
    VehicleStatus,
)
from ..rounding import round_int
from ..runtime import CanFrame, CanReceived, Event, InputChanged, MachineBase, SendCan, SetOutput
from .profiles import VehicleProfile

LOW_CURRENT: Final = 5.0  # A
LOW_INLET: Final = 20.0  # V, contactors close only below this (Leafs, chademo.md §4 step 9)
WELDING_RATIO_AT_1S: Final = 0.25  # judged voltage ≤ 25 % of the voltage at opening within 1 s
WELDING_VOLTS_AT_2S: Final = 10.0  # … and ≤ 10 V within 2 s (chademo.md §10 step 4)
OVER_REQUEST_A: Final = 20  # A above 0x108's available current the over_request knob asks for
DISCHARGE_LIMIT_RAMP_A: Final = 2  # 0x200.0 rises 2 A per frame when power flow starts (chademo.md §9)
FAULT_NAMES: Final = (
    "fault_over_voltage",
    "fault_under_voltage",
    "fault_current_deviation",
    "fault_high_temperature",
    "fault_voltage_deviation",
)


@dataclass(slots=True, init=False)
class CarElectrical:
    """What the car's own sensors see (from the world model).

    A hot record (tests/test_records.py): the world makes one per 20 ms physics step and compares
    it with the last; ``__eq__`` and ``__hash__`` are written out because those of ``dataclasses``
    run interpreted even in a compiled module (≈ 2 000 instructions per comparison).
    """

    inlet_voltage: Final[float]
    inlet_current: Final[float]
    battery_voltage: Final[float]
    soc: Final[float]

    def __init__(
        self,
        inlet_voltage: float = 0.0,
        inlet_current: float = 0.0,
        battery_voltage: float = 0.0,
        soc: float = 0.0,
    ) -> None:
        self.inlet_voltage = inlet_voltage
        self.inlet_current = inlet_current
        self.battery_voltage = battery_voltage
        self.soc = soc

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, CarElectrical) and self.inlet_voltage == other.inlet_voltage
                and self.inlet_current == other.inlet_current and self.battery_voltage == other.battery_voltage
                and self.soc == other.soc)

    def __hash__(self) -> int:
        return hash((self.inlet_voltage, self.inlet_current, self.battery_voltage, self.soc))


class VehicleState(StrEnum):
    OFF = "off"
    WAKING = "waking"
    WAIT_READY = "wait_ready"
    READY = "ready"
    CLOSING = "closing"
    CLOSED = "closed"
    CHARGING = "charging"
    STOPPING = "stopping"
    WELDING_CHECK = "welding_check"
    DONE = "done"
    SHUTDOWN = "shutdown"


_PERMITTED: Final = frozenset((VehicleState.READY, VehicleState.CLOSING, VehicleState.CLOSED, VehicleState.CHARGING))


class ChademoVehicle(MachineBase):
    """A CHAdeMO car following ``profile``; see the module docstring for its interface."""

    def __init__(self, profile: VehicleProfile, name: str = "car", link: str = "can") -> None:
        super().__init__(name, VehicleState.OFF)
        self.profile = profile
        self.link = link
        self.d1 = False
        self.d2 = False
        self.d2_supply = 2.0
        self.electrical = CarElectrical(battery_voltage=0.0, soc=profile.battery.initial_soc)
        self.in_park = True
        self.can_silent = False
        self.over_request = False
        self.dtcs: list[str] = []
        self.sessions = 0
        self._saw_discharge_flag = False
        self._next: float | None = None
        self._queue: list[CanFrame] = []
        self._qi = 0
        self._cycle_start = 0.0
        self._tx_cache: dict[int, tuple[ChademoFrame, CanFrame]] = {}
        self._injected: set[str] = set()
        self._reset()

    def _reset(self) -> None:
        self._since = 0.0
        self._can_start: float | None = None
        self._first_109: float | None = None
        self._charger_protocol = 0
        self._cap: ChargerCapability | None = None
        self._cs: ChargerStatus | None = None
        self._last_109: float | None = None
        self._rx_last: dict[int, bytes] = {}
        self._frames_sent = 0
        self.k = False
        self._enabled = False
        self.contactors = False
        self._ever_closed = False
        self.request = 0
        self._faults: set[str] = set()
        self._system_fault = False
        self._d2_at: float | None = None
        self._closed_at: float | None = None
        self._first_request_at: float | None = None
        self._charging_seen = False
        self._stop_at = 0.0
        self._low_since: float | None = None
        self._open_at = 0.0
        self._v0 = 0.0
        self._check1_done = False
        self._shutdown_at = 0.0
        self._over_since: float | None = None
        self._under_since: float | None = None
        self._volt_since: float | None = None
        self._prev_available: int | None = None
        self._static_available: int | None = None
        self._hung = False
        self._target_raised = False
        self._discharge_limit = self.profile.v2x.max_discharge_current
        self._over_discharge_since: float | None = None
        self._zero_report_since: float | None = None
        self.stop_reason = ""

    # ---------------------------------------------------------------------------- read-only state
    @property
    def charger_status(self) -> ChargerStatus | None:
        """The last 0x109 the car received."""
        return self._cs

    @property
    def faults(self) -> frozenset[str]:
        """0x102.4 fault fields the car has set, plus ``"system"`` for 0x102.5.2."""
        return frozenset(self._faults | ({"system"} if self._system_fault else set()))

    @property
    def max_discharge_current(self) -> int:
        """0x200.0 as the car sends it now (A; 0 = none declared)."""
        return self._discharge_limit

    @property
    def v2x_session(self) -> bool:
        """Both sides can discharge: this car is discharge compatible and the charger's last
        0x109 advertised it (0x109.4, only ever sent together with 0x208/0x209)."""
        cs = self._cs
        return self.profile.discharge_compatible and cs is not None and cs.discharge_compatible

    @property
    def discharge_floor_soc(self) -> float:
        """0x200.6 as a SoC: % for cars with a 0x201 sequence number ≥ 1, else kWh × 10."""
        p = self.profile
        level = p.v2x.min_discharge_level
        if "0x201" in p.frames and p.v2x.sequence_control_number >= 1:
            return float(level)
        return level / 10.0 / p.battery.capacity_kwh * 100.0

    @property
    def saw_discharge_flag(self) -> bool:
        """A charger advertised discharge (0x109.4) in any session so far."""
        return self._saw_discharge_flag

    # ---------------------------------------------------------------------------- machine API
    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, CanReceived):
            if event.link == self.link and self.state not in (VehicleState.OFF, VehicleState.WAKING):
                self._on_frame(event.frame, now)
        elif isinstance(event, InputChanged):
            self._on_input(event.name, event.value, now)

    def handle_timer(self, now: float) -> None:
        if self._next is None or now < self._next - 1e-9:
            return
        if self._qi < len(self._queue):
            self._send_next(now)
            return
        self._cycle(now)

    def get_timer(self) -> float | None:
        return self._next

    # ---------------------------------------------------------------------------- inputs
    def _on_input(self, name: str, value: object, now: float) -> None:
        if name == "d1":
            self.d1 = bool(value)
            if self.d1 and self.state is VehicleState.OFF:
                self._wake(now)
        elif name == "d2":
            self.d2 = bool(value)
        elif name == "d2_supply" and isinstance(value, int | float):
            self.d2_supply = float(value)
        elif name == "electrical" and isinstance(value, CarElectrical):
            self.electrical = value
        elif name == "shift":
            self.in_park = value == "park"
        elif name == "fault" and isinstance(value, str):
            self._injected.add(value)
        elif name == "stop" and value:
            self._injected.add("driver_stop")
        elif name == "can_silent":
            self.can_silent = bool(value)
        elif name == "over_request":
            self.over_request = bool(value)

    def _on_frame(self, frame: CanFrame, now: float) -> None:
        if len(frame.data) != 8 or frame.is_extended_id:
            return
        fid = frame.arbitration_id
        if fid == 0x109:
            self._last_109 = now
        if self._rx_last.get(fid) == frame.data:
            return  # a repeat: nothing new to decode
        self._rx_last[fid] = frame.data
        if fid == 0x109:
            cs = ChargerStatus.from_can(frame)
            if self._first_109 is None:
                self._first_109 = now
                self._charger_protocol = cs.protocol_number
            if cs.discharge_compatible:
                self._saw_discharge_flag = True
            self._cs = cs
        elif fid == 0x108:
            self._cap = ChargerCapability.from_can(frame)

    def _wake(self, now: float) -> None:
        self._reset()
        self.sessions += 1
        p = self.profile
        self._hung = self.sessions > 1 and (
            p.second_session == "refuse"
            or (p.second_session == "refuse_after_discharge_flag" and self._saw_discharge_flag)
        )
        self._go(VehicleState.WAKING, now, session=self.sessions)
        self._queue = []
        self._qi = 0
        self._next = now + p.timing.wake_s

    # ---------------------------------------------------------------------------- helpers
    def _go(self, state: VehicleState, now: float, **fields: object) -> None:
        self._since = now
        self._enter(state, **fields)

    def _set_k(self, on: bool) -> None:
        if on != self.k:
            self.k = on
            self._emit(SetOutput("k", on))

    def _set_contactors(self, closed: bool) -> None:
        if closed != self.contactors:
            self.contactors = closed
            self._ever_closed = self._ever_closed or closed
            self._emit(SetOutput("contactors", closed))

    def _stop(self, now: float, reason: str, delay: float = 0.0) -> None:
        if self.state not in _PERMITTED and self.state is not VehicleState.WAIT_READY:
            return
        self.stop_reason = reason
        self._stop_at = now + delay
        self._log("car-stop", reason=reason, request=self.request)
        self._go(VehicleState.STOPPING, now, reason=reason)

    def _fault(self, now: float, name: str) -> None:
        if name == "system":
            self._system_fault = True
        else:
            self._faults.add(name)
        self._stop(now, name)

    # ---------------------------------------------------------------------------- the cycle
    def _cycle(self, now: float) -> None:
        p = self.profile
        self._cycle_start = now
        self._next = now + p.timing.period_s
        if self.state is VehicleState.WAKING:
            self._can_start = now
            self._go(VehicleState.WAIT_READY, now)
        if self.state is VehicleState.SHUTDOWN:
            if now - self._shutdown_at >= p.timing.can_stop_s - 1e-9:
                self._go(VehicleState.OFF, now)
                self._next = None
                self._queue = []
                return
        elif not self.d1:
            self._d1_off(now)
        else:
            self._watch(now)
            self._step(now)
        self._queue = [] if self.can_silent else self._build_frames(now)
        self._qi = 0
        if self._queue:
            self._send_next(now)

    def _send_next(self, now: float) -> None:
        """Send the frame due now (and any others due at the same instant)."""
        queue, spacing = self._queue, self.profile.timing.spacing_s
        while True:
            self._emit(SendCan(self.link, queue[self._qi]))
            self._frames_sent += 1
            self._qi += 1
            if self._qi >= len(queue):
                self._next = self._cycle_start + self.profile.timing.period_s
                return
            self._next = self._cycle_start + self._qi * spacing
            if self._next > now + 1e-9:
                return

    def _d1_off(self, now: float) -> None:
        self._log("car-d1-off", state=self.state)
        self._set_k(False)
        self._enabled = False
        self.request = 0
        self._set_contactors(False)
        self._shutdown_at = now
        self._go(VehicleState.SHUTDOWN, now)

    def _watch(self, now: float) -> None:
        """Checks that apply whenever charging is permitted: CAN loss, charger errors, knobs."""
        if self.state not in _PERMITTED:
            return
        checks = self.profile.checks
        if self._last_109 is not None and now - self._last_109 > checks.can_timeout_s:
            self._log("car-can-timeout", silent=round(now - self._last_109, 3))
            self._fault(now, "system")
            return
        cs = self._cs
        if cs is not None and cs.error:
            self._stop(now, f"charger error 0x{cs.status_byte:02x}")
            return
        for name in sorted(self._injected):
            if name in FAULT_NAMES or name == "system":
                self._injected.discard(name)
                self._fault(now, name)
                return
        if "driver_stop" in self._injected:
            self._injected.discard("driver_stop")
            self._stop(now, "driver stop")
        elif not self.in_park:
            self._stop(now, "not in park")

    def _step(self, now: float) -> None:
        p = self.profile
        t = p.timing
        state = self.state
        elapsed = now - self._since
        if state is VehicleState.WAIT_READY:
            self._wait_ready(now)
        elif state in (VehicleState.READY, VehicleState.CLOSING):
            self.request = p.idle_request_a
            if state is VehicleState.READY and self.d2:
                self._d2_at = now
                self._go(VehicleState.CLOSING, now)
            elif state is VehicleState.CLOSING:
                self._closing(now, elapsed)
        elif state is VehicleState.CLOSED:
            if not self.d2:
                self._stop(now, "d2 off")
            elif elapsed >= t.first_request_s - 1e-9:
                self.request = p.first_request_a
                self._first_request_at = now
                self._go(VehicleState.CHARGING, now, request=self.request)
        elif state is VehicleState.CHARGING:
            self._charging(now)
        elif state is VehicleState.STOPPING:
            self._stopping(now)
        elif state is VehicleState.WELDING_CHECK:
            self._welding_check(now, elapsed)

    def _wait_ready(self, now: float) -> None:
        p = self.profile
        assert self._can_start is not None
        if self._hung or now - self._can_start < p.timing.ready_s - 1e-9:
            return
        cap, cs = self._cap, self._cs
        if cap is None or cap.available_voltage < p.target_voltage:
            return
        if (cs is not None and cs.error) or not self.in_park:
            return
        self._set_k(True)
        self._enabled = True
        self._go(VehicleState.READY, now, after_can_start=round(now - self._can_start, 3))

    def _closing(self, now: float, elapsed: float) -> None:
        p = self.profile
        if not self.d2:
            self._go(VehicleState.READY, now)
            return
        if elapsed < p.timing.contactors_close_s - 1e-9:
            return
        powered = self.d2_supply >= p.checks.contactor_supply_a
        low_inlet = not p.checks.require_low_inlet or self.electrical.inlet_voltage < LOW_INLET
        if powered and low_inlet:
            self._set_contactors(True)
            self._closed_at = now
            self._target_raised = p.target_after_contactors > 0
            self.request = 0
            self._go(VehicleState.CLOSED, now, after_d2=round(elapsed, 3))
        elif p.timing.contactor_fail_s > 0 and elapsed >= p.timing.contactor_fail_s - 1e-9:
            self._log("car-contactors-failed", d2_supply=self.d2_supply, needed=p.checks.contactor_supply_a)
            self._fault(now, "system")

    def _charging(self, now: float) -> None:
        p = self.profile
        t = p.timing
        cs, cap = self._cs, self._cap
        if cs is not None and cs.charging:
            self._charging_seen = True
        if not self._charging_seen:
            assert self._first_request_at is not None
            if now - self._first_request_at > t.charging_flag_timeout_s:
                self._log("car-charging-flag-missing", after=round(now - self._first_request_at, 3))
                self._fault(now, "system")
                return
        elif cs is not None and cs.stop_control:
            self._stop(now, "charger stop", t.stop_reaction_s)
            return
        if not self.d2:
            self._stop(now, "d2 off")
            return
        available = cap.available_current if cap is not None else 0
        if self._static_available is None:
            self._static_available = available
        if (
            p.checks.stop_margin_a > 0
            and self._prev_available is not None
            and available < self._prev_available
            and available - self.request < p.checks.stop_margin_a
        ):
            self._log("car-available-dropped", available=available, request=self.request)
            self._stop(now, "available current lowered to the request")
            return
        self._prev_available = available
        soc = self.electrical.soc
        if soc >= p.stop_soc:
            self._stop(now, "battery full")
            return
        seen = available if p.follows_available else self._static_available
        limit = max(0, min(int(p.max_current(soc)), seen - p.available_margin_a, 255))
        if self.over_request:
            limit = min(available + OVER_REQUEST_A, 255)
        self.request = min(self.request + p.ramp_a_per_frame, limit)
        if self.v2x_session:
            if self._v2x(now):
                return
            if self.electrical.inlet_current < 0.0:
                return  # a discharge, not an under-delivery: the charge deviation checks do not apply
        if self._charging_seen:
            self._deviation(now)

    def _v2x(self, now: float) -> bool:
        """One charging-loop frame at a V2X charger; True when the car stopped."""
        v = self.profile.v2x
        cs = self._cs
        if cs is not None and cs.charging and v.power_flow_discharge_current > self._discharge_limit:
            self._discharge_limit = min(v.power_flow_discharge_current, self._discharge_limit + DISCHARGE_LIMIT_RAMP_A)
        elec = self.electrical
        if v.zero_current_stop_s > 0 and cs is not None:
            self._zero_report_since = self._persist(now, cs.present_current == 0, self._zero_report_since)
            if self._zero_report_since is not None and now - self._zero_report_since >= v.zero_current_stop_s - 1e-9:
                self._log("car-zero-current-timeout", after=round(now - self._zero_report_since, 1))
                self._stop(now, "no current reported")
                return True
        out = -elec.inlet_current
        if out <= 0.0:
            self._over_discharge_since = None
            return False
        if elec.soc <= self.discharge_floor_soc:
            self._stop(now, "discharge floor")
            return True
        over = self._discharge_limit > 0 and out > self._discharge_limit + v.over_discharge_a
        self._over_discharge_since = self._persist(now, over, self._over_discharge_since)
        if self._over_discharge_since is not None and now - self._over_discharge_since >= v.over_discharge_s - 1e-9:
            self._log("car-over-discharge", limit=self._discharge_limit, inlet=round(elec.inlet_current, 1))
            self._fault(now, "fault_current_deviation")
            return True
        return False

    def _deviation(self, now: float) -> None:
        checks = self.profile.checks
        elec = self.electrical
        cs = self._cs
        over = elec.inlet_current - self.request
        self._over_since = self._persist(
            now, checks.over_current_a > 0 and over > checks.over_current_a, self._over_since
        )
        under = self.request - elec.inlet_current
        self._under_since = self._persist(
            now, checks.under_current_a > 0 and under > checks.under_current_a, self._under_since
        )
        for since in (self._over_since, self._under_since):
            if since is not None and now - since >= checks.current_duration_s - 1e-9:
                self._log("car-current-deviation", request=self.request, inlet=round(elec.inlet_current, 1))
                self._fault(now, "fault_current_deviation")
                return
        if cs is not None and checks.voltage_tolerance_v > 0:
            off = abs(elec.battery_voltage - cs.present_voltage) > checks.voltage_tolerance_v
            self._volt_since = self._persist(now, off, self._volt_since)
            if self._volt_since is not None and now - self._volt_since >= checks.voltage_duration_s - 1e-9:
                self._log("car-voltage-deviation", battery=round(elec.battery_voltage, 1), reported=cs.present_voltage)
                self._fault(now, "fault_voltage_deviation")

    @staticmethod
    def _persist(now: float, condition: bool, since: float | None) -> float | None:
        if not condition:
            return None
        return now if since is None else since

    def _stopping(self, now: float) -> None:
        t = self.profile.timing
        if now < self._stop_at - 1e-9:
            return
        if self.request or self._enabled or self.k:
            self.request = 0
            self._enabled = False
            self._set_k(False)
        if not self.contactors:
            if not self._ever_closed:
                self._go(VehicleState.DONE, now, welding_check="skipped (contactors never closed)")
            else:
                self._go(VehicleState.DONE, now)
            return
        cs = self._cs
        charger_done = cs is None or not cs.charging or self._last_109 is None or now - self._last_109 > 1.0
        if charger_done and abs(self.electrical.inlet_current) <= LOW_CURRENT:  # either direction
            if self._low_since is None:
                self._low_since = now
            if now - self._low_since >= t.contactor_open_s - 1e-9:
                self._open(now)
        elif now - self._stop_at >= t.current_drop_timeout_s:
            self._log("car-current-not-dropped", inlet=round(self.electrical.inlet_current, 1))
            self._system_fault = True
            self._open(now)

    def _judged_voltage(self) -> float:
        if self.profile.checks.welding_judged_by == "can":
            return float(self._cs.present_voltage) if self._cs is not None else 0.0
        return self.electrical.inlet_voltage

    def _open(self, now: float) -> None:
        self._set_contactors(False)
        self._open_at = now
        self._v0 = self._judged_voltage()
        self._check1_done = False
        self._go(VehicleState.WELDING_CHECK, now, voltage=round(self._v0, 1))

    def _welding_check(self, now: float, elapsed: float) -> None:
        t = self.profile.timing
        judged = self._judged_voltage()
        if not self._check1_done and elapsed >= min(1.0, t.welding_check_s) - 1e-9:
            self._check1_done = True
            if judged > WELDING_RATIO_AT_1S * self._v0 and judged > WELDING_VOLTS_AT_2S:
                self._dtc("P101B", judged)
        if elapsed >= t.welding_check_s - 1e-9:
            if t.welding_check_s >= 2.0 - 1e-9 and judged > WELDING_VOLTS_AT_2S:
                self._dtc("P101C", judged)
            self._go(VehicleState.DONE, now, dtcs=len(self.dtcs))

    def _dtc(self, code: str, judged: float) -> None:
        self.dtcs.append(code)
        self._log("car-dtc", code=code, voltage=round(judged, 1), at_opening=round(self._v0, 1))

    # ---------------------------------------------------------------------------- frames
    def _contactor_flag(self, now: float) -> bool:
        """0x102.5.3: 1 = contactors open and welding detection done (per profile use)."""
        mode = self.profile.contactor_flag
        if mode == "never" or self.contactors or self.state is VehicleState.WELDING_CHECK:
            return False
        if mode == "after_v2_charger":
            return self._charger_seen_since(now) and self._charger_protocol >= 2
        return True

    def _charger_seen_since(self, now: float) -> bool:
        return self._first_109 is not None and now - self._first_109 >= self.profile.timing.soc_reference_switch_s

    def _soc_reference(self, now: float) -> int:
        p = self.profile
        if not self._charger_seen_since(now):
            return p.soc_reference_initial
        return p.soc_reference_v2 if self._charger_protocol >= 2 else p.soc_reference_v1

    def _charged_rate(self, now: float, reference: int) -> int:
        p = self.profile
        assert self._can_start is not None
        if now - self._can_start < p.timing.soc_valid_s:
            return 3 if self._frames_sent == 0 else 1
        if p.timing.soc_after_d2_s > 0 and (self._d2_at is None or now - self._d2_at < p.timing.soc_after_d2_s):
            return 0
        return max(0, min(round_int(self.electrical.soc * reference / 100), 255))

    def _build_frames(self, now: float) -> list[CanFrame]:
        p = self.profile
        assert self._can_start is not None
        t_can = now - self._can_start
        reference = self._soc_reference(now)
        out: list[CanFrame] = []
        for fid in p.frames:
            frame = self._frame(fid, now, t_can, reference)
            if frame is not None:
                out.append(self._encode(frame))
        out.extend(CanFrame(fid, data) for fid, data in p.raw_frames)
        return out

    def _frame(self, fid: str, now: float, t_can: float, reference: int) -> ChademoFrame | None:
        p = self.profile
        if fid == "0x100":
            return VehicleLimits(p.min_charge_current, 0, p.min_voltage, p.max_voltage, reference)
        if fid == "0x101":
            if t_can < p.timing.capacity_placeholder_s:
                capacity = 0.0
            elif t_can < p.timing.capacity_valid_s:
                capacity = p.capacity_placeholder_kwh
            else:
                capacity = p.rated_capacity_kwh
            valid = t_can >= p.timing.max_time_valid_s
            return VehicleChargeTime(
                p.max_charge_time_10s if valid else 0, p.max_charge_time_min if valid else 0, 0, capacity
            )
        if fid == "0x102":
            before_request = self.state in (VehicleState.READY, VehicleState.CLOSING, VehicleState.CLOSED)
            return VehicleStatus(
                protocol_number=p.protocol_number,
                target_voltage=p.target_after_contactors if self._target_raised else p.target_voltage,
                current_request=self.request,
                fault_over_voltage="fault_over_voltage" in self._faults,
                fault_under_voltage="fault_under_voltage" in self._faults,
                fault_current_deviation="fault_current_deviation" in self._faults,
                fault_high_temperature="fault_high_temperature" in self._faults,
                fault_voltage_deviation="fault_voltage_deviation" in self._faults,
                charging_enabled=self._enabled,
                shift_not_park=not self.in_park,
                system_fault=self._system_fault,
                contactors_open=self._contactor_flag(now),
                stop_before_charging=p.spurious_stop_before_charging and before_request,
                legacy_dynamic_control=p.legacy_dynamic_bit,
                discharge_compatible=p.discharge_compatible,
                charged_rate=self._charged_rate(now, reference),
            )
        if fid == "0x103":
            return VehicleMeasured(max(0, min(round_int(self.electrical.battery_voltage), 0xFFFF)))
        if fid == "0x110":
            return VehicleExtended(dynamic_control=p.dynamic_control_flag)
        if fid == "0x200":
            v = p.v2x
            return VehicleDischargeLimits(
                self._discharge_limit, v.min_discharge_voltage, v.min_discharge_level, v.max_charge_level
            )
        if fid == "0x201":
            return VehicleDischargeSequence(p.v2x.sequence_control_number, 0, 0.0)
        return None  # pragma: no cover - profile loading rejects other IDs

    def _encode(self, frame: ChademoFrame) -> CanFrame:
        cached = self._tx_cache.get(frame.FRAME_ID)
        if cached is None or cached[0] != frame:
            cached = (frame, frame.to_can())
            self._tx_cache[frame.FRAME_ID] = cached
        return cached[1]
