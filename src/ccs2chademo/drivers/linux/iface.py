"""Facts about a Linux network interface, and the typed errors the Linux drivers raise.

The drivers must fail with a message a technician can act on ("interface eth1 does not exist",
"raw sockets need CAP_NET_RAW") instead of a bare ``OSError: [Errno 19]``.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path
from typing import Any


class NetDriverError(RuntimeError):
    """A Linux network port cannot be opened."""


class InterfaceNotFound(NetDriverError):
    pass


class NotPermitted(NetDriverError):
    pass


class NoLinkLocalAddress(NetDriverError):
    pass


def index(ifname: str) -> int:
    """Interface index (the IPv6 scope id); :class:`InterfaceNotFound` when there is none."""
    try:
        return socket.if_nametoindex(ifname)
    except OSError:
        raise InterfaceNotFound(f"network interface {ifname!r} does not exist") from None


def mac_address(ifname: str) -> bytes:
    index(ifname)
    try:
        text = Path(f"/sys/class/net/{ifname}/address").read_text().strip()
    except OSError as exc:
        raise InterfaceNotFound(f"cannot read the MAC address of {ifname!r}: {exc}") from None
    return bytes.fromhex(text.replace(":", ""))


def link_local_address(ifname: str) -> ipaddress.IPv6Address:
    """The interface's fe80::/10 address (from /proc/net/if_inet6)."""
    idx = index(ifname)
    try:
        lines = Path("/proc/net/if_inet6").read_text().splitlines()
    except OSError as exc:
        raise NoLinkLocalAddress(f"cannot read IPv6 addresses: {exc}") from None
    for line in lines:
        parts = line.split()
        if len(parts) >= 6 and int(parts[1], 16) == idx:
            address = ipaddress.IPv6Address(bytes.fromhex(parts[0]))
            if address.is_link_local:
                return address
    raise NoLinkLocalAddress(f"{ifname!r} has no IPv6 link-local address (is IPv6 enabled and the link up?)")


def translate(exc: OSError, what: str, ifname: str) -> NetDriverError:
    """Map the errno of a failed socket call to a typed, readable error."""
    if isinstance(exc, PermissionError) or exc.errno in (errno.EPERM, errno.EACCES):
        return NotPermitted(f"{what} on {ifname!r} not permitted: needs root or CAP_NET_RAW/CAP_NET_ADMIN")
    if exc.errno in (errno.ENODEV, errno.ENXIO):
        return InterfaceNotFound(f"network interface {ifname!r} does not exist")
    return NetDriverError(f"{what} on {ifname!r} failed: {exc}")


def with_scope(dest: Any, scope_id: int) -> Any:
    """``(host, port)`` → ``(host, port, 0, scope_id)`` when host is link-local or multicast IPv6
    and no scope id was given; other destinations are returned unchanged."""
    if not isinstance(dest, tuple) or len(dest) < 2 or not scope_id:
        return dest
    host = str(dest[0]).split("%")[0]
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        return dest
    if (address.is_link_local or address.is_multicast) and (len(dest) < 4 or not dest[3]):
        return (host, int(dest[1]), 0, scope_id)
    return dest
