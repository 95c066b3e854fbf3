"""The CCS request fields from CHAdeMO data (adapter.md §6.1, §7), as pure functions and small
per-cycle objects the bridge calls once per 100 ms CHAdeMO cycle.

The opposite direction — the CHAdeMO charger fields 0x108/0x109/0x208/0x209 from the CCS values
(adapter.md §6.2–§6.4, the V2X discharge detection of adapter.md §7) — belongs to
:mod:`ccs2chademo.chademo.charger`, which the standalone CHAdeMO charger simulation runs without
an adapter; the bridge only feeds it the CCS values as an ``Upstream``.

Why it is subtle: the two protocols disagree on who leads.  A CHAdeMO car asks for current and
expects it within a tolerance; a CCS charger is told a target and delivers what it can.  The
adapter must never ask the CCS charger for more than the car wants or than the charger can give,
must ramp so neither side sees a step, and must make the car ramp in step with what the CCS
charger really delivers (dynamic current) — otherwise the car faults on current deviation.

Units: volts, amperes, seconds.  Functions here never look at a clock; per-cycle objects count
100 ms steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from ..chademo.interfaces import VehicleView
from ..rounding import round_int

PLACEHOLDER_TARGET_V: Final = 410  # adapter.md §3: until the car reports (SX)
PLACEHOLDER_SOC: Final = 20
EV_MAXIMUM_POWER_LIMIT_W = 100_000.0  # adapter.md §12.3, §14 #17 (ChargeParameterDiscoveryReq, every CurrentDemandReq)
PRECHARGE_CURRENT_A: Final = 1.0  # adapter.md §6.1 PreCharge EVTargetCurrent
RAMP_UP_A: Final = 4.0  # per 100 ms (adapter.md §6.1, §12.3)
RAMP_DOWN_A: Final = 10.0


# ------------------------------------------------------------------ adapter.md §6.1 CCS request fields


@dataclass(frozen=True, slots=True)
class DischargeOffer:
    """What the car lets a bidirectional CCS charger take (ISO 15118-20 DC_BPT, docs/iso20.md
    "BPT"): the current (A; 0: no discharge offered), its discharge floor (%; None: unknown) and
    the battery's rated capacity (Wh; 0: unknown)."""

    current_a: float = 0.0
    floor_soc: int | None = None
    capacity_wh: float = 0.0


NO_DISCHARGE: Final = DischargeOffer()


def discharge_offer(view: VehicleView, *, v2x: bool, fallback_a: float) -> DischargeOffer:
    """The discharge the adapter offers for the car: only in V2X mode and for a car that says it is
    discharge compatible (0x102.5.7); its 0x200 maximum discharge current, or — a car that declares
    none (0 A, the ZE1; the ZE0 before power flow) — ``max-discharge-amps-fallback``, as the
    CHAdeMO side fakes toward a DIN discharger (adapter.md §7)."""
    if not (v2x and view.discharge_compatible):
        return NO_DISCHARGE
    floor = view.discharge_floor_soc
    return DischargeOffer(float(view.max_discharge_current or fallback_a),
                          None if floor is None else math.ceil(floor - 1e-9), view.rated_capacity_kwh * 1000.0)


def ev_ress_soc(soc: float | None) -> int:
    """EVRESSSOC: the CHAdeMO SoC (already divided by 0x100.6) clamped to 0..100; 20 % until known."""
    if soc is None:
        return PLACEHOLDER_SOC
    return max(0, min(100, round_int(soc)))


def ev_maximum_voltage_limit(target_v: float | None) -> float:
    """EVMaximumVoltageLimit = CHAdeMO target + 1 V (410 + 1 until known).

    Not the car's maximum voltage: Ionity/Tritium stopped when the limit was close to the battery
    voltage, and a limit at the target keeps the charger's own regulation above the car's.
    """
    return (PLACEHOLDER_TARGET_V if target_v is None else target_v) + 1


