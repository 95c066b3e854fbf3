"""A simulated CCS DC charger: a power-stage model behind the SECC, and named personalities.

The power stage (:class:`PowerStageModel`) is advanced lazily to the time of each request, with
exact exponential steps (or 5 ms sub-steps for an under-damped current loop), so a 30-minute
session costs the same whatever the request rate.  It models the insulation test duration, the
precharge slew, present voltage and current with lag, the current limit (and a charger that
delivers far less than it advertises), overshoot (with an EmergencyShutdown threshold), and the
output voltage decaying — or not — after PowerDelivery(OFF).  When the model knows the battery
it answers PowerDelivery(ON) with FAILED_PowerDeliveryNotApplied if the precharge target was
more than 20 V below it (adapter.md §14 #14).

A *discharger* (``StageParams.discharge``, the ``sigenstor`` personality) is the same stage run
backwards: it reads EVTargetCurrent as the current it may take **from** the battery (adapter.md
§7), so its current is negative (ISO 15118 sign: positive = into the EV) and so is the
EVSEPresentCurrent it reports.  Its current ramps up at a fixed slew rate (and down as fast as
real stages do), is held to
``max_power`` at the present (falling) terminal voltage; ``docs/v2x.md`` says what is chosen.
A *bidirectional* stage (``StageParams.bidirectional``, the ``bidi-wallbox``) follows a signed
target instead: positive charges, negative discharges (docs/iso20.md "The bidi-wallbox").

Personalities take their numbers from ccs-ev.md §14.1 (measured on real chargers).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from ..rounding import round_decimals
from ..v2g.codec import EXI, Codec
from ..v2g.messages import EvMessage, Kind, Schema
from ..v2g.secc import Latency, Reply, ReplyHook, Secc, SeccConfig
from .battery import Battery


@dataclass(frozen=True)
class StageParams:
    insulation_test_s: float = 10.0
    precharge_jump: float = 0.5  # first PreChargeReq: jump to this fraction of the target (ccs-ev.md §15)
    precharge_slew: float = 100.0  # V/s afterwards
    voltage_tau: float = 0.05  # s, output voltage toward a no-load target
    current_tau: float = 0.25  # s, current loop time constant
    damping: float = 1.0  # < 1: under-damped current loop (overshoot on steps)
    delivered_limit: float | None = None  # A the stage really delivers (None: what it advertises)
    emergency_overshoot: float | None = None  # A above the EV target that trips EmergencyShutdown
    welding_decay_tau: float | None = 0.4  # s; None: the reported voltage never falls
    voltage_jitter: float = 0.5  # V of uniform noise on reported voltages
    precharge_failure_margin: float = 20.0  # V below the battery that makes PowerDelivery fail
    discharge: bool = False  # a discharger: EVTargetCurrent is the allowed discharge current (adapter.md §7)
    current_slew: float | None = None  # A/s: a linear ramp away from 0 A instead of the loop's lag …
    current_fall: float = 250.0  # … and back toward 0 A (real stages: 100 → 0 A in 0.4 s, chademo.md §10)
    #: both ways (ISO 15118-20 DC_BPT, the ``bidi-wallbox``): a negative target current is a
    #: discharge, held to the same current and power limits as a charge
    bidirectional: bool = False


class PowerStageModel:
    """Physics of one charger output (implements :class:`ccs2chademo.v2g.secc.PowerStage`)."""

    def __init__(self, params: StageParams, max_current: float, max_power: float,
                 rng: random.Random | None = None, battery: Battery | None = None) -> None:
        self.p = params
        self.max_current = max_current
        self.max_power = max_power
        self.rng = rng or random.Random(0)
        self.battery = battery
        self.ev_closed = False
        self.delivered_ah = 0.0
        self.reset(0.0)

    def reset(self, now: float) -> None:
        self.t = now
        self.mode = "idle"
        self.voltage = 0.0
        self.current = 0.0
        self.slope = 0.0  # dI/dt of the second-order loop
        self.command = 0.0
        self.previous_command = 0.0
        self.no_load_target = 0.0
        self.precharge_target = 0.0
        self.insulation_started: float | None = None
        self.emergency = False

    # -- physics ------------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        dt = now - self.t
        if dt <= 0:
            return
        self.t = now
        battery = self.battery if self.ev_closed else None
        if battery is not None:
            self._step_current(dt)
            battery.step(self.current, dt)
            self.delivered_ah += self.current * dt / 3600.0
            self.voltage = battery.terminal_voltage(self.current)
            return
        self.current = self.slope = 0.0
        if self.mode == "precharge":
            step = self.p.precharge_slew * dt
            self.voltage += max(-step, min(step, self.precharge_target - self.voltage))
        elif self.mode == "charging":
            self.voltage += (self.no_load_target - self.voltage) * (1.0 - math.exp(-dt / self.p.voltage_tau))
        elif self.p.welding_decay_tau is not None:
            self.voltage *= math.exp(-dt / self.p.welding_decay_tau)

    def _step_current(self, dt: float) -> None:
        target = self.command if self.mode == "charging" else 0.0
        slew = self.p.current_slew
        if slew is not None:  # exact for any dt: straight ramps toward the set point
            current = self.current
            rising = abs(target) > abs(current) and target * current >= 0.0
            step = (slew if rising else self.p.current_fall) * dt
            self.current = current + max(-step, min(step, target - current))
            return
        tau = self.p.current_tau
        if self.p.damping >= 1.0:
            self.current += (target - self.current) * (1.0 - math.exp(-dt / tau))
            return
        omega, zeta = 1.0 / tau, self.p.damping
        steps = max(1, math.ceil(dt / 0.005))
        h = dt / steps
        for _ in range(steps):  # semi-implicit Euler of I'' = ω²(target − I) − 2ζω I'
            self.slope += h * (omega * omega * (target - self.current) - 2.0 * zeta * omega * self.slope)
            self.current += h * self.slope
        self.current = max(0.0, self.current)

    def _reported(self, value: float) -> float:
        """A measured voltage as chargers report it: with noise, at 0.1 V resolution."""
        jitter = self.p.voltage_jitter
        return round_decimals(max(0.0, value + (self.rng.uniform(-jitter, jitter) if jitter else 0.0)), 1)

    # -- PowerStage interface ---------------------------------------------------------------
    def set_ev_contactor(self, closed: bool, now: float) -> None:
        self.advance(now)
        self.ev_closed = closed
        if closed and self.battery is not None:
            self.voltage = self.battery.terminal_voltage(self.current)

    def control_pilot(self, state: str, now: float) -> None:
        """The EV side's CP state.  B after C (an EV that stopped or aborted, e.g. its safe
        shutdown) makes a charger switch its output off: the current ramps to 0 A as after
        PowerDelivery(OFF) (IEC 61851: state B means "not ready to accept energy"); so does A, a lost
        pilot contact (the ``cp-loss`` world fault)."""
        self.advance(now)
        if state in ("A", "B") and self.mode in ("charging", "precharge"):
            self.mode = "off"
            self.command = 0.0

    def cable_check(self, now: float) -> bool:
        self.advance(now)
        if self.insulation_started is None:
            self.insulation_started = now
            self.mode = "insulation"
        return now - self.insulation_started >= self.p.insulation_test_s

    def precharge(self, target_voltage: float, target_current: float, now: float) -> float:
        self.advance(now)
        if self.mode != "precharge":
            self.mode = "precharge"
            self.voltage = max(self.voltage, target_voltage * self.p.precharge_jump)
        self.precharge_target = target_voltage
        return self._reported(self.voltage)

    def power_delivery(self, on: bool, now: float) -> str:
        self.advance(now)
        if not on:
            self.mode = "off"
            self.command = 0.0
            return "OK"
        battery = self.battery
        if battery is not None and self.precharge_target < battery.ocv() - self.p.precharge_failure_margin:
            return "FAILED_PowerDeliveryNotApplied"
        self.mode = "charging"
        self.command = 0.0
        self.no_load_target = self.voltage
        return "OK"

    def current_demand(self, target_voltage: float, target_current: float, now: float) -> tuple[float, float, str]:
        self.advance(now)
        if self.emergency:
            return self._reported(self.voltage), self.current, "EVSE_EmergencyShutdown"
        trip = self.p.emergency_overshoot
        following = max(self.command, self.previous_command)  # a falling set point is lag, not overshoot
        if trip is not None and self.mode == "charging" and self.current > following + trip:
            # Compleo: its own loop overshot what it was regulating to → EmergencyShutdown (ccs-ev.md §14.1)
            self.emergency = True
            self.mode = "off"
            self.command = 0.0
            return self._reported(self.voltage), self.current, "EVSE_EmergencyShutdown"
        self.mode = "charging"
        self.no_load_target = target_voltage
        limit = min(self.max_current, self.max_power / max(self.voltage, 1.0))
        if self.p.delivered_limit is not None:
            limit = min(limit, self.p.delivered_limit)
        command = max(-limit if self.p.bidirectional else 0.0, min(target_current, limit))
        if self.p.discharge:
            command = -command  # the allowed discharge current, taken from the battery
        if command != self.command:
            self.previous_command, self.command = self.command, command
        return self._reported(self.voltage), round_decimals(self.current, 1), "EVSE_Ready"

    def welding(self, now: float) -> float:
        self.advance(now)
        return self._reported(self.voltage)


Range = tuple[float, float]


@dataclass(frozen=True)
class Personality:
    """One real charger's behaviour: answer latencies, field choices and power-stage physics."""

    name: str
    description: str
    port: int
    secc: SeccConfig
    stage: StageParams
    latency: Range = (0.010, 0.020)
    latency_by_kind: Mapping[Kind, Range] = field(default_factory=dict)
    power_off_latency: Range | None = None
    #: In the every-car × every-charger matrices (tests/adapter_e2e).  False for a protocol quirk
    #: on the base power stage: its own scenario tests it, every car would add nothing but time.
    matrix: bool = True
    #: a protocol quirk of this charger: rewrites its replies before any injected fault sees them
    hook: ReplyHook | None = None
    #: a hostile charger (``sim/hostile.py``): makes the hook that rewrites this SECC's replies,
    #: given the SECC and the hook it wraps (faults, observers)
    hostile: Callable[[Secc, ReplyHook | None], ReplyHook] | None = None

    def latency_for(self, rng: random.Random) -> Latency:
        def latency(req: EvMessage) -> float:
            if req.kind is Kind.POWER_DELIVERY and not req.power_on and self.power_off_latency is not None:
                lo, hi = self.power_off_latency
            else:
                lo, hi = self.latency_by_kind.get(req.kind, self.latency)
            return rng.uniform(lo, hi)

        return latency


