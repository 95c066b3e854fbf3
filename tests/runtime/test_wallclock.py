from __future__ import annotations

import asyncio
import contextlib

from ccs2chademo.drivers.linux.net import TcpClientPort, TcpServerPort, UdpPort
from ccs2chademo.runtime import AsyncRuntime, Event, FrameReceived, MachineBase, SendFrame

from .toys import EchoServer, PingClient


def test_request_response_over_real_loopback_tcp() -> None:
    async def scenario() -> PingClient:
        loop = asyncio.get_running_loop()
        rt = AsyncRuntime(loop=loop)
        server_port = TcpServerPort(loop, "127.0.0.1", 0)
        await server_port.start()
        server, client = EchoServer(), PingClient(("127.0.0.1", server_port.port), count=10)
        rt.add(server, {"tcp": server_port})
        rt.add(client, {"tcp": TcpClientPort(loop)})
        await rt.run(until=10.0, stop=lambda: client.state in ("done", "failed") and server.state == "listening")
        server_port.shutdown()
        return client

    client = asyncio.run(scenario())
    assert client.state == "done"
    assert client.answers == [b"pong %d" % i for i in range(1, 11)]


def test_connection_refused_is_a_link_down() -> None:
    async def scenario() -> PingClient:
        loop = asyncio.get_running_loop()
        rt = AsyncRuntime(loop=loop)
        probe = TcpServerPort(loop, "127.0.0.1", 0)
        await probe.start()
        free_port = probe.port
        probe.shutdown()
        await asyncio.sleep(0.01)
        client = PingClient(("127.0.0.1", free_port))
        rt.add(client, {"tcp": TcpClientPort(loop)})
        await rt.run(until=5.0, stop=lambda: client.state == "failed")
        return client

    assert asyncio.run(scenario()).state == "failed"


class _UdpEcho(MachineBase):
    def __init__(self, name: str, peer: object = None) -> None:
        super().__init__(name)
        self.peer = peer
        self.got: list[bytes] = []
        self.deadline: float | None = 0.0 if peer else None

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, FrameReceived):
            self.got.append(event.frame)
            if self.peer is None:
                self._emit(SendFrame("udp", b"re:" + event.frame, dest=event.source))

    def handle_timer(self, now: float) -> None:
        self._emit(SendFrame("udp", b"hello", dest=self.peer))
        self.deadline = None

    def get_timer(self) -> float | None:
        return self.deadline


def test_datagrams_over_real_loopback_udp() -> None:
    async def scenario() -> _UdpEcho:
        loop = asyncio.get_running_loop()
        rt = AsyncRuntime(loop=loop)
        sp, cp = UdpPort(loop, ("127.0.0.1", 0)), UdpPort(loop, ("127.0.0.1", 0))
        await sp.start()
        await cp.start()
        rt.add(_UdpEcho("server"), {"udp": sp})
        client = _UdpEcho("client", peer=sp.local)
        rt.add(client, {"udp": cp})
        await rt.run(until=5.0, stop=lambda: bool(client.got))
        sp.shutdown()
        cp.shutdown()
        return client

    assert asyncio.run(scenario()).got == [b"re:hello"]


class _Ticker(MachineBase):
    """Counts its timer firings (every 10 ms) and the events it receives."""

    def __init__(self) -> None:
        super().__init__("ticker", "on")
        self.ticks = 0
        self.events = 0
        self._next = 0.0

    def get_timer(self) -> float | None:
        return self._next

    def handle_timer(self, now: float) -> None:
        self.ticks += 1
        self._next = now + 0.01

    def receive(self, event: Event, now: float) -> None:
        self.events += 1


def test_close_after_a_cancelled_run_stops_timers_and_events() -> None:
    async def scenario() -> tuple[_Ticker, int]:
        loop = asyncio.get_running_loop()
        rt = AsyncRuntime(loop=loop)
        ticker = _Ticker()
        rt.add(ticker)
        task = asyncio.ensure_future(rt.run())
        await asyncio.sleep(0.1)
        task.cancel()  # a signal: run() never reaches its own cleanup
        with contextlib.suppress(asyncio.CancelledError):
            await task
        rt.close()
        ticks = ticker.ticks
        rt.inject("ticker", FrameReceived("x", b"late"))
        rt.deliver(rt.slots["ticker"], FrameReceived("x", b"late"))
        await asyncio.sleep(0.1)
        return ticker, ticks

    ticker, ticks = asyncio.run(scenario())
    assert ticks > 3
    assert ticker.ticks == ticks and ticker.events == 0