class TargetVoltage:
    """CurrentDemand EVTargetVoltage: the CHAdeMO target, frozen when d2 is set, capped at the limit.

    An Xpeng G3 raises its target (434 → 450 V) after its contactors close; following it would
    push the pack beyond what it asked for at the start.
    """

    def __init__(self) -> None:
        self._target: float | None = None
        self.frozen = False

    def update(self, target_v: float) -> None:
        """The car's latest 0x102.1–2 target (ignored once frozen)."""
        if not self.frozen:
            self._target = target_v

    def freeze(self) -> None:
        """Call when d2 is set."""
        self.frozen = True

    def value(self, max_voltage_limit_v: float) -> float:
        target = PLACEHOLDER_TARGET_V if self._target is None else self._target
        return min(target, max_voltage_limit_v)


class CurrentRamp:
    """Rate limit toward CCS: at most +4 A / −10 A per 100 ms step, never above the charger limit.

    The limit is applied before the ramp (the ramp heads for a reachable value) and again after it
    (a charger that lowers its limit is obeyed at once, even faster than −10 A).
    """

    def __init__(self) -> None:
        self.value = 0.0
        self._before = 0.0  # the value before this cycle's step

    def step(self, request_a: float, limit_a: float, again: bool = False) -> float:
        """One 100 ms step; ``again`` redoes this cycle's step with a newer request (clara mode:
        a VCU frame between two cycles) from the same starting value, so the rate stays +4 / −10 A
        per cycle however often the request changes."""
        if not again:
            self._before = self.value
        base = self._before
        target = max(0.0, min(request_a, limit_a))
        # the clamp to [base − 10, base + 4] is the ramp, min with the limit is "limited again"
        ramped = max(base - RAMP_DOWN_A, min(target, base + RAMP_UP_A))
        self.value = max(0.0, min(ramped, limit_a))
        return self.value


class CcsTargetCurrent:
    """CurrentDemand EVTargetCurrent, one call per 100 ms cycle (adapter.md §6.1, §7).

    * the car's request only in the CHAdeMO charging loop, else 0 (hides the idle 1 A requests
      of i-MiEV-type cars before their contactors are closed);
    * limited to the charger's dynamic maximum, ramped, limited again (:class:`CurrentRamp`);
    * V2X discharging: ``discharge_a``, the CHAdeMO side's discharge demand (the car's maximum
      discharge current or the fallback, decided there), because CCS dischargers read
      EVTargetCurrent as the allowed discharge current;
    * SX before CCS CurrentDemand: 1 A.
    """

    def __init__(self) -> None:
        self.ramp = CurrentRamp()

    def step(self, car_request_a: float, *, in_charging_loop: bool, dynamic_max_a: float,
             discharge_a: float = 0.0, sx_before_current_demand: bool = False, again: bool = False) -> float:
        charging = self.ramp.step(car_request_a if in_charging_loop else 0.0, dynamic_max_a, again)
        if discharge_a > 0:
            return discharge_a
        if sx_before_current_demand:
            return PRECHARGE_CURRENT_A
        return charging


class MirrorDetector:
    """Detects a charger that only mirrors EVTargetVoltage/Current as its present values.

    Portable dischargers do that; their "present voltage" is then ours, not a measurement, so the
    car must be shown the battery estimate instead.  Mirroring = every CurrentDemand answer so far
    had present V and A equal (to 0.05) to the targets we sent; one real measurement clears it
    for the session.
    """

    TOLERANCE = 0.05

    def __init__(self) -> None:
        self.samples = 0
        self.broken = False

    def observe(self, target_v: float, target_a: float, present_v: float, present_a: float) -> bool:
        self.samples += 1
        if abs(target_v - present_v) > self.TOLERANCE or abs(target_a - present_a) > self.TOLERANCE:
            self.broken = True
        return self.mirroring

    @property
    def mirroring(self) -> bool:
        return self.samples > 0 and not self.broken
