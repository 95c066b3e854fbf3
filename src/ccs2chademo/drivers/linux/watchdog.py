"""systemd readiness and watchdog notifications (``Type=notify``, ``WatchdogSec=``).

Why by hand: the protocol is one datagram of ``KEY=value`` lines to the AF_UNIX socket named in
``$NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract namespace); a dependency would add more
than it saves.  Outside systemd the variable is unset and every call is a cheap no-op, so the
same ``run`` works from a shell.

The watchdog replaces the original's 5 s hardware watchdog (adapter.md §8): the kick is
scheduled on the asyncio loop at half of ``$WATCHDOG_USEC``, so a hung loop stops kicking and
systemd restarts the process — which always begins from safe outputs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)


def _address(value: str | None) -> str | None:
    if not value:
        return None
    if value.startswith("@"):
        return "\0" + value[1:]  # abstract namespace
    if value.startswith("/"):
        return value
    logger.warning("NOTIFY_SOCKET=%r is not an AF_UNIX address; systemd notifications disabled", value)
    return None


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds between kicks (half of ``WATCHDOG_USEC``), or ``None`` when no watchdog is asked
    for this process (``WATCHDOG_PID`` names another one, or the value is unusable)."""
    env = os.environ if env is None else env
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None


class SystemdNotifier:
    """Sends ``sd_notify``-style messages; ``enabled`` is false outside systemd."""

    def __init__(self, address: str | None) -> None:
        self.address = _address(address)
        self._sock: socket.socket | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SystemdNotifier:
        env = os.environ if env is None else env
        return cls(env.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *fields: str) -> bool:
        """Send ``fields`` (``"READY=1"``, ``"STATUS=…"``) as one datagram; False if not sent.

        A failure is logged, never raised: a missed notification must not stop a charge (a
        missed *watchdog* kick is what the watchdog is for)."""
        if self.address is None:
            return False
        try:
            if self._sock is None:
                # non-blocking: a full notify socket (Linux queues only max_dgram_qlen, often 10,
                # datagrams) must cost a notification, never block the event loop mid-charge
                self._sock = socket.socket(socket.AF_UNIX,
                                           socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
            self._sock.sendto("\n".join(fields).encode(), self.address)
        except OSError as exc:
            logger.warning("systemd notify %s failed: %s", fields[0] if fields else "", exc)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text.replace(chr(10), ' ')}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class Watchdog:
    """Kicks the systemd watchdog from the event loop while ``healthy()`` holds."""

    def __init__(self, notifier: SystemdNotifier, interval: float | None,
                 healthy: Callable[[], bool] = lambda: True) -> None:
        self.notifier = notifier
        self.interval = interval
        self.healthy = healthy
        self._handle: asyncio.TimerHandle | None = None
        self.kicks = 0

    @classmethod
    def from_env(cls, healthy: Callable[[], bool] = lambda: True,
                 env: Mapping[str, str] | None = None) -> Watchdog:
        return cls(SystemdNotifier.from_env(env), watchdog_interval(env), healthy)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.interval is None or not self.notifier.enabled:
            return
        self._kick(loop)

    def _kick(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.healthy():
            logger.error("not kicking the watchdog: the controller reports itself unhealthy")
            self._handle = None
            return
        if self.notifier.watchdog():
            self.kicks += 1
        assert self.interval is not None
        self._handle = loop.call_later(self.interval, self._kick, loop)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
