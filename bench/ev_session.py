"""Benchmark: the EV session in virtual time and the EV's reaction latency over real TCP.

1. Throughput — a whole session against the simulated Alpitronic with 30 minutes of
   CurrentDemand, in virtual time, for several CurrentDemand pacings: 100 ms (a Hyundai Ioniq
   polls every 90–100 ms), 30 ms (the adapter firmware's task cycle) and "at once" (the next
   request as soon as the response is in — ccs-ev.md §9 row 10; 6–11 ms per exchange with this
   charger, so ≈200 000 exchanges: measured over 5 minutes and projected).  Target: 30 simulated
   minutes in ≤ 5 s wall.
2. Reaction latency — our Evcc and Secc over kernel TCP on loopback (AsyncRuntime), the time from
   a response arriving at the EV's port to the next request being written to the socket,
   p50/p99 over the CurrentDemand loop.  Target: p99 ≤ 2 ms.

Run with ``make bench`` (or ``python bench/ev_session.py``).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from ccs2chademo.drivers.linux.net import TcpClientPort, TcpServerPort
from ccs2chademo.runtime import AsyncRuntime, DataReceived, Event, InputChanged, SendData
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


async def latency(seconds: float) -> list[float]:
    loop = asyncio.get_running_loop()
    runtime = AsyncRuntime(loop=loop)
    server = TcpServerPort(loop, "127.0.0.1", 0)
    await server.start()
    base = PERSONALITIES["alpitronic"]
    stage = PowerStageModel(StageParams(insulation_test_s=0.5, precharge_slew=2000.0), base.secc.max_current,
                            base.secc.max_power, battery=None)
    runtime.add(Secc(stage, config=base.secc), ports={"tcp": server})
    client = TimedClient(loop)
    request = EvRequest(target_voltage=400.0, target_current=50.0, precharge_voltage=390.0, soc=50)
    evcc = Evcc("evcc", replace(protocols_for(Schema.DIN), secc=("127.0.0.1", server.port)), request)
    runtime.add(evcc, ports={"tcp": client})
    demand_started: list[float] = []

    def watch() -> None:
        if evcc.status.current_demand and not demand_started:
            demand_started.append(time.perf_counter())
            client.samples.clear()  # only the CurrentDemand loop counts
            loop.call_later(seconds, runtime.inject, "evcc", InputChanged("request", replace(request, stop=True)))
        if not evcc.status.ended:
            loop.call_later(0.05, watch)

    watch()
    await runtime.run(until=120.0, stop=lambda: evcc.status.ended)
    server.shutdown()
    assert evcc.status.result == "completed", evcc.status.stop_reason
    return client.samples[:-8]  # drop the stop tail (PowerDelivery, welding, SessionStop)


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
    samples = asyncio.run(latency(8.0))
    samples.sort()
    p50 = statistics.median(samples) * 1e3
    p99 = samples[int(len(samples) * 0.99)] * 1e3
    print(f"EV reaction latency over TCP loopback (response in → next request written), {len(samples)} "
          f"CurrentDemand exchanges: p50 {p50:.3f} ms, p99 {p99:.3f} ms — target p99 ≤ 2 ms: "
          f"{'met' if p99 <= 2 else 'MISSED'}")
    print("  (veth between network namespaces not measured: the interop netns setup is not in this branch)")


if __name__ == "__main__":
    main()
