"""The simulated charger on real drivers (``ccs2chademo charger-sim``): SLAC EVSE, SDP server and
SECC with a personality's power stage, on one Linux interface (a veth end, or a bench modem).

Two stand-ins replace what a veth pair does not have:

* **The car's modem**: the choice of the homeplug layer's veth test, reused
  (:class:`~ccs2chademo.sim.modem.ModemStandIn`, docs/homeplug.md "Real kernel networking").  A
  real PEV asks its *own* modem for VS_SW_VER (the modem finder) and writes the key from
  MATCH.CNF into it with SET_KEY.REQ, waiting for SET_KEY.CNF Result 1 (ccs-ev.md §2.3–§2.4).
  On a veth there is no modem and those frames reach the charger's host, so the charger process
  runs the stand-in on a second raw socket and answers them as the car's modem would (no
  reboot: the veth is an AVLN from the start).  The charger's own SLAC runs with
  ``configure_modem=False``.  Only for a veth: with real modems the car's modem answers.
* **The car's battery behind the cable** (:class:`BenchLoad`).  The two processes share no DC
  bus, so the power stage is loaded by a stand-in battery whose open-circuit voltage is the
  precharge target; it connects when PowerDelivery(ON) succeeds and disconnects at OFF, so
  present current follows the EV target as on a real charger.  By default its curve is flat (20 V
  from empty to full), which is plausible for a session of minutes; for a long one
  (``charger-sim --load CAR --load-soc SOC``, the veth soak) it is the car's own pack model at
  the car's SoC, so the voltage the charger reports rises as the car's battery does — a CHAdeMO
  car compares the charger's present voltage with its own and stops on a deviation (the first
  veth soak hour ended at minute 56 that way, the flat stand-in 21 V below the Leaf's pack).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field, replace
from typing import Any

from ..drivers.linux import iface
from ..drivers.linux.multicast import MulticastUdpPort
from ..drivers.linux.net import TcpServerPort
from ..drivers.linux.raweth import RawEthernetPort
from ..homeplug import frames as F
from ..homeplug.slac import SlacEvse, random_network_key
from ..runtime import AsyncRuntime, SessionLog
from ..v2g.discovery import SdpServer, TlsOffer
from ..v2g.messages import EvMessage, Kind
from ..v2g.sdp import SDP_PORT
from ..v2g.secc import Reply, Secc
from .battery import Battery, BatterySpec, linear_battery
from .charger import Personality, PowerStageModel, build_charger
from .faults import Fault, FaultInjector
from .hostile import CHARGERS
from .modem import ModemStandIn
from .tls_charger import ChargerTls


class BenchLoad:
    """A stand-in traction battery whose OCV is anchored at the precharge target (module doc):
    a flat 100 Ah curve, or ``spec`` (a car's pack model) at ``soc``."""

    def __init__(self, capacity_ah: float = 100.0, soc: float = 50.0, spec: BatterySpec | None = None) -> None:
        self.capacity_ah = capacity_ah
        self.spec = spec
        self.battery: Battery = linear_battery(capacity_ah, soc) if spec is None else Battery(spec, soc)

    def anchor(self, volts: float) -> Battery:
        """The battery with its curve moved so that its OCV at the present SoC is ``volts``."""
        soc = self.battery.soc
        if self.spec is not None:  # the car's curve, shifted by what the precharge target says it is off
            shift = volts - Battery(self.spec, soc).ocv()
            shifted = replace(self.spec, ocv=tuple((s, v + shift) for s, v in self.spec.ocv))
            self.battery = Battery(shifted, soc)
            return self.battery
        span = 20.0  # V between 0 % and 100 %: a flat, plausible curve around the anchor
        empty = volts - span * soc / 100.0
        self.battery = linear_battery(self.capacity_ah, soc, empty, empty + span)
        return self.battery


class BenchStage:
    """The personality's power stage with :class:`BenchLoad` connected during PowerDelivery(ON)."""

    def __init__(self, model: PowerStageModel, load: BenchLoad) -> None:
        self.model = model
        self.load = load
        model.battery = load.battery

    def set_ev_contactor(self, closed: bool, now: float) -> None:
        self.model.set_ev_contactor(closed, now)

    def cable_check(self, now: float) -> bool:
        return self.model.cable_check(now)

    def precharge(self, target_voltage: float, target_current: float, now: float) -> float:
        self.model.battery = self.load.anchor(target_voltage)
        return self.model.precharge(target_voltage, target_current, now)

    def power_delivery(self, on: bool, now: float) -> str:
        code = self.model.power_delivery(on, now)
        self.model.set_ev_contactor(on and code == "OK", now)
        return code

    def current_demand(self, target_voltage: float, target_current: float, now: float) -> tuple[float, float, str]:
        return self.model.current_demand(target_voltage, target_current, now)

    def welding(self, now: float) -> float:
        return self.model.welding(now)

    def reset(self, now: float) -> None:
        self.model.set_ev_contactor(False, now)
        self.model.reset(now)

    @property
    def voltage(self) -> float:
        return self.model.voltage

    @property
    def delivered_ah(self) -> float:
        return self.model.delivered_ah


@dataclass
class ChargerRun:
    """What ``charger-sim`` prints at the end (``--json``)."""

    result: str
    personality: str
    fault: str | None
    iface: str
    address: str
    tcp_port: int
    slac_matched: list[str]
    sdp_answered: int
    set_key_answered: int
    v2g_requests: int
    secc_states: list[str] = field(default_factory=list)
    delivered_ah: float = 0.0
    wall_s: float = 0.0
    tls: str | None = None  # the TLS variant served (``--tls``), None: plain TCP only

    def as_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["delivered_ah"] = round(self.delivered_ah, 4)
        out["wall_s"] = round(self.wall_s, 3)
        return out


class BenchCharger:
    """Wires the charger's machines to ``iface`` on an :class:`AsyncRuntime`."""

    def __init__(self, ifname: str, personality: str = "abb", fault: str | None = None, seed: int = 0,
                 log: SessionLog | None = None, tls: ChargerTls | None = None, load: BenchLoad | None = None) -> None:
        try:
            self.personality: Personality = CHARGERS[personality]
        except KeyError:
            raise ValueError(f"unknown personality {personality!r}; known: {', '.join(CHARGERS)}") from None
        self.fault = Fault.parse(fault) if fault else None
        self.ifname = ifname
        self.mac = iface.mac_address(ifname)
        self.address = iface.link_local_address(ifname)
        self.rng = random.Random(seed)
        self.log = log
        self.tls = tls
        self.load = load or BenchLoad()
        self.secc_states: list[str] = []
        self.session_seen = False
        self.session_stopped = False
        self.ports: list[Any] = []

    async def start(self) -> AsyncRuntime:
        loop = asyncio.get_running_loop()
        self.rt = rt = AsyncRuntime(self.log, loop)
        nid, nmk = random_network_key(self.rng)
        mac = self.mac
        self.slac = SlacEvse(mac, nid, nmk, name="charger.slac", configure_modem=False)
        self.modem = ModemStandIn(b"\x02\xb0\x52" + mac[3:], mac, name="charger.modem_standin")
        self.sdp = SdpServer(self.address, self.personality.port, name="charger.sdp",
                             tls=TlsOffer.NONE if self.tls is None else self.tls.offer)
        self.injector = FaultInjector(self.fault) if self.fault is not None else None
        secc = build_charger(self.personality, self.rng, hook=self._observe, name="secc")
        assert isinstance(secc.stage, PowerStageModel)
        self.stage = BenchStage(secc.stage, self.load)
        secc.stage = self.stage
        self.secc: Secc = secc
        slac_port, modem_port = RawEthernetPort(loop, self.ifname), RawEthernetPort(loop, self.ifname)
        slac_port.start()
        modem_port.start()
        udp = MulticastUdpPort(loop, self.ifname, SDP_PORT, hop_limit=64)
        await udp.start()
        tcp = TcpServerPort(loop, "::", self.personality.port)
        await tcp.start()
        self.ports = [slac_port, modem_port, udp, tcp]
        rt.add(self.slac, {"plc": slac_port})
        rt.add(self.modem, {"plc": modem_port})
        rt.add(self.sdp, {"sdp": udp})
        rt.add(secc if self.tls is None else self.tls.serve(secc), {"tcp": tcp})
        return rt

    def _observe(self, request: EvMessage, reply: Reply) -> Reply:
        """The SECC's reply hook: note SessionStop (a normal end), then the fault, if any."""
        if request.kind is Kind.SESSION_STOP:
            self.session_stopped = True
        return reply if self.injector is None else self.injector(request, reply)

    def finished(self) -> bool:
        """The session ran and the SECC is back to listening (SessionStop, TCP closed)."""
        state = self.secc.state
        if not self.secc_states or self.secc_states[-1] != state:
            self.secc_states.append(state)
        if state != "Listening":
            self.session_seen = True
        return self.session_seen and state == "Listening"

    def shutdown(self) -> None:
        for port in self.ports:
            port.shutdown()
        self.ports = []

    def summary(self, wall_s: float, interrupted: bool) -> ChargerRun:
        if self.session_seen and self.secc.state == "Listening":
            result = "completed" if self.session_stopped else "aborted"  # aborted: TCP ended without SessionStop
        else:
            result = "interrupted" if interrupted else "no-session"
        return ChargerRun(
            result=result, personality=self.personality.name, fault=str(self.fault) if self.fault else None,
            iface=self.ifname, address=str(self.address), tcp_port=self.personality.port,
            slac_matched=[F.format_mac(m) for m in self.slac.matched], sdp_answered=self.sdp.answered,
            set_key_answered=self.modem.keys_set, v2g_requests=self.secc.requests, secc_states=self.secc_states,
            delivered_ah=self.stage.delivered_ah, wall_s=wall_s, tls=None if self.tls is None else self.tls.variant)
