"""The whole simulated charging site in virtual time: CCS charger ↔ our adapter ↔ CHAdeMO car.

Everything the adapter talks to is simulated with the real links, so real bytes flow: HomePlug
SLAC frames on a power line between two modems, SDP datagrams, EXI over V2GTP over a TCP byte
link, and CHAdeMO frames on a CAN bus.  The machines are the product's own:

* charger — :func:`ccs2chademo.sim.scenario.add_charger` (SLAC EVSE + modem + SDP server) and
  :func:`ccs2chademo.sim.charger.build_charger` (SECC + power stage with a personality);
* adapter — :class:`ccs2chademo.adapter.bridge.Bridge` behind its modem, with the hardware model
  :class:`ccs2chademo.sim.hardware.AdapterHardware` (contactor, d1/d2, CP, button, LED, cells);
* car — :class:`ccs2chademo.sim.vehicle.ChademoVehicle` (a profile) and its battery.

**The DC bus** is modelled here, every ``step_s`` (default 20 ms — finer than
the contactors' reaction, so the invariants see every transition in order): the charger's output reaches
the car inlet only through the adapter contactor (DC−, adapter.md §13), the battery only through the car's
contactors, and current flows only when both are closed — that closed path is what the charger's
power stage sees as its load (``ev_contactor``).  What the inlet sees and what flows go to the
car's sensors (``CarElectrical``) and to the hardware model (the cells' DC/DC, weld physics).

**Safety invariants** (:mod:`ccs2chademo.sim.invariants`) are checked at every physics step and
once at the end of the session (the hardware state just before the power was cut).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, Protocol

from mypy_extensions import mypyc_attr

from ..adapter.bridge import Bridge, BridgeView
from ..adapter.ccs_side import tls_policy
from ..adapter.config import AdapterConfig, ConfigError
from ..drivers.pcapng import Sink as PcapSink
from ..drivers.pcapng import Tap
from ..rounding import round_decimals
from ..runtime import CanBus, CanFrame, CanReceived, Event, Impairment, InputChanged, VirtualRuntime
from ..runtime.core import Port
from ..runtime.machine import Machine
from ..runtime.virtual import to_ns
from ..v2g.codec import EXI, Codec
from ..v2g.discovery import TlsOffer
from ..v2g.ipv6 import Endpoint
from ..v2g.messages import Schema
from ..v2g.secc import ReplyHook
from .battery import Battery
from .charger import PowerStageModel, build_charger
from .codec_cache import CachedCodec
from .faults import FAULT_NAMES as CHARGER_FAULTS
from .faults import Fault, FaultInjector
from .hardware import AdapterHardware, Contactor, LoopSupply
from .hostile import CHARGERS
from .invariants import InvariantChecker, SafetySnapshot, Violation
from .plc import PlcSite, TcpRouter
from .profiles import VehicleProfile, load_profile
from .scenario import add_charger, mac
from .tls_charger import ChargerTls
from .vehicle import FAULT_NAMES as CAR_FAULT_BITS
from .vehicle import CarElectrical, ChademoVehicle, VehicleState

AUX_LOW_V: Final = 3.3  # below the 3.6 V of battery level 1 (adapter.md §8)
#: Faults of the adapter's surroundings, ``NAME[@STATE][+SECONDS]``: fired SECONDS after either side
#: (or the car) first reaches STATE — a bridge CCS/CHAdeMO state or a car state; the charger's
#: reply faults come from ``faults.py``.
WORLD_FAULTS: dict[str, str] = {
    "tcp-loss": "the TCP connection dies under both ends (default: 60 s into CurrentDemand)",
    "stop-button": "a short press of the stop button (default: 60 s into CurrentDemand)",
    "long-press": "the stop button held until the forced power-off (default: 60 s into CurrentDemand)",
    "car-stop": "the driver ends charging from the car (default: 60 s into CurrentDemand)",
    "weld": "the adapter contactor welds when it first closes (the invariants must catch it)",
    "weak-d2": "the original adapter's weak d2 driver (≈1.3 A): reference-circuit cars cannot close",
    "cp-deaf": "the charger ignores CP B: it keeps delivering after the adapter's safe shutdown",
    # issue 15 (the reliability campaign): the CCS link, the CHAdeMO car and the adapter itself
    "modem-reboot": "the adapter's modem reboots (a supply glitch) and comes back outside the charger's network",
    "slac-fail": "the charger's modem passes no SLAC frame from then on (a SLAC that cannot succeed)",
    "cp-loss": "the control pilot contact is lost for a moment: the charger sees state A, cuts its output and "
               "drops the connection",
    "car-can-silent": "the car's CAN goes silent (its frames stop; k and the contactors stay as they are)",
    **{f"car-{bit.replace('_', '-')}": f"the car sets 0x102.4 {bit} and stops" for bit in CAR_FAULT_BITS},
    "car-system-fault": "the car sets 0x102.5.2 (system fault) and stops",
    "k-drop": "the k line opens (a broken wire): the adapter sees the car's permission go while the car charges on",
    "over-request": "the car requests more current than the charger advertises (0x108) from then on",
    "car-contactors-no-close": "the car's contactors never close (the car believes they did)",
    "car-contactors-no-open": "the car's contactors never open (welded; the car believes they opened)",
    "aux-low": f"the adapter's internal cells drop to {AUX_LOW_V} V (a tired aux battery)",
}
#: World faults that hold for the whole session (no ``@STATE``).
_STATIC_FAULTS: Final = frozenset(("weld", "weak-d2", "cp-deaf", "car-contactors-no-close", "car-contactors-no-open"))
#: How long after a stop began the adapter may still close its contactor: it learns of the stop at
#: its next 100 ms cycle at the latest (k, 0x102, the button, a CCS response), plus link latency.
STOP_REACTION_S: Final = 0.15
#: World faults that are a stop of the session (``stop_begun`` from the moment they fire).
_STOP_FAULTS: Final = frozenset(("tcp-loss", "stop-button", "long-press", "car-stop", "cp-loss"))
_CAR_STOPPED: Final = frozenset((VehicleState.STOPPING, VehicleState.WELDING_CHECK, VehicleState.DONE,
                          VehicleState.SHUTDOWN))
DEFAULT_FAULT_STATE = "CurrentDemand"
SHORT_PRESS_S: Final = 0.3  # a short press of the stop button (well below any hold the power manager acts on)
DEFAULT_FAULT_DELAY_S = 60.0
SAMPLE_S: Final = 1.0
SDP_CLIENT_PORT = 50001
TCP_CLIENT_PORT = 51234  # the source port shown in the pcapng (the virtual TCP link has none)


class WorldError(ValueError):
    """A scenario that cannot be built (unknown car, charger, fault or state)."""


def fault_names() -> list[str]:
    return [*CHARGER_FAULTS, *WORLD_FAULTS]


def _chain(first: ReplyHook | None, second: ReplyHook | None) -> ReplyHook | None:
    if first is None or second is None:
        return first or second
    return lambda request, reply: second(request, first(request, reply))


@dataclass
class _Trigger:
    """A world fault armed for a state of either side (``@STATE``), fired once."""

    name: str
    state: str
    delay_s: float
    seen_at: float | None = None
    fired: bool = False


@dataclass
class Scenario:
    """What to simulate; the defaults are the ``make demo`` session."""

    car: str = "leaf-ze1-40"
    charger: str = "alpitronic"
    soc_start: float = 20.0
    soc_stop: int | None = 80
    config: AdapterConfig = field(default_factory=AdapterConfig)
    faults: tuple[str, ...] = ()
    seed: int = 0
    step_s: float = 0.02
    limit_s: float = 4 * 3600.0
    #: restrict the charger to one schema (``din`` / ``iso2``); None: it picks from what the EV offers (DIN)
    protocol: str | None = None
    #: the clara mode's VCU (``sim/clara_world.py``): ``zombieverter``, ``bms`` or ``none`` (stand-alone)
    vcu: str = "zombieverter"
    #: clara mode: an AC EVSE offering this many amperes (basic AC) instead of the DC charger
    ac_amps: float | None = None
    #: the charger serves TLS (``sim/tls_charger.py``); the adapter's ``[ccs]`` decides whether it asks
    tls: ChargerTls | None = None
    #: the adapter and the charger share one EXI cache (``sim/codec_cache.py``); False: the product's
    #: uncached codec, to measure its cost or to show the cache changes nothing on the links
    codec_cache: bool = True


class SimCar(Machine, Protocol):
    """What the world reads of whatever sits on the car's side of the adapter: a CHAdeMO car, or
    (clara mode) a VCU or a light-bulb load."""

    @property
    def state(self) -> str: ...

    @property
    def request(self) -> int: ...

    @property
    def max_discharge_current(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Sample:
    """One telemetry point (also logged as a ``sample`` record for ``ccs2chademo plot``)."""

    t: float
    charger_v: float
    inlet_v: float
    battery_v: float
    current_a: float
    soc: float
    request_a: float
    ccs_target_a: float
    ccs_state: str
    chademo_state: str
    car_state: str
    contactor: bool
    led: bool


SAMPLE_FIELDS = tuple(f.name for f in fields(Sample))
_LOGGED_FIELDS: Final = SAMPLE_FIELDS[1:]  # a sample record: the log line carries t itself


@mypyc_attr(allow_interpreted_subclasses=True)  # sim/clara_world.py derives the clara mode's world
class World:
    """The wired site; :meth:`run` runs the session to the adapter's power-off.  What sits on the
    car's side is made by :meth:`_make_battery` and :meth:`_make_car` (the clara mode overrides
    them, ``sim/clara_world.py``); :func:`build_world` picks the world for the configured mode."""

    def __init__(self, scenario: Scenario, pcap: PcapSink | None = None,
                 on_can: Callable[[float, CanFrame], None] | None = None, secc_hook: ReplyHook | None = None) -> None:
        """``pcap`` records the adapter's CCS side (HomePlug, SDP, TCP) as Ethernet frames;
        ``on_can(t, frame)`` sees every frame on the CHAdeMO bus; ``secc_hook`` rewrites the
        charger's replies (a charger quirk, after any ``--fault``)."""
        self.scenario = scenario
        try:
            personality = CHARGERS[scenario.charger]
        except KeyError:
            raise WorldError(f"unknown charger {scenario.charger!r}; known: {', '.join(CHARGERS)}") from None
        if scenario.protocol is not None:
            try:
                only = Schema(scenario.protocol)
            except ValueError:
                raise WorldError(f"unknown protocol {scenario.protocol!r}; known: "
                                 f"{', '.join(s.value for s in Schema)}") from None
            personality = replace(personality, secc=replace(personality.secc, schemas=(only,)))
        config = scenario.config
        if scenario.soc_stop is not None:
            config = config.model_copy(update={"stop_charging_soc": scenario.soc_stop})
        if Schema.ISO20 in personality.secc.schemas and config.ccs.iso20_priority is None:
            # a -20 charger: the adapter offers -20 first, over plain TCP too when the charger serves no TLS
            ccs = config.ccs.model_copy(update={
                "iso20_priority": 1, "iso20_without_tls": config.ccs.iso20_without_tls or scenario.tls is None})
            config = config.model_copy(update={"ccs": ccs})
        self.config = config
        self.sim = sim = VirtualRuntime(seed=scenario.seed)
        welded, weak_d2, self.cp_deaf = self._parse_faults(scenario.faults)  # sets injector and triggers

        # the car's battery and the DC path the charger sees
        self.battery = self._make_battery(scenario)
        self.site = site = PlcSite(sim)
        tls = scenario.tls
        self.charger = add_charger(sim, site, "charger", 1, tcp_port=personality.port,
                                   sdp_tls=TlsOffer.NONE if tls is None else tls.offer)
        #: the EXI codec of both ends of the CCS link
        self.exi: Codec = CachedCodec() if scenario.codec_cache else EXI
        self.secc = build_charger(personality, sim.rng_for("charger-stage"), battery=self.battery,
                                  hook=_chain(self.injector, secc_hook), name="secc", exi=self.exi)
        assert isinstance(self.secc.stage, PowerStageModel)
        self.stage: PowerStageModel = self.secc.stage
        host = site.add_host("adapter", mac(0xCA, 1), mac(0xCC, 1), role="pev")
        self.tcp = site.tcp("adapter", "charger", Impairment(latency=0.004))
        sim.add(self.secc if tls is None else tls.serve(self.secc), ports={"tcp": self.tcp.server})

        # the adapter and its hardware
        self.hw = AdapterHardware(controller=self._to_adapter, car=self._hw_to_car, charger=self._hw_to_charger,
                                  contactor=Contactor(), weak_d2=weak_d2,
                                  inlet_meter="inlet" in config.hardware.adc.channels)
        self._weld_on_close = welded
        self.bus = CanBus(sim, "can", Impairment(latency=0.0002))
        try:
            ccs_tls = tls_policy(config.ccs)
        except ConfigError as exc:
            raise WorldError(str(exc)) from None
        self.bridge = Bridge(config, host.nic.mac, sim.rng_for("adapter-runid"), name="adapter", tls=ccs_tls,
                             exi=self.exi)
        nic, evse = host.nic, self.charger.host.nic
        plc: Port = nic.raw_port()
        sdp: Port = nic.udp_port(SDP_CLIENT_PORT)
        tcp: Port = self.tcp.client
        if pcap is not None:
            plc = Tap(plc, pcap, sim.now)
            sdp = Tap(sdp, pcap, sim.now, "udp", local=Endpoint(nic.mac, nic.ip, SDP_CLIENT_PORT))
            tcp = Tap(tcp, pcap, sim.now, "tcp", local=Endpoint(nic.mac, nic.ip, TCP_CLIENT_PORT),
                      peer=Endpoint(evse.mac, evse.ip, personality.port))
        #: the adapter's TCP client socket (a test adds a rogue listener to it, sim/hostile.py)
        self.router = TcpRouter(sim, {(str(evse.ip), personality.port): tcp})
        ports: dict[str, Port] = {"plc": plc, "sdp": sdp, "tcp": self.router, "can": self.bus.port("adapter")}
        sim.add(self.bridge, ports=ports, on_output=self._bridge_output)
        self.car: SimCar = self._make_car()
        sim.add(self.car, {"can": self.bus.port("car")}, on_output=self._car_output)
        if on_can is not None:
            listener = self.bus.port("logger")
            listener.bind("can", lambda event: self._log_can(event, on_can))

        self.invariants = InvariantChecker(sx=config.sx is True)
        self.stop_begun_at: float | None = None  # when the world first saw a stop (see _stop_seen)
        self._cp_was_c = False
        self.car_contactors = False
        self._circuit = False
        self._electrical: CarElectrical | None = None
        self._end_snapshot: SafetySnapshot | None = None
        self._last_t = 0.0
        self._next_sample = 0.0
        self.samples: list[Sample] = []
        self.ccs_states: list[str] = []
        self.chademo_states: list[str] = []
        self.current_a = 0.0
        self.inlet_v = 0.0
        self.finished_at: float | None = None
        sim.every(scenario.step_s, self._physics, start=scenario.step_s / 2)

    # ------------------------------------------------------------------ the car's side
    def _make_battery(self, scenario: Scenario) -> Battery:
        """The car's traction battery (the profile's)."""
        self.profile: VehicleProfile = load_profile(scenario.car)
        return Battery(self.profile.battery, soc=scenario.soc_start)

    def _make_car(self) -> SimCar:
        """The machine on the car's CAN bus (the profile's CHAdeMO car)."""
        return ChademoVehicle(self.profile, "car")

    # ------------------------------------------------------------------ faults
    def _parse_faults(self, faults: tuple[str, ...]) -> tuple[bool, bool, bool]:
        self.injector: FaultInjector | None = None
        self.triggers: list[_Trigger] = []
        self.car_contactors_stuck: str | None = None  # car-contactors-no-close / -no-open
        self.k_dropped = False
        welded = weak_d2 = cp_deaf = False
        replies: list[Fault] = []  # every charger reply fault applies, each once in its state
        for text in faults:
            name, _, state = text.strip().partition("@")
            if name in CHARGER_FAULTS:
                try:
                    replies.append(Fault.parse(text))
                except ValueError as exc:
                    raise WorldError(str(exc)) from None
            elif name == "weld":
                welded = True
            elif name == "weak-d2":
                weak_d2 = True
            elif name == "cp-deaf":
                cp_deaf = True
            elif name in _STATIC_FAULTS:
                self.car_contactors_stuck = name
            elif name in WORLD_FAULTS:
                state, _, after = state.partition("+")
                try:
                    delay = float(after) if after else DEFAULT_FAULT_DELAY_S if not state else 0.0
                except ValueError:
                    raise WorldError(f"{text!r}: the delay after '+' is in seconds") from None
                self.triggers.append(_Trigger(name, state or DEFAULT_FAULT_STATE, delay))
            else:
                raise WorldError(f"unknown fault {name!r}; known: {', '.join(fault_names())}")
        if replies:
            self.injector = FaultInjector(*replies, on_fire=self._reply_fault_fired)
        return welded, weak_d2, cp_deaf

    def _reply_fault_fired(self, fault: Fault) -> None:
        # a reply fault ends the session (normally or safely) — unless the CCS side may still
        # restart, before ChargeParameterDiscovery is done (adapter.md §4)
        if self.bridge.view().ccs_parameters_done:
            self._mark_stop(self.sim.now())
        self.sim.log.record(self.sim.now(), "world", "fault", {"fault": fault.name, "state": fault.state.value})

    def _fire(self, trigger: _Trigger, now: float) -> None:
        trigger.fired = True
        # a TCP loss (or a lost pilot, which drops the connection too) before
        # ChargeParameterDiscovery is recovered by a CCS restart (adapter.md §4)
        view = self.bridge.view()
        restartable = trigger.name in ("tcp-loss", "cp-loss") and not view.ccs_parameters_done
        # a press before the sides run is the power-on special-mode entry, not a stop (adapter.md §10)
        selecting = trigger.name in ("stop-button", "long-press") and not view.sides_enabled
        if trigger.name in _STOP_FAULTS and not restartable and not selecting:
            self._mark_stop(now)
        self.sim.log.record(now, "world", "fault", {"fault": trigger.name, "state": trigger.state})
        if trigger.name == "tcp-loss":
            self.tcp.break_link("reset")
        elif trigger.name == "stop-button":
            self.hw.press(now, SHORT_PRESS_S)
        elif trigger.name == "long-press":
            self.hw.press(now, self.config.forced_off_hold_s + 1.0)
        elif trigger.name == "car-stop":
            self.sim.inject("car", InputChanged("stop", True))
        else:
            self._fire_issue15(trigger.name, now)

    def _fire_issue15(self, name: str, now: float) -> None:
        """The faults of the reliability campaign (issue 15): the CCS link, the car, the adapter."""
        if name == "modem-reboot":
            self.sim.inject(self.site.hosts["adapter"].modem.name, InputChanged("reboot", True))
        elif name == "slac-fail":
            self.sim.inject(self.charger.host.modem.name, InputChanged("slac_deaf", True))
        elif name == "cp-loss":
            self.stage.control_pilot("A", now)
            self.tcp.break_link("reset")
        elif name == "car-can-silent":
            self.sim.inject("car", InputChanged("can_silent", True))
        elif name == "car-system-fault":
            self.sim.inject("car", InputChanged("fault", "system"))
        elif name.startswith("car-fault-"):
            self.sim.inject("car", InputChanged("fault", name.removeprefix("car-").replace("-", "_")))
        elif name == "k-drop":
            self.k_dropped = True
            self.hw.set_k(False)
        elif name == "over-request":
            self.sim.inject("car", InputChanged("over_request", True))
        elif name == "aux-low":
            self.hw.battery.cell_v = min(self.hw.battery.cell_v, AUX_LOW_V)

    def press_stop(self, now: float) -> None:
        """A short press of the adapter's stop button now, as the ``stop-button`` fault makes it
        (the status page's stop button in ``simulate --web``); a stop once the sides run."""
        if self.bridge.view().sides_enabled:
            self._mark_stop(now)
        self.hw.press(now, SHORT_PRESS_S)

    def _check_triggers(self, now: float, view: BridgeView) -> None:
        states = (view.ccs_state, view.chademo_state, str(self.car.state))
        for trigger in self.triggers:
            if trigger.fired:
                continue
            if trigger.seen_at is None and trigger.state in states:
                trigger.seen_at = now
            if trigger.seen_at is not None and now - trigger.seen_at >= trigger.delay_s - 1e-9:
                self._fire(trigger, now)

    # ------------------------------------------------------------------ wiring
    def _to_adapter(self, event: InputChanged) -> None:
        self.sim.inject("adapter", event)

    def _hw_to_charger(self, event: InputChanged) -> None:
        """The adapter's CP output as the charger sees it: B after C stops its output."""
        if event.name != "cp":
            return
        if event.value == "C":
            self._cp_was_c = True
        elif self._cp_was_c:
            self._mark_stop(self.sim.now())
        if not self.cp_deaf:
            self.stage.control_pilot(str(event.value), self.sim.now())

    def _hw_to_car(self, event: InputChanged) -> None:
        if event.name == "d2_supply" and isinstance(event.value, LoopSupply):
            event = InputChanged("d2_supply", event.value.amps)
        self.sim.inject("car", event)

    def _bridge_output(self, name: str, value: Any, now: float) -> None:
        cut = name == "power_hold" and not value and self._end_snapshot is None
        if cut and not (view := self.bridge.view()).emergency:
            self._end_snapshot = self._snapshot(now, view)  # before the power cut clears every output
        self.hw.apply(name, value, now)
        if cut and (view := self.bridge.view()).emergency:
            self._end_snapshot = self._snapshot(now, view)  # a forced off ends by the cut itself

    def _car_output(self, name: str, value: Any, now: float) -> None:
        if name == "k":
            if not self.k_dropped:
                self.hw.set_k(bool(value))
        elif name == "contactors":
            stuck = self.car_contactors_stuck
            if stuck == "car-contactors-no-close":
                return
            if stuck == "car-contactors-no-open" and not value:
                return
            self.car_contactors = bool(value)

    def _log_can(self, event: Event, sink: Callable[[float, CanFrame], None]) -> None:
        if isinstance(event, CanReceived):
            sink(self.sim.now(), event.frame)

    # ------------------------------------------------------------------ physics
    def _physics(self, now: float) -> None:
        dt = now - self._last_t
        self._last_t = now
        hw = self.hw
        hw.step(now)
        contactor = hw.contactor
        if self._weld_on_close and contactor.closed:
            contactor.welded = True
        circuit = contactor.closed and self.car_contactors
        stage = self.stage
        if circuit != self._circuit:
            self._circuit = circuit
            stage.set_ev_contactor(circuit, now)
        stage.advance(now)
        if not circuit:
            self.battery.step(0.0, dt)
        self.current_a = current = stage.current if circuit else 0.0
        hw.charger_voltage_v = stage.voltage
        hw.dc_current_a = current
        battery_v = self.battery.voltage
        self.inlet_v = hw.inlet_voltage(battery_v, self.car_contactors)
        hw.measure_inlet(self.inlet_v)
        electrical = CarElectrical(round_decimals(self.inlet_v, 1), round_decimals(current, 1),
                                   round_decimals(battery_v, 1), round_decimals(self.battery.soc, 2))
        if electrical != self._electrical:
            self._electrical = electrical
            self.sim.inject("car", InputChanged("electrical", electrical))
        view = self.bridge.view()
        if self.stop_begun_at is None and self._stop_seen(view):
            self._mark_stop(now)
        self.invariants.check(self._snapshot(now, view))
        self._track_states(view)
        if self.triggers:
            self._check_triggers(now, view)
        if now >= self._next_sample:
            self._next_sample = now + SAMPLE_S
            self._sample(now, view)
        if self.finished_at is None and self._done(view):
            self.finished_at = now
            self.sim.stop()

    def _stop_known(self, now: float) -> bool:
        """A stop began long enough ago for the adapter to have seen it (``STOP_REACTION_S``)."""
        began = self.stop_begun_at
        return began is not None and now - began >= STOP_REACTION_S - 1e-9

    def _mark_stop(self, now: float) -> None:
        if self.stop_begun_at is None:
            self.stop_begun_at = now

    def _stop_seen(self, view: BridgeView) -> bool:
        """A stop the world can see without asking the adapter — the car stopping after its
        contactors were closed (its charge session) — or the adapter's own stop.  (Button stops
        and the other faults mark ``stop_begun`` when they fire.)"""
        car_stopped = self.car.state in _CAR_STOPPED and self.invariants.car_closed_once
        return car_stopped or view.stop_begun

    def _snapshot(self, now: float, view: BridgeView) -> SafetySnapshot:
        hw = self.hw
        return SafetySnapshot(
            t=now, contactor_closed=hw.contactor.closed, dc_current_a=self.current_a,
            charger_voltage_v=self.stage.voltage, battery_voltage_v=self.battery.voltage,
            car_contactors_closed=self.car_contactors, inlet_voltage_v=self.inlet_v, d1=hw.d1, d2=hw.d2,
            cp_state=hw.cp, precharge_target_v=view.precharge_target_v,
            ccs_target_current_a=view.ccs_target_current_a,
            car_request_a=float(self.car.request), charger_limit_a=view.charger_limit_a,
            discharging=view.discharging, emergency=view.emergency or view.emergency_open,
            car_max_discharge_a=float(self.car.max_discharge_current), stop_begun=self._stop_known(now),
            single_session=view.single_session)

    def _track_states(self, view: BridgeView) -> None:
        ccs, chademo = view.ccs_state, view.chademo_state
        if not self.ccs_states or self.ccs_states[-1] != ccs:
            self.ccs_states.append(ccs)
        if not self.chademo_states or self.chademo_states[-1] != chademo:
            self.chademo_states.append(chademo)

    def _sample(self, now: float, view: BridgeView) -> None:
        target = view.ccs_target_current_a
        sample = Sample(
            t=round(now, 3), charger_v=round(self.stage.voltage, 1), inlet_v=round(self.inlet_v, 1),
            battery_v=round(self.battery.voltage, 1), current_a=round(self.current_a, 1),
            soc=round(self.battery.soc, 2), request_a=float(self.car.request),
            ccs_target_a=0.0 if target is None else round(target, 1),
            ccs_state=view.ccs_state, chademo_state=view.chademo_state, car_state=str(self.car.state),
            contactor=self.hw.contactor.closed, led=self.hw.led)
        self.samples.append(sample)
        self.sim.log.record(now, "world", "sample", {k: getattr(sample, k) for k in _LOGGED_FIELDS})

    def _done(self, view: BridgeView) -> bool:
        """The adapter is off (or soft-reset in always-on) and the car has gone quiet."""
        off = not self.hw.powered or view.soft_resets > 0
        return off and self.car.state in (VehicleState.OFF, VehicleState.DONE, VehicleState.SHUTDOWN)

    # ------------------------------------------------------------------ running
    def run(self, until: float | None = None, pace: Callable[[float], None] | None = None,
            chunk_s: float = 1.0) -> float:
        """Run to the end of the session (or ``until``); ``pace(now)`` is called every ``chunk_s``
        of virtual time (the live view, ``--realtime``)."""
        limit = self.scenario.limit_s if until is None else until
        # compared on the runtime's integer clock: a float ``until`` may round to a nanosecond
        # just below itself, and a float comparison would then never see it reached
        limit_ns = to_ns(limit)
        sim = self.sim
        t = sim.now()
        while self.finished_at is None and sim.now_ns < limit_ns:
            t = sim.run(until=min(limit, t + chunk_s))
            if pace is not None:
                pace(t)
        if self.finished_at is not None:
            self.close()
        return sim.now()

    def close(self) -> list[Violation]:
        """The end-of-session invariant (once)."""
        view = self.bridge.view()
        snap = self._end_snapshot or self._snapshot(self.sim.now(), view)
        self._end_snapshot = snap
        return self.invariants.end_session(snap, view.stop_reason)

    def energy_kwh(self) -> float:
        """Net energy into the battery (negative after a V2X discharge; the ``--json`` figure)."""
        return self.battery.energy_in_kwh

    def discharged_kwh(self) -> float:
        """Energy a V2X discharger took out of the battery (positive)."""
        return self.battery.energy_out_kwh


