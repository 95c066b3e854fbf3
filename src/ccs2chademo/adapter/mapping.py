"""Current and voltage mapping between the two sides (adapter.md §6, §7), as pure functions and
small per-cycle objects the bridge calls once per 100 ms CHAdeMO cycle.

Why it is subtle: the two protocols disagree on who leads.  A CHAdeMO car asks for current and
expects it within a tolerance; a CCS charger is told a target and delivers what it can.  The
adapter must never ask the CCS charger for more than the car wants or than the charger can give,
must ramp so neither side sees a step, and must make the car ramp in step with what the CCS
charger really delivers (dynamic current) — otherwise the car faults on current deviation.

Units: volts, amperes, seconds.  Functions here never look at a clock; per-cycle objects count
100 ms steps.
"""

from __future__ import annotations

from dataclasses import dataclass

CYCLE_S = 0.1
PLACEHOLDER_TARGET_V = 410  # §3: until the car reports (SX)
PLACEHOLDER_SOC = 20
EV_MAXIMUM_POWER_LIMIT_W = 100_000.0  # §12.3
PRECHARGE_CURRENT_A = 1.0  # §6.1 PreCharge EVTargetCurrent
RAMP_UP_A = 4.0  # per 100 ms (§6.1, §12.3)
RAMP_DOWN_A = 10.0
BLEED_FACTOR = 0.83  # per 100 ms (§4.1)
U8_MAX = 255


# ------------------------------------------------------------------ §6.1 CCS request fields


def ev_ress_soc(soc: float | None) -> int:
    """EVRESSSOC: the CHAdeMO SoC (already divided by 0x100.6) clamped to 0..100; 20 % until known."""
    if soc is None:
        return PLACEHOLDER_SOC
    return max(0, min(100, round(soc)))


def ev_maximum_voltage_limit(target_v: float | None) -> float:
    """EVMaximumVoltageLimit = CHAdeMO target + 1 V (410 + 1 until known).

    Not the car's maximum voltage: Ionity/Tritium stopped when the limit was close to the battery
    voltage, and a limit at the target keeps the charger's own regulation above the car's.
    """
    return (PLACEHOLDER_TARGET_V if target_v is None else target_v) + 1


@dataclass(frozen=True, slots=True)
class EvLimits:
    """The EV maximum limits sent in ChargeParameterDiscoveryReq and every CurrentDemandReq (§14 #17)."""

    max_voltage_v: float
    max_current_a: float
    max_power_w: float = EV_MAXIMUM_POWER_LIMIT_W


def ev_limits(target_v: float | None, max_amps: int) -> EvLimits:
    return EvLimits(ev_maximum_voltage_limit(target_v), float(max_amps))


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

    def step(self, request_a: float, limit_a: float) -> float:
        target = max(0.0, min(request_a, limit_a))
        # the clamp to [value − 10, value + 4] is the ramp, min with the limit is "limited again"
        ramped = max(self.value - RAMP_DOWN_A, min(target, self.value + RAMP_UP_A))
        self.value = max(0.0, min(ramped, limit_a))
        return self.value


class CcsTargetCurrent:
    """CurrentDemand EVTargetCurrent, one call per 100 ms cycle (§6.1, §7).

    * the car's request only in the CHAdeMO charging loop, else 0 (hides the idle 1 A requests
      of i-MiEV-type cars before their contactors are closed);
    * limited to the charger's dynamic maximum, ramped, limited again (:class:`CurrentRamp`);
    * V2X discharging: the car's maximum discharge current (or the fallback), because CCS
      dischargers read EVTargetCurrent as the allowed discharge current;
    * SX before CCS CurrentDemand: 1 A.
    """

    def __init__(self, max_discharge_amps_fallback: float = 40) -> None:
        self.fallback = max_discharge_amps_fallback
        self.ramp = CurrentRamp()

    def step(self, car_request_a: float, *, in_charging_loop: bool, dynamic_max_a: float,
             discharging: bool = False, car_max_discharge_a: float | None = None,
             sx_before_current_demand: bool = False) -> float:
        charging = self.ramp.step(car_request_a if in_charging_loop else 0.0, dynamic_max_a)
        if discharging:
            return self.fallback if car_max_discharge_a is None else car_max_discharge_a
        if sx_before_current_demand:
            return PRECHARGE_CURRENT_A
        return charging


