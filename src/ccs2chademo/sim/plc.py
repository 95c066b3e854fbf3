"""Wiring of a simulated charging site: hosts, their modems, the power line and TCP between them.

A :class:`PlcSite` owns the power line (one :class:`FrameMedium` every modem sits on) and builds
:class:`PlcHost` values: a host's :class:`SimNic` on its own Ethernet cable to its
:class:`SimModem`, with the modem's ``carrier`` output dropping that cable while it reboots.
TCP between two hosts is a :class:`GatedByteLink`: it connects only while both modems are up
and members of the same AVLN, which is what a real TCP SYN over HomePlug experiences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..runtime.core import LinkError, Port
from ..runtime.events import Address, Event, LinkDown, SendCan, SendData, SendFailed, SendFrame
from ..runtime.links import ByteLink, FrameMedium, Impairment
from ..runtime.virtual import VirtualRuntime
from .modem import QCA7420, SimModem
from .nic import SimNic


@dataclass
class PlcHost:
    name: str
    nic: SimNic
    modem: SimModem


class PlcSite:
    """The power line of one charging site and the hosts attached to it."""

    def __init__(self, sim: VirtualRuntime, line: Impairment | None = None, ethernet: Impairment | None = None,
                 name: str = "powerline") -> None:
        self.sim = sim
        self.line = FrameMedium(sim, name, line or Impairment(latency=0.002))
        self.ethernet = ethernet or Impairment(latency=0.0002)
        self.hosts: dict[str, PlcHost] = {}

    def add_host(self, name: str, host_mac: bytes, modem_mac: bytes, role: str = "pev",
                 attenuation: Mapping[Address, float] | None = None, firmware: tuple[str, int] = QCA7420,
                 reboot_time: float = 5.0) -> PlcHost:
        cable = FrameMedium(self.sim, f"{name}-eth", self.ethernet)
        host_station = cable.port(host_mac)
        modem_station = cable.port(f"{name}-modem")
        modem = SimModem(f"{name}-modem", modem_mac, host_mac, role=role, firmware=firmware,
                         reboot_time=reboot_time, attenuation=attenuation)

        def carrier(output: str, value: Any, now: float) -> None:
            if output == "carrier":
                host_station.enabled = bool(value)
                modem_station.enabled = bool(value)

        self.sim.add(modem, ports={"host": modem_station, "plc": self.line.port(f"{name}-modem")}, on_output=carrier)
        host = PlcHost(name, SimNic(host_station, host_mac), modem)
        self.hosts[name] = host
        return host

    def tcp(self, client: str, server: str, impairment: Impairment | None = None,
            max_chunk: int | None = None) -> GatedByteLink:
        a, b = self.hosts[client].modem, self.hosts[server].modem
        return GatedByteLink(self.sim, f"tcp-{client}-{server}", lambda: a.in_network and a.nid == b.nid,
                             impairment or Impairment(latency=0.004), max_chunk, carries=lambda: a.nid == b.nid)


class GatedByteLink(ByteLink):
    """A :class:`ByteLink` whose connect succeeds only while ``reachable()`` holds.

    Unreachable: the SYN is lost; after ``connect_timeout`` the client sees
    ``LinkDown("error: timed out")`` (the kernel would retry longer; callers time out first).
    """

    def __init__(self, sim: VirtualRuntime, name: str, reachable: Any, impairment: Impairment | None = None,
                 max_chunk: int | None = None, connect_timeout: float = 3.0, carries: Any = None) -> None:
        super().__init__(sim, name, impairment, max_chunk)
        self.reachable = reachable
        self.lose_unreachable = False
        self.connect_timeout = connect_timeout
        self.carries = carries

    def connect(self, side: int) -> None:
        if not self.connected and self.listening and not self.reachable():
            port = self.ports[0]
            self.sim.call_later(self.connect_timeout, lambda _: port.emit(LinkDown(port.link, "error: timed out")))
            return
        super().connect(side)

    def send(self, side: int, data: bytes) -> None:
        """An established connection whose path went away loses what is sent: no RST, the ends
        learn it from their timeouts (TCP would retransmit into the void).  Two ways to lose the
        path: ``carries()`` false (a modem that lost its network key in a supply glitch; the reboot
        after a SET_KEY keeps carrying, as this model always did), or, with ``lose_unreachable``
        (a charger that changes its NMK mid-session, sim/hostile.py), ``reachable()`` false —
        off by default: the short modem reboots of a CCS restart are not modelled byte by byte."""
        if self.connected and ((self.carries is not None and not self.carries())
                               or (self.lose_unreachable and not self.reachable())):
            return
        super().send(side, data)


class TcpRouter(Port):
    """A host's TCP client socket: ``open((address, port, …))`` picks the link to that listener.

    Routes are keyed by ``(address, port)``: an address nobody has, or a port nobody listens on
    at an address that exists (an SDP answer naming the wrong port), gives ``LinkDown("refused")``,
    as the RST of an unknown host or of a closed port does.
    """

    def __init__(self, sim: VirtualRuntime, routes: Mapping[tuple[str, int], Port]) -> None:
        super().__init__()
        self.sim = sim
        self.routes = dict(routes)
        self.active: Port | None = None

    def bind(self, link: str, deliver: Callable[[Event], None]) -> None:
        """The routes speak under the machine's link name too, so their events pass unchanged."""
        super().bind(link, deliver)
        for port in self.routes.values():
            port.bind(link, self._forward(port))

    def add_route(self, address: str, tcp_port: int, port: Port) -> None:
        """Another listener (a second server on a charger's host), usable at once."""
        self.routes[(address, tcp_port)] = port
        if self._deliver is not None:
            port.bind(self.link, self._forward(port))

    def _forward(self, port: Port) -> Callable[[Event], None]:
        def deliver(event: Event) -> None:
            if port is self.active:
                self.emit(event)

        return deliver

    def _later(self, event: Event) -> None:
        self.sim.call_later(0.0, lambda _: self.emit(event))

    def open(self, target: Address) -> None:
        if not isinstance(target, tuple) or len(target) < 2:
            raise LinkError(f"{self.link!r}: open needs an (address, port) target")
        port = self.routes.get((str(target[0]).split("%")[0], int(target[1])))
        if port is None:
            self._later(LinkDown(self.link, "refused"))
            return
        self.active = port
        port.open(target)

    def transmit(self, action: SendData | SendFrame | SendCan) -> None:
        if self.active is None:
            self._later(SendFailed(self.link, "not connected"))
            return
        self.active.transmit(action)

    def close(self, abort: bool) -> None:
        if self.active is not None:
            self.active.close(abort)
