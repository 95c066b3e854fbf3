"""Benchmark: per-message decode and encode time of the pure-Python EXI codec.

Messages are real DIN vectors from shared/data/exi-vectors.jsonl (a CurrentDemandReq/Res and
a PreChargeReq from a real session); figures are the best of several timeit repeats in µs per
operation, in process CPU time (the machine is shared; CPU time is what the
codec costs). Run with ``make bench`` (or ``python bench/exi.py``). Target (issue 3):
CurrentDemandReq decode + encode ≤ 15 µs on the project machine.
"""

from __future__ import annotations

import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from ccs2chademo import exi

# DIN messages of the 2024-06 Polestar 2 session (also in exi-vectors.jsonl)
MESSAGES: list[tuple[str, str, str]] = [
    ("din", "CurrentDemandReq",
     "809a02004080c1014181c210d14012c080c02803050d6030080c298744003020d08c01118286101800"),
    ("din", "CurrentDemandRes", "809a02004080c1014181c210e00040800001828610181818008400c0"),
    ("din", "PreChargeReq", "809a02004080c1014181c211514012c0c142880c080c0000"),
]


def per_op_us(fn: object, number: int = 20000, repeat: int = 5) -> float:
    """Best of ``repeat`` runs, in µs per call."""
    timer = timeit.Timer(fn, timer=time.process_time)  # type: ignore[arg-type]
    return min(timer.repeat(number=number, repeat=repeat)) / number * 1e6


def rows() -> list[tuple[str, str, float, float]]:
    out = []
    for schema, name, hexstr in MESSAGES:
        data = bytes.fromhex(hexstr)
        msg = exi.decode(data, schema)
        assert exi.message_name(msg) == name and exi.encode(msg) == data
        dec = per_op_us(lambda d=data, s=schema: exi.decode(d, s))
        enc = per_op_us(lambda m=msg: exi.encode(m))
        out.append((schema, name, dec, enc))
    return out


def main() -> None:
    print(f"{'schema':6} {'message':18} {'decode µs':>10} {'encode µs':>10} {'sum µs':>8}")
    for schema, name, dec, enc in rows():
        print(f"{schema:6} {name:18} {dec:10.2f} {enc:10.2f} {dec + enc:8.2f}")


if __name__ == "__main__":
    main()
