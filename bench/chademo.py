"""Benchmark: a 30-minute CHAdeMO session in virtual time, and the codec's frames per second.

* session: ChademoCharger + DC source + the ``leaf-ze1-40`` car (frames 10 ms apart, 0x700 and
  0x202 included) from d1 to 30 minutes of charging; wall seconds, events and CAN frames;
* codec: encode and decode per second of the compiled fast path, against cantools' own
  ``encode_message``/``decode_message`` on the same frames.

Run with ``make bench`` (or ``python bench/chademo.py``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ccs2chademo.chademo.codec import default_codec
from ccs2chademo.chademo.frames import ChargerStatus, VehicleStatus
from ccs2chademo.chademo.interfaces import ChargerState
from ccs2chademo.runtime import VirtualRuntime
from ccs2chademo.sim.chademo_world import ChademoWorld
from tests.chademo.helpers import profile_with

SESSION_S = 1800.0
CODEC_ROUNDS = 50_000


def session() -> None:
    profile = profile_with("leaf-ze1-40", battery__initial_soc=10.0)  # still charging after 30 min
    sim = VirtualRuntime(seed=1)
    world = ChademoWorld(sim, profile)
    world.start()
    start = time.perf_counter()
    sim.run(until=SESSION_S)
    wall = time.perf_counter() - start
    assert world.charger.state is ChargerState.CHARGING, world.charger.state
    print(
        f"30-min CHAdeMO session (leaf-ze1-40): {wall:.2f} s wall, {sim.events_run} events, "
        f"{world.bus.sent} CAN frames, {SESSION_S / wall:.0f}× real time, "
        f"SoC {profile.battery.initial_soc:.0f} → {world.battery.soc:.1f} %"
    )


def codec() -> None:
    db = default_codec()
    frames = [
        (
            VehicleStatus.FRAME_ID,
            VehicleStatus(target_voltage=410, current_request=100, charging_enabled=True, charged_rate=73)
            .to_can()
            .data,
        ),
        (
            ChargerStatus.FRAME_ID,
            ChargerStatus(
                present_voltage=380, present_current=99, charging=True, connector_locked=True, stop_control=False
            )
            .to_can()
            .data,
        ),
    ]
    for frame_id, data in frames:
        layout = db.layout(frame_id)
        signals = layout.decode(data)
        message = db.database.get_message_by_frame_id(frame_id)
        cases: list[tuple[str, Callable[[], object], int]] = [
            ("fast decode", partial(layout.decode, data), CODEC_ROUNDS),
            ("fast values", partial(layout.values, data), CODEC_ROUNDS),
            ("fast encode", partial(layout.encode, signals), CODEC_ROUNDS),
            ("cantools decode", partial(message.decode, data, decode_choices=False), CODEC_ROUNDS // 5),
            ("cantools encode", partial(message.encode, signals), CODEC_ROUNDS // 5),
        ]
        line = ", ".join(f"{label} {_rate(fn, rounds) / 1000:.0f} k/s" for label, fn, rounds in cases)
        print(f"codec 0x{frame_id:03x} ({len(layout.signals)} signals): {line}")


def _rate(fn: Callable[[], object], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return rounds / (time.perf_counter() - start)


if __name__ == "__main__":
    session()
    codec()
