"""Benchmark of the TLS layer (v2g/tls.py): what a handshake costs, in memory and on a veth pair.

* **in memory**: two :class:`TlsChannel` (car and charger) wired back to back, no socket — the CPU
  cost of one whole handshake, both sides, ECDSA P-256 (the test PKI of sim/pki.py), for TLS 1.3
  and TLS 1.2 (ISO 15118-2's ECDHE-ECDSA-AES128-SHA256); best and median of N.
* **veth**: the charger end (``TlsLink`` around an idle server machine on ``TcpServerPort``) and the
  car end (``TlsLink`` around a probe on ``TcpClientPort``) in two network namespaces joined by a
  veth pair, on :class:`AsyncRuntime` — the product's drivers and runtime.  Per connection: TCP
  connect → handshake finished (``handshake``: TCP up → established, what the session waits for
  before its first request; ``total``: from ``OpenLink``).  p50/p95/p99 of N connections.  Needs root.
* **veth, peer**: the same car end against the ``iso15118`` package's TLS server configuration
  (bench/peer_tls.py in .venv-peer: its SECC's own server context on asyncio streams, our test
  PKI in its layout) — TLS 1.2 as it serves by default, TLS 1.3 with its ``ENABLE_TLS_1_3``, which
  demands the car's certificate (mutual TLS: the car end then presents the SECC leaf as a stand-in
  vehicle certificate, one more signature each way).  Its median over ours is the peer ratio.

``python bench/tls.py [--n N]`` (``make bench`` runs it); figures in docs/tls.md "Figures".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from ccs2chademo.drivers.linux import iface, netns
from ccs2chademo.drivers.linux.net import TcpClientPort, TcpServerPort
from ccs2chademo.runtime import AsyncRuntime
from ccs2chademo.runtime.events import CloseLink, Event, LinkUp, OpenLink, SendData
from ccs2chademo.runtime.machine import MachineBase
from ccs2chademo.sim.pki import SimPki, iso15118_layout, make_test_pki
from ccs2chademo.v2g.tls import TlsChannel, TlsLink, client_context, server_context

PORT = 15118
VERSIONS = {"1.3": ssl.TLSVersion.TLSv1_3, "1.2": ssl.TLSVersion.TLSv1_2}
HERE = Path(__file__).resolve().parent
PEER_PYTHON = HERE.parent / ".venv-peer" / "bin" / "python"


def in_memory(pki: SimPki, version: str, n: int) -> list[float]:
    chain, key = pki.chain()
    client, server = client_context([pki.root]), server_context(chain, key, VERSIONS[version])
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        c, s = TlsChannel(client, server_side=False), TlsChannel(server, server_side=True)
        s.start(0.0)
        c.start(0.0)
        while not (c.established and s.established):
            for src, dst in ((c, s), (s, c)):
                for action in src.actions():
                    if isinstance(action, SendData):
                        dst.feed(action.data, 0.0)
        samples.append(time.perf_counter() - t0)
    return samples


class Idle(MachineBase):
    """The charger end's inner machine: it only has to exist (the handshake is the TlsLink's)."""

    def __init__(self) -> None:
        super().__init__("secc", "idle")

    def receive(self, event: Event, now: float) -> None:
        pass

    def get_timer(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> None:
        pass


class Probe(MachineBase):
    """The car end: connect, wait for the (post-handshake) LinkUp, close, ``gap`` s, again, n times."""

    def __init__(self, target: tuple[object, ...], n: int, gap: float = 0.02) -> None:
        super().__init__("probe", "idle")
        self.target, self.n, self.gap = target, n, gap
        self.link: TlsLink | None = None
        self.opened = 0.0
        self.next_at: float | None = 0.0
        self.total: list[float] = []
        self.handshake: list[float] = []

    def get_timer(self) -> float | None:
        return self.next_at

    def handle_timer(self, now: float) -> None:
        self.next_at = None
        self.opened = now
        self._emit(OpenLink("tcp", self.target))

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, LinkUp):
            assert self.link is not None and self.link.channel is not None
            self.total.append(now - self.opened)
            self.handshake.append(now - self.link.channel.started_at)
            self._emit(CloseLink("tcp"))
            if len(self.total) < self.n:
                self.next_at = now + self.gap


async def serve(pki_dir: str, version: str, until: float) -> None:
    loop = asyncio.get_running_loop()
    runtime = AsyncRuntime(loop=loop)
    chain, key = SimPki(Path(pki_dir)).chain()
    port = TcpServerPort(loop, "::", PORT)
    await port.start()
    runtime.add(TlsLink(Idle(), server_context(chain, key, VERSIONS[version]), server_side=True), {"tcp": port})
    await runtime.run(until=until)
    port.shutdown()


async def measure(pki_dir: str, ifname: str, address: str, n: int, with_cert: bool) -> dict[str, list[float]]:
    loop = asyncio.get_running_loop()
    runtime = AsyncRuntime(loop=loop)
    scope = iface.index(ifname)
    probe = Probe((address, PORT, 0, scope), n)
    pki = SimPki(Path(pki_dir))
    context = client_context([pki.root])
    if with_cert:  # the peer's TLS 1.3 wants a car certificate: the SECC leaf stands in
        context.load_cert_chain(*pki.chain())
    probe.link = link = TlsLink(probe, context, server_side=False)
    runtime.add(link, {"tcp": TcpClientPort(loop, scope_id=scope)})
    await runtime.run(until=runtime.now() + 60.0, stop=lambda: len(probe.total) >= n, poll=0.005)
    return {"total": probe.total, "handshake": probe.handshake}


def veth(pki: SimPki, version: str, n: int, peer: bool = False) -> dict[str, list[float]] | str:
    """Time ``n`` handshakes of our car end against our charger end (or with ``peer`` the
    iso15118 package's server configuration) over a veth pair; a reason string if impossible."""
    reason = netns.unavailable()
    if reason:
        return reason
    me = [sys.executable, __file__]
    if peer:
        if not PEER_PYTHON.exists():
            return "needs .venv-peer with iso15118 0.31 (make .venv-peer)"
        layout = iso15118_layout(pki, pki.directory / "iso15118")
        serve_cmd = [str(PEER_PYTHON), str(HERE / "peer_tls.py"), str(PORT), str(layout),
                     "true" if version == "1.3" else "false", "90"]
    else:
        serve_cmd = [*me, "--serve", str(pki.directory), version, "90"]
    with netns.VethPair(prefix="tlsb") as pair:
        address = pair.wait_link_local(pair.ns_a, pair.if_a)
        server = subprocess.Popen(pair.command(pair.ns_a, *serve_cmd), stdout=subprocess.PIPE if peer else None,
                                  text=True)
        try:
            if server.stdout is not None and server.stdout.readline().strip() != "ready":
                return "the iso15118 package's TLS server did not start"
            time.sleep(1.0)
            done = subprocess.run(pair.command(pair.ns_b, *me, "--measure", str(pki.directory), pair.if_b, address,
                                               str(n), "cert" if peer and version == "1.3" else "-"),
                                  capture_output=True, text=True, timeout=120, check=True)
        finally:
            server.terminate()
            server.wait(timeout=10)
    result: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _ms(samples: list[float]) -> str:
    s = sorted(samples)

    def pct(q: float) -> float:
        return s[min(len(s) - 1, int(len(s) * q))] * 1e3

    return (f"p50 {statistics.median(s) * 1e3:.2f} ms, p95 {pct(0.95):.2f} ms, p99 {pct(0.99):.2f} ms, "
            f"best {s[0] * 1e3:.2f} ms")


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pki = make_test_pki(tmp)
        print(f"TLS handshake, ECDSA P-256 chain of 3 (root → 2 sub-CAs → SECC), {ssl.OPENSSL_VERSION}:")
        for version in ("1.3", "1.2"):
            print(f"  in memory, TLS {version}, both sides' CPU, {n} handshakes: {_ms(in_memory(pki, version, n))}")
        for version in ("1.3", "1.2"):
            ours = veth(pki, version, n)
            if isinstance(ours, str):
                print(f"  veth, TLS {version}: not measured ({ours})")
                continue
            print(f"  veth, TLS {version}, {n} connections: TCP up → established {_ms(ours['handshake'])}; "
                  f"connect → established {_ms(ours['total'])}")
            peer = veth(pki, version, n, peer=True)
            if isinstance(peer, str):
                print(f"  veth, TLS {version}, iso15118 package's server: not measured ({peer})")
                continue
            mutual = " (mutual TLS: its ENABLE_TLS_1_3)" if version == "1.3" else ""
            ratio = statistics.median(peer["handshake"]) / statistics.median(ours["handshake"])
            print(f"  veth, TLS {version}, iso15118 package's server{mutual}: TCP up → established "
                  f"{_ms(peer['handshake'])}; peer/ours (p50) {ratio:.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        asyncio.run(serve(sys.argv[2], sys.argv[3], float(sys.argv[4])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--measure":
        print(json.dumps(asyncio.run(measure(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]),
                                             sys.argv[6] == "cert"))))
    else:
        parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        parser.add_argument("--n", type=int, default=200, help="handshakes per figure")
        main(parser.parse_args().n)
