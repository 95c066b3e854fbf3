"""Nothing listens by accident (issue 15, item 6): the sockets ``ccs2chademo run`` holds in its
network namespace during a session, sampled with ``ss`` every few hundred milliseconds, are only
those its configuration asks for.

The adapter is a *car* on the CCS side: it opens connections, it serves nothing.  With
``[hardware.plc] interface = IF`` it may hold exactly

* a packet socket for HomePlug (ethertype 0x88E1, SLAC) bound to IF;
* UDP sockets bound to IF (``SO_BINDTODEVICE``) on an ephemeral port — the SDP client, which
  must receive the charger's unicast answer — never the SDP server port 15118;
* TCP sockets that are not listening (the V2G connection to the charger);
* no listening or bound Unix sockets (the systemd notification socket is a client), no raw IP
  sockets, no other packet sockets.

Anything else fails the test with the offending ``ss`` line.
"""

from __future__ import annotations

import re
import subprocess
import threading

import pytest

from ccs2chademo.homeplug.frames import ETHERTYPE
from ccs2chademo.sim.veth_session import VethSession
from ccs2chademo.v2g.sdp import SDP_PORT

from .helpers import artifacts, needs_netns

pytestmark = needs_netns

SS = ["ss", "-H", "-a", "-n", "-p", "-t", "-u", "-w", "-x", "-0"]


def _sample(session: VethSession, pid: int) -> list[str]:
    done = subprocess.run(session.veth.command(session.adapter_ns, *SS), capture_output=True, text=True, check=False)
    return [" ".join(line.split()) for line in done.stdout.splitlines() if f"pid={pid}," in line]


def _unasked(line: str, iface: str) -> str | None:
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
        # the kernel shows the HomePlug socket so for an instant while it is being closed
        ours = (f"[{ETHERTYPE}]:{iface}", "[0]:*")
        return None if local in ours else "a packet socket other than HomePlug on the PLC interface"
    if netid.startswith("u_"):
        return "a listening Unix socket" if state == "LISTEN" or not local.startswith("*") else None
    return f"a {netid} socket"


@pytest.mark.slow
def test_run_listens_on_nothing_it_was_not_asked_for(request: pytest.FixtureRequest) -> None:
    lines: set[str] = set()
    with VethSession(artifacts(request), stop_after_s=5.0) as session:
        adapter = session.procs["adapter"]
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set() and adapter.poll() is None:
                lines.update(_sample(session, adapter.pid))
                stop.wait(0.3)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        result = session.wait("adapter", 90.0)
        stop.set()
        poller.join(5.0)
        session.wait("charger", 30.0)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = result.summary()
    assert summary is not None and "CurrentDemand" in summary["ccs_states"], summary
    iface = session.adapter_if
    # the samples saw the session itself: the SLAC socket and the V2G connection to the charger
    assert any(line.startswith("p_raw") for line in lines), lines
    assert any(line.startswith("tcp") and "ESTAB" in line for line in lines), lines
    unasked = sorted(f"{why}: {line}" for line in lines if (why := _unasked(line, iface)) is not None)
    assert not unasked, "\n".join(unasked)
