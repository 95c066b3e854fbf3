"""A plain DC charging power stage, the simplest "upstream" of the CHAdeMO charger machine.

It stands in for what the adapter gets from a CCS charger: an output voltage that slews (it
cannot jump), an insulation test when the charger asks for precharge (chademo.md §4 steps 6–8:
up to ≈500 V, hold, discharge below 20 V), a current that follows the request with a lag of a
few frames and never exceeds min(request, limit) (chademo.md §6.1), and knobs for the faults tests need
(dynamic limit, under-delivery, stop, fault).  When the car's contactors are closed its output
is tied to the battery, whose terminal voltage then sets the output voltage.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..chademo.interfaces import PowerDemand, Upstream
from .battery import Battery

PRECHARGE_DONE_V = 20.0  # output must be below this before d2 (chademo.md §4 step 8)


@dataclass(frozen=True, slots=True)
class DcSourceSpec:
    """Ratings and dynamics; defaults are a typical 500 V / 125 A unit."""

    max_voltage: float = 500.0
    max_current: float = 125.0
    insulation_delay_s: float = 0.5  # from the precharge request (lock) to the start of the test
    insulation_voltage: float = 500.0
    insulation_hold_s: float = 1.0
    voltage_slew_v_per_s: float = 600.0  # output rise (real units: 265 → 505 V in ≈0.5 s)
    discharge_v_per_s: float = 1000.0  # output discharge when disabled (383 → 7 V in ≈0.4 s)
    current_up_a_per_s: float = 60.0
    current_down_a_per_s: float = 250.0  # 31 → 0 A in ≈0.2 s, 100 → 0 A in 0.4 s (chademo.md §10 step 2)
    lag_s: float = 0.2  # output lags the request by 1–5 frames (chademo.md §6.1)


class DcSource:
    """The power stage's state; :meth:`step` advances it, :meth:`upstream` reports it."""

    def __init__(self, spec: DcSourceSpec | None = None) -> None:
        self.spec = spec or DcSourceSpec()
        self.voltage = 0.0
        self.current = 0.0
        self.phase = "idle"
        self.precharge_done = False
        #: scenario knobs
        self.dynamic_limit: float | None = None  # present limit below max_current (throttling)
        self.delivery_cap: float | None = None  # delivers at most this, whatever it advertises
        self.stopped = False
        self.fault = False
        #: keep the open-circuit output at this voltage (a stage precharged to the battery and
        #: tied straight to the inlet, which Leafs refuse: chademo.md §4 step 9)
        self.hold_voltage: float | None = None
        self._phase_since = 0.0
        self._setpoints: deque[tuple[float, float]] = deque()
        self._lag_value = 0.0

    def _enter(self, phase: str, now: float) -> None:
        self.phase = phase
        self._phase_since = now

    def _slew(self, target: float, dt: float) -> None:
        spec = self.spec
        if target > self.voltage:
            self.voltage = min(target, self.voltage + spec.voltage_slew_v_per_s * dt)
        else:
            self.voltage = max(target, self.voltage - spec.discharge_v_per_s * dt)

    def _lagged(self, now: float, setpoint: float) -> float:
        """The setpoint of ``lag_s`` ago (a delay line)."""
        queue = self._setpoints
        queue.append((now, setpoint))
        while queue and queue[0][0] <= now - self.spec.lag_s + 1e-9:
            self._lag_value = queue.popleft()[1]
        return self._lag_value

    def limit(self) -> float:
        limit = self.spec.max_current
        if self.dynamic_limit is not None:
            limit = min(limit, self.dynamic_limit)
        return limit

    def step(self, now: float, dt: float, demand: PowerDemand, battery: Battery | None) -> None:
        """Advance ``dt`` seconds; ``battery`` is given while the car's contactors are closed."""
        spec = self.spec
        self._insulation(now, dt, demand)
        setpoint = 0.0
        if demand.charging and not (self.stopped or self.fault):
            setpoint = min(float(demand.current), self.limit())
            if self.delivery_cap is not None:
                setpoint = min(setpoint, self.delivery_cap)
        target = self._lagged(now, setpoint) if battery is not None else 0.0
        if not demand.charging:
            target = 0.0  # a stop command shuts the stage down at once, without the control lag
        if target > self.current:
            self.current = min(target, self.current + spec.current_up_a_per_s * dt)
        else:
            self.current = max(target, self.current - spec.current_down_a_per_s * dt)
        if battery is not None:
            battery.step(self.current, dt)
            self.voltage = battery.voltage
        elif self.phase in ("idle", "precharged"):
            # open circuit: a current-controlled stage asked for current climbs to its voltage
            # limit (the i-MiEV symptom, adapter.md §14 #11); otherwise it discharges its output
            wants = demand.charging and demand.current > 0 and not (self.stopped or self.fault)
            if wants:
                self._slew(min(float(demand.voltage), spec.max_voltage), dt)
            else:
                self._slew(self.hold_voltage if self.hold_voltage is not None and not demand.stopping else 0.0, dt)

    def _insulation(self, now: float, dt: float, demand: PowerDemand) -> None:
        spec = self.spec
        phase = self.phase
        if phase == "idle" and demand.precharge and not self.precharge_done:
            self._enter("insulation_wait", now)
        elif phase == "insulation_wait" and now - self._phase_since >= spec.insulation_delay_s:
            self._enter("insulation_up", now)
        elif phase == "insulation_up":
            self._slew(spec.insulation_voltage, dt)
            if self.voltage >= spec.insulation_voltage:
                self._enter("insulation_hold", now)
        elif phase == "insulation_hold" and now - self._phase_since >= spec.insulation_hold_s:
            self._enter("insulation_down", now)
        elif phase == "insulation_down":
            self._slew(0.0, dt)
            if self.voltage < PRECHARGE_DONE_V:
                self.precharge_done = True
                self._enter("precharged", now)

    def upstream(self) -> Upstream:
        return Upstream(
            available_voltage=self.spec.max_voltage,
            available_current=self.spec.max_current,
            dynamic_current=self.dynamic_limit,
            present_voltage=round(self.voltage, 1),
            present_current=round(self.current, 1),
            precharge_done=self.precharge_done,
            stopped=self.stopped,
            fault=self.fault,
        )
