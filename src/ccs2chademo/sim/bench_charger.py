"""The simulated charger on real drivers (``ccs2chademo charger-sim``): SLAC EVSE, SDP server and
SECC with a personality's power stage, on one Linux interface (a veth end, or a bench modem).

Two stand-ins replace what a veth pair does not have:

* **The car's modem** (:class:`ModemStandIn`).  A real PEV writes the key from MATCH.CNF into its
  *own* modem with SET_KEY.REQ (to broadcast or 00:B0:52:00:00:01) and waits for SET_KEY.CNF
  Result 1 from it (ccs-ev.md §2.3–§2.4).  On a veth there is no modem: the frame reaches the
  charger's host instead.  The charger process is the only other station on that wire, so it
  plays "the power line with both modems" and answers the car's SET_KEY.REQ with the local
  modem's CNF (Result 1, source ``00:B0:52:00:00:01``).  The charger's own SLAC runs with
  ``configure_modem=False`` (there is no modem of its own to key).  Never used with a real modem:
  ``--iface`` on a modem interface would answer for the car's modem, so the command says so.
* **The car's battery behind the cable** (:class:`BenchLoad`).  The two processes share no DC
  bus, so the power stage is loaded by a stand-in battery whose open-circuit voltage is the
  precharge target; it connects when PowerDelivery(ON) succeeds and disconnects at OFF, so
  present current follows the EV target as on a real charger.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from ..drivers.linux.iface import Interface, sdp_socket
from ..drivers.linux.net import TcpServerPort, UdpPort
from ..drivers.linux.packet import PacketPort
from ..homeplug import frames as F
from ..homeplug.slac import SlacEvse, random_network_key
from ..runtime import AsyncRuntime, Event, FrameReceived, SendFrame, SessionLog
from ..runtime.machine import MachineBase
from ..v2g.discovery import SdpServer
from ..v2g.messages import EvMessage, Kind
from ..v2g.sdp import SDP_PORT
from ..v2g.secc import Reply, Secc
from .charger import PERSONALITIES, Personality, PowerStageModel, build_charger
from .ev_battery import Battery
from .faults import Fault, FaultInjector

LOCAL_MODEM_MAC = F.LOCAL_MANAGEMENT  # the source a QCA modem answers local management from


class ModemStandIn(MachineBase):
    """Answers SET_KEY.REQ from other stations like their local QCA modem would (module doc)."""

    def __init__(self, own_mac: bytes, name: str = "modem-standin", link: str = "plc") -> None:
        super().__init__(name, "listening")
        self.own_mac = own_mac
        self.link = link
        self.answered = 0

    def get_timer(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> None:
        pass

    def receive(self, event: Event, now: float) -> None:
        if not isinstance(event, FrameReceived) or not F.is_homeplug(event.frame):
            return
        if F.mmtype_of(event.frame) != F.SetKeyReq.MMTYPE:
            return
        try:
            req = F.decode(event.frame)
        except F.MmeError as exc:
            self._log("rejected", reason=str(exc))
            return
        if not isinstance(req, F.SetKeyReq) or req.source == self.own_mac:
            return
        if req.dest not in (F.BROADCAST, F.LOCAL_MANAGEMENT):
            return
        self.answered += 1
        self._log("set_key_answered", station=F.format_mac(req.source), nid=req.nid.hex())
        self._emit(SendFrame(self.link, F.SetKeyCnf(dest=req.source, source=LOCAL_MODEM_MAC, result=1,
                                                    my_nonce=bytes(4), your_nonce=req.my_nonce).encode()))


@dataclass
class BenchLoad(Battery):
    """A stand-in traction battery whose OCV is anchored at the precharge target (module doc)."""

    capacity_ah: float = 100.0
    soc: float = 50.0

    def anchor(self, volts: float) -> None:
        span = 20.0  # V between 0 % and 100 %: a flat, plausible curve around the anchor
        self.empty_voltage = volts - span * self.soc / 100.0
        self.full_voltage = self.empty_voltage + span


class BenchStage:
    """The personality's power stage with :class:`BenchLoad` connected during PowerDelivery(ON)."""

    def __init__(self, model: PowerStageModel, load: BenchLoad) -> None:
        self.model = model
        self.load = load
        model.battery = load

    def set_ev_contactor(self, closed: bool, now: float) -> None:
        self.model.set_ev_contactor(closed, now)

    def cable_check(self, now: float) -> bool:
        return self.model.cable_check(now)

    def precharge(self, target_voltage: float, target_current: float, now: float) -> float:
        self.load.anchor(target_voltage)
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

    def as_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["delivered_ah"] = round(self.delivered_ah, 4)
        out["wall_s"] = round(self.wall_s, 3)
        return out


class BenchCharger:
    """Wires the charger's machines to ``iface`` on an :class:`AsyncRuntime`."""

    def __init__(self, iface: Interface, personality: str = "abb", fault: str | None = None, seed: int = 0,
                 log: SessionLog | None = None) -> None:
        try:
            self.personality: Personality = PERSONALITIES[personality]
        except KeyError:
            raise ValueError(f"unknown personality {personality!r}; known: {', '.join(PERSONALITIES)}") from None
        self.fault = Fault.parse(fault) if fault else None
        self.iface = iface
        self.rng = random.Random(seed)
        self.log = log
        self.secc_states: list[str] = []
        self.session_seen = False
        self.session_stopped = False
        self.ports: list[Any] = []

    async def start(self) -> AsyncRuntime:
        loop = asyncio.get_running_loop()
        self.rt = rt = AsyncRuntime(self.log, loop)
        nid, nmk = random_network_key(self.rng)
        mac = self.iface.mac
        self.slac = SlacEvse(mac, nid, nmk, name="charger.slac", configure_modem=False)
        self.modem = ModemStandIn(mac)
        self.sdp = SdpServer(self.iface.link_local, self.personality.port, name="charger.sdp")
        self.injector = FaultInjector(self.fault) if self.fault is not None else None
        secc = build_charger(self.personality, self.rng, hook=self._observe, name="secc")
        assert isinstance(secc.stage, PowerStageModel)
        self.stage = BenchStage(secc.stage, BenchLoad())
        secc.stage = self.stage
        self.secc: Secc = secc
        slac_port, modem_port = PacketPort(loop, self.iface.name), PacketPort(loop, self.iface.name)
        slac_port.start()
        modem_port.start()
        udp = UdpPort(loop, sock=sdp_socket(self.iface, SDP_PORT, join=True))
        await udp.start()
        tcp = TcpServerPort(loop, "::", self.personality.port)
        await tcp.start()
        self.ports = [slac_port, modem_port, udp, tcp]
        rt.add(self.slac, {"plc": slac_port})
        rt.add(self.modem, {"plc": modem_port})
        rt.add(self.sdp, {"sdp": udp})
        rt.add(secc, {"tcp": tcp})
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
            iface=self.iface.name, address=str(self.iface.link_local), tcp_port=self.personality.port,
            slac_matched=[F.format_mac(m) for m in self.slac.matched], sdp_answered=self.sdp.answered,
            set_key_answered=self.modem.answered, v2g_requests=self.secc.requests, secc_states=self.secc_states,
            delivered_ah=self.stage.delivered_ah, wall_s=wall_s)