# ----------------------------------------------------------- §6.2/§6.3 CHAdeMO charger fields


def available_voltage(evse_maximum_voltage_v: float | None, max_volts: int) -> int:
    """0x108.1–2 = min(CCS EVSEMaximumVoltageLimit, max-volts); max-volts until CCS has told."""
    if evse_maximum_voltage_v is None:
        return max_volts
    return int(min(evse_maximum_voltage_v, max_volts))


def threshold_voltage(available_v: float, car_max_v: float) -> int:
    """0x108.4–5 = min(available voltage, car maximum voltage), recomputed every cycle."""
    return int(min(available_v, car_max_v))


@dataclass(frozen=True, slots=True)
class ChargerCurrent:
    """§6.3: ``max_available`` (static) and ``dyn_available`` (latest CurrentDemandRes), A."""

    max_available: float
    dyn_available: float


def charger_current(cpd_max_a: float, current_demand_max_a: float | None, max_amps: int) -> ChargerCurrent:
    """MaxAvailable = min(ChargeParameterDiscovery limit, max-amps); DynAvailable = min(latest
    CurrentDemandRes limit if present, else the discovery value; max-amps)."""
    dyn = cpd_max_a if current_demand_max_a is None else current_demand_max_a
    return ChargerCurrent(min(cpd_max_a, max_amps), min(dyn, max_amps))


def car_has_dynamic_control(flag_0x110_0_0: bool, flag_0x102_5_6: bool, fallback: bool) -> bool:
    """0x110.0.0, or 0x102.5.6, or config ``dynamic-current-fallback`` (default: every car)."""
    return flag_0x110_0_0 or flag_0x102_5_6 or fallback


def available_current(limits: ChargerCurrent, *, dynamic: bool, car_request_a: float, delivered_a: float,
                      max_undersupply_a: float) -> int:
    """0x108.3 available current (§6.3).

    Dynamic cars see DynAvailable, but while they ask for more than ``delivered + margin`` (and the
    charger could give more than that) they see ``delivered + margin``: the car then ramps in step
    with what the CCS charger actually delivers instead of faulting on current deviation.  Others
    (JDEMO) see the static MaxAvailable.
    """
    if not dynamic:
        value = limits.max_available
    else:
        value = limits.dyn_available
        ceiling = max(0.0, delivered_a) + max_undersupply_a
        if car_request_a > ceiling and limits.dyn_available > ceiling:
            value = ceiling
    return int(max(0, min(U8_MAX, value)))


def present_current(evse_present_a: float | None, *, in_current_demand: bool, in_charging_loop: bool,
                    discharging: bool, fake_idle_amps: int) -> int:
    """0x109.3: CCS EVSEPresentCurrent (0 outside CurrentDemand, clamped to 0..255); in the charging
    loop a 0 becomes ``fake-idle-amps`` (1 A) unless discharging (§6.4: keeps Leafs and Jdemo kits alive)."""
    amps = 0
    if in_current_demand and evse_present_a is not None:
        amps = int(max(0, min(U8_MAX, round(evse_present_a))))
    if amps == 0 and in_charging_loop and not discharging:
        amps = fake_idle_amps
    return amps


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