_BASE = SeccConfig()


def _requires_ev_limits(request: EvMessage, reply: Reply) -> Reply:
    """Plugit HUBE S (firmware#11, its fix firmware#13 and uhi22/ccs32clara#59): FAILED unless a
    CurrentDemandReq carries EVMaximumVoltageLimit and EVMaximumCurrentLimit (optional in DIN 70121;
    the cars it was tested with send them)."""
    message = reply.message
    if request.kind is Kind.CURRENT_DEMAND and message is not None and (
            request.max_voltage is None or request.max_current is None):
        return replace(reply, message=replace(message, response_code="FAILED"))
    return reply

PERSONALITIES: dict[str, Personality] = {
    p.name: p
    for p in (
        Personality(
            "alpitronic", "Alpitronic HYC: replies in 6–10 ms, ≈14.5 s cable check, 1.5 s precharge",
            51110, replace(_BASE, max_voltage=920.0, max_current=200.0, max_power=150_000.0, min_voltage=150.0,
                           authorization_ongoing=0),
            StageParams(insulation_test_s=14.5, precharge_slew=135.0, welding_decay_tau=0.1),
            latency=(0.006, 0.010),
            latency_by_kind={Kind.CHARGE_PARAMETER_DISCOVERY: (0.006, 0.108), Kind.CABLE_CHECK: (0.006, 0.178),
                             Kind.PRE_CHARGE: (0.006, 0.027), Kind.POWER_DELIVERY: (0.037, 0.050),
                             Kind.CURRENT_DEMAND: (0.006, 0.011)},
            power_off_latency=(0.55, 0.65)),
        Personality(
            "compleo", "Compleo Cito BM 500: slow replies, ≈17 s Ongoing authorisation, ≈10 s cable check, "
            "EVSE_NotReady in ChargeParameterDiscovery, EmergencyShutdown on current overshoot",
            51181, replace(_BASE, max_voltage=500.0, max_current=125.0, max_power=50_000.0, min_voltage=150.0,
                           authorization_ongoing=17, parameter_status="EVSE_NotReady",
                           demand_limits=frozenset({"current", "power"})),
            StageParams(insulation_test_s=10.0, precharge_slew=70.0, damping=0.45, current_tau=0.06,
                        emergency_overshoot=10.0),
            latency=(0.10, 0.20),
            latency_by_kind={Kind.CONTRACT_AUTHENTICATION: (0.20, 0.22), Kind.CHARGE_PARAMETER_DISCOVERY: (0.50, 0.52),
                             Kind.CABLE_CHECK: (0.38, 0.42), Kind.PRE_CHARGE: (0.20, 0.22),
                             Kind.POWER_DELIVERY: (0.89, 0.93), Kind.CURRENT_DEMAND: (0.020, 0.031)}),
        Personality(
            "abb", "ABB Terra 53: 16–22 ms replies, SessionSetupRes OK (not OK_NewSessionEstablished)",
            53537, replace(_BASE, max_voltage=500.0, max_current=125.0, max_power=50_000.0,
                           session_setup_code="OK"),
            StageParams(insulation_test_s=6.0),
            latency=(0.016, 0.022),
            latency_by_kind={Kind.SUPPORTED_APP_PROTOCOL: (0.110, 0.116)}),
        Personality(
            "tesla-sc", "Tesla Supercharger V3: 8–13 ms replies, 4-byte SessionID, port 30000",
            30000, replace(_BASE, session_id=bytes.fromhex("06ef0071"), max_voltage=500.0, max_current=600.0,
                           max_power=250_000.0),
            StageParams(insulation_test_s=5.0, precharge_slew=150.0),
            latency=(0.008, 0.013)),
        Personality(
            "tesla-v2", "Tesla V2 Supercharger: ≈11 s precharge from 0 V",
            15118, replace(_BASE, max_voltage=410.0, max_current=300.0, max_power=120_000.0),
            StageParams(insulation_test_s=5.0, precharge_jump=0.0, precharge_slew=36.0),
            latency=(0.008, 0.013)),
        Personality(
            "underdeliver", "advertises 150 A but delivers at most 60 A (Autel Compact, the Kia Soul case)",
            15118, replace(_BASE, max_voltage=500.0, max_current=150.0, max_power=60_000.0),
            StageParams(insulation_test_s=6.0, delivered_limit=60.0),
            latency=(0.015, 0.030)),
        Personality(
            "sigenstor", "SigenStor EVDC 12.5 kW V2X discharger: takes EVTargetCurrent as the allowed discharge "
            "current, sinks ≤ 40 A / 12.5 kW from the car (needs the adapter's v2x mode)",
            15118, replace(_BASE, max_voltage=1000.0, max_current=40.0, max_power=12_500.0, min_voltage=150.0),
            StageParams(insulation_test_s=6.0, precharge_slew=120.0, discharge=True, current_slew=20.0),
            latency=(0.020, 0.040)),
        Personality(
            "stale-voltage", "present voltage never falls after PowerDelivery(OFF) (Alpitronic HYC, some Tesla)",
            51110, replace(_BASE, max_voltage=920.0, max_current=200.0, max_power=150_000.0, authorization_ongoing=0),
            StageParams(insulation_test_s=8.0, welding_decay_tau=None),
            latency=(0.006, 0.010)),
        Personality(
            "iso20-dc", "an ISO 15118-20 DC charger (DIN and ISO-2 too): scheduled and dynamic "
            "control mode, 500 V / 200 A / 100 kW",
            15118, replace(_BASE, schemas=(Schema.ISO20, Schema.ISO2, Schema.DIN), max_voltage=500.0,
                           max_current=200.0, max_power=100_000.0, authorization_ongoing=1),
            StageParams(insulation_test_s=4.0, precharge_slew=120.0),
            latency=(0.008, 0.015), matrix=False),
        Personality(
            "bidi-wallbox", "a bidirectional DC wallbox, ISO 15118-20 DC and DC_BPT (DIN and ISO-2 too): "
            "charges, and discharges whenever the EV offers DC_BPT; ±11 kW / ±40 A, 150–500 V",
            15118, replace(_BASE, schemas=(Schema.ISO20, Schema.ISO2, Schema.DIN), max_voltage=500.0,
                           max_current=40.0, max_power=11_000.0, min_voltage=150.0, authorization_ongoing=1,
                           iso20_bpt=True),
            StageParams(insulation_test_s=4.0, precharge_slew=120.0, bidirectional=True, current_slew=20.0),
            latency=(0.010, 0.020), matrix=False),
        Personality(
            "customer-interaction", "waits 20 s for an RFID card or an app: AuthorizationRes "
            "Ongoing_WaitingForCustomerInteraction (ISO-2; DIN: Ongoing) until then (issue 14)",
            15118, replace(_BASE, authorization_ongoing=0, authorization_wait_s=20.0,
                           iso_ongoing_literal="Ongoing_WaitingForCustomerInteraction"),
            StageParams(insulation_test_s=6.0),
            latency=(0.015, 0.030), matrix=False),
        # field chargers (docs/field-issues.md): numbers from the firmware#N threads, the rest defaults; each is
        # tested by its own field scenario (tests/adapter_e2e/test_field_scenarios.py), and its power stage
        # adds no class the matrices lack (tritium-rtm's delivered limit is underdeliver's), so matrix=False
        Personality(
            "plugit-hube-s", "Plugit HUBE S (firmware#11): ends the session (FAILED) at a CurrentDemandReq without "
            "EVMaximumVoltageLimit/EVMaximumCurrentLimit", 15118, _BASE, StageParams(), hook=_requires_ev_limits,
            matrix=False),
        Personality(
            "starcharge-180", "Sungrow/Starcharge 180 kW (firmware#18): advertises 500 V / 200 A",
            15118, replace(_BASE, max_voltage=500.0, max_current=200.0, max_power=180_000.0), StageParams(),
            matrix=False),
        Personality(
            "tritium-rtm", "Tritium RTM (firmware#33): advertises 200 A, delivers at most 102 A",
            15118, replace(_BASE, max_voltage=500.0, max_current=200.0, max_power=75_000.0),
            StageParams(delivered_limit=102.0), matrix=False),
    )
}


def build_charger(personality: Personality, rng: random.Random, battery: Battery | None = None,
                  hook: ReplyHook | None = None, name: str = "charger", link: str = "tcp",
                  exi: Codec = EXI) -> Secc:
    """A ready-to-add :class:`Secc` with this personality's power stage and latencies, speaking
    EXI through ``exi`` (the world's cache, ``sim/codec_cache.py``)."""
    stage = PowerStageModel(personality.stage, personality.secc.max_current, personality.secc.max_power,
                            rng=random.Random(rng.random()), battery=battery)
    if personality.hook is not None:
        quirk, outer = personality.hook, hook
        hook = quirk if outer is None else (lambda request, reply: outer(request, quirk(request, reply)))
    secc = Secc(stage, name=name, config=personality.secc, latency=personality.latency_for(rng), hook=hook,
                link=link, exi=exi)
    if personality.hostile is not None:
        secc.hook = personality.hostile(secc, hook)
    return secc
