"""What the interop tests need: the peer's Python, why a run is impossible, stopping a process,
running our EV against the package's SECC."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccs2chademo.drivers.linux import netns

HERE = Path(__file__).resolve().parent
PEER_PYTHON = HERE.parent.parent / ".venv-peer" / "bin" / "python"


def why_not() -> str | None:
    """The reason the interop tests cannot run here, or None."""
    reason = netns.unavailable()
    if reason:
        return reason
    if not PEER_PYTHON.exists():
        return "needs .venv-peer with iso15118 0.31 (make .venv-peer)"
    if shutil.which("java") is None:
        return "needs a Java runtime for the iso15118 codec"
    return None


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class PeerRun:
    """One run of our EV side (ev_side.py) against the package's SECC (peer_secc.py)."""

    summary: dict[str, Any] | None  # the EV's JSON line
    ev_stderr: str
    peer_log: str


def run_against_peer_secc(tmp_path: Path, protocols: str, ev_args: list[str], env: dict[str, str] | None = None,
                          prefix: str = "iso") -> PeerRun:
    """Start the SECC (environment: PROTOCOLS, EIM, and ``env``) in one namespace of a fresh veth
    pair, run ``ev_side.py IFNAME *ev_args`` in the other; the peer logs every message to a file
    (not a pipe nobody drains while the session runs)."""
    peer_log = tmp_path / "peer.log"
    with netns.VethPair(prefix=prefix) as pair, peer_log.open("w") as sink:
        peer_env = {**os.environ, "NETWORK_INTERFACE": pair.if_a, "PROTOCOLS": protocols, "AUTH_MODES": "EIM",
                    "LOG_LEVEL": "INFO", **(env or {})}
        peer = subprocess.Popen(pair.command(pair.ns_a, str(PEER_PYTHON), str(HERE / "peer_secc.py")), env=peer_env,
                                stdout=sink, stderr=subprocess.STDOUT)
        try:
            ev = subprocess.run(pair.command(pair.ns_b, sys.executable, str(HERE / "ev_side.py"), pair.if_b, *ev_args),
                                capture_output=True, text=True, timeout=240, check=False)
        finally:
            stop(peer)
    lines = ev.stdout.strip().splitlines()
    return PeerRun(json.loads(lines[-1]) if lines else None, ev.stderr, peer_log.read_text(errors="replace"))
