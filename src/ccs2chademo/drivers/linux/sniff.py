"""Capture every frame on one interface into a pcapng file, until SIGTERM/SIGINT.

``python -m ccs2chademo.drivers.linux.sniff IFACE OUT.pcapng`` — what the two-process proof
keeps as its artefact: the real bytes on the veth (SLAC, SDP, TCP with the kernel's own
handshake and retransmissions, neighbour discovery), not a reconstruction.  A plain AF_PACKET
``ETH_P_ALL`` socket with no filter, so it needs CAP_NET_RAW; both directions are recorded
(outgoing frames carry the comment ``tx``).
"""

from __future__ import annotations

import select
import signal
import socket
import sys
import time
from pathlib import Path

from ..pcapng import PcapngWriter
from .raweth import MAX_FRAME

ETH_P_ALL = 0x0003


def capture(iface: str, out: Path, ready: Path | None = None) -> int:
    """Record until a signal; returns the number of frames written."""
    stop = False

    def on_signal(_sig: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, ETH_P_ALL))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as stream:
        writer = PcapngWriter(stream, interface=iface)
        if ready is not None:
            ready.touch()
        while not stop:
            readable, _, _ = select.select([sock], [], [], 0.1)
            if not readable:
                continue
            frame, addr = sock.recvfrom(MAX_FRAME + 4)
            writer.write(time.time(), frame, "tx" if addr[2] == socket.PACKET_OUTGOING else None)
        writer.flush()
    sock.close()
    return writer.frames


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        sys.stderr.write("usage: python -m ccs2chademo.drivers.linux.sniff IFACE OUT.pcapng [READY-FILE]\n")
        return 2
    frames = capture(argv[0], Path(argv[1]), Path(argv[2]) if len(argv) == 3 else None)
    sys.stderr.write(f"{frames} frames captured on {argv[0]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
