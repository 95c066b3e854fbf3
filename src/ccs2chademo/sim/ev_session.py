"""Our EV session against a simulated charger, in virtual time.

A :class:`SimCar` with a :func:`~.battery.linear_battery` stands in for the car behind the CCS inlet:
every 100 ms it tells the :class:`~ccs2chademo.v2g.evcc.Evcc` what it wants (precharge to the
battery voltage, ramp the current +4 A / 100 ms up to the request — the adapter's ramp — and
after N minutes of CurrentDemand ramp down −10 A / 100 ms and stop).  The Evcc's contactor output
connects the battery to the charger's power stage.  :func:`run_session` returns the summary the
``ccs-sim`` command prints.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
from dataclasses import dataclass, field, replace
from typing import Any

from ..drivers.pcapng import PcapngWriter, Tap
from ..runtime import ByteLink, Impairment, InputChanged, Port, VirtualRuntime
from ..runtime.machine import Machine
from ..runtime.signals import Output
from ..v2g.codec import Codec
from ..v2g.evcc import Evcc, EvccConfig, EvccStatus, EvRequest
from ..v2g.ipv6 import Endpoint
from ..v2g.messages import DIN_PROTOCOL, ISO2_PROTOCOL, Schema
from ..v2g.tls import TlsLink
from .battery import Battery, linear_battery
from .charger import build_charger
from .codec_cache import CachedCodec
from .faults import Fault, FaultInjector
from .hostile import CHARGERS
from .tls_charger import ChargerTls

RAMP_UP = 4.0  # A per 100 ms (adapter.md §6.1)
RAMP_DOWN = 10.0


@dataclass
class SimCar:
    """The car side's wishes, derived from a battery (a stand-in for the CHAdeMO bridge)."""

    battery: Battery
    current: float = 100.0  # A requested
    minutes: float = 1.0  # of CurrentDemand before stopping
    target_voltage: float = 410.0
    precharge_error: float = 0.0  # V added to the battery voltage for the precharge target
    ramp_up: float = RAMP_UP  # A per 100 ms
    request: EvRequest = field(default_factory=EvRequest)
    demand_started: float | None = None
    stopping: bool = False

    def tick(self, now: float, status: EvccStatus) -> EvRequest:
        req = self.request
        if status.current_demand and self.demand_started is None:
            self.demand_started = now
        target = req.target_current
        if self.demand_started is not None and now - self.demand_started >= self.minutes * 60.0:
            self.stopping = True
        if not status.current_demand:
            target = 0.0
        elif self.stopping:
            target = max(0.0, target - RAMP_DOWN)
        else:
            target = min(self.current, target + self.ramp_up)
            if status.evse_dynamic_current is not None:
                target = min(target, status.evse_dynamic_current)
        self.request = replace(
            req, target_voltage=self.target_voltage, target_current=target,
            precharge_voltage=round(self.battery.ocv() + self.precharge_error, 1),
            max_voltage=self.target_voltage + 1.0, soc=int(self.battery.soc),
            stop=self.stopping and target <= 5.0)
        return self.request


@dataclass
class SessionResult:
    result: str
    stop_reason: str | None
    states: list[str]
    messages: int
    virtual_s: float
    wall_s: float
    safe_end: bool
    outputs: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"result": self.result, "stop_reason": self.stop_reason, "states": self.states,
                "messages": self.messages, "virtual_s": round(self.virtual_s, 3),
                "wall_s": round(self.wall_s, 3), "safe_end": self.safe_end}


@dataclass
class Session:
    """The wired simulation; :meth:`run` runs it to the end of the EV session."""

    sim: VirtualRuntime
    evcc: Evcc
    car: SimCar
    link: ByteLink
    injector: FaultInjector | None
    outputs: dict[str, Any]
    wire_messages: int = 0

    def run(self, limit: float) -> SessionResult:
        wall = time.perf_counter()
        self.sim.run(until=limit, stop=lambda: self.evcc.status.ended)
        wall = time.perf_counter() - wall
        status = self.evcc.status
        safe = (status.ended and self.outputs.get("cp") == "B" and self.outputs.get(Output.EV_CONTACTOR) is False
                and not self.link.connected)
        return SessionResult(status.result, status.stop_reason, list(self.evcc.states),
                             self.evcc.sent + self.evcc.messages, self.sim.now(), wall, safe, dict(self.outputs))


