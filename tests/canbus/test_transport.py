"""The python-can transport in an AsyncRuntime: receive, send order under load, transmit errors."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import can
import pytest
from can.interfaces.virtual import VirtualBus

from ccs2chademo.drivers.can import CanBusConfig, CanPort
from ccs2chademo.runtime import AsyncRuntime, CanFrame, CanReceived, Event, MachineBase, SendCan, SendFailed

#: What a CHAdeMO charger (V2X mode) emits each 100 ms cycle, in this order (chademo.md §2).
CYCLE = (0x108, 0x109, 0x118, 0x208, 0x209)
_channels = itertools.count()


class Cycler(MachineBase):
    """Emits the five charger frames every ``period``; the cycle number is in bytes 0–1."""

    def __init__(self, cycles: int, period: float = 0.1) -> None:
        super().__init__("charger", "running")
        self.cycles = cycles
        self.period = period
        self.sent = 0
        self.failed: list[str] = []

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, SendFailed):
            self.failed.append(event.reason)

    def handle_timer(self, now: float) -> None:
        for frame_id in CYCLE:
            self._emit(SendCan("can", CanFrame(frame_id, self.sent.to_bytes(2, "little") + bytes(6))))
        self.sent += 1

    def get_timer(self) -> float | None:
        return self.sent * self.period if self.sent < self.cycles else None


class Recorder(MachineBase):
    def __init__(self) -> None:
        super().__init__("car", "listening")
        self.cycle_frames: list[tuple[int, int]] = []
        self.others = 0

    def receive(self, event: Event, now: float) -> None:
        assert isinstance(event, CanReceived)
        if event.frame.arbitration_id in CYCLE:
            self.cycle_frames.append((event.frame.arbitration_id, int.from_bytes(event.frame.data[:2], "little")))
        else:
            self.others += 1

    def handle_timer(self, now: float) -> None:
        pass

    def get_timer(self) -> None:
        return None


def _expected(cycles: int) -> list[tuple[int, int]]:
    return [(frame_id, n) for n in range(cycles) for frame_id in CYCLE]


def _flood(channel: str, interface: str, stop: threading.Event, per_ms: int, **options: object) -> None:
    """A third node flooding the bus (``per_ms`` frames per millisecond, error frames too)."""
    with can.Bus(interface=interface, channel=channel, **options) as bus:
        ids = itertools.cycle(range(0x300, 0x380))
        while not stop.is_set():
            for _ in range(per_ms):
                bus.send(can.Message(arbitration_id=next(ids), data=bytes(8), is_extended_id=False))
            bus.send(can.Message(is_error_frame=True))
            time.sleep(0.001)


def _session(make_bus: Callable[[], can.BusABC], cycles: int, flood: Callable[[threading.Event], None] | None = None,
             **port_options: object) -> tuple[Cycler, Recorder, int]:
    async def scenario() -> tuple[Cycler, Recorder, int]:
        loop = asyncio.get_running_loop()
        rt = AsyncRuntime(loop=loop)
        tx = CanPort(make_bus(), loop, **port_options)  # type: ignore[arg-type]
        rx = CanPort(make_bus(), loop)
        rx.start()
        tx.start()
        stop = threading.Event()
        flooder = threading.Thread(target=flood, args=(stop,), daemon=True) if flood else None
        if flooder:
            flooder.start()
            await asyncio.sleep(0.05)
        try:
            charger, car = Cycler(cycles), Recorder()
            rt.add(car, {"can": rx})
            rt.add(charger, {"can": tx})
            done = lambda: charger.sent == cycles and len(car.cycle_frames) + len(charger.failed) >= 5 * cycles  # noqa: E731
            await rt.run(until=cycles * 0.1 + 3.0, stop=done)
            await asyncio.sleep(0.05)
            queued = tx.queued
        finally:
            stop.set()
            if flooder:
                flooder.join()
            tx.shutdown()
            rx.shutdown()
        return charger, car, queued

    return asyncio.run(scenario())


def test_bursts_keep_their_order_under_a_flood_from_a_third_node() -> None:
    channel = f"order-{next(_channels)}"
    charger, car, _ = _session(lambda: CanBusConfig(channel=channel).open(), cycles=10,
                               flood=lambda stop: _flood(channel, "virtual", stop, per_ms=20))
    assert car.cycle_frames == _expected(10)
    assert car.others > 1000  # the flood really reached the car's port (error frames are not delivered)
    assert charger.failed == []


class _BusyBus(VirtualBus):  # type: ignore[misc]
    """A controller whose transmit queue is full on the first two attempts of every other frame."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.attempts = 0
        self._rejects = self._pattern()

    @staticmethod
    def _pattern() -> Iterator[bool]:
        while True:
            yield from (True, True, False, False)  # frame A: 2 rejections then sent; frame B: sent

    def send(self, msg: can.Message, timeout: float | None = None) -> None:
        self.attempts += 1
        if next(self._rejects):
            raise can.CanOperationError("Transmit buffer full")
        super().send(msg, timeout)