@dataclass
class Summary:
    """The ``--json`` summary (the field names are the CLI's contract)."""

    result: str
    stop_reason: str | None
    soc_start: float
    soc_end: float
    energy_kwh: float
    virtual_s: float
    wall_s: float
    invariant_violations: list[dict[str, Any]]
    ccs_states: list[str]
    chademo_states: list[str]
    #: the configured mode; for ``clara`` / ``lightbulb`` the JSON adds ``mode`` and
    #: ``downstream_states`` (the car side's states; ``chademo_states`` holds the same list)
    mode: str = "chademo"

    def as_json(self) -> dict[str, Any]:
        out = {"result": self.result, "stop_reason": self.stop_reason, "soc_start": round(self.soc_start, 2),
               "soc_end": round(self.soc_end, 2), "energy_kwh": round(self.energy_kwh, 3),
               "virtual_s": round(self.virtual_s, 3), "wall_s": round(self.wall_s, 3),
               "invariant_violations": self.invariant_violations, "ccs_states": self.ccs_states,
               "chademo_states": self.chademo_states}
        if self.mode != "chademo":
            out.update(mode=self.mode, downstream_states=self.chademo_states)
        return out


def result_of(world: World) -> str:
    """``completed`` (normal stops on both sides), ``safe-shutdown`` (the CCS side aborted),
    ``forced-off`` (emergency), ``incomplete`` (time limit: still running)."""
    if world.finished_at is None:
        return "incomplete"
    view = world.bridge.view()
    if view.emergency:
        return "forced-off"
    if view.ccs_safe_shutdown:
        return "safe-shutdown"
    return "completed"


