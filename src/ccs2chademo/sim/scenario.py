"""Ready-made virtual charging sites: chargers and cars with modems on one power line.

Used by tests and ``bench/homeplug.py``; later scenarios plug their own V2G machines into the
seams (``session`` of the car's :class:`PevConnection`, ``secc`` on the charger's TCP side).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..homeplug.connection import PevConnection
from ..homeplug.slac import SlacEvse, SlacTiming, random_network_key
from ..runtime.links import ByteLink, Impairment
from ..runtime.machine import Machine
from ..runtime.virtual import VirtualRuntime
from ..v2g.discovery import SdpServer
from .modem import QCA7000
from .plc import PlcHost, PlcSite, TcpRouter


@dataclass
class Charger:
    host: PlcHost
    slac: SlacEvse
    sdp: SdpServer
    tcp_port: int


@dataclass
class Car:
    host: PlcHost
    connection: PevConnection
    tcp: Mapping[str, ByteLink]


def mac(prefix: int, n: int) -> bytes:
    return bytes([0x02, 0x00, 0x00, 0x00, prefix, n])


def add_charger(sim: VirtualRuntime, site: PlcSite, name: str, n: int, tcp_port: int = 15118,
                attenuation: dict[str, float] | None = None, modem_restart: float = 8.0) -> Charger:
    """A charger host (SLAC responder + SDP server) behind an EVSE-side modem."""
    host = site.add_host(name, mac(0xE0, n), mac(0xEE, n), role="evse", attenuation=attenuation, firmware=QCA7000)
    nid, nmk = random_network_key(sim.rng_for(f"{name}-key"))
    slac = SlacEvse(host.nic.mac, nid, nmk, name=f"{name}.slac", modem_restart=modem_restart)
    sdp = SdpServer(host.nic.ip, tcp_port, name=f"{name}.sdp")
    sim.add(slac, ports={"plc": host.nic.raw_port()})
    sim.add(sdp, ports={"sdp": host.nic.udp_port(15118, hop_limit=64)})
    return Charger(host, slac, sdp, tcp_port)


def add_car(sim: VirtualRuntime, site: PlcSite, name: str, n: int, chargers: list[Charger],
            secc: dict[str, Machine], session: Machine | None = None, timing: SlacTiming | None = None,
            tcp: Impairment | None = None, max_chunk: int | None = None) -> Car:
    """A car host with a :class:`PevConnection`; one gated TCP link per charger.

    ``secc`` maps charger names to the machine that serves TCP on that charger (link ``"tcp"``).
    The car's ``tcp`` port is the link to the charger that SDP announced: a small router picks
    it by the announced address, as the kernel would.
    """
    host = site.add_host(name, mac(0xCA, n), mac(0xCC, n), role="pev")
    links = {c.host.name: site.tcp(name, c.host.name, tcp, max_chunk) for c in chargers}
    for charger in chargers:
        machine = secc.get(charger.host.name)
        if machine is not None:
            sim.add(machine, ports={"tcp": links[charger.host.name].server})
    conn = PevConnection(host.nic.mac, sim.rng_for(f"{name}-runid"), session=session, name=name, timing=timing)
    router = TcpRouter(sim, {str(c.host.nic.ip): links[c.host.name] for c in chargers})
    sim.add(conn, ports={"plc": host.nic.raw_port(), "sdp": host.nic.udp_port(50000 + n), "tcp": router})
    return Car(host, conn, links)
