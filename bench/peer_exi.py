"""The iso15118 package's EXI codec, timed message by message: the peer side of bench/exi.py.

Run with ``.venv-peer/bin/python`` (the iso15118 package pins pydantic 1, so it lives in its own
venv, see the Makefile); bench/exi.py starts it as a subprocess.  The package encodes and decodes
through EXIficient in a JVM reached over a py4j gateway (``iso15118.shared.exi_codec.EXI`` holds
an ``ExificientEXICodec`` whose ``decode(bytes, namespace)`` returns JSON text and
``encode(json, namespace)`` returns bytes; ``EXI.from_exi``/``to_exi`` add pydantic models on top).

Protocol: stdin has one JSON object per line, ``{"name", "schema", "hex", "repeat", "warmup"}``
(warmup: untimed decode+encode calls first, default 1); stdout
gets first ``{"version", "startup_s"}`` (JVM launch, not counted in any message), then per input
``{"name", "decode_us", "encode_us", "roundtrip", "model_decode_us", "model_encode_us"}``: best of
``repeat`` calls of the codec proper (JSON in/out) and of the EXI class (pydantic models), the
latter ``null`` with ``model_error`` when the package rejects the decoded message.
Run under another interpreter (``make bench`` runs every bench/*.py), it says so and exits 0.

:func:`run_peer` is the driver bench/exi.py imports: it starts this file with the peer venv's
python and returns the parsed answers, or the reason the peer could not run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

try:
    from iso15118.shared.exi_codec import EXI
    from iso15118.shared.messages.enums import Namespace
    from iso15118.shared.settings import SettingKey, shared_settings
except ImportError:
    EXI = None

PEER_PYTHON = Path(__file__).resolve().parent.parent / ".venv-peer" / "bin" / "python"
NAMESPACES = {"apphand": "SAP", "din": "DIN_MSG_DEF", "iso2": "ISO_V2_MSG_DEF", "iso20-cm": "ISO_V20_COMMON_MSG",
              "iso20-dc": "ISO_V20_DC"}


def _why(exc: BaseException) -> str:
    # the package's V2GMessageValidationError says nothing itself; its cause (pydantic's) does
    lines = str(exc).strip().splitlines() or " ".join(str(exc.__cause__ or "").split()).splitlines()
    return f"{type(exc).__name__}: {lines[0][:160] if lines else ''}"


def _best_us(samples: list[float]) -> float:
    """Best of the samples: on a shared machine the least disturbed call (bench/exi.py does the same)."""
    return min(samples) * 1e6


def _time_message(exi: Any, codec: Any, item: dict[str, Any]) -> dict[str, Any]:
    namespace = getattr(Namespace, NAMESPACES[item["schema"]])
    data = bytes.fromhex(item["hex"])
    repeat = max(1, int(item.get("repeat", 1)))
    for _ in range(int(item.get("warmup", 1))):  # untimed: the JVM's first runs of a grammar are slower still
        codec.encode(codec.decode(data, namespace), namespace)
    dec: list[float] = []
    enc: list[float] = []
    out: bytes = b""
    for _ in range(repeat):
        t0 = time.perf_counter()
        text = codec.decode(data, namespace)
        t1 = time.perf_counter()
        out = bytes(codec.encode(text, namespace))
        t2 = time.perf_counter()
        dec.append(t1 - t0)
        enc.append(t2 - t1)
    result: dict[str, Any] = {"name": item["name"], "decode_us": _best_us(dec), "encode_us": _best_us(enc),
                              "roundtrip": out == data}
    mdec: list[float] = []
    menc: list[float] = []
    try:
        for _ in range(repeat if item.get("models", True) else 0):
            t0 = time.perf_counter()
            message = exi.from_exi(data, namespace)
            t1 = time.perf_counter()
            exi.to_exi(message, namespace)
            t2 = time.perf_counter()
            mdec.append(t1 - t0)
            menc.append(t2 - t1)
    except Exception as exc:  # the package's own validation errors: report, do not hide
        result["model_error"] = _why(exc)
    result["model_decode_us"] = _best_us(mdec) if mdec and "model_error" not in result else None
    result["model_encode_us"] = _best_us(menc) if menc and "model_error" not in result else None
    return result


def run_peer(items: list[dict[str, Any]], timeout: float = 900.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Time ``items`` with the iso15118 codec: ``(header, results)``; raises RuntimeError saying why not."""
    if not PEER_PYTHON.exists():
        raise RuntimeError(f"{PEER_PYTHON} missing: `make .venv-peer` creates it (make bench does)")
    stdin = "".join(json.dumps(item) + "\n" for item in items)
    try:
        proc = subprocess.run([str(PEER_PYTHON), __file__], input=stdin, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"peer did not run: {exc}") from exc
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines or "startup_s" not in lines[0]:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise RuntimeError(f"peer failed (exit {proc.returncode}): {tail}")
    return lines[0], lines[1:]


def main() -> int:
    if EXI is None:
        print("peer_exi.py is the iso15118 side of bench/exi.py: run it with .venv-peer/bin/python (bench/exi.py does)")
        return 0
    shared_settings.update({SettingKey.MESSAGE_LOG_JSON: False, SettingKey.MESSAGE_LOG_EXI: False})
    exi = EXI()
    t0 = time.perf_counter()
    codec = exi.get_exi_codec()
    version = codec.get_version()
    print(json.dumps({"version": version, "startup_s": time.perf_counter() - t0}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        item = json.loads(line)
        try:
            result = _time_message(exi, codec, item)
        except Exception as exc:  # a message the JVM codec cannot handle: say which and why
            result = {"name": item.get("name"), "error": _why(exc)}
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
