"""Benchmark: events per second of the virtual-time scheduler vs an idle asyncio loop.

10 periodic machines (100 ms) plus a ping/pong pair over a virtual byte link, run for a stretch
of virtual time; the reference is asyncio doing the same number of ticks with ``sleep(0)``.
Run with ``make bench`` (or ``python bench/runtime.py``).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ccs2chademo.runtime import ByteLink, Impairment, VirtualRuntime
from tests.runtime.toys import EchoServer, PingClient, Ticker

VIRTUAL_SECONDS = 600.0


def virtual() -> tuple[int, float]:
    sim = VirtualRuntime(seed=1)
    for i in range(10):
        sim.add(Ticker(f"tick{i}", 0.1))
    link = ByteLink(sim, "tcp", Impairment(latency=0.001))
    sim.add(EchoServer(), {"tcp": link.server})
    client = PingClient(None, count=10**9, timeout=5.0)
    sim.add(client, {"tcp": link.client})
    start = time.perf_counter()
    sim.run(until=VIRTUAL_SECONDS)
    return sim.events_run, time.perf_counter() - start


def asyncio_reference(ticks: int) -> float:
    async def worker(n: int) -> None:
        for _ in range(n):
            await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(*(worker(ticks // 10) for _ in range(10)))

    start = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - start


def main() -> None:
    events, wall = virtual()
    ref = asyncio_reference(events)
    ours, theirs = events / wall, events / ref
    print(f"virtual scheduler: {events} events in {wall:.3f} s = {ours:,.0f} events/s "
          f"({VIRTUAL_SECONDS:.0f} virtual s, {VIRTUAL_SECONDS / wall:,.0f}x real time)")
    print(f"asyncio sleep(0):  {events} ticks  in {ref:.3f} s = {theirs:,.0f} ticks/s")
    print(f"ratio (ours / asyncio idle loop): {ours / theirs:.2f}")
    # a 30-minute charge: ~100 000 message exchanges (2 deliveries + 2 timer events each)
    budget = 400_000 / ours
    print(f"scheduler overhead for a 30-min charge (~400 000 events): {budget:.2f} s of the 5 s budget")


if __name__ == "__main__":
    main()
