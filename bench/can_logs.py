"""Benchmark: frames per second read from a CAN log, and read + decoded through chademo.dbc.

Three figures per log: the reader alone (``CanLog``), reader + decode through the fast codec
(``decode_messages``, what ``ccs2chademo can decode`` does), and reader + cantools'
``decode_message`` as the reference.  Logs: the largest SavvyCAN CSV, the Arduino text, and a
candump ``.log`` and BLF converted from the Leaf ZE0 log.  Run with ``make bench`` (or
``python bench/can_logs.py``).
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from ccs2chademo.canlog import CanLog, write_log  # noqa: E402
from ccs2chademo.canlog.decode import decode_messages  # noqa: E402
from ccs2chademo.chademo.codec import default_codec  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "chademo"
REPEAT = 3


def best_rate(run: Callable[[], int]) -> float:
    """Frames per second of the fastest of ``REPEAT`` runs."""
    best = float("inf")
    frames = 0
    for _ in range(REPEAT):
        start = time.perf_counter()
        frames = run()
        best = min(best, time.perf_counter() - start)
    return frames / best


def read_only(path: Path) -> int:
    return sum(1 for _ in CanLog(path))


def read_decode(path: Path) -> int:
    return sum(1 for _ in decode_messages(CanLog(path)))


def read_cantools(path: Path) -> int:
    codec = default_codec()
    database = codec.database
    count = 0
    for message in CanLog(path):
        if not message.is_extended_id and codec.knows(message.arbitration_id) and message.dlc == 8:
            database.decode_message(message.arbitration_id, message.data, decode_choices=False)
        count += 1
    return count


def main() -> None:
    logging.getLogger("ccs2chademo.canlog").setLevel(logging.ERROR)  # the restart warning, once per run
    with tempfile.TemporaryDirectory() as tmp:
        ze0 = DATA / "leaf-ze0-v2x-evse-start-stop.csv"
        candump, blf = Path(tmp) / "ze0.log", Path(tmp) / "ze0.blf"
        write_log(CanLog(ze0), candump)
        write_log(CanLog(ze0), blf)
        logs = [DATA / "diy-car-v2x-charger-fail.csv", ze0, DATA / "diy-car-177v-session.txt", candump, blf]
        print(f"{'log':36} {'frames':>7} {'read':>12} {'read+decode':>12} {'+cantools':>12}  (frames/s)")
        for path in logs:
            frames = read_only(path)
            print(f"{path.name:36} {frames:7d} {best_rate(lambda p=path: read_only(p)):12,.0f} "
                  f"{best_rate(lambda p=path: read_decode(p)):12,.0f} "
                  f"{best_rate(lambda p=path: read_cantools(p)):12,.0f}")


if __name__ == "__main__":
    main()
