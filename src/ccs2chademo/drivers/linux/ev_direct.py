"""Our EV session on a real interface without SLAC: SDP, then the Evcc over kernel TCP.

The "no SLAC, link already up" mode (a veth pair, a charger stack that does no SLAC such as
the ``iso15118`` package's SECC): an :class:`~ccs2chademo.v2g.discovery.SdpClient` finds the
SECC's address and port on ``ifname`` (skipped when ``secc`` is given), then the
:class:`~ccs2chademo.v2g.evcc.Evcc` connects by itself (``EvccConfig.secc``) and runs the whole
session; after ``demand_seconds`` of CurrentDemand it is asked to stop.  With a TLS client
context the SDP request asks for TLS and the Evcc runs behind a :class:`~ccs2chademo.v2g.tls.TlsLink`
(the iso15118 package's SECC serves TLS to a car that asks, docs/iso20.md "Interop").
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import replace
from typing import Any

from ...runtime.events import InputChanged
from ...runtime.wallclock import AsyncRuntime
from ...v2g.discovery import SdpClient
from ...v2g.evcc import Evcc, EvccConfig, EvRequest
from ...v2g.sdp import Security
from ...v2g.tls import TlsLink
from . import iface
from .multicast import MulticastUdpPort
from .net import TcpClientPort


def stop_after_demand(runtime: AsyncRuntime, evcc: Evcc, seconds: float, poll: float = 0.05) -> None:
    """Send ``stop`` to ``evcc`` once it has been ``seconds`` in CurrentDemand (wall clock)."""
    loop = runtime.loop
    started = False

    def watch() -> None:
        nonlocal started
        if evcc.status.current_demand and not started:
            started = True
            loop.call_later(seconds, runtime.inject, evcc.name, InputChanged("request", replace(evcc.req, stop=True)))
        if not evcc.status.ended:
            loop.call_later(poll, watch)

    watch()


async def discover(runtime: AsyncRuntime, ifname: str, timeout: float,
                   security: Security = Security.NONE) -> tuple[Any, ...] | None:
    """SDP on ``ifname`` asking for ``security``: the SECC's ``(address, port, 0, scope_id)``, or None."""
    scope = iface.index(ifname)
    udp = MulticastUdpPort(runtime.loop, ifname, 0, hop_limit=10)
    await udp.start()
    client = SdpClient(scope_id=scope, security=security)
    client.start(runtime.now())
    runtime.add(client, ports={"sdp": udp})
    try:
        await runtime.run(until=runtime.now() + timeout, stop=lambda: client.result is not None or client.failed,
                          poll=0.005)
    finally:
        udp.shutdown()
    result = client.result
    return None if result is None else (str(result.address), result.port, 0, scope)


async def run_ev_direct(ifname: str, request: EvRequest, demand_seconds: float = 5.0,
                        secc: tuple[Any, ...] | None = None, config: EvccConfig | None = None,
                        timeout: float = 180.0, tls: ssl.SSLContext | None = None) -> dict[str, Any]:
    """Run one session (over TLS with the client context ``tls``); the summary has the keys of
    ``ccs-sim --json`` plus schema and SessionID."""
    runtime = AsyncRuntime(loop=asyncio.get_running_loop())
    if secc is None:
        secc = await discover(runtime, ifname, timeout=30.0, security=Security.NONE if tls is None else Security.TLS)
        if secc is None:
            return {"result": "no-sdp-answer", "stop_reason": None, "states": [], "messages": 0, "safe_end": True}
    cfg = replace(config or EvccConfig(), mac=iface.mac_address(ifname), secc=secc, start_at=runtime.now(),
                  epoch=time.time() - runtime.now())
    evcc = Evcc("evcc", cfg, request)
    runtime.add(evcc if tls is None else TlsLink(evcc, tls, server_side=False),
                ports={"tcp": TcpClientPort(runtime.loop, scope_id=iface.index(ifname))})
    stop_after_demand(runtime, evcc, demand_seconds)
    await runtime.run(until=runtime.now() + timeout, stop=lambda: evcc.status.ended, poll=0.005)
    await asyncio.sleep(0.05)  # let the FIN go out
    status = evcc.status
    return {"result": status.result, "stop_reason": status.stop_reason, "states": evcc.states,
            "messages": evcc.sent + evcc.messages, "safe_end": status.ended and status.cp == "B"
            and not status.contactor, "schema": status.schema, "session_id": status.session_id.hex(),
            "secc": list(secc)}
