"""A simulated AC EVSE of basic AC charging (IEC 61851-1, no ISO 15118 AC) for the clara mode.

Why so small: in basic AC the EVSE says one thing — the current it offers, as the duty cycle of
its 1 kHz CP PWM — and does one thing: it switches its AC contactor on while the vehicle presents
CP state C.  The on-board charger behind it belongs to the VCU (``sim/zombie_vcu.py``), the pack
to the world.

Duty cycle for a current (the inverse of IEC 61851-1:2017 Annex A, Table A.8, a fact; the
controller's :func:`~ccs2chademo.adapter.clara_side.ac_current_limit` is the forward direction):
6–51 A → amps / 0.6 %; 52.5–80 A → amps / 2.5 + 64 % (the table has no duty cycle for 51–52.5 A).
5 % is "digital communication": a DC charger's CP (the DC path).
"""

from __future__ import annotations

from dataclasses import dataclass

DIGITAL_DUTY = 5.0
MAINS_V = 230.0


def duty_for(amps: float) -> float:
    """The PWM duty cycle (%) that offers ``amps`` (6–51 A or 52.5–80 A)."""
    if 6.0 <= amps <= 51.0:
        return amps / 0.6
    if 52.5 < amps <= 80.0:
        return amps / 2.5 + 64.0
    raise ValueError(f"an AC EVSE offers 6–51 A or 52.5–80 A by its duty cycle, not {amps!r}")


@dataclass
class AcEvse:
    """Offers ``amps`` per phase on ``phases`` phases; supplies while the vehicle is in state C."""

    amps: float
    phases: int = 1
    supplying: bool = False

    @property
    def duty(self) -> float:
        return duty_for(self.amps)

    def control_pilot(self, state: str) -> None:
        self.supplying = state == "C"

    def power_w(self, obc_amps: float) -> float:
        """AC power drawn by an on-board charger asking ``obc_amps`` per phase (capped by the offer)."""
        if not self.supplying:
            return 0.0
        return min(obc_amps, self.amps) * MAINS_V * self.phases
