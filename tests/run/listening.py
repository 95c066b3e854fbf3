"""Nothing listens by accident (issue 15, item 6): the sockets ``ccs2chademo run`` holds in its
network namespace during a session, sampled with ``ss`` every half second, are only
those its configuration asks for.  tests/run/test_veth.py samples its full session with
:class:`SocketSampler` (one session proves both, instead of a second one for this alone).

The adapter is a *car* on the CCS side: it opens connections, it serves nothing.  With
``[hardware.plc] interface = IF`` it may hold exactly

* a packet socket for HomePlug (ethertype 0x88E1, SLAC) bound to IF;
* UDP sockets bound to IF (``SO_BINDTODEVICE``) on an ephemeral port — the SDP client, which
  must receive the charger's unicast answer — never the SDP server port 15118;
* TCP sockets that are not listening (the V2G connection to the charger);
* no listening or bound Unix sockets (the systemd notification socket is a client), no raw IP
  sockets, no other packet sockets.

Anything else is reported with the offending ``ss`` line.
"""

from __future__ import annotations

import re
import subprocess
import threading

from ccs2chademo.homeplug.frames import ETHERTYPE
from ccs2chademo.sim.veth_session import VethSession
from ccs2chademo.v2g.sdp import SDP_PORT

SS = ["ss", "-H", "-a", "-n", "-p", "-t", "-u", "-w", "-x", "-0"]


def _sample(session: VethSession, pid: int) -> list[str]:
    # at low priority: ``ss -p`` walks every process's descriptors, and the session it watches
    # keeps real-time protocol timings (a CurrentDemandRes later than 1 s ends it)
    argv = ["nice", "-n", "10", *session.veth.command(session.adapter_ns, *SS)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return [" ".join(line.split()) for line in done.stdout.splitlines() if f"pid={pid}," in line]


def unasked(line: str, iface: str) -> str | None:
    """Why the socket of this ``ss`` line is not one the configuration asks for (None: it is)."""
    netid, state, _rq, _sq, local, *_ = line.split()
    if netid == "tcp":
        return "a listening TCP socket" if state == "LISTEN" else None
    if netid == "udp":
        match = re.fullmatch(r"(?:\*|\[?[0-9a-f:]*\]?)%(\S+):(\d+)", local)
        if match is None or match.group(1) != iface:
            return "a UDP socket not bound to the PLC interface"
        return "the SDP server port" if int(match.group(2)) == SDP_PORT else None
    if netid == "p_raw":
        # protocol 0 ("[0]:*"): a packet socket unhooked from every interface receives nothing —
        # the HomePlug socket shows so between socket() and bind() (drivers/linux/raweth.py opens
        # it with protocol 0) and for an instant while it is being closed
        ours = (f"[{ETHERTYPE}]:{iface}", "[0]:*")
        return None if local in ours else "a packet socket other than HomePlug on the PLC interface"
    if netid.startswith("u_"):
        return "a listening Unix socket" if state == "LISTEN" or not local.startswith("*") else None
    return f"a {netid} socket"


class SocketSampler:
    """``with SocketSampler(session):`` samples the adapter's sockets every ``every`` seconds until
    the block ends or the adapter exits; then :attr:`lines` holds every distinct ``ss`` line seen."""

    def __init__(self, session: VethSession, every: float = 0.5) -> None:
        self.session = session
        self.every = every
        self.lines: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        adapter = self.session.procs["adapter"]
        while not self._stop.is_set() and adapter.poll() is None:
            self.lines.update(_sample(self.session, adapter.pid))
            self._stop.wait(self.every)

    def __enter__(self) -> SocketSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def check(self) -> None:
        """The samples saw the session itself (the SLAC socket and the V2G connection to the
        charger), and no socket the configuration does not ask for."""
        lines, iface = self.lines, self.session.adapter_if
        assert any(line.startswith("p_raw") for line in lines), lines
        assert any(line.startswith("tcp") and "ESTAB" in line for line in lines), lines
        found = sorted(f"{why}: {line}" for line in lines if (why := unasked(line, iface)) is not None)
        assert not found, "\n".join(found)