def protocols_for(schema: Schema) -> EvccConfig:
    """Offer both schemas with ``schema`` first (priority 1); ISO 15118-20: before DIN and ISO-2,
    over plain TCP too (the simulated -20 charger serves TLS only with ``--tls``)."""
    if schema is Schema.ISO20:
        return EvccConfig(iso20_priority=1, iso20_without_tls=True)
    first, second = (DIN_PROTOCOL, ISO2_PROTOCOL) if schema is Schema.DIN else (ISO2_PROTOCOL, DIN_PROTOCOL)
    return EvccConfig(protocols=(replace(first, priority=1), replace(second, priority=2)))


def build_session(charger: str = "alpitronic", schema: Schema = Schema.DIN, fault: Fault | None = None,
                  minutes: float = 1.0, seed: int = 0, config: EvccConfig | None = None,
                  battery: Battery | None = None, current: float = 100.0,
                  impairment: Impairment | None = None, pcapng: PcapngWriter | None = None,
                  tls: ChargerTls | None = None, tls_client: ssl.SSLContext | None = None,
                  exi: Codec | None = None) -> Session:
    """Wire car, Evcc, link and charger; with ``pcapng`` the EV's TCP port is recorded.  With
    ``tls`` the charger serves TLS and the Evcc (direct mode) speaks it with ``tls_client``
    (:func:`~ccs2chademo.v2g.tls.client_context`), both behind a :class:`~ccs2chademo.v2g.tls.TlsLink`.
    ``exi``: the EXI codec of both ends (default: a fresh :class:`~.codec_cache.CachedCodec`;
    :data:`~ccs2chademo.v2g.codec.EXI` runs uncached)."""
    personality = CHARGERS[charger]
    sim = VirtualRuntime(seed=seed)
    battery = battery or linear_battery()
    link = ByteLink(sim, "v2g", impairment or Impairment(latency=0.0002))
    cfg = config or protocols_for(schema)
    cfg = replace(cfg, secc=("fe80::1", personality.port))
    exi = CachedCodec() if exi is None else exi
    evcc = Evcc("evcc", cfg, EvRequest(precharge_voltage=battery.ocv(), soc=int(battery.soc)), exi=exi)
    injector = FaultInjector(fault) if fault is not None else None
    secc = build_charger(personality, sim.rng_for("charger"), battery=battery, hook=injector, exi=exi)
    car = SimCar(battery, current=current, minutes=minutes)
    outputs: dict[str, Any] = {}

    def on_output(name: str, value: Any, now: float) -> None:
        outputs[name] = value
        if name == Output.EV_CONTACTOR:
            sim.inject("charger", InputChanged(Output.EV_CONTACTOR, value))

    ev_port: Port = link.client
    if pcapng is not None:
        ev = Endpoint(cfg.mac, ipaddress.IPv6Address("fe80::ff:fe00:1"), 50000)
        evse = Endpoint(bytes.fromhex("020000000002"), ipaddress.IPv6Address("fe80::1"), personality.port)
        ev_port = Tap(link.client, pcapng.write, sim.now, "tcp", ev, evse)
    ev_machine: Machine = evcc
    if tls is not None:
        if tls_client is None:
            raise ValueError("a TLS charger needs the EV's client context (tls_client)")
        ev_machine = TlsLink(evcc, tls_client, server_side=False)
    sim.add(secc if tls is None else tls.serve(secc), ports={"tcp": link.server})
    sim.add(ev_machine, ports={"tcp": ev_port}, on_output=on_output)

    def tick(now: float) -> None:
        status = evcc.status
        if status.ended:
            return
        before = car.request
        request = car.tick(now, status)
        if request != before:
            sim.inject("evcc", InputChanged("request", request))

    sim.every(0.1, tick)
    return Session(sim, evcc, car, link, injector, outputs)


def run_session(charger: str = "alpitronic", schema: Schema = Schema.DIN, fault: Fault | None = None,
                minutes: float = 1.0, seed: int = 0) -> SessionResult:
    """Run one whole session; bounded at N minutes + 10 minutes of virtual time."""
    session = build_session(charger, schema, fault, minutes, seed)
    return session.run(limit=minutes * 60.0 + 600.0)
