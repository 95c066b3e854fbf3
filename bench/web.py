"""Benchmark: does the status page disturb the charging machines? (issue 16; needs root)

Two two-process sessions on real kernel networking (charger-sim ↔ ``ccs2chademo run --web``, a
veth pair between two network namespaces, as ``bench/run.py``), each held in CurrentDemand for
``--seconds`` (default 60) before the simulated stop button:

* **quiet** — the page is served, no client;
* **loaded** — five clients stream ``/api/stream`` (Server-Sent Events) and one floods requests
  (``/api/status``, ``/api/sessions``, refused POSTs, 404s) on 4 connections as fast as it can,
  all inside the adapter's namespace, on the page's loopback address.

The figure is the adapter's own ``can-cycle`` record (``CycleStats``): |interval − 100 ms|
between consecutive 0x109 frames handed to the CAN driver during CurrentDemand, p50/p99/max;
target p99 ≤ 5 ms with the load.  The load is bounded in count and time and targets only
127.0.0.1 inside the namespace.  ``python bench/web.py [--seconds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OUT = Path(__file__).resolve().parent.parent / "bench-out" / "web"
PORT = 8080
STREAMS = 5
FLOOD_CONNECTIONS = 4
MAX_REQUESTS = 2_000_000


async def _stream(base: str, until: float, counts: dict[str, int]) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as client:
        while time.monotonic() < until:
            try:
                async with client.get(base + "/api/stream") as r:
                    while time.monotonic() < until:
                        line = await asyncio.wait_for(r.content.readline(), 20)
                        if not line:
                            break
                        if line.startswith(b"event: status"):
                            counts["events"] += 1
            except (aiohttp.ClientError, TimeoutError):
                counts["stream_errors"] += 1
                await asyncio.sleep(0.2)


async def _flood(base: str, until: float, counts: dict[str, int]) -> None:
    import aiohttp

    paths = ("/api/status", "/api/status", "/api/sessions", "/api/files/..%2F..%2Fetc%2Fpasswd", "/")
    connector = aiohttp.TCPConnector(limit=FLOOD_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as client:
        async def one(i: int) -> None:
            n = 0
            while time.monotonic() < until and counts["requests"] < MAX_REQUESTS:
                n += 1
                try:
                    if n % 7 == 0:
                        ctx = client.post(base + "/api/stop", json={"confirm": True})  # no CSRF token: 403
                    else:
                        ctx = client.get(base + paths[n % len(paths)])
                    async with ctx as r:
                        await r.read()
                        counts[f"http_{r.status}"] = counts.get(f"http_{r.status}", 0) + 1
                except aiohttp.ClientError:
                    counts["flood_errors"] += 1
                counts["requests"] += 1

        await asyncio.gather(*(one(i) for i in range(FLOOD_CONNECTIONS)))


async def _load(seconds: float) -> dict[str, int]:
    base = f"http://127.0.0.1:{PORT}"
    until = time.monotonic() + seconds
    counts: dict[str, int] = {"events": 0, "requests": 0, "stream_errors": 0, "flood_errors": 0}
    await asyncio.gather(*(_stream(base, until, counts) for _ in range(STREAMS)), _flood(base, until, counts))
    return counts


def client_main(seconds: float) -> None:
    """Inside the adapter's namespace: the load, then one JSON line of counts."""
    print(json.dumps(asyncio.run(_load(seconds))), flush=True)


def session(name: str, seconds: float, loaded: bool) -> dict[str, Any]:
    from ccs2chademo.sim.veth_session import VethSession, wait_for

    out = OUT / name
    with VethSession(out, personality="tesla-sc", soc=20.0, stop_after_s=seconds, charger_timeout_s=seconds + 300,
                     adapter_args=("--web", f"127.0.0.1:{PORT}")) as s:
        if not wait_for(lambda: s.ccs_reached("CurrentDemand"), 120.0):
            raise RuntimeError(f"{name}: no CurrentDemand: {s.story()[-5:]}")
        counts: dict[str, int] = {}
        if loaded:
            client = subprocess.run(
                s.veth.command(s.adapter_ns, sys.executable, __file__, "--client", str(seconds - 2.0)),
                capture_output=True, text=True, timeout=seconds + 60)
            lines = client.stdout.strip().splitlines()
            if client.returncode != 0 or not lines:
                raise RuntimeError(f"the load client failed: {client.stderr[-2000:]}")
            counts = json.loads(lines[-1])
        s.wait("adapter", seconds + 120.0)
        cycle = next((r for r in reversed(s.records()) if r.get("kind") == "can-cycle"), {})
    return {"cycle": cycle, "counts": counts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of CurrentDemand per session")
    parser.add_argument("--client", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client is not None:
        client_main(args.client)
        return 0
    from bench._deploy import as_installed
    from ccs2chademo.drivers.linux.netns import unavailable

    as_installed()
    reason = unavailable()
    if reason is not None:
        print(f"bench/web.py skipped: {reason}")
        return 0
    print(f"machine load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work on the "
          "machine shows in both figures)")
    quiet = session("quiet", args.seconds, loaded=False)
    loaded = session("loaded", args.seconds, loaded=True)
    for name, result in (("0 clients", quiet), (f"{STREAMS} streaming + 1 flooding", loaded)):
        c = result["cycle"]
        if not c.get("frames"):
            print(f"{name}: no can-cycle record")
            continue
        print(f"CHAdeMO cycle jitter, {name} (n={c['frames']}): p50 ≤ {c['p50_ms']} ms, p99 ≤ {c['p99_ms']} ms, "
              f"max {c['max_ms']} ms")
    counts = loaded["counts"]
    rate = counts.get("requests", 0) / max(1.0, args.seconds - 2.0)
    print(f"load: {counts.get('requests', 0)} flood requests ({rate:.0f}/s; by status "
          f"{ {k: v for k, v in counts.items() if k.startswith('http_')} }), {counts.get('events', 0)} stream events, "
          f"errors: flood {counts.get('flood_errors', 0)}, streams {counts.get('stream_errors', 0)}")
    q99, l99 = quiet["cycle"].get("p99_ms"), loaded["cycle"].get("p99_ms")
    if q99 is not None and l99 is not None:
        print(f"p99 loaded / quiet: {l99 / max(q99, 0.1):.2f}× (target p99 ≤ 5 ms loaded) "
              f"{'OK' if l99 <= 5.0 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
