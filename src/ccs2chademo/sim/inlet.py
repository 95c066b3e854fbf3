"""The CCS inlet of a simulated DIY conversion (clara mode, issue 13): its two DC pins that heat
with current, and its lock with a feedback switch.

Why here and not in the controller: the controller only *reads* a temperature and a switch; what
makes them move is physics the real board cannot see — a pin's contact resistance, its thermal
mass, the lock's motor.  The world steps them and hands the readings to the adapter as inputs.

Pins: a first-order thermal model per pin, ``C·dT/dt = I²·R − (T − ambient)/R_th``: with the
defaults a sound pin at 125 A settles ≈31 K above ambient with a time constant of ≈160 s (what a
CCS inlet's pin sensors show on a 50 kW charger; real figures vary with the inlet and cable).
Faults change one pin: a hot day (the ambient), a worn contact (×4 resistance: derating, no
stop), a loose crimp (≈60 mΩ: hotter than derating can hold even at the minimum current).

Lock: the motor takes ``LOCK_MOTION_S`` to move; the switch then reports the new position.  A
jammed lock never reaches "locked".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..runtime import InputChanged
from ..runtime.signals import Input

PIN_RESISTANCE_OHM = 0.25e-3  # contact + pin of a sound DC pin
PIN_THERMAL_RESISTANCE_K_PER_W = 8.0
PIN_HEAT_CAPACITY_J_PER_K = 20.0
AMBIENT_C = 25.0
HOT_DAY_C = 50.0
WORN_FACTOR = 4.0
LOOSE_CRIMP_OHM = 60e-3
LOCK_MOTION_S = 0.3
TEMP_STEP_C = 0.5  # the sensors' resolution as the simulation reports them
_SENSORS = (Input.INLET_TEMP1, Input.INLET_TEMP2)


@dataclass
class Pin:
    """One DC pin's temperature (°C)."""

    resistance_ohm: float = PIN_RESISTANCE_OHM
    ambient_c: float = AMBIENT_C
    temperature_c: float = AMBIENT_C

    def step(self, current_a: float, dt: float) -> None:
        heat = current_a * current_a * self.resistance_ohm
        loss = (self.temperature_c - self.ambient_c) / PIN_THERMAL_RESISTANCE_K_PER_W
        self.temperature_c += (heat - loss) * dt / PIN_HEAT_CAPACITY_J_PER_K


@dataclass
class Inlet:
    """The inlet's DC+ and DC− pins (sensors ``inlet_temp1`` / ``inlet_temp2``)."""

    pins: tuple[Pin, Pin] = field(default_factory=lambda: (Pin(), Pin()))
    _told: list[float | None] = field(default_factory=lambda: [None, None], init=False, repr=False)

    @classmethod
    def with_fault(cls, fault: str | None) -> Inlet:
        """``hot-day`` (ambient 50 °C), ``worn-pin`` (DC+ ×4 resistance), ``loose-crimp`` (DC+ 60 mΩ)."""
        inlet = cls()
        plus = inlet.pins[0]
        if fault == "hot-day":
            for pin in inlet.pins:
                pin.ambient_c = pin.temperature_c = HOT_DAY_C
        elif fault == "worn-pin":
            plus.resistance_ohm *= WORN_FACTOR
        elif fault == "loose-crimp":
            plus.resistance_ohm = LOOSE_CRIMP_OHM
        return inlet

    def step(self, current_a: float, dt: float) -> None:
        for pin in self.pins:
            pin.step(current_a, dt)

    def readings(self) -> list[InputChanged]:
        """The sensors' readings (0.5 °C steps) that changed since the last call, as inputs."""
        changed = []
        for i, pin in enumerate(self.pins):
            reading = round(pin.temperature_c / TEMP_STEP_C) * TEMP_STEP_C
            if reading != self._told[i]:
                self._told[i] = reading
                changed.append(InputChanged(_SENSORS[i], reading))
        return changed

    @property
    def hottest_c(self) -> float:
        return max(pin.temperature_c for pin in self.pins)


@dataclass
class InletLock:
    """The lock's position and the command it follows; ``jammed`` never locks."""

    jammed: bool = False
    locked: bool = False
    commanded: bool = False

    def command(self, closed: bool) -> bool:
        """A new command; True when the lock will move (the caller schedules :meth:`arrive`)."""
        self.commanded = closed
        return closed != self.locked and not (closed and self.jammed)

    def arrive(self) -> bool:
        """The motion ends: the lock takes the commanded position; True when the switch changed."""
        changed = self.locked != self.commanded and not (self.commanded and self.jammed)
        if changed:
            self.locked = self.commanded
        return changed
