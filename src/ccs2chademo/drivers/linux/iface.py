"""What the Linux drivers need to know about one network interface, and the SDP sockets on it.

Why a module of its own: SLAC needs the interface's MAC (it is the PEV's/EVSE's identity in every
MME), SDP and TCP need its IPv6 link-local address and index (the scope id of ``fe80::…%eth1``,
ccs-ev.md §16 rule 1), and both ends must wait until the kernel's duplicate address detection
has finished with that address, or the first SDP datagrams leave from "::" and the TCP bind fails.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path

IFA_F_TENTATIVE = 0x40
IFA_F_DADFAILED = 0x08
SDP_MULTICAST = "ff02::1"


class InterfaceError(OSError):
    """The interface does not exist, has no usable link-local address, or cannot be used."""


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    index: int
    mac: bytes
    link_local: ipaddress.IPv6Address


def mac_of(name: str) -> bytes:
    try:
        text = Path(f"/sys/class/net/{name}/address").read_text(encoding="ascii").strip()
    except OSError:
        raise InterfaceError(f"no network interface {name!r} (see `ip -br link`)") from None
    return bytes.fromhex(text.replace(":", ""))


def _link_local(name: str) -> tuple[ipaddress.IPv6Address, int] | None:
    """(address, flags) of the interface's link-local address from /proc/net/if_inet6."""
    try:
        lines = Path("/proc/net/if_inet6").read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) == 6 and parts[5] == name:
            address = ipaddress.IPv6Address(bytes.fromhex(parts[0]))
            if address.is_link_local:
                return address, int(parts[4], 16)
    return None


def open_interface(name: str, wait_s: float = 5.0) -> Interface:
    """The interface's identity once its link-local address is usable (DAD done), else an error."""
    mac = mac_of(name)
    index = socket.if_nametoindex(name)
    deadline = time.monotonic() + wait_s
    while True:
        found = _link_local(name)
        if found is not None and found[1] & IFA_F_DADFAILED:
            raise InterfaceError(f"{name}: duplicate address detection failed for {found[0]}")
        if found is not None and not found[1] & IFA_F_TENTATIVE:
            return Interface(name, index, mac, found[0])
        if time.monotonic() >= deadline:
            state = "tentative (DAD running)" if found else "missing (is the link up?)"
            raise InterfaceError(f"{name}: IPv6 link-local address {state} after {wait_s:g} s")
        time.sleep(0.05)


def sdp_socket(iface: Interface, port: int, join: bool) -> socket.socket:
    """A UDP/IPv6 socket for SDP on ``iface``: bound to ``port`` (0 = any), sending multicast out of
    that interface only with hop limit 1 (link scope); ``join`` adds ff02::1 for the server side
    (the kernel already delivers all-nodes traffic, the join makes the intent explicit)."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.name.encode())
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, iface.index)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        if join:
            group = socket.inet_pton(socket.AF_INET6, SDP_MULTICAST) + struct.pack("@I", iface.index)
            with contextlib.suppress(OSError):  # already a member (all-nodes): nothing to add
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, group)
            sock.bind(("::", port, 0, 0))
        else:
            sock.bind((str(iface.link_local), port, 0, iface.index))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
