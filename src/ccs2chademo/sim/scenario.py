"""Ready-made virtual charging sites: chargers and cars with modems on one power line.

Used by tests and ``bench/homeplug.py``; later scenarios plug their own V2G machines into the
seams (``session`` of the car's :class:`PevConnection`, ``secc`` on the charger's TCP side).
With a :class:`~ccs2chademo.drivers.pcapng.PcapngWriter` every port of a host is tapped, so a
virtual session can be opened in Wireshark.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..drivers.pcapng import PcapngWriter, Tap
from ..homeplug.connection import PevConnection
from ..homeplug.slac import SlacEvse, SlacTiming, random_network_key
from ..runtime.core import Port
from ..runtime.links import ByteLink, Impairment
from ..runtime.machine import Machine
from ..runtime.virtual import VirtualRuntime
from ..v2g.discovery import SdpServer, TlsOffer
from ..v2g.ipv6 import Endpoint
from .modem import QCA7000
from .plc import PlcHost, PlcSite, TcpRouter

SDP_PORT = 15118


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


class _Recorder:
    def __init__(self, sim: VirtualRuntime, writer: PcapngWriter | None) -> None:
        self.sim = sim
        self.writer = writer

    def tap(self, port: Port, kind: str = "ethernet", local: Endpoint | None = None,
            peer: Endpoint | None = None) -> Port:
        if self.writer is None:
            return port
        return Tap(port, self.writer.write, self.sim.now, kind, local, peer)


def add_charger(sim: VirtualRuntime, site: PlcSite, name: str, n: int, tcp_port: int = 15118,
                attenuation: dict[str, float] | None = None, modem_restart: float = 8.0,
                slac: SlacEvse | None = None, pcap: PcapngWriter | None = None,
                sdp_tls: TlsOffer = TlsOffer.NONE) -> Charger:
    """A charger host (SLAC responder + SDP server announcing ``sdp_tls``) behind an EVSE-side modem."""
    host = site.add_host(name, mac(0xE0, n), mac(0xEE, n), role="evse", attenuation=attenuation, firmware=QCA7000)
    if slac is None:
        nid, nmk = random_network_key(sim.rng_for(f"{name}-key"))
        slac = SlacEvse(host.nic.mac, nid, nmk, name=f"{name}.slac", modem_restart=modem_restart)
    sdp = SdpServer(host.nic.ip, tcp_port, name=f"{name}.sdp", tls=sdp_tls)
    rec = _Recorder(sim, pcap)
    sim.add(slac, ports={"plc": rec.tap(host.nic.raw_port())})
    sim.add(sdp, ports={"sdp": rec.tap(host.nic.udp_port(SDP_PORT, hop_limit=64), "udp",
                                       Endpoint(host.nic.mac, host.nic.ip, SDP_PORT))})
    return Charger(host, slac, sdp, tcp_port)


def add_car(sim: VirtualRuntime, site: PlcSite, name: str, n: int, chargers: list[Charger],
            secc: Mapping[str, Machine], session: Machine | None = None, timing: SlacTiming | None = None,
            tcp: Impairment | None = None, max_chunk: int | None = None, start_at: float = 0.0,
            pcap: PcapngWriter | None = None) -> Car:
    """A car host with a :class:`PevConnection`; one gated TCP link per charger.

    ``secc`` maps charger names to the machine that serves TCP on that charger (link ``"tcp"``).
    The car's ``tcp`` port opens the link to whichever charger SDP announced, as the kernel's
    routing would.
    """
    host = site.add_host(name, mac(0xCA, n), mac(0xCC, n), role="pev")
    rec = _Recorder(sim, pcap)
    links = {c.host.name: site.tcp(name, c.host.name, tcp, max_chunk) for c in chargers}
    for charger in chargers:
        machine = secc.get(charger.host.name)
        if machine is not None:
            sim.add(machine, ports={"tcp": links[charger.host.name].server})
    sdp_port = 50000 + n
    me = Endpoint(host.nic.mac, host.nic.ip, 49152 + n)
    routes = {
        (str(c.host.nic.ip), c.tcp_port): rec.tap(links[c.host.name].client, "tcp", me,
                                    Endpoint(c.host.nic.mac, c.host.nic.ip, c.tcp_port))
        for c in chargers
    }
    conn = PevConnection(host.nic.mac, sim.rng_for(f"{name}-runid"), session=session, name=name, timing=timing,
                         start_at=start_at)
    sim.add(conn, ports={
        "plc": rec.tap(host.nic.raw_port()),
        "sdp": rec.tap(host.nic.udp_port(sdp_port), "udp", Endpoint(host.nic.mac, host.nic.ip, sdp_port)),
        "tcp": TcpRouter(sim, routes),
    })
    return Car(host, conn, links)
