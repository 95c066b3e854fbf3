"""A simple traction battery: open-circuit voltage linear in SoC, one internal resistance.

(The EV-session harness uses it; the CHAdeMO car has the fuller :mod:`.battery`.)

It stands in for the car behind the CCS inlet in simulations: the charger model pushes current
into it once the EV's contactors are closed, and the car model reads its SoC and voltage.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Battery:
    capacity_ah: float = 100.0
    soc: float = 50.0  # %
    empty_voltage: float = 370.0  # open-circuit voltage at 0 %
    full_voltage: float = 410.0  # … and at 100 %
    resistance: float = 0.05  # Ω

    @property
    def ocv(self) -> float:
        return self.empty_voltage + (self.full_voltage - self.empty_voltage) * self.soc / 100.0

    def terminal(self, current: float) -> float:
        """Terminal voltage while ``current`` (A, positive = charging) flows."""
        return self.ocv + current * self.resistance

    def charge(self, current: float, dt: float) -> None:
        self.soc = min(100.0, max(0.0, self.soc + current * dt / 3600.0 / self.capacity_ah * 100.0))
