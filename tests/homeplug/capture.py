"""Read the reference pcapng captures with dpkt (kept small: the ``captures`` helper owns the real reader)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import dpkt

from tests.conftest import SHARED_DATA, shared_data


def all_captures() -> list[str]:
    return sorted(p.name for p in (SHARED_DATA / "captures").glob("*.pcapng"))


@cache
def frames(name: str) -> tuple[tuple[float, bytes], ...]:
    path: Path = shared_data("captures", name)
    with path.open("rb") as f:
        return tuple((float(ts), bytes(buf)) for ts, buf in dpkt.pcapng.Reader(f))


def homeplug(name: str) -> list[tuple[float, bytes]]:
    return [(t, f) for t, f in frames(name) if f[12:14] == b"\x88\xe1"]


def sdp(name: str) -> list[tuple[float, bytes]]:
    """Ethernet frames carrying IPv6/UDP to or from port 15118."""
    out = []
    for t, f in frames(name):
        if f[12:14] == b"\x86\xdd" and f[20] == 17 and 15118 in (int.from_bytes(f[54:56]), int.from_bytes(f[56:58])):
            out.append((t, f))
    return out
