"""The two-process proof: ``charger-sim`` and ``run`` in two network namespaces over a veth pair.

Real AF_PACKET SLAC, IPv6 link-local SDP multicast and TCP between two kernel stacks; the car is
simulated in the adapter process (CAN ``sim``), GPIO ``sim``.  A short charge: the simulated stop
button 5 s into CurrentDemand.  The veth capture is kept under test-artifacts/ and must decode
into the whole DIN session with our own pcap reader.  The same session proves that nothing
listens by accident: the adapter's sockets, sampled throughout, are only those its
configuration asks for (tests/run/listening.py).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import can
import pytest

from ccs2chademo.runtime.logfile import HEADER_LINE
from ccs2chademo.sim.veth_session import VethSession

from .helpers import artifacts, assert_safe_shutdown, needs_netns
from .listening import SocketSampler

pytestmark = needs_netns


def _drain(sock: socket.socket, into: list[str]) -> None:
    with contextlib.suppress(OSError):
        while True:
            into.append(sock.recv(4096).decode())


def test_full_session_over_veth(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    out = artifacts(request)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    messages: list[str] = []
    reader = threading.Thread(target=_drain, args=(notify, messages), daemon=True)  # as systemd reads
    reader.start()
    env = {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "2000000"}
    with VethSession(out, personality="tesla-sc", soc=60.0, stop_after_s=5.0, adapter_env=env) as session:
        with SocketSampler(session) as sockets:  # every 0.5 s until the adapter exits
            adapter = session.wait("adapter", 90.0)
        charger = session.wait("charger", 30.0)
        changes = session.gpio_changes()
    notify.close()
    reader.join(2.0)
    assert adapter.returncode == 0, adapter.stderr[-3000:]
    assert charger.returncode == 0, charger.stderr[-3000:]
    summary = adapter.summary()
    assert summary is not None, adapter.stdout
    assert set(summary) == {"result", "stop_reason", "soc_start", "soc_end", "energy_kwh", "virtual_s", "wall_s",
                            "invariant_violations", "ccs_states", "chademo_states"}
    assert (summary["result"], summary["stop_reason"]) == ("completed", "button"), \
        (summary, session.niceness, "\n".join(session.story()))
    ccs = summary["ccs_states"]
    for state in ("slac", "sdp", "SessionSetup", "CableCheck", "PreCharge", "CurrentDemand", "WeldingDetection",
                  "SessionStop", "End"):
        assert state in ccs, ccs
    assert "charging" in summary["chademo_states"] and summary["chademo_states"][-1] == "ended"
    assert summary["energy_kwh"] > 0.005  # 5 s of current reported by the charger
    assert summary["soc_start"] == 60.0

    # nothing listens by accident: the samples saw the session, and only the sockets it asks for
    sockets.check()

    chg = charger.summary()
    assert chg is not None and chg["result"] == "completed"
    assert chg["set_key_answered"] == 1 and chg["sdp_answered"] >= 1 and len(chg["slac_matched"]) == 1
    assert chg["delivered_ah"] > 0.01

    # the contactor closed during the session, and the adapter's own power-off left everything safe
    assert any(c["role"] == "contactor" and c["value"] for c in changes)
    assert_safe_shutdown(changes)

    # systemd: READY once the drivers were open, watchdog kicks from the loop (every 1 s), STOPPING
    assert messages[0].startswith("READY=1"), messages
    assert messages.count("WATCHDOG=1") >= 10 and messages[-1] == "STOPPING=1", messages

    # the kept capture of the veth decodes into the DIN session, CurrentDemand included
    pcap = out / "veth.pcapng"
    assert pcap.stat().st_size > 10_000
    done = subprocess.run([sys.executable, "-m", "ccs2chademo", "pcap", str(pcap)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    names = [line.get("message") for line in lines]
    assert names.count("CurrentDemandReq") >= 20 and "SessionStopRes" in names
    assert any(line.get("kind") == "homeplug" for line in lines) and any(line.get("kind") == "sdp" for line in lines)


def test_a_stalled_session_log_never_stalls_the_session(request: pytest.FixtureRequest) -> None:
    """The session log on a stalling SD card (sim/stalled_disk.py: a FIFO with a 4 KiB buffer that
    nobody reads for the first 16 s — through the discovery session, SLAC, the EV session's start
    and the CHAdeMO charge session's first seconds).  The adapter's loop never waits for it
    (drivers/offload.py): the CAN log shows the charge session's 100 ms cycle without a gap while
    the card stalls, the session charges and stops on the button as usual, and the whole session
    log arrives once the card reads again."""
    stall = 16.0
    with VethSession(artifacts(request), session_log_stall_s=stall) as session:
        adapter = session.wait("adapter", 90.0)
        charger = session.wait("charger", 30.0)
    assert adapter.returncode == 0 and charger.returncode == 0, adapter.stderr[-2000:]
    summary = adapter.summary()
    assert summary is not None, adapter.stdout
    assert (summary["result"], summary["stop_reason"]) == ("completed", "button"), (summary, adapter.stderr[-2000:])
    records = session.records()
    assert [r["state"] for r in records if r.get("part") == "chademo" and r["kind"] == "state"][-1] == "ENDED"
    # the card's buffer was full seconds before it read again: an adapter writing from its loop
    # would have waited there
    logged = len(HEADER_LINE) + sum(len(json.dumps(r)) for r in records if r.get("t", stall) < stall - 4.0)
    assert logged > 4096, logged
    # the loop's 0x108 every 100 ms meanwhile: the charge session's frames up to the card's return
    fifo = session.stalled_log
    assert fifo is not None and fifo.reading_at is not None
    stamps = [m.timestamp for m in can.LogReader(str(session.artifacts / "can.log")) if m.arbitration_id == 0x108]
    charge = [t for t in stamps[next(i for i in range(1, len(stamps)) if stamps[i] - stamps[i - 1] > 2.0):]
              if t < fifo.reading_at]
    assert charge and fifo.reading_at - charge[0] > 2.0, (charge, fifo.reading_at)
    assert max(b - a for a, b in itertools.pairwise(charge)) < 0.3, charge


def test_charger_fault_over_veth_stops_both_sides(request: pytest.FixtureRequest) -> None:
    """charger-sim --fault: EVSE_Shutdown in the first CurrentDemandRes; the adapter stops both
    sides and switches itself off, both processes exit 0."""
    with VethSession(artifacts(request), stop_after_s=None, fault="evse-shutdown@CurrentDemand") as session:
        adapter = session.wait("adapter", 90.0)
        charger = session.wait("charger", 30.0)
        changes = session.gpio_changes()
    assert adapter.returncode == 0 and charger.returncode == 0, adapter.stderr[-2000:]
    summary, chg = adapter.summary(), charger.summary()
    assert summary is not None and chg is not None
    assert summary["stop_reason"] == "ccs: evse-shutdown:CurrentDemand"
    assert "charging" not in summary["chademo_states"] and summary["chademo_states"][-1] == "ended"
    assert summary["ccs_states"][-1] == "End" and chg["fault"] == "evse-shutdown@CurrentDemand"
    assert_safe_shutdown(changes)
