"""Two network namespaces joined by a veth pair: a real kernel "cable" for two-process tests.

``with VethPair() as pair:`` creates namespaces ``<prefix>-<id>-a``/``-b`` and interfaces
``<id>a``/``<id>b`` (unique per run, ≤ 15 characters), moves one end into each namespace,
disables IPv6 duplicate address detection (so the link-local address is usable at once, not
"tentative" for a second), brings both ends and ``lo`` up and waits for the link-local
addresses.  Leaving the block deletes both namespaces (which deletes the veth pair), also when
the body raised.  :func:`unavailable` says why this cannot run here (not root, no ``ip``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from types import TracebackType


class NetnsError(RuntimeError):
    pass


def unavailable() -> str | None:
    """``None`` when namespaces can be made here, else the reason (for ``pytest.skip``)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and veth pairs)"
    if shutil.which("ip") is None:
        return "needs the iproute2 'ip' command (make debian-net)"
    return None


def _ip(*args: str, ns: str | None = None) -> str:
    argv = ["ip", *(["-n", ns] if ns else []), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    if done.returncode != 0:
        raise NetnsError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


@dataclass
class VethPair:
    prefix: str = "ccs"
    mac_a: str | None = None
    mac_b: str | None = None
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    created: list[str] = field(default_factory=list)

    @property
    def ns_a(self) -> str:
        return f"{self.prefix}-{self.tag}-a"

    @property
    def ns_b(self) -> str:
        return f"{self.prefix}-{self.tag}-b"

    @property
    def if_a(self) -> str:
        return f"v{self.tag}a"

    @property
    def if_b(self) -> str:
        return f"v{self.tag}b"

    def __enter__(self) -> VethPair:
        try:
            self.create()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.cleanup()

    def create(self) -> None:
        for ns in (self.ns_a, self.ns_b):
            _ip("netns", "add", ns)
            self.created.append(ns)
        _ip("link", "add", self.if_a, "netns", self.ns_a, "type", "veth", "peer", "name", self.if_b,
            "netns", self.ns_b)
        for ns, ifname, mac in ((self.ns_a, self.if_a, self.mac_a), (self.ns_b, self.if_b, self.mac_b)):
            self.sysctl(ns, f"net.ipv6.conf.{ifname}.accept_dad", "0")
            if mac:
                _ip("link", "set", ifname, "address", mac, ns=ns)
            _ip("link", "set", "lo", "up", ns=ns)
            _ip("link", "set", ifname, "up", ns=ns)
        for ns, ifname in ((self.ns_a, self.if_a), (self.ns_b, self.if_b)):
            self.wait_link_local(ns, ifname)

    def sysctl(self, ns: str, key: str, value: str) -> None:
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"{key}={value}"], capture_output=True,
                       timeout=10, check=True)

    def wait_link_local(self, ns: str, ifname: str, timeout: float = 5.0) -> str:
        end = time.monotonic() + timeout
        while True:
            out = _ip("-6", "addr", "show", "dev", ifname, "scope", "link", ns=ns)
            if "inet6 fe80" in out and "tentative" not in out:
                return out.split("inet6 ", 1)[1].split("/", 1)[0]
            if time.monotonic() > end:
                raise NetnsError(f"{ifname} in {ns} got no usable link-local address: {out!r}")
            time.sleep(0.05)

    def command(self, ns: str, *argv: str) -> list[str]:
        """``argv`` run inside namespace ``ns`` (for ``subprocess``)."""
        return ["ip", "netns", "exec", ns, *argv]

    def cleanup(self) -> None:
        for ns in reversed(self.created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10, check=False)
        self.created.clear()
