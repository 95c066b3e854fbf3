"""A veth tool killed by its supervisor cleans up (root): ``tools/soak.py --veth`` under SIGTERM
ends its charger, adapter and capture processes and deletes both namespaces, as it does when it
finishes — a CI cancel or ``timeout`` must not leave a half-charging pair of namespaces behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ccs2chademo.sim.veth_session import wait_for

from .helpers import artifacts, needs_netns

ROOT = Path(__file__).resolve().parents[2]


def _namespaces() -> set[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in listing.splitlines() if line.strip()}


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@needs_netns
def test_soak_veth_cleans_up_on_sigterm(request: pytest.FixtureRequest) -> None:
    before = _namespaces()
    soak = subprocess.Popen([sys.executable, str(ROOT / "tools" / "soak.py"), "--veth", "5",
                             "--out", str(artifacts(request))], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert wait_for(lambda: any(ns.startswith("c2c-") for ns in _namespaces() - before), 30.0), \
            "the soak never made its namespaces"
        assert wait_for(lambda: len(_children(soak.pid)) >= 3, 30.0), "charger, adapter and capture never started"
        children = _children(soak.pid)
        soak.send_signal(signal.SIGTERM)
        _, stderr = soak.communicate(timeout=60)
    finally:
        if soak.poll() is None:
            soak.kill()
    assert soak.returncode == 128 + signal.SIGTERM, stderr[-2000:]
    assert not {ns for ns in _namespaces() - before if ns.startswith("c2c-")}, "namespaces left behind"
    assert not [pid for pid in children if os.path.exists(f"/proc/{pid}")], "children left running"
