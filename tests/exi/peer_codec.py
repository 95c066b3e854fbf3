"""The iso15118 package's EXI codec as a line-oriented server: the oracle of tests/exi/test_peer_iso20.py.

Run with ``.venv-peer/bin/python`` (iso15118 pins pydantic 1, so it lives in its own venv; the
Makefile builds it). The package's codec is EXIficient in a JVM reached over py4j
(``ExificientEXICodec.encode(json, namespace)`` → bytes, ``decode(bytes, namespace)`` → JSON
text); starting the JVM costs seconds, so one process serves a whole test session.

Protocol: first line out ``{"version": ...}`` once the JVM is up; then per input line
``{"op": "encode", "ns": NAMESPACE, "json": TEXT}`` → ``{"hex": ...}`` or
``{"op": "decode", "ns": NAMESPACE, "hex": ...}`` → ``{"json": TEXT}``, each answer
``{"error": ...}`` instead when the codec refuses. :class:`Peer` is the driver the tests use.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

PEER_PYTHON = Path(__file__).resolve().parents[2] / ".venv-peer" / "bin" / "python"


def _why(exc: BaseException) -> str:
    java = getattr(exc, "java_exception", None)  # py4j: the Java exception says more than its wrapper
    lines = str(java if java is not None else exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:300] if lines else ''}"


def serve() -> int:
    from iso15118.shared.exi_codec import EXI  # only in .venv-peer

    codec = EXI().get_exi_codec()
    print(json.dumps({"version": codec.get_version()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        item = json.loads(line)
        try:
            if item["op"] == "encode":
                answer = {"hex": bytes(codec.encode(item["json"], item["ns"])).hex()}
            else:
                answer = {"json": codec.decode(bytes.fromhex(item["hex"]), item["ns"])}
        except Exception as exc:  # the JVM codec's refusal, reported per message
            answer = {"error": _why(exc)}
        print(json.dumps(answer), flush=True)
    return 0


class Peer:
    """One peer process; :meth:`batch` sends many requests and reads as many answers."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([str(PEER_PYTHON), __file__], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        if not first.startswith("{"):
            self.close()
            raise RuntimeError(f"peer codec did not start: {first!r}")
        self.version = json.loads(first)["version"]

    def batch(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None

        def write() -> None:  # from a thread: both pipes may fill up before either side drains
            stdin.write("".join(json.dumps(r) + "\n" for r in requests))
            stdin.flush()

        writer = threading.Thread(target=write)
        writer.start()
        answers = [json.loads(stdout.readline()) for _ in requests]
        writer.join()
        return answers

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


if __name__ == "__main__":
    sys.exit(serve())
