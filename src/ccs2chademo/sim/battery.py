"""The traction battery of every simulated car: open-circuit voltage by SoC, internal resistance,
capacity and SoC integration (no temperature).

The OCV curves come from the per-car measurements of adapter.md §5.1 (SoC % → measured battery
voltage); the profiles carry them as point lists and the battery interpolates linearly between
them.  That is what the adapter's battery-voltage estimate is judged against, so the simulated
car presents exactly the voltages real cars showed.  The CCS-only harnesses (``ev_session``,
``charger-sim``'s bench load, the SECC tests) use the same class with a two-point curve
(:func:`linear_battery`); a charger's power stage (``sim/charger.py``) loads any of them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BatterySpec:
    """Static battery data of a car profile."""

    capacity_kwh: float
    ocv: tuple[tuple[float, float], ...]  # (SoC %, open-circuit V), SoC strictly increasing
    internal_resistance_ohm: float = 0.1
    initial_soc: float = 50.0

    def __post_init__(self) -> None:
        if self.capacity_kwh <= 0:
            raise ValueError("capacity_kwh must be positive")
        if len(self.ocv) < 2:
            raise ValueError("the OCV curve needs at least two points")
        socs = [p[0] for p in self.ocv]
        if any(b <= a for a, b in itertools.pairwise(socs)):
            raise ValueError("OCV points must have strictly increasing SoC")
        if not 0.0 <= self.initial_soc <= 100.0:
            raise ValueError("initial_soc must be 0…100 %")
        if self.internal_resistance_ohm < 0:
            raise ValueError("internal_resistance_ohm must not be negative")


class Battery:
    """State of one battery: ``soc`` in %, ``current`` in A (positive = charging, negative =
    discharging).  ``energy_in_kwh`` is the *net* energy at the terminals (it falls, below zero,
    while a V2X discharger takes energy out); ``energy_out_kwh`` counts only what was taken out
    (positive), so a discharge session can be judged on its own."""

    def __init__(self, spec: BatterySpec, soc: float | None = None) -> None:
        self.spec = spec
        self.soc = spec.initial_soc if soc is None else soc
        self.current = 0.0
        self.energy_in_kwh = 0.0
        self.energy_out_kwh = 0.0
        self._socs = [p[0] for p in spec.ocv]
        self._volts = [p[1] for p in spec.ocv]
        # the last OCV computed, by the SoC it was computed for: a physics step reads it several
        # times (terminal voltage, readings, the car's sensors) between two changes of the SoC
        self._ocv_soc = math.nan
        self._ocv = 0.0

    def ocv(self, soc: float | None = None) -> float:
        """Open-circuit voltage at ``soc`` (default: present SoC), linear between the points."""
        s = self.soc if soc is None else soc
        if s == self._ocv_soc:
            return self._ocv
        socs, volts = self._socs, self._volts
        if s <= socs[0]:
            value = volts[0]
        elif s >= socs[-1]:
            value = volts[-1]
        else:
            # bisect_right by hand: compiled, a scan of the dozen points is plain C, a call of
            # ``bisect.bisect_right`` a Python-level call comparing boxed floats
            i = 1
            while socs[i] <= s:
                i += 1
            s0, s1 = socs[i - 1], socs[i]
            value = volts[i - 1] + (s - s0) / (s1 - s0) * (volts[i] - volts[i - 1])
        self._ocv_soc = s
        self._ocv = value
        return value

    @property
    def voltage(self) -> float:
        """Terminal voltage with the present current: OCV + I·R."""
        return self.ocv() + self.current * self.spec.internal_resistance_ohm

    def terminal_voltage(self, current: float) -> float:
        return self.ocv() + current * self.spec.internal_resistance_ohm

    def step(self, current: float, dt: float) -> None:
        """Carry ``current`` for ``dt`` seconds: SoC integrates the energy put in (or taken out)."""
        self.current = current
        if current == 0.0 or dt <= 0:
            return
        energy_kwh = self.terminal_voltage(current) * current * dt / 3.6e6
        self.energy_in_kwh += energy_kwh
        if energy_kwh < 0.0:
            self.energy_out_kwh -= energy_kwh
        self.soc = min(100.0, max(0.0, self.soc + energy_kwh / self.spec.capacity_kwh * 100.0))


def linear_battery(capacity_ah: float = 100.0, soc: float = 50.0, empty_voltage: float = 370.0,
                   full_voltage: float = 410.0, resistance: float = 0.05) -> Battery:
    """A plain stand-in battery: OCV linear from ``empty_voltage`` at 0 % to ``full_voltage`` at
    100 %, ``capacity_ah`` at the mid voltage (SoC integrates energy, as for every car)."""
    nominal = (empty_voltage + full_voltage) / 2.0
    return Battery(BatterySpec(capacity_kwh=capacity_ah * nominal / 1000.0,
                               ocv=((0.0, empty_voltage), (100.0, full_voltage)),
                               internal_resistance_ohm=resistance, initial_soc=soc))
