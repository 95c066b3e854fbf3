"""Battery-voltage estimate (adapter.md §5): what the adapter precharges the CCS charger to.

A CHAdeMO car never sends its battery voltage, yet the CCS precharge must end within ≈20 V of
it (a target 20–30 V low made chargers refuse PowerDelivery or stop after 1–2 min; slightly high
is better than low).  The estimate is a piecewise-linear open-circuit curve built from the car's
CHAdeMO target voltage and SoC, with per-model overrides learned from real cars (adapter.md §5.1), and is
replaced by a real measurement when the car sends the non-standard 0x103 frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Curve:
    """The adapter.md §5 curve parameters: maximum and nominal voltage, optional low-SoC adjust point."""

    max_v: float
    nom_v: float
    adjust_soc: float | None = None  # A (%)
    adjust_factor: float = 0.0  # f

    @property
    def min_v(self) -> float:
        return 2 * self.nom_v - self.max_v

    @property
    def v20(self) -> float:
        return self.nom_v - 0.35 * (self.nom_v - self.min_v)

    @property
    def v80(self) -> float:
        return self.nom_v + 0.55 * (self.max_v - self.nom_v)

    def voltage(self, soc: float) -> float:
        """V(SoC) by the adapter.md §5 formula; SoC in % (below 20 % extrapolated unless an adjust point is set)."""
        if self.adjust_soc is not None and soc < self.adjust_soc:
            v0 = self.min_v - self.adjust_factor * (self.v20 - self.min_v)
            return v0 + soc / self.adjust_soc * (self.v20 - v0)
        if soc < 50:
            return self.v20 + (soc - 20) / 30 * (self.nom_v - self.v20)
        if soc < 80:
            return self.nom_v + (soc - 50) / 30 * (self.v80 - self.nom_v)
        return self.v80 + (soc - 80) / 20 * (self.max_v - self.v80)


def curve_for(target_v: float, alt_estimated_voltage: int = 0) -> Curve:
    """The curve for a CHAdeMO target voltage, with the adapter.md §5 overrides.

    * 410 V: nomV 355 (Leaf 40 kWh and larger); with AV1 nomV 380, A = 29 %, f = 0.7 (Leaf /
      e-NV200 24–30 kWh);
    * 336 V: nomV 310, maxV 336 (Peugeot iOn / e-Partner), with or without AV1;
    * otherwise maxV = target − 10, nomV = 0.875 · target + 6.25 (through i-MiEV 370 → 330 V and
      BMW i5 450 → 400 V).
    """
    if target_v == 410:
        if alt_estimated_voltage == 1:
            return Curve(max_v=400, nom_v=380, adjust_soc=29, adjust_factor=0.7)
        return Curve(max_v=400, nom_v=355)
    if target_v == 336:
        return Curve(max_v=336, nom_v=310)
    return Curve(max_v=target_v - 10, nom_v=0.875 * target_v + 6.25)


def estimate_voltage(target_v: float, soc: float, alt_estimated_voltage: int = 0) -> float:
    """The estimated battery voltage (V) for a CHAdeMO target voltage and SoC (%)."""
    return curve_for(target_v, alt_estimated_voltage).voltage(soc)


# A native class (explicit ``__init__``, ``Final`` fields), not a frozen dataclass: one is made
# whenever the bridge or its view asks for the voltage in use, several times per 100 ms cycle.
@dataclass(slots=True, init=False, unsafe_hash=True)
class BatteryVoltage:
    """The battery voltage the adapter works with; ``measured`` when it came from 0x103."""

    volts: Final[float]
    measured: Final[bool]

    def __init__(self, volts: float, measured: bool) -> None:
        self.volts = volts
        self.measured = measured


def modulation_offset(cycle: int, amplitude_v: float) -> float:
    """adapter.md §5 voltage modulation: the cyclic offset 0, +m, 0, −m (one step per 100 ms cycle)."""
    return (0.0, amplitude_v, 0.0, -amplitude_v)[cycle % 4]


class BatteryVoltageSource:
    """The bridge's battery voltage: an estimate fixed once, replaced by 0x103 when present.

    The estimate is decided once, when target and SoC are stable (after k and 0x102.5.0):
    :meth:`fix_estimate`.  A 0x103 measurement (:meth:`measured`) replaces it from then on, and
    keeps following later 0x103 values.
    """

    def __init__(self, alt_estimated_voltage: int = 0, voltage_modulation_v: float = 0.0) -> None:
        self.alt_estimated_voltage = alt_estimated_voltage
        self.voltage_modulation_v = voltage_modulation_v
        self._estimate: float | None = None
        self._measured: float | None = None
        self.estimate_inputs: tuple[float, float] | None = None

    def fix_estimate(self, target_v: float, soc: float, curve: Curve | None = None) -> float:
        """Decide the estimate from the car's target voltage and SoC (once; later calls keep it),
        on ``curve`` when the car was recognised (:mod:`.recognition`), else the adapter.md §5 curve."""
        if self._estimate is None:
            self.estimate_inputs = (target_v, soc)
            chosen = curve or curve_for(target_v, self.alt_estimated_voltage)
            self._estimate = chosen.voltage(soc)
        return self._estimate

    def measured(self, volts: float) -> None:
        """A 0x103 battery voltage from the car."""
        self._measured = volts

    @property
    def value(self) -> BatteryVoltage | None:
        """The measured voltage if any, else the fixed estimate, else None (not known yet)."""
        if self._measured is not None:
            return BatteryVoltage(self._measured, measured=True)
        if self._estimate is not None:
            return BatteryVoltage(self._estimate, measured=False)
        return None

    def reported(self, cycle: int) -> float | None:
        """The value for 0x109 present voltage when it is only an estimate: with the modulation."""
        value = self.value
        if value is None:
            return None
        if value.measured or not self.voltage_modulation_v:
            return value.volts
        return value.volts + modulation_offset(cycle, self.voltage_modulation_v)
