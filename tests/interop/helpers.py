"""What both interop tests need: the peer's Python, why a run is impossible, stopping a process."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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
