"""systemd notify over a real AF_UNIX datagram socket (path and abstract namespace)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccs2chademo.drivers.linux.watchdog import SystemdNotifier, Watchdog, watchdog_interval


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.settimeout(1.0)
    yield sock, path
    sock.close()


def _recv(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_ready_status_watchdog_stopping(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    n = SystemdNotifier.from_env({"NOTIFY_SOCKET": path})
    assert n.enabled
    assert n.ready("waiting for the car")
    assert _recv(sock) == ["READY=1", "STATUS=waiting for the car"]
    assert n.status("charging\n42 A")
    assert _recv(sock) == ["STATUS=charging 42 A"]
    assert n.watchdog() and _recv(sock) == ["WATCHDOG=1"]
    assert n.stopping() and _recv(sock) == ["STOPPING=1"]
    n.close()


def test_abstract_namespace() -> None:
    name = f"ccs2chademo-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(1.0)
    try:
        n = SystemdNotifier(f"@{name}")
        assert n.ready() and _recv(sock) == ["READY=1"]
        n.close()
    finally:
        sock.close()


@pytest.mark.parametrize("value", [None, "", "vsock:2:1234"])
def test_no_op_outside_systemd(value: str | None) -> None:
    n = SystemdNotifier(value)
    assert not n.enabled and not n.ready() and not n.watchdog()


def test_a_vanished_socket_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    n = SystemdNotifier(str(tmp_path / "gone"))
    assert not n.watchdog()
    assert "WATCHDOG=1 failed" in caplog.text


def test_a_full_notify_socket_costs_a_kick_never_blocks(listener: tuple[socket.socket, str],
                                                         caplog: pytest.LogCaptureFixture) -> None:
    _sock, path = listener  # nobody reads: the kernel queues only max_dgram_qlen datagrams
    n = SystemdNotifier(path)
    results = [n.watchdog() for _ in range(2000)]  # would hang on the first full queue if blocking
    assert results[0] and not all(results)
    assert "WATCHDOG=1 failed" in caplog.text


@pytest.mark.parametrize(("env", "interval"), [
    ({"WATCHDOG_USEC": "5000000"}, 2.5),
    ({"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": str(os.getpid())}, 2.5),
    ({"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
    ({"WATCHDOG_USEC": "0"}, None),
    ({"WATCHDOG_USEC": "soon"}, None),
    ({}, None),
])
def test_watchdog_interval_is_half_of_watchdog_usec(env: dict[str, str], interval: float | None) -> None:
    assert watchdog_interval(env) == interval


def test_kicks_while_the_loop_runs_and_stops_when_unhealthy(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    sock.setblocking(False)
    healthy = [True]
    dog = Watchdog.from_env(lambda: healthy[0], {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "40000"})
    assert dog.interval == 0.02

    async def scenario() -> int:
        dog.start(asyncio.get_running_loop())
        await asyncio.sleep(0.11)
        healthy[0] = False
        await asyncio.sleep(0.05)
        kicks = dog.kicks
        await asyncio.sleep(0.05)
        assert dog.kicks == kicks  # no more kicks once unhealthy
        dog.stop()
        return kicks

    kicks = asyncio.run(scenario())
    assert kicks >= 3  # ≈ 0.11 s / 0.02 s; more on a loaded machine, never fewer than a few
    received = 0
    while True:
        try:
            assert sock.recv(64) == b"WATCHDOG=1"
        except BlockingIOError:
            break
        received += 1
    assert received == kicks


def test_without_watchdog_usec_nothing_is_scheduled(listener: tuple[socket.socket, str]) -> None:
    _, path = listener
    dog = Watchdog.from_env(env={"NOTIFY_SOCKET": path})

    async def scenario() -> None:
        dog.start(asyncio.get_running_loop())
        await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert dog.kicks == 0 and dog._handle is None