def test_full_controller_queue_is_waited_for_without_reordering() -> None:
    channel = f"busy-{next(_channels)}"
    buses: list[can.BusABC] = []

    def make_bus() -> can.BusABC:
        bus = _BusyBus(channel=channel) if not buses else VirtualBus(channel=channel)
        buses.append(bus)
        return bus

    charger, car, queued = _session(make_bus, cycles=6)
    assert car.cycle_frames == _expected(6)
    assert charger.failed == [] and queued == 0
    assert buses[0].attempts > 5 * 6  # the retries happened


class _DeadBus(VirtualBus):  # type: ignore[misc]
    def send(self, msg: can.Message, timeout: float | None = None) -> None:
        raise can.CanOperationError("Failed to transmit: Network is down")


def test_transmit_errors_are_logged_and_reported_as_send_failed(caplog: pytest.LogCaptureFixture) -> None:
    channel = f"dead-{next(_channels)}"
    made: list[can.BusABC] = []

    def make_bus() -> can.BusABC:
        made.append(_DeadBus(channel=channel) if not made else VirtualBus(channel=channel))
        return made[-1]

    charger, car, queued = _session(make_bus, cycles=3)
    assert car.cycle_frames == []
    assert [reason.split(":")[0] for reason in charger.failed] == [f"0x{i:03x}" for i in CYCLE] * 3
    assert all("Network is down" in reason for reason in charger.failed)
    assert queued == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "not sent" in r.message]
    assert len(warnings) == 1  # the first failure, not a flood


def test_queue_is_bounded_and_drops_the_oldest_waiting_frame() -> None:
    channel = f"full-{next(_channels)}"
    made: list[can.BusABC] = []

    def make_bus() -> can.BusABC:
        made.append(_DeadBus(channel=channel) if not made else VirtualBus(channel=channel))
        return made[-1]

    charger, _, _ = _session(make_bus, cycles=1, max_queue=2, send_timeout=0.05)
    reasons = [(r.split(":")[0], "queue full" in r) for r in charger.failed]
    # all five are queued in one dispatch (the sender task has not run yet): 0x118 pushes out
    # 0x108, 0x208 pushes out 0x109, 0x209 pushes out 0x118; 0x208 and 0x209 fail on the bus
    assert reasons == [("0x108", True), ("0x109", True), ("0x118", True), ("0x208", False), ("0x209", False)]


def test_port_from_config() -> None:
    async def scenario() -> CanPort:
        config = CanBusConfig(channel=f"cfg-{next(_channels)}", send_timeout=0.02, max_queue=5)
        port = CanPort.from_config(config, asyncio.get_running_loop())
        port.shutdown()
        return port

    port = asyncio.run(scenario())
    assert isinstance(port.bus, VirtualBus) and (port.send_timeout, port.max_queue) == (0.02, 5)


def test_udp_multicast_keeps_order() -> None:
    pytest.importorskip("msgpack", reason="python-can's udp_multicast interface needs msgpack (not installed)")
    # a group and port of this process only, so that parallel test runs do not hear each other
    pid = os.getpid()
    config = CanBusConfig(interface="udp_multicast", channel=f"239.74.{pid >> 8 & 0xFF}.{pid & 0xFF}",
                          options={"port": 40000 + pid % 20000})
    try:
        config.open().shutdown()
    except (OSError, can.CanError) as exc:
        pytest.skip(f"udp_multicast unavailable in this sandbox: {exc}")
    _, car, _ = _session(config.open, cycles=5)
    assert car.cycle_frames == _expected(5)


def _vcan() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("vcan needs root and iproute2")
    name = f"vcct{os.getpid() % 10000}"
    made = subprocess.run(["ip", "link", "add", "dev", name, "type", "vcan"], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"no vcan in this kernel: {made.stderr.strip()}")
    try:
        subprocess.run(["ip", "link", "set", "up", name], check=True)
        yield name
    finally:
        subprocess.run(["ip", "link", "del", name], check=False)


vcan = pytest.fixture(_vcan)


@pytest.mark.root
def test_socketcan_vcan_keeps_order_under_flood(vcan: str) -> None:
    charger, car, _ = _session(lambda: CanBusConfig(interface="socketcan", channel=vcan).open(), cycles=10,
                               flood=lambda stop: _flood(vcan, "socketcan", stop, per_ms=4))
    assert car.cycle_frames == _expected(10)
    assert charger.failed == []
