"""Two network namespaces joined by a veth pair: the kernel-networking setup of the two-process
proof (tests, ``make veth-demo``, ``bench/run.py``).

Why namespaces: the charger and the adapter must not share a host stack, or SDP multicast and
TCP would short-cut over loopback and prove nothing.  Each namespace holds one end of the veth,
with IPv6 link-local only (as on a HomePlug link) and duplicate address detection off so the
address is usable at once.  :class:`VethPair` removes both namespaces on every way out; the
names carry the creating PID so parallel test workers never collide.  Needs root and ``ip``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass


class NetnsError(RuntimeError):
    """The namespaces or the veth pair could not be set up."""


def can_use_netns() -> str | None:
    """None when this process can create namespaces, else the reason it cannot."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "the ip tool (iproute2) is missing"
    return None


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass
class VethPair:
    """``charger_ns``/``charger_if`` ↔ ``adapter_ns``/``adapter_if``; a context manager."""

    tag: str = ""

    def __post_init__(self) -> None:
        tag = self.tag or str(os.getpid())
        self.charger_ns, self.adapter_ns = f"c2c-chg-{tag}", f"c2c-ada-{tag}"
        suffix = tag[-8:]
        self.charger_if, self.adapter_if = f"veth-c{suffix}", f"veth-a{suffix}"

    def __enter__(self) -> VethPair:
        try:
            for ns in (self.charger_ns, self.adapter_ns):
                _ip("netns", "add", ns)
            _ip("link", "add", self.charger_if, "netns", self.charger_ns, "type", "veth",
                "peer", "name", self.adapter_if, "netns", self.adapter_ns)
            for ns, ifname in ((self.charger_ns, self.charger_if), (self.adapter_ns, self.adapter_if)):
                for key in ("accept_dad", "dad_transmits"):
                    _ip("netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{ifname}.{key}=0")
                _ip("-n", ns, "link", "set", "lo", "up")
                _ip("-n", ns, "link", "set", ifname, "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for ns in (self.charger_ns, self.adapter_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)

    def command(self, ns: str, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside namespace ``ns``."""
        return ["ip", "netns", "exec", ns, *argv]
