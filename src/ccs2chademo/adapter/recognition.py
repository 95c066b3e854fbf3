"""Recognise the car from what it reports before d2, so that no user has to know about presets.

Why: the adapter has no car-side voltmeter (adapter.md §13), so the precharge target is an
estimate, and a wrong curve puts 20–30 V across the adapter contactor when it closes (the
charger then refuses PowerDelivery, adapter.md §14 #14).  Some cars also refuse the second
CHAdeMO session of the default flow (adapter.md §14 #15, #16).  The presets ``av1`` and ``sx``
fix both, but only for a user who knows which one the car needs.  Every car announces itself
in its first frames (0x100 maximum voltage, 0x101 rated capacity, 0x102 target voltage,
protocol number and status bits, whether it sends 0x110): :func:`recognise` maps that report to
the estimate curve and the session flow, and names the rule that decided (logged, shown by the
live view).  A configured ``sx`` / ``alt-estimated-voltage`` still wins (:func:`resolve`).

The table :data:`RULES` is the only place that knows car models; each rule cites its facts
(adapter.md §5.1 data points, chademo.md §12.1 per-model behaviour, the real Leaf ZE0 log).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from .estimator import Curve, curve_for


class Flow(StrEnum):
    """How the two CHAdeMO sessions are sequenced (adapter.md §2 and §3)."""

    TWO_SESSION = "two-session"  # discovery session, then CCS, then the real session ("DX")
    SINGLE_SESSION = "single-session"  # one CHAdeMO session through the whole CCS setup ("SX")


@dataclass(frozen=True, slots=True)
class CarReport:
    """What a CHAdeMO car has said about itself before d2 (0 / False where it said nothing)."""

    target_voltage: int  # 0x102.1-2
    max_battery_voltage: int  # 0x100.4-5
    protocol_number: int  # 0x102.0
    rated_capacity_kwh: float  # 0x101.5-6
    legacy_dynamic_bit: bool  # 0x102.5.6 (Leaf ZE0/AZE0 generation)
    sends_0x110: bool  # the CHAdeMO 1.1+ extended frame


@dataclass(frozen=True, slots=True)
class Recognition:
    """The outcome: which rule matched, the estimate curve and the session flow it implies."""

    rule: str
    curve: Curve
    flow: Flow
    configured: tuple[str, ...] = ()  # what the configuration forced ("sx", "alt-estimated-voltage")


@dataclass(frozen=True, slots=True)
class Rule:
    """One recognition rule; ``curve`` maps the car's target voltage to its estimate curve."""

    name: str
    why: str
    matches: Callable[[CarReport], bool]
    curve: Callable[[int], Curve]
    flow: Flow = Flow.TWO_SESSION


def _general(target: int) -> Curve:
    return curve_for(target, 0)


def _av1(target: int) -> Curve:
    return curve_for(target, 1)


def _nissan_small_pack(r: CarReport) -> bool:
    """Leaf ZE0/AZE0 and e-NV200 24–30 kWh: 410/435 V and either the ZE0-generation status bit
    0x102.5.6 without a 0x110 frame (the real ZE0 log: status 0xC8, no 0x110; a ZE1 sends
    0x110 = 01, chademo.md §12.1) or a rated capacity of at most 32 kWh (the ZE0 log: 22.2 kWh;
    a ZE1 40 kWh reports 35.4)."""
    if (r.target_voltage, r.max_battery_voltage) != (410, 435):
        return False
    old_ecu = r.legacy_dynamic_bit and not r.sends_0x110
    return old_ecu or 0.0 < r.rated_capacity_kwh <= 32.0


#: In order; the first rule that matches wins.  Cars that match none get the adapter.md §5 general curve
#: (with its 410 V / 336 V overrides) and the two-session flow.
RULES: tuple[Rule, ...] = (
    Rule("nissan-24-30kwh",
         "Leaf ZE0/AZE0, e-NV200 24–30 kWh: the AV1 curve (adapter.md §5.1: the default 355 V "
         "nominal would be 20–30 V low)",
         _nissan_small_pack, _av1),
    Rule("kia-soul-ev",
         "Kia Soul EV 2018–19 (420/430 V): a curve through its measured points 51→366, 57→370, "
         "71→378 V (adapter.md §5.1: the general line is 8–10 V high, and more at low SoC)",
         lambda r: (r.target_voltage, r.max_battery_voltage) == (420, 430),
         lambda _target: Curve(max_v=399, nom_v=365)),
    Rule("xpeng-g3",
         "Xpeng G3 (434/450 V): refuses the second session, needs the single-session flow "
         "(chademo.md §12.1, adapter.md §14 #15)",
         lambda r: r.max_battery_voltage == 450 and r.target_voltage in (434, 450),
         _general, Flow.SINGLE_SESSION),
    Rule("lexus-ux300e",
         "Lexus UX300e (404/408 V, another car 399/404 V): refuses the second session, needs the "
         "single-session flow (chademo.md §12.1, adapter.md §14 #16)",
         lambda r: (r.target_voltage, r.max_battery_voltage) in ((404, 408), (399, 404)),
         _general, Flow.SINGLE_SESSION),
)

GENERAL_RULE = "general"


def recognise(report: CarReport) -> Recognition:
    """The first matching rule of :data:`RULES`, else the general adapter.md §5 curve and two sessions."""
    for rule in RULES:
        if rule.matches(report):
            return Recognition(rule.name, rule.curve(report.target_voltage), rule.flow)
    return Recognition(GENERAL_RULE, _general(report.target_voltage), Flow.TWO_SESSION)


Auto = Literal["auto"]


def resolve(report: CarReport, sx: bool | Auto, alt_estimated_voltage: int | Auto) -> Recognition:
    """What the adapter uses: the recognition, with configured values winning over it.

    ``sx = true/false`` forces the flow; ``alt-estimated-voltage = 0/1`` forces the adapter.md §5 curve;
    ``configured`` names what was forced."""
    found = recognise(report)
    curve, flow = found.curve, found.flow
    configured: list[str] = []
    if alt_estimated_voltage != "auto":
        curve = curve_for(report.target_voltage, alt_estimated_voltage)
        configured.append("alt-estimated-voltage")
    if sx != "auto":
        flow = Flow.SINGLE_SESSION if sx else Flow.TWO_SESSION
        configured.append("sx")
    return Recognition(found.rule, curve, flow, tuple(configured))
