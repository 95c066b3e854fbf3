"""Safety invariants of a whole simulated session, checked at every step.

These are the rules whose violation would damage hardware or strand a car in the field, stated
over physical quantities the simulation knows and the real adapter cannot measure: current
through the contactor, voltage across it, what the car's inlet sees.  The world builds one
:class:`SafetySnapshot` per step and feeds :meth:`InvariantChecker.check`; at the end of a
session it calls :meth:`InvariantChecker.end_session`.  Each violation is reported once per
episode (when the condition starts), not once per step.

Currents are signed (positive = into the car's battery, negative = a V2X discharger taking
energy out, adapter.md §7): every rule about current under load uses its magnitude, and a
discharge has its own limit — never more than the car's declared 0x200 maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

CONTACTOR_OPENED_UNDER_LOAD: Final = "contactor-opened-under-load"
CAR_CONTACTORS_OPENED_UNDER_LOAD: Final = "car-contactors-opened-under-load"
DISCHARGE_ABOVE_CAR_LIMIT: Final = "discharge-above-car-limit"
CONTACTOR_CLOSED_WITH_VOLTAGE_DIFFERENCE: Final = "contactor-closed-with-voltage-difference"
CONTACTOR_CLOSED_AFTER_STOP: Final = "contactor-closed-after-stop"
D2_BEFORE_PRECHARGE_VOLTAGE: Final = "d2-before-precharge-voltage"
TARGET_ABOVE_CAR_REQUEST: Final = "ccs-target-above-car-request"
TARGET_ABOVE_CHARGER_LIMIT: Final = "ccs-target-above-charger-limit"
INLET_VOLTAGE_BEFORE_CAR_CONTACTORS: Final = "inlet-voltage-before-car-contactors"
SESSION_END_STATE: Final = "session-end-state"

INVARIANTS = (CONTACTOR_OPENED_UNDER_LOAD, CAR_CONTACTORS_OPENED_UNDER_LOAD, CONTACTOR_CLOSED_WITH_VOLTAGE_DIFFERENCE,
              CONTACTOR_CLOSED_AFTER_STOP, D2_BEFORE_PRECHARGE_VOLTAGE, TARGET_ABOVE_CAR_REQUEST,
              TARGET_ABOVE_CHARGER_LIMIT, DISCHARGE_ABOVE_CAR_LIMIT, INLET_VOLTAGE_BEFORE_CAR_CONTACTORS,
              SESSION_END_STATE)

OPEN_CURRENT_LIMIT_A: Final = 5.0
CLOSE_VOLTAGE_LIMIT_V: Final = 20.0
PRECHARGE_REACHED_V: Final = 20.0  # adapter.md §12.3 precharge "reached" delta
INLET_SAFE_V: Final = 10.0  # CHAdeMO: ≤ 10 V counts as no voltage
CURRENT_TOLERANCE_A: Final = 0.5
RAMP_DOWN_A_PER_S: Final = 100.0  # −10 A per 100 ms


@dataclass(slots=True, init=False, unsafe_hash=True)
class SafetySnapshot:
    """The physical and protocol state of one simulation step (volts, amperes, seconds).

    ``inlet_voltage_v`` is the car side of the adapter contactor (what the car's inlet sees);
    ``precharge_target_v`` the EVTargetVoltage of the PreChargeReqs (None before the first);
    ``ccs_target_current_a`` the EVTargetCurrent of the last CurrentDemandReq (None outside
    CurrentDemand); ``charger_limit_a`` the charger's latest EVSEMaximumCurrentLimit;
    ``emergency`` marks a forced off or an emergency shutdown in progress; ``dc_current_a`` is
    negative while a discharger takes current out, ``car_max_discharge_a`` the 0x200.0 maximum
    discharge current the car declares (0: none); ``stop_begun`` says a stop of any kind has
    begun (what the world sees: a stop fault fired, the charger's CP back to B, the car stopping,
    the button, or the adapter's own stop); ``single_session``: the adapter runs the
    single-session flow, where d2 comes on before the precharge by design (adapter.md §3).
    """

    t: Final[float]
    contactor_closed: Final[bool]
    dc_current_a: Final[float]
    charger_voltage_v: Final[float]
    battery_voltage_v: Final[float]
    car_contactors_closed: Final[bool]
    inlet_voltage_v: Final[float]
    d1: Final[bool]
    d2: Final[bool]
    cp_state: Final[str]
    precharge_target_v: Final[float | None]
    ccs_target_current_a: Final[float | None]
    car_request_a: Final[float]
    charger_limit_a: Final[float | None]
    discharging: Final[bool]
    emergency: Final[bool]
    car_max_discharge_a: Final[float]
    stop_begun: Final[bool]
    single_session: Final[bool]

    def __init__(
        self,
        t: float,
        contactor_closed: bool,
        dc_current_a: float,
        charger_voltage_v: float,
        battery_voltage_v: float,
        car_contactors_closed: bool,
        inlet_voltage_v: float,
        d1: bool,
        d2: bool,
        cp_state: str,
        precharge_target_v: float | None = None,
        ccs_target_current_a: float | None = None,
        car_request_a: float = 0.0,
        charger_limit_a: float | None = None,
        discharging: bool = False,
        emergency: bool = False,
        car_max_discharge_a: float = 0.0,
        stop_begun: bool = False,
        single_session: bool = False,
    ) -> None:
        self.t = t
        self.contactor_closed = contactor_closed
        self.dc_current_a = dc_current_a
        self.charger_voltage_v = charger_voltage_v
        self.battery_voltage_v = battery_voltage_v
        self.car_contactors_closed = car_contactors_closed
        self.inlet_voltage_v = inlet_voltage_v
        self.d1 = d1
        self.d2 = d2
        self.cp_state = cp_state
        self.precharge_target_v = precharge_target_v
        self.ccs_target_current_a = ccs_target_current_a
        self.car_request_a = car_request_a
        self.charger_limit_a = charger_limit_a
        self.discharging = discharging
        self.emergency = emergency
        self.car_max_discharge_a = car_max_discharge_a
        self.stop_begun = stop_begun
        self.single_session = single_session


def _since(since: float | None, active: bool, t: float) -> float | None:
    """When a condition that is ``active`` at ``t`` began (None while it is not active)."""
    if not active:
        return None
    return t if since is None else since


@dataclass(frozen=True, slots=True)
class Violation:
    t: float
    invariant: str
    detail: str


class InvariantChecker:
    """Checks :class:`SafetySnapshot` records one by one; ``violations`` accumulates.

    ``sx``: single-session mode, where d2 comes on before the precharge by design (adapter.md §3).
    ``latency_s``: how long a CCS target may lag a new charger limit or a falling car request
    (one CCS request/response round plus one 100 ms cycle); above the car's request the target
    may also stay while it falls at the −10 A / 100 ms ramp rate.
    """

    def __init__(self, sx: bool = False, latency_s: float = 0.5) -> None:
        self.sx = sx
        self.latency_s = latency_s
        self.violations: list[Violation] = []
        self._reset()

    def _reset(self) -> None:
        self._prev: SafetySnapshot | None = None
        self.car_closed_once = False
        self._active: set[str] = set()
        self._over_limit_since: float | None = None
        self._over_discharge_since: float | None = None
        self._excess_start: tuple[float, float, float] | None = None
        #: the car's last request fall: (when, the request before it)
        self._request_fell: tuple[float, float] | None = None

    # -- helpers -----------------------------------------------------------------------------
    def _report(self, new: list[Violation], t: float, invariant: str, detail: str) -> None:
        violation = Violation(t, invariant, detail)
        new.append(violation)
        self.violations.append(violation)

    def _late(self, since: float | None, t: float) -> bool:
        """A condition that began at ``since`` has lasted longer than the control latency."""
        return since is not None and t - since > self.latency_s + 1e-9

    def _starts(self, active: bool, invariant: str) -> bool:
        """An episode of ``invariant`` starts now: ``active`` and not already reported.

        The caller then reports it with its message, formatted only then (it runs at every
        physics step, where formatting the floats of a message nobody reads was ≈ 2 % of a session).
        """
        if not active:
            self._active.discard(invariant)
            return False
        if invariant in self._active:
            return False
        self._active.add(invariant)
        return True

    # -- the checks --------------------------------------------------------------------------
    def check(self, snap: SafetySnapshot) -> list[Violation]:
        """Check one step; returns the violations that started at this step."""
        new: list[Violation] = []
        prev = self._prev
        if prev is not None:
            self._check_transitions(new, prev, snap)
        self._check_inlet(new, snap)
        self._check_target_current(new, snap)
        if snap.dc_current_a < 0.0 or self._over_discharge_since is not None:
            self._check_discharge(new, snap)
        self._prev = snap
        return new

    def _check_transitions(self, new: list[Violation], prev: SafetySnapshot, snap: SafetySnapshot) -> None:
        if prev.contactor_closed and not snap.contactor_closed:
            current = abs(prev.dc_current_a)
            if current > OPEN_CURRENT_LIMIT_A and not (prev.emergency or snap.emergency):
                self._report(new, snap.t, CONTACTOR_OPENED_UNDER_LOAD,
                             f"adapter contactor opened at {current:.1f} A (limit {OPEN_CURRENT_LIMIT_A:g} A)")
        if prev.car_contactors_closed and not snap.car_contactors_closed:
            current = abs(prev.dc_current_a)
            if current > OPEN_CURRENT_LIMIT_A and not (prev.emergency or snap.emergency):
                self._report(new, snap.t, CAR_CONTACTORS_OPENED_UNDER_LOAD,
                             f"car contactors opened at {current:.1f} A (limit {OPEN_CURRENT_LIMIT_A:g} A)")
        if not prev.contactor_closed and snap.contactor_closed:
            car_side = prev.battery_voltage_v if prev.car_contactors_closed else prev.inlet_voltage_v
            delta = abs(prev.charger_voltage_v - car_side)
            if delta > CLOSE_VOLTAGE_LIMIT_V:
                self._report(new, snap.t, CONTACTOR_CLOSED_WITH_VOLTAGE_DIFFERENCE,
                             f"adapter contactor closed with {delta:.1f} V across it (charger "
                             f"{prev.charger_voltage_v:.1f} V, car side {car_side:.1f} V)")
            if prev.stop_begun:
                self._report(new, snap.t, CONTACTOR_CLOSED_AFTER_STOP,
                             "adapter contactor closed after a stop had begun")
        if not prev.d2 and snap.d2 and not (self.sx or snap.single_session):
            # judged on the step where d2 was commanded, like the contactor (a charger that stops in
            # that same instant decays afterwards; d2 then closes the car's contactors onto an open
            # adapter contactor, which the other invariants judge)
            target = snap.precharge_target_v
            if target is None or abs(prev.charger_voltage_v - target) >= PRECHARGE_REACHED_V:
                shown = "no precharge yet" if target is None else f"charger {prev.charger_voltage_v:.1f} V, " \
                                                                 f"target {target:.1f} V"
                self._report(new, snap.t, D2_BEFORE_PRECHARGE_VOLTAGE, f"d2 on before the precharge voltage: {shown}")

    def _check_inlet(self, new: list[Violation], snap: SafetySnapshot) -> None:
        if snap.car_contactors_closed:
            self.car_closed_once = True
        early = not self.car_closed_once and snap.inlet_voltage_v > INLET_SAFE_V
        if self._starts(early, INLET_VOLTAGE_BEFORE_CAR_CONTACTORS):
            self._report(new, snap.t, INLET_VOLTAGE_BEFORE_CAR_CONTACTORS,
                         f"{snap.inlet_voltage_v:.1f} V at the car inlet before the car closed its contactors")

    def _check_target_current(self, new: list[Violation], snap: SafetySnapshot) -> None:
        target = snap.ccs_target_current_a
        limit = snap.charger_limit_a
        over_limit = target is not None and limit is not None and target > limit + CURRENT_TOLERANCE_A
        self._over_limit_since = since = _since(self._over_limit_since, over_limit, snap.t)
        if self._starts(self._late(since, snap.t), TARGET_ABOVE_CHARGER_LIMIT):
            self._report(new, snap.t, TARGET_ABOVE_CHARGER_LIMIT,
                         f"EVTargetCurrent {target} A above the charger limit {limit} A for more than "
                         f"{self.latency_s:g} s")
        prev = self._prev
        if prev is not None and snap.car_request_a < prev.car_request_a - CURRENT_TOLERANCE_A:
            self._request_fell = (snap.t, prev.car_request_a)
        above = target is not None and not snap.discharging and target > snap.car_request_a + CURRENT_TOLERANCE_A
        excessive = False
        if above and target is not None:
            if self._excess_start is None:  # the envelope starts where the target was before
                before = prev.ccs_target_current_a if prev is not None else None
                start = target if before is None else before
                # within the latency the controller still acts on the request as the car last
                # made it (it learns of the fall only with the car's next frame): up to there the
                # target may still follow it — a ramp step in flight is no violation, also when
                # the fall came a few steps before the step (the first steps of CurrentDemand)
                fell = self._request_fell
                recent = fell[1] if fell is not None and snap.t - fell[0] <= self.latency_s + 1e-9 else 0.0
                ceiling = max(start, prev.car_request_a, recent) if prev is not None and before is not None else start
                self._excess_start = (snap.t, start, ceiling)
            t0, start_target, ceiling = self._excess_start
            if snap.t - t0 <= self.latency_s + 1e-9 and start_target < target <= ceiling + CURRENT_TOLERANCE_A:
                start_target = target  # the envelope then ramps down from the highest such target
                self._excess_start = (t0, start_target, ceiling)
            allowed = start_target - RAMP_DOWN_A_PER_S * max(0.0, snap.t - t0 - self.latency_s)
            excessive = target > allowed + CURRENT_TOLERANCE_A or target > start_target + CURRENT_TOLERANCE_A
        else:
            self._excess_start = None
        if self._starts(excessive, TARGET_ABOVE_CAR_REQUEST):
            self._report(new, snap.t, TARGET_ABOVE_CAR_REQUEST,
                         f"EVTargetCurrent {target} A above the car's request {snap.car_request_a} A and not "
                         f"ramping down")

    def _check_discharge(self, new: list[Violation], snap: SafetySnapshot) -> None:
        """A discharge above the car's declared maximum for longer than the control latency."""
        out, limit = -snap.dc_current_a, snap.car_max_discharge_a
        over = limit > 0.0 and out > limit + CURRENT_TOLERANCE_A
        self._over_discharge_since = since = _since(self._over_discharge_since, over, snap.t)
        if self._starts(self._late(since, snap.t), DISCHARGE_ABOVE_CAR_LIMIT):
            self._report(new, snap.t, DISCHARGE_ABOVE_CAR_LIMIT,
                         f"{out:.1f} A taken from the battery, above the car's 0x200 maximum {limit:g} A for "
                         f"more than {self.latency_s:g} s")

    # -- end of a session --------------------------------------------------------------------
    def end_session(self, snap: SafetySnapshot, stop_reason: str | int | None) -> list[Violation]:
        """The final state: contactor open, d1/d2 off, CP in B, a stop reason logged."""
        new = self.check(snap)
        problems = []
        if snap.contactor_closed:
            problems.append("adapter contactor closed")
        if snap.d1 or snap.d2:
            problems.append(f"d1={'on' if snap.d1 else 'off'} d2={'on' if snap.d2 else 'off'}")
        if snap.cp_state != "B":
            problems.append(f"CP in state {snap.cp_state}")
        if not stop_reason:
            problems.append("no stop reason logged")
        if problems:
            self._report(new, snap.t, SESSION_END_STATE, "; ".join(problems))
        self._reset()
        return new