class PresentVoltage:
    """0x109.1–2 present voltage through a session (§2 step 7, §4.1, §6.2).

    Phases, advanced by the bridge: ``"fake"`` (discovery / SX before CurrentDemand: the battery
    value) → ``"zero"`` (real session until the car's contactors are closed: the inlet really is
    at 0 V and Leafs refuse to close otherwise) → ``"live"`` (EVSEPresentVoltage, or the battery
    value when the charger mirrors) → ``"stopping"`` (the present voltage snapshotted at the stop,
    then × 0.83 per 100 ms while k is off — the simulated bleed a car's welding check needs) →
    ``"off"`` (0 V once the car reports its contactors open).
    """

    PHASES = ("fake", "zero", "live", "stopping", "off")

    def __init__(self, phase: str = "zero") -> None:
        self.phase = ""
        self.set_phase(phase)
        self.snapshot = 0

    def set_phase(self, phase: str) -> None:
        if phase not in self.PHASES:
            raise ValueError(f"unknown present-voltage phase {phase!r}")
        self.phase = phase

    def start_stopping(self, reported_v: float) -> None:
        """Stopping: start — snapshot the value last reported."""
        self.snapshot = int(max(0, reported_v))
        self.phase = "stopping"

    def bleed_step(self) -> int:
        """One 100 ms step of the bleed (only while k is off, after the current is ≤ 5 A).

        Whole volts, truncated at each step: 400 V → 60 V after 1 s, 7 V after 2 s.
        """
        self.snapshot = int(self.snapshot * BLEED_FACTOR)
        return self.snapshot

    def value(self, evse_present_v: float | None, battery_v: float | None, mirroring: bool = False) -> int:
        """The value to send now."""
        if self.phase in ("zero", "off"):
            return 0
        if self.phase == "stopping":
            return self.snapshot
        if self.phase == "fake" or mirroring or evse_present_v is None:
            return int(battery_v or 0)
        return int(max(0, evse_present_v))


# ------------------------------------------------------------------------------ §7 V2X fields


@dataclass(frozen=True, slots=True)
class V2xFields:
    """One cycle of the discharge logic; 0x208/0x209 values in physical units (A, V, s).

    Field names follow the CHAdeMO frame classes (0x208 ``ChargerDischargeLimits``, 0x209
    ``ChargerDischargeSequence``); the codec applies the 0xFF − A inversion of 0x208 bytes 0 and 3.
    """

    discharging: bool
    present_discharge_current: int  # 0x208.0
    available_input_voltage: int  # 0x208.1–2
    available_input_current: int  # 0x208.3: the max available output current
    lower_threshold_voltage: int  # 0x208.6–7
    sequence_control_number: int  # 0x209.0
    remaining_discharge_time: int  # 0x209.1–2
    ccs_request_a: float | None  # faked EVTargetCurrent while discharging, else None (normal mapping)
    keepalive_1a: bool  # report 1 A output current this cycle (Leaf stops after ≈6 min at 0 A)


class V2xDischarge:
    """§7 discharge detection and fields, one :meth:`step` per 100 ms cycle (V2X enabled only)."""

    ZERO_CURRENT_S = 3.0
    KEEPALIVE_S = 60.0
    DISCHARGE_CURRENT_CAP_A = 10

    def __init__(self, max_discharge_amps_fallback: float = 40) -> None:
        self.fallback = max_discharge_amps_fallback
        self._zero_cycles = 0
        self._discharge_cycles = 0
        self.discharging = False

    def step(self, output_current_a: float, max_available_output_a: float,
             car_max_discharge_a: float | None = None) -> V2xFields:
        """``car_max_discharge_a`` = 0xFF − 0x200.0 (None if the car sent no 0x200)."""
        self._zero_cycles = self._zero_cycles + 1 if output_current_a <= 0 else 0
        was = self.discharging
        self.discharging = self._zero_cycles * CYCLE_S >= self.ZERO_CURRENT_S - 1e-9
        self._discharge_cycles = self._discharge_cycles + 1 if was and self.discharging else 0
        keepalive = self.discharging and self._discharge_cycles % round(self.KEEPALIVE_S / CYCLE_S) == 0
        car_max = self.fallback if car_max_discharge_a is None else car_max_discharge_a
        return V2xFields(
            discharging=self.discharging,
            present_discharge_current=int(min(self.DISCHARGE_CURRENT_CAP_A, car_max)) if self.discharging else 0,
            available_input_voltage=500,
            available_input_current=int(max(0, min(U8_MAX, max_available_output_a))),
            lower_threshold_voltage=250,
            sequence_control_number=2,
            remaining_discharge_time=5 if self.discharging else 0,
            ccs_request_a=float(car_max) if self.discharging else None,
            keepalive_1a=keepalive,
        )


def count_down_remaining(remaining_s: float, output_current_a: float) -> float:
    """§7: remaining charging time counts down only while output current flows, never below 5 s."""
    if output_current_a <= 0:
        return remaining_s
    return max(5.0, remaining_s - CYCLE_S)
