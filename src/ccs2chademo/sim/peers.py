"""The car and the charger side of SLAC → SDP → TCP on a real Linux interface (AsyncRuntime).

Used by ``ccs2chademo homeplug pev|evse`` and the two-process veth test/benchmark.  Without a
HomePlug modem (a veth pair) the charger side also runs a :class:`ModemStandIn` that answers
the car's SET_KEY.REQ the way the car's own modem would; with real modems leave it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..drivers.linux import iface
from ..drivers.linux.multicast import MulticastUdpPort
from ..drivers.linux.net import TcpClientPort, TcpServerPort
from ..drivers.linux.raweth import RawEthernetPort
from ..drivers.pcapng import PcapngWriter, Tap
from ..homeplug.connection import PevConnection
from ..homeplug.frames import format_mac
from ..homeplug.slac import SlacEvse, random_network_key
from ..runtime.core import Port
from ..runtime.wallclock import AsyncRuntime
from ..v2g.discovery import SdpServer
from ..v2g.ipv6 import Endpoint
from ..v2g.loopback import FixedResponder, OneShotRequester
from ..v2g.sdp import SDP_PORT
from .modem import ModemStandIn


class _Taps:
    """Wraps ports in pcapng taps when a capture file was asked for."""

    def __init__(self, rt: AsyncRuntime, writer: PcapngWriter | None, mac: bytes, ifname: str) -> None:
        self.rt = rt
        self.writer = writer
        self.mac = mac
        self.ifname = ifname

    def __call__(self, port: Port, kind: str = "ethernet", local_port: int = 0) -> Port:
        if self.writer is None:
            return port
        local = None
        if kind != "ethernet":
            local = Endpoint(self.mac, iface.link_local_address(self.ifname), local_port)
        return Tap(port, self.writer.write, self.rt.now, kind, local)


@contextlib.contextmanager
def _capture(path: Path | None, rt: AsyncRuntime) -> Iterator[PcapngWriter | None]:
    if path is None:
        yield None
        return
    with path.open("wb") as stream:
        writer = PcapngWriter(stream, epoch=time.time() - rt.now())
        try:
            yield writer
        finally:
            writer.flush()


async def run_evse(ifname: str, tcp_port: int = 51111, timeout: float = 60.0, modem_standin: bool = True,
                   sessions: int = 1, on_ready: Callable[[dict[str, Any]], None] | None = None,
                   pcap: Path | None = None) -> dict[str, Any]:
    """Serve SLAC, SDP and TCP until ``sessions`` TCP sessions have ended (or ``timeout``)."""
    loop = asyncio.get_running_loop()
    mac = iface.mac_address(ifname)
    address = iface.link_local_address(ifname)
    rt = AsyncRuntime(loop=loop)
    with _capture(pcap, rt) as writer:
        return await _serve(rt, _Taps(rt, writer, mac, ifname), ifname, mac, address, tcp_port, timeout,
                            modem_standin, sessions, on_ready)


async def _serve(rt: AsyncRuntime, tap: _Taps, ifname: str, mac: bytes, address: Any, tcp_port: int,
                 timeout: float, modem_standin: bool, sessions: int,
                 on_ready: Callable[[dict[str, Any]], None] | None) -> dict[str, Any]:
    loop = rt.loop
    nid, nmk = random_network_key(random.Random())
    slac = SlacEvse(mac, nid, nmk, configure_modem=False)
    raw = RawEthernetPort(loop, ifname)
    raw.start()
    ports: list[Any] = [raw]
    udp = MulticastUdpPort(loop, ifname, SDP_PORT, hop_limit=64)
    await udp.start()
    tcp = TcpServerPort(loop, "::", tcp_port)
    await tcp.start()
    ports += [udp, tcp]
    secc = FixedResponder()
    rt.add(slac, ports={"plc": tap(raw)})
    if modem_standin:
        standin_port = RawEthernetPort(loop, ifname)
        standin_port.start()
        ports.append(standin_port)
        rt.add(ModemStandIn(b"\x02\xb0\x52" + mac[3:], mac), ports={"plc": standin_port})
    rt.add(SdpServer(address, tcp.port), ports={"sdp": tap(udp, "udp", SDP_PORT)})
    rt.add(secc, ports={"tcp": tap(tcp, "tcp", tcp.port)})
    if on_ready is not None:
        on_ready({"ready": True, "mac": format_mac(mac), "address": str(address), "port": tcp.port})
    try:
        await rt.run(until=timeout, stop=lambda: secc.sessions_ended >= sessions, poll=0.005)
    finally:
        for port in ports:
            port.shutdown()
    return {"sessions": secc.sessions_ended, "matched": [format_mac(m) for m in slac.matched],
            "received": len(secc.received), "nid": nid.hex()}


async def run_pev(ifname: str, timeout: float = 60.0, pcap: Path | None = None) -> dict[str, Any]:
    """Pair, discover, connect, send one SupportedAppProtocolReq, close with FIN."""
    loop = asyncio.get_running_loop()
    mac = iface.mac_address(ifname)
    rt = AsyncRuntime(loop=loop)
    with _capture(pcap, rt) as writer:
        return await _connect(rt, _Taps(rt, writer, mac, ifname), ifname, mac, timeout)


async def _connect(rt: AsyncRuntime, tap: _Taps, ifname: str, mac: bytes, timeout: float) -> dict[str, Any]:
    loop = rt.loop
    scope = iface.index(ifname)
    raw = RawEthernetPort(loop, ifname)
    raw.start()
    udp = MulticastUdpPort(loop, ifname, 0, hop_limit=10)
    await udp.start()
    tcp = TcpClientPort(loop, scope_id=scope)
    session = OneShotRequester(close_after=True)
    conn = PevConnection(mac, random.Random(), session=session, scope_id=scope)
    wall0, cpu0 = time.monotonic(), time.process_time()
    local_port = 49152 + random.randrange(16384)  # the kernel's is unknown to the tap; cosmetic
    rt.add(conn, ports={"plc": tap(raw), "sdp": tap(udp, "udp", udp.local[1] if udp.local else 0),
                        "tcp": tap(tcp, "tcp", local_port)})
    try:
        await rt.run(until=timeout, stop=lambda: conn.state == "finished", poll=0.005)
        await asyncio.sleep(0.05)  # let the FIN go out
    finally:
        raw.shutdown()
        udp.shutdown()
    slac, sdp = conn.slac_result, conn.sdp_result
    return {
        "ok": conn.state == "finished" and bool(session.answers),
        "state": conn.state,
        "milestones": {k: round(v, 4) for k, v in conn.milestones.items()},
        "slac_attempts": conn.slac.attempts,
        "evse_mac": format_mac(slac.evse_mac) if slac else None,
        "nid": slac.nid.hex() if slac else None,
        "sdp": {"address": str(sdp.address), "port": sdp.port, "requests": conn.sdp.sent} if sdp else None,
        "connected_at": conn.connected_at,
        "answer": session.answers[0][1].hex() if session.answers else None,
        "wall": round(time.monotonic() - wall0, 4),
        "cpu": round(time.process_time() - cpu0, 4),
    }
