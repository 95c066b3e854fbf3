"""Benchmark: the EV session in virtual time and the EV's reaction latency over real TCP.

1. Throughput — a whole session against the simulated Alpitronic with 30 minutes of
   CurrentDemand, in virtual time, for several CurrentDemand pacings: 100 ms (a Hyundai Ioniq
   polls every 90–100 ms), 30 ms (the adapter firmware's task cycle) and "at once" (the next
   request as soon as the response is in — ccs-ev.md §9 row 10; 6–11 ms per exchange with this
   charger, so ≈200 000 exchanges: measured over 5 minutes and projected).  Target: 30 simulated
   minutes in ≤ 5 s wall.
2. Reaction latency — our Evcc and Secc over kernel TCP on loopback (AsyncRuntime), the time from
   a response arriving at the EV's port to the next request being written to the socket,
   p50/p99 over the CurrentDemand loop; and, as root, the same between two network namespaces
   joined by a veth pair (the script re-runs itself inside each namespace).  Target: p99 ≤ 2 ms.

Run with ``make bench`` (or ``python bench/ev_session.py``).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from ccs2chademo.drivers.linux import iface, netns
from ccs2chademo.drivers.linux.ev_direct import stop_after_demand
from ccs2chademo.drivers.linux.net import TcpClientPort, TcpServerPort
from ccs2chademo.runtime import AsyncRuntime, DataReceived, Event, SendData
from ccs2chademo.runtime.events import SendCan, SendFrame
from ccs2chademo.sim.charger import PERSONALITIES, PowerStageModel, StageParams
from ccs2chademo.sim.ev_session import build_session, protocols_for
from ccs2chademo.v2g.evcc import Evcc, EvRequest
from ccs2chademo.v2g.messages import Schema
from ccs2chademo.v2g.secc import Secc


def throughput(interval: float, minutes: float) -> tuple[float, int, float]:
    config = replace(protocols_for(Schema.DIN), current_demand_interval=interval)
    session = build_session("alpitronic", minutes=minutes, config=config)
    start = time.perf_counter()
    result = session.run(limit=minutes * 60 + 600)
    wall = time.perf_counter() - start
    assert result.result == "completed", result.stop_reason
    return wall, result.messages // 2, result.virtual_s


class TimedClient(TcpClientPort):
    """Stamps each chunk the EV receives and each request it writes."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.received_at: float | None = None
        self.samples: list[float] = []

    def emit(self, event: Event) -> None:
        if isinstance(event, DataReceived):
            self.received_at = time.perf_counter()
        super().emit(event)

    def transmit(self, action: SendData | SendFrame | SendCan) -> None:
        super().transmit(action)
        if self.received_at is not None:
            self.samples.append(time.perf_counter() - self.received_at)
            self.received_at = None


def _charger(loop: asyncio.AbstractEventLoop, runtime: AsyncRuntime, host: str, port: int) -> TcpServerPort:
    """Our Secc with a fast power stage (0.5 s insulation test) behind a TCP server port."""
    server = TcpServerPort(loop, host, port)
    base = PERSONALITIES["alpitronic"]
    stage = PowerStageModel(StageParams(insulation_test_s=0.5, precharge_slew=2000.0), base.secc.max_current,
                            base.secc.max_power, battery=None)
    runtime.add(Secc(stage, config=base.secc), ports={"tcp": server})
    return server


async def _ev(runtime: AsyncRuntime, target: tuple[object, ...], seconds: float, scope_id: int = 0) -> list[float]:
    """Run our EV to the end of a session; the reaction times of its CurrentDemand loop."""
    loop = runtime.loop
    client = TimedClient(loop)
    client.scope_id = scope_id
    request = EvRequest(target_voltage=400.0, target_current=50.0, precharge_voltage=390.0, soc=50)
    evcc = Evcc("evcc", replace(protocols_for(Schema.DIN), secc=target, start_at=runtime.now()), request)
    runtime.add(evcc, ports={"tcp": client})

    def first_demand() -> None:  # only the CurrentDemand loop counts
        if evcc.status.current_demand:
            client.samples.clear()
        else:
            loop.call_later(0.01, first_demand)

    first_demand()
    stop_after_demand(runtime, evcc, seconds)
    await runtime.run(until=runtime.now() + 120.0, stop=lambda: evcc.status.ended)
    assert evcc.status.result == "completed", evcc.status.stop_reason
    return client.samples[:-8]  # drop the stop tail (PowerDelivery, welding, SessionStop)


