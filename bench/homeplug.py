"""Benchmark: power-on → TCP connected (virtual time and veth), and CPU per 1000 MMEs parsed.

1. Virtual time with the spec timings (30 ms SLAC cycle, 0.9 s before MATCH.REQ, ≈5 s modem
   reboot after SET_KEY, SDP every 0.5 s): the charger is powered at t = 0 (its own modem
   restarts for 8 s), the car at t = 10 s; we report virtual seconds from the car's power-on to
   TCP connected, with the wall time the simulation took.  Nothing is shortened.
2. The same on a real veth pair between two network namespaces, two processes (root only).
   There is no modem on a veth, so there is no 5 s reboot: SLAC + SDP + TCP only.
3. CPU time per 1000 HomePlug frames decoded (every frame of the reference captures, cycled)
   and per 1000 SDP responses decoded.

Run with ``make bench`` (or ``python bench/homeplug.py``).
"""

from __future__ import annotations

import ipaddress
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dpkt

from ccs2chademo.drivers.linux.netns import VethPair, unavailable
from ccs2chademo.homeplug import frames as F
from ccs2chademo.runtime import Impairment, VirtualRuntime
from ccs2chademo.sim.plc import PlcSite
from ccs2chademo.sim.scenario import add_car, add_charger
from ccs2chademo.v2g import sdp
from ccs2chademo.v2g.loopback import FixedResponder, OneShotRequester

CAPTURES = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "captures"
POWER_ON = 10.0


def virtual(seed: int) -> tuple[dict[str, float], float]:
    sim = VirtualRuntime(seed=seed)
    site = PlcSite(sim, line=Impairment(latency=0.003, jitter=0.004))
    charger = add_charger(sim, site, "charger", 1, tcp_port=51111)
    evcc = OneShotRequester()
    car = add_car(sim, site, "car", 1, [charger], {"charger": FixedResponder()}, session=evcc, start_at=POWER_ON)
    wall = time.perf_counter()
    sim.run(until=120, stop=lambda: bool(evcc.answers))
    wall = time.perf_counter() - wall
    m = car.connection.milestones
    return {k: v - POWER_ON for k, v in m.items()}, wall


def veth() -> dict[str, object] | str:
    reason = unavailable()
    if reason:
        return f"skipped: {reason}"
    cli = [sys.executable, "-m", "ccs2chademo", "homeplug"]
    with VethPair(prefix="hpbench") as pair:
        evse = subprocess.Popen(pair.command(pair.ns_a, *cli, "evse", "--iface", pair.if_a, "--timeout", "40"),
                                stdout=subprocess.PIPE, text=True)
        try:
            assert evse.stdout is not None
            evse.stdout.readline()
            done = subprocess.run(pair.command(pair.ns_b, *cli, "pev", "--iface", pair.if_b, "--timeout", "40"),
                                  capture_output=True, text=True, timeout=60, check=False)
            evse.wait(timeout=20)
        finally:
            if evse.poll() is None:
                evse.kill()
                evse.wait()
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def parse_cost() -> tuple[float, float, int]:
    frames = []
    for path in sorted(CAPTURES.glob("*.pcapng")):
        with path.open("rb") as f:
            frames += [bytes(b) for _, b in dpkt.pcapng.Reader(f) if bytes(b[12:14]) == b"\x88\xe1"]
    n = 20_000
    batch = (frames * (n // len(frames) + 1))[:n]
    cpu = time.process_time()
    for frame in batch:
        F.decode(frame)
    mme = (time.process_time() - cpu) / n * 1000
    response = sdp.SdpResponse(ipaddress.IPv6Address("fe80::1"), 51111).encode()
    cpu = time.process_time()
    for _ in range(n):
        sdp.decode_response(response)
    sdp_cost = (time.process_time() - cpu) / n * 1000
    return mme, sdp_cost, len(frames)


def main() -> None:
    runs = [virtual(seed) for seed in range(5)]
    connected = [m["connected"] for m, _ in runs]
    first = runs[0][0]
    print("virtual time, car power-on → milestone (spec timings, 5 seeds, seed 0 shown):")
    for name in ("modem", "slac", "sdp", "connecting", "connected"):
        print(f"  {name:<11} {first[name]:7.3f} s")
    print(f"  connected: median {statistics.median(connected):.3f} s, min {min(connected):.3f}, "
          f"max {max(connected):.3f}; wall per run {statistics.median(w for _, w in runs) * 1000:.1f} ms")
    result = veth()
    if isinstance(result, str):
        print(f"veth two-process run: {result}")
    else:
        m = result["milestones"]
        assert isinstance(m, dict)
        print(f"veth two-process run (no modem, so no reboot): ok={result['ok']}, SLAC {m['sdp'] - m['slac']:.3f} s,"
              f" SDP {m['connecting'] - m['sdp']:.4f} s, TCP connect {m['connected'] - m['connecting']:.4f} s, "
              f"power-on → connected {m['connected']:.3f} s, process wall {result['wall']} s, cpu {result['cpu']} s")
    mme, sdp_cost, count = parse_cost()
    print(f"CPU per 1000 HomePlug frames decoded: {mme * 1000:.2f} ms ({count} capture frames cycled); "
          f"per 1000 SDP responses: {sdp_cost * 1000:.2f} ms")


if __name__ == "__main__":
    main()