def summarize(world: World, wall_s: float) -> Summary:
    return Summary(
        result=result_of(world), stop_reason=world.bridge.view().stop_reason, soc_start=world.scenario.soc_start,
        soc_end=world.battery.soc, energy_kwh=world.energy_kwh(), virtual_s=world.sim.now(), wall_s=wall_s,
        invariant_violations=[{"t": round(v.t, 3), "invariant": v.invariant, "detail": v.detail}
                              for v in world.invariants.violations],
        ccs_states=world.ccs_states, chademo_states=world.chademo_states, mode=world.config.mode)


def build_world(scenario: Scenario, pcap: PcapSink | None = None,
                on_can: Callable[[float, CanFrame], None] | None = None, secc_hook: ReplyHook | None = None) -> World:
    """The world for the configured mode: the adapter with a CHAdeMO car, or (``clara``,
    ``lightbulb``) a CAN-controlled EV or the light-bulb demo (:mod:`.clara_world`)."""
    if scenario.config.mode == "chademo":
        return World(scenario, pcap=pcap, on_can=on_can, secc_hook=secc_hook)
    from .clara_world import ClaraWorld  # it derives from World: imported when first needed

    return ClaraWorld(scenario, pcap=pcap, on_can=on_can, secc_hook=secc_hook)


def simulate(scenario: Scenario) -> Summary:
    """Build, run and summarise one session (tests and the benchmark)."""
    wall = time.perf_counter()
    world = build_world(scenario)
    world.run()
    return summarize(world, time.perf_counter() - wall)