async def loopback(seconds: float) -> list[float]:
    loop = asyncio.get_running_loop()
    runtime = AsyncRuntime(loop=loop)
    server = _charger(loop, runtime, "127.0.0.1", 0)
    await server.start()
    try:
        return await _ev(runtime, ("127.0.0.1", server.port), seconds)
    finally:
        server.shutdown()


async def serve(port: int, until: float) -> None:
    """The charger end of the veth measurement (run inside its namespace)."""
    loop = asyncio.get_running_loop()
    runtime = AsyncRuntime(loop=loop)
    server = _charger(loop, runtime, "::", port)
    await server.start()
    await runtime.run(until=until)
    server.shutdown()


def veth(seconds: float) -> list[float] | str:
    """EV and charger in two network namespaces joined by a veth pair; or why not."""
    reason = netns.unavailable()
    if reason:
        return reason
    me = [sys.executable, __file__]
    with netns.VethPair(prefix="evb") as pair:
        address = pair.wait_link_local(pair.ns_a, pair.if_a)
        charger = subprocess.Popen(pair.command(pair.ns_a, *me, "--serve", "15118", str(seconds + 60)))
        try:
            time.sleep(1.0)
            ev = subprocess.run(pair.command(pair.ns_b, *me, "--measure", pair.if_b, address, "15118", str(seconds)),
                                capture_output=True, text=True, timeout=seconds + 90, check=True)
        finally:
            charger.terminate()
            charger.wait(timeout=10)
    samples: list[float] = json.loads(ev.stdout.strip().splitlines()[-1])
    return samples


async def measure(ifname: str, address: str, port: int, seconds: float) -> list[float]:
    """The EV end of the veth measurement (run inside its namespace)."""
    runtime = AsyncRuntime(loop=asyncio.get_running_loop())
    scope = iface.index(ifname)
    return await _ev(runtime, (address, port, 0, scope), seconds, scope_id=scope)


def _report(name: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p50 = statistics.median(samples) * 1e3
    p99 = samples[int(len(samples) * 0.99)] * 1e3
    print(f"EV reaction latency over {name} (response in → next request written), {len(samples)} "
          f"CurrentDemand exchanges: p50 {p50:.3f} ms, p99 {p99:.3f} ms — target p99 ≤ 2 ms: "
          f"{'met' if p99 <= 2 else 'MISSED'}")


def main() -> None:
    print("EV session throughput (virtual time, simulated Alpitronic, 30 min of CurrentDemand):")
    for interval, label in ((0.1, "100 ms pacing"), (0.03, "30 ms pacing")):
        wall, exchanges, virtual = throughput(interval, 30.0)
        print(f"  {label:<14} {exchanges:>7} exchanges, {virtual:7.0f} s virtual in {wall:5.2f} s wall "
              f"({wall / exchanges * 1e6:.0f} µs per exchange) — target ≤ 5 s: {'met' if wall <= 5 else 'MISSED'}")
    wall, exchanges, virtual = throughput(0.0, 5.0)
    per = wall / exchanges
    projected = per * exchanges * 6
    print(f"  {'at once':<14} {exchanges:>7} exchanges in 5 min: {wall:5.2f} s wall ({per * 1e6:.0f} µs per "
          f"exchange); 30 min projected {projected:.1f} s — target ≤ 5 s: {'met' if projected <= 5 else 'MISSED'}")
    _report("TCP loopback", asyncio.run(loopback(8.0)))
    result = veth(8.0)
    if isinstance(result, str):
        print(f"EV reaction latency over veth: not measured ({result})")
    else:
        _report("veth between two network namespaces", result)

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        asyncio.run(serve(int(sys.argv[2]), float(sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--measure":
        print(json.dumps(asyncio.run(measure(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))))
    else:
        main()
