"""Field scenarios: the charger and car problems users reported on the ccs32clara-chademo issue
tracker (cited ``firmware#N``), each as a named simulated session that behaves as reported, with
an assertion of what *our* adapter does there (``docs/field-issues.md`` is the table).

A scenario is data: a car profile, a charger personality, faults, a short SoC window and a seed,
optionally a charger *quirk* — a reply rewrite that only that scenario's charger shows (a charger
that refuses a CurrentDemandReq without the EV maximum limits) — and an expected outcome with the
check that proves it.  Every run goes through a :class:`Probe`, a reply hook that records each
request with its virtual time, the reply's ResponseCode and whether the car's contactors were
closed, so a check can speak about the V2G exchange ("no CurrentDemandReq after a failed
PowerDeliveryRes") as well as about the world (invariants, the car's trouble codes, the power).

Facts only come from the threads; where one has too little to model, the table says so and no
behaviour is invented here.  Profiles used only by field scenarios live in
``profiles/field/`` (outside the packaged list, so the all-cars sweeps do not pick them up).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ..adapter.config import build_config
from ..drivers.pcapng import Sink as PcapSink
from ..runtime import CanFrame
from ..runtime.sessionlog import capture
from ..v2g.messages import EvMessage, Kind
from ..v2g.secc import Reply, ReplyHook
from .world import Scenario, Summary, World, summarize

#: A charger quirk: rewrites one reply given the request (``ReplyHook``), fixed per scenario.
Quirk = ReplyHook
#: A scenario's check: the reasons it failed (empty: the adapter did what the scenario expects).
Check = Callable[["FieldRun"], list[str]]

BATTERY_FULL = "ccs: battery-full:CurrentDemand"
LOW_CURRENT_A = 5.0  # contactors open only at or below this (adapter.md §2.2)


class FieldError(ValueError):
    """An unknown field scenario name."""


@dataclass(frozen=True, slots=True)
class Seen:
    """One request as the charger received it, with the reply it gave."""

    t: float
    request: EvMessage
    response_code: str | None  # None: no reply (timeout, RST)
    car_closed: bool  # the car's contactors at that moment


class Probe:
    """The reply hook of a field run: applies the scenario's quirk, then records the exchange.

    It is built before the world (the world takes its hook when it is made) and bound to it
    afterwards, so it can stamp each request with the virtual time."""

    def __init__(self, quirk: Quirk | None = None) -> None:
        self.quirk = quirk
        self.world: World | None = None
        self.seen: list[Seen] = []

    def __call__(self, request: EvMessage, reply: Reply) -> Reply:
        if self.quirk is not None:
            reply = self.quirk(request, reply)
        world = self.world
        t, closed = (world.sim.now(), world.car_contactors) if world is not None else (0.0, False)
        code = reply.message.response_code if reply.message is not None else None
        self.seen.append(Seen(t, request, code, closed))
        return reply

    def of(self, kind: Kind) -> list[Seen]:
        return [s for s in self.seen if s.request.kind is kind]


@dataclass
class FieldRun:
    """One finished field session: the world, the ``--json`` summary, the session log, the probe."""

    scenario: FieldScenario
    world: World
    summary: Summary
    records: list[dict[str, Any]]
    probe: Probe

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] == kind]

    @property
    def failures(self) -> list[str]:
        return self.scenario.check(self)

    def as_json(self) -> dict[str, Any]:
        """``simulate --json`` plus ``scenario``, ``expected``, ``ok`` (and why not, ``failures``)."""
        failures = self.failures
        return {**self.summary.as_json(), "scenario": self.scenario.name, "expected": self.scenario.expected,
                "ok": not failures, "failures": failures}


@dataclass(frozen=True)
class FieldScenario:
    name: str
    threads: tuple[int, ...]  # firmware#N
    title: str  # the reported symptom, one line
    car: str  # a packaged profile or ``field/NAME`` (profiles/field/NAME.toml)
    charger: str
    soc_start: float
    soc_stop: int | None
    expected: str  # what our adapter does, one line (the ``expected`` of the JSON)
    check: Check
    faults: tuple[str, ...] = ()
    preset: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    quirk: Quirk | None = None
    seed: int = 0
    limit_s: float = 1800.0

    def world_scenario(self) -> Scenario:
        config = build_config(dict(self.values), self.preset)
        car = self.car
        if car.startswith("field/"):
            car = str(resources.files(__package__).joinpath("profiles", "field", f"{car[6:]}.toml"))
        return Scenario(car=car, charger=self.charger, soc_start=self.soc_start, soc_stop=self.soc_stop,
                        config=config, faults=self.faults, seed=self.seed, limit_s=self.limit_s)


def run_field(scenario: FieldScenario, pcap: PcapSink | None = None,
              on_can: Callable[[float, CanFrame], None] | None = None, log_path: Path | None = None) -> FieldRun:
    """Build, run and summarise one field scenario (its session log is kept for the check, and
    written to ``log_path`` as a ``session.jsonl`` file when given)."""
    probe = Probe(scenario.quirk)
    stream = io.StringIO()
    wall = time.perf_counter()
    with ExitStack() as stack:
        stack.enter_context(capture(stream=stream))
        if log_path is not None:
            stack.enter_context(capture(path=log_path))
        world = World(scenario.world_scenario(), pcap=pcap, on_can=on_can, secc_hook=probe)
        probe.world = world
        world.run()
    summary = summarize(world, time.perf_counter() - wall)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    return FieldRun(scenario, world, summary, records, probe)


# ---------------------------------------------------------------------------------- charger quirks
def stops_at_soc(limit: int) -> Quirk:
    """A charger (or its operator's app) that ends the session at ``limit`` % SoC with
    EVSENotification StopCharging — the cause firmware#91's maintainer suspected (no log)."""

    def quirk(request: EvMessage, reply: Reply) -> Reply:
        message = reply.message
        if request.kind is Kind.CURRENT_DEMAND and message is not None and request.soc >= limit:
            return replace(reply, message=replace(message, notification="StopCharging"))
        return reply

    return quirk


# ---------------------------------------------------------------------------------- checks
def _all(*checks: Check) -> Check:
    return lambda run: [failure for check in checks for failure in check(run)]


def no_violation(run: FieldRun) -> list[str]:
    return [f"invariant {v['invariant']} at {v['t']} s: {v['detail']}" for v in run.summary.invariant_violations]


def ends(result: str, stop_reason: str | None = None, prefix: bool = False) -> Check:
    def check(run: FieldRun) -> list[str]:
        s = run.summary
        out = [] if s.result == result else [f"result {s.result!r}, expected {result!r}"]
        if stop_reason is not None:
            got = s.stop_reason or ""
            if not (got.startswith(stop_reason) if prefix else got == stop_reason):
                out.append(f"stop reason {s.stop_reason!r}, expected {stop_reason!r}")
        return out

    return check


def charged(run: FieldRun) -> list[str]:
    return [] if run.world.energy_kwh() > 0.05 else [f"only {run.world.energy_kwh():.3f} kWh reached the battery"]


def no_energy(run: FieldRun) -> list[str]:
    return [] if abs(run.world.energy_kwh()) < 0.001 else [f"{run.world.energy_kwh():.3f} kWh flowed"]


def powered_off(run: FieldRun) -> list[str]:
    return [] if run.world.finished_at is not None and not run.world.hw.powered else ["the adapter is still on"]


def no_dtc(run: FieldRun) -> list[str]:
    dtcs = getattr(run.world.car, "dtcs", [])
    return [f"the car stored {dtcs}"] if dtcs else []


def no_car_fault(run: FieldRun) -> list[str]:
    faults: frozenset[str] = getattr(run.world.car, "faults", frozenset())
    return [f"the car set its faults {sorted(faults)}"] if faults else []


def logged(kind: str, **fields: Any) -> Check:
    def check(run: FieldRun) -> list[str]:
        hits = [r for r in run.kinds(kind) if all(r.get(k) == v for k, v in fields.items())]
        return [] if hits else [f"no {kind!r} record with {fields}"]

    return check


def not_logged(kind: str) -> Check:
    return lambda run: [f"{len(run.kinds(kind))} {kind!r} record(s)"] if run.kinds(kind) else []


def limits_in_every_current_demand(run: FieldRun) -> list[str]:
    demands = run.probe.of(Kind.CURRENT_DEMAND)
    if len(demands) < 50:
        return [f"only {len(demands)} CurrentDemandReq"]
    bare = [s for s in demands if s.request.max_voltage is None or s.request.max_current is None]
    return [f"{len(bare)} CurrentDemandReq without EVMaximumVoltage/CurrentLimit"] if bare else []


def no_current_before_car_contactors(run: FieldRun) -> list[str]:
    """EVTargetCurrent stays 0 until the car's contactors are closed (an i-MiEV asks for 1 A from
    its first frame, firmware#7)."""
    early = [s for s in run.probe.of(Kind.CURRENT_DEMAND) if not s.car_closed and s.request.target_current > 0]
    return [f"{len(early)} CurrentDemandReq asked for current before the car closed, first at "
            f"{early[0].t:.2f} s"] if early else []


def no_current_demand_after_failed_power_delivery(run: FieldRun) -> list[str]:
    failed = [s for s in run.probe.of(Kind.POWER_DELIVERY) if s.request.power_on and s.response_code not in ("OK",)]
    if not failed:
        return ["no failed PowerDeliveryRes(ON) was seen"]
    late = [s for s in run.probe.of(Kind.CURRENT_DEMAND) if s.t >= failed[0].t]
    return [f"{len(late)} CurrentDemandReq after the failed PowerDeliveryRes"] if late else []


def request_within_delivery(margin_a: float) -> Check:
    """The car never asks for more than the charger delivers + ``margin_a`` once the charger has
    reached its real limit (0x108.3 = delivered + 10 A makes it follow, adapter.md §6.3)."""

    def check(run: FieldRun) -> list[str]:
        over = [s for s in run.world.samples if s.ccs_state == "CurrentDemand" and s.current_a > 5
                and s.request_a > s.current_a + margin_a]
        return [f"car request {over[0].request_a} A at {over[0].current_a} A delivered (t={over[0].t})"] if over else []

    return check


def welding_detection_bounded(limit_s: float) -> Check:
    """From the first WeldingDetectionReq to SessionStopReq within ``limit_s`` (firmware#17)."""

    def check(run: FieldRun) -> list[str]:
        welding, stop = run.probe.of(Kind.WELDING_DETECTION), run.probe.of(Kind.SESSION_STOP)
        if not welding or not stop:
            return ["no WeldingDetectionReq or no SessionStopReq"]
        took = stop[0].t - welding[0].t
        return [] if took <= limit_s else [f"welding detection took {took:.1f} s"]

    return check


def one_chademo_session(run: FieldRun) -> list[str]:
    sessions = getattr(run.world.car, "sessions", 0)
    return [] if sessions == 1 else [f"{sessions} CHAdeMO sessions: the car was woken again"]


def one_ccs_session(run: FieldRun) -> list[str]:
    setups = run.probe.of(Kind.SESSION_SETUP)
    return [] if len(setups) == 1 else [f"{len(setups)} SessionSetupReq: the adapter started over"]


def not_switched_off_for_inactivity(run: FieldRun) -> list[str]:
    causes = [str(p["cause"]) for p in run.kinds("power-off")]
    return [f"power-off cause {c!r}" for c in causes if "inactivity" in c]


def after_s(seconds: float) -> Check:
    return lambda run: [] if run.summary.virtual_s >= seconds else [f"ended at {run.summary.virtual_s:.0f} s"]


def soc_between(low: float, high: float) -> Check:
    def check(run: FieldRun) -> list[str]:
        soc = run.summary.soc_end
        return [] if low <= soc <= high else [f"SoC ended at {soc:.2f} %, expected {low}–{high} %"]

    return check


def discharged_for(seconds: float) -> Check:
    """A V2X discharge that lasted (current out of the car) at least ``seconds``."""

    def check(run: FieldRun) -> list[str]:
        out = [s.t for s in run.world.samples if s.current_a < -1.0]
        lasted = out[-1] - out[0] if out else 0.0
        return [] if lasted >= seconds else [f"discharged for {lasted:.0f} s only"]

    return check


def precharge_within(volts: float) -> Check:
    """The precharge target (the battery estimate) within ``volts`` of the real pack voltage."""

    def check(run: FieldRun) -> list[str]:
        fixed = run.kinds("battery-voltage")
        if not fixed:
            return ["no battery-voltage record"]
        off = abs(fixed[0]["volts"] - run.world.battery.ocv(run.scenario.soc_start))
        return [] if off <= volts else [f"precharge target {off:.1f} V off the battery"]

    return check


def stopped_by_button_within(seconds: float) -> Check:
    """The short press ends the session and the adapter is off within ``seconds`` (firmware#46)."""

    def check(run: FieldRun) -> list[str]:
        presses = run.kinds("button-press")
        offs = run.kinds("power-off")
        if not presses or not offs:
            return ["no button press or no power-off"]
        took = offs[-1]["t"] - presses[0]["t"]
        return [] if took <= seconds else [f"powered off {took:.1f} s after the press"]

    return check


# ---------------------------------------------------------------------------------- the registry
_SAFE_END = _all(no_violation, powered_off)

SCENARIOS: dict[str, FieldScenario] = {s.name: s for s in (
    FieldScenario(
        "fw7-imiev-hypercharger", (7,), "i-MiEV at a Hypercharger: no current flows (it asks for 1 A from the start)",
        "imiev", "alpitronic", 75.0, 76,
        "charges: EVTargetCurrent stays 0 A until the car's contactors close, then battery full",
        _all(_SAFE_END, ends("completed", BATTERY_FULL), charged, no_current_before_car_contactors)),
    FieldScenario(
        "fw7-imiev-weak-d2", (7,), "i-MiEV whose contactor coils the adapter's d2 loop cannot power",
        "imiev", "alpitronic", 75.0, 76,
        "safe end without current: the car never closes, the adapter contactor stays open, no CurrentDemand",
        _all(_SAFE_END, no_energy, lambda r: ["CurrentDemand reached"] if r.probe.of(Kind.CURRENT_DEMAND) else []),
        faults=("weak-d2",)),
    FieldScenario(
        "fw11-plugit-hube-s", (11, 13), "Plugit HUBE S ends the session unless every CurrentDemandReq carries "
        "the EV maximum limits", "leaf-ze1-40", "plugit-hube-s", 30.0, 31,
        "charges to battery full: every CurrentDemandReq carries EVMaximumVoltage/Current/PowerLimit",
        _all(_SAFE_END, ends("completed", BATTERY_FULL), limits_in_every_current_demand),
        ),
    FieldScenario(
        "fw12-hyc150-leaf-dtc", (12,), "a Leaf stores a trouble code after charging at an Alpitronic HYC150",
        "leaf-ze1-40", "stale-voltage", 50.0, 51,
        "battery full and no trouble code: the car's welding check sees the inlet fall (adapter contactor open)",
        _all(_SAFE_END, ends("completed", BATTERY_FULL), no_dtc, no_car_fault)),
    FieldScenario(
        "fw17-hypercharger-welding-voltage", (17, 20), "Hypercharger: EVSEPresentVoltage never drops in "
        "WeldingDetection", "leaf-ze1-40", "stale-voltage", 50.0, 51,
        "battery full; welding detection ends within 10 s (bounded, its verdict logged) and SessionStop follows",
        _all(_SAFE_END, ends("completed", BATTERY_FULL), welding_detection_bounded(10.0),
             logged("welding-detection"))),
    FieldScenario(
        "fw18-starcharge-leaf-ze0", (18,), "Sungrow/Starcharge 180 kW with a Leaf ZE0: does not start or stops "
        "within 1–2 min", "leaf-ze0-24", "starcharge-180", 30.0, 31,
        "charges: the ZE0 is recognised and precharged within 20 V of its pack, so PowerDelivery is accepted",
        _all(_SAFE_END, ends("completed", BATTERY_FULL), precharge_within(20.0),
             logged("car-recognised", rule="nissan-24-30kwh"))),
    FieldScenario(
        "fw25-power-delivery-failed", (25, 18), "PowerDeliveryRes(ON) failed but CurrentDemand went on",
        "leaf-ze0-24", "starcharge-180", 30.0, 31,
        "safe shutdown at the failed PowerDeliveryRes: no CurrentDemandReq after it, no current",
        _all(_SAFE_END, ends("safe-shutdown", "ccs: FAILED:PowerDeliveryOn"), no_energy,
             no_current_demand_after_failed_power_delivery),
        faults=("failed@PowerDelivery",)),
    FieldScenario(
        "fw33-tritium-leaf-ze0", (33,), "Tritium RTM advertises 200 A but delivers 102 A: Leaf ZE0 DEV_AMPS fault",
        "leaf-ze0-24", "tritium-rtm", 30.0, 32,
        "battery full without a current-deviation fault: 0x108.3 = delivered + 10 A, which the ZE0 follows",
        _all(_SAFE_END, ends("completed", BATTERY_FULL), no_car_fault, request_within_delivery(12.0),
             not_logged("car-current-deviation"))),
    FieldScenario(
        "fw33-tritium-ze0-static", (33,), "the same, if a ZE0 ignored changes of 0x108.3 (as the thread assumed)",
        "field/leaf-ze0-24-static", "tritium-rtm", 30.0, 32,
        "cannot be saved: the car faults on current deviation and the session ends safely (current ≤ 5 A "
        "before any contactor opens)",
        _all(_SAFE_END, logged("car-current-deviation"))),
    FieldScenario(
        "fw42-env200-stop-before-charging", (42,), "e-NV200 sets 0x102.5.4 (stop) before charging",
        "env200-40", "compleo", 20.0, 21,
        "charges: the spurious 0x102.5.4 before charging is ignored (logged)",
        _all(_SAFE_END, ends("completed", BATTERY_FULL), logged("rx-ignored"))),
    FieldScenario(
        "fw44-aze0-30-terra184", (44, 35), "Leaf ZE0 with a 30 kWh pack does not charge at an ABB Terra 184",
        "leaf-aze0-30", "abb", 20.0, 21,
        "charges: recognised as a 24/30 kWh Leaf, precharged within 20 V of the pack",
        _all(_SAFE_END, ends("completed", BATTERY_FULL), precharge_within(20.0),
             logged("car-recognised", rule="nissan-24-30kwh"))),
    FieldScenario(
        "fw46-aze0-5pc-stop-button", (46,), "Leaf AZE0 at 5 % at a HYC150: never got going; the stop button did "
        "not shut the adapter down", "leaf-aze0-30", "alpitronic", 5.0, 6,
        "a short stop press during the cable check ends the session and powers the adapter off within 10 s, "
        "without a car fault",
        _all(_SAFE_END, ends("safe-shutdown", "button"), no_energy, no_car_fault, stopped_by_button_within(10.0)),
        faults=("stop-button@CableCheck+3",)),
    FieldScenario(
        "fw46-aze0-5pc-hyc150", (46,), "Leaf AZE0 at 5 % SoC at a HYC150 (the low-SoC voltage estimate)",
        "leaf-aze0-30", "alpitronic", 5.0, 6,
        "charges: precharged within 20 V of the pack at 5 %",
        _all(_SAFE_END, ends("completed", BATTERY_FULL), precharge_within(20.0))),
    FieldScenario(
        "fw37-lexus-ux300e", (37,), "Lexus UX300e at an Alpitronic: refuses the second CHAdeMO session",
        "lexus-ux300e", "alpitronic", 50.0, 51,
        "charges in one CHAdeMO session (recognised, single-session flow)",
        _all(_SAFE_END, ends("completed", BATTERY_FULL), logged("flow", flow="single-session"),
             one_chademo_session)),
    FieldScenario(
        "fw50-orion-bms-conversion", (50,), "VW conversion with an Orion BMS (84 s Tesla modules) at a Tritium",
        "field/orion-bms", "tritium-rtm", 19.0, 21,
        "charges to the SoC window (the reported stop after 7 min is not modelled: no cause in the thread)",
        _all(_SAFE_END, ends("completed", BATTERY_FULL), charged)),
    FieldScenario(
        "fw54-kia-soul-rst", (54,), "Kia Soul 2019: 60 A of 150 A, then the charger sends TCP RST after 6 min",
        "kia-soul", "underdeliver", 40.0, 100,
        "safe shutdown after the RST at 6 min (current ramps down before any contactor opens); no resume",
        _all(_SAFE_END, ends("safe-shutdown", "ccs: tcp-reset:CurrentDemand"), charged, one_ccs_session,
             after_s(360.0)),
        faults=("tcp-loss@CurrentDemand+360",)),
    FieldScenario(
        "fw89-outlander-dtc", (89,), "Outlander PHEV stores P101B/P101C (welded contactor) after charging",
        "outlander-phev", "stale-voltage", 60.0, 61,
        "no trouble code even at a charger whose voltage never falls: 0x109 voltage bleeds to < 10 V in 2 s",
        _all(_SAFE_END, ends("completed", BATTERY_FULL), no_dtc)),
    FieldScenario(
        "fw91-enelx-stop-75", (91,), "Leaf 40 kWh: the session ends at ≈75 % at an Enel X charger",
        "leaf-ze1-40", "abb", 74.0, 90,
        "a normal stop at the charger's StopCharging: current to 0 before the contactors open",
        _all(_SAFE_END, ends("completed", "ccs: evse-notification-stop", prefix=True), soc_between(74.5, 76.0)),
        quirk=stops_at_soc(75)),
    FieldScenario(
        "fw9-env200-v2x", (9, 42), "e-NV200 at a V2L/V2X discharger: stops after a few seconds",
        "env200-40", "sigenstor", 12.0, None,
        "discharges for minutes: the spurious 0x102.5.4 is ignored, the discharge ends at the car's floor",
        _all(_SAFE_END, discharged_for(120.0), logged("rx-ignored")), preset="v2x"),
    FieldScenario(
        "fw43-ze0-discharger", (43,), "Leaf ZE0 at a 7 kW CCS discharger: the car opens after 2–3 s",
        "leaf-ze0-24", "sigenstor", 34.0, None,
        "discharges for minutes within the car's 0x200 limit (the ZE0's 15 A) down to its floor",
        _all(_SAFE_END, discharged_for(120.0), no_car_fault), preset="v2x"),
    FieldScenario(
        "fw43-ze0-below-floor", (43,), "the same below the ZE0's discharge floor (0x200.6 = 6.7 kWh ≈ 32 %)",
        "leaf-ze0-24", "sigenstor", 30.0, None,
        "the car stops at once (its floor); a safe end without current",
        _all(_SAFE_END, no_energy, discharged_for(0.0)), preset="v2x"),
    FieldScenario(
        "fw66-v2x-stays-powered", (66,), "the adapter switches itself off during a long V2X discharge",
        "leaf-ze1-40", "sigenstor", 16.0, None,
        "stays powered for the whole discharge (longer than the inactivity timeout) until the car's floor",
        _all(_SAFE_END, discharged_for(600.0), not_switched_off_for_inactivity),
        preset="v2x"),
)}


def field_scenario(name: str) -> FieldScenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise FieldError(f"unknown field scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
