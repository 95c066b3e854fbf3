"""Child process for test_safety.py: a stand-in for ``ccs2chademo run`` on the sim GPIO backend.

``python safety_child.py TRACE PHASE``: prints ``SAFE`` once the outputs are safe and ``READY``
once it "charges" (contactor closed, d1/d2 on, CP state C, LEDs on); the parent then signals it
or lets it fail.  The output timeline goes to TRACE (JSON lines) as it happens.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path

from ccs2chademo.drivers.safety import SafeOutputs, run_guarded
from ccs2chademo.drivers.sim.gpio import SimGpio


def main() -> int:
    trace, phase = Path(sys.argv[1]), sys.argv[2]
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    gpio = SimGpio(trace=trace)
    with SafeOutputs(gpio) as safe:
        print("SAFE", flush=True)
        if phase == "startup":
            time.sleep(30)  # still building machines when the signal comes

        async def charge() -> None:
            for role in ("cp_state_c", "d1", "d2", "contactor", "led_external", "led_internal"):
                gpio.set_output(role, True)
            print("READY", flush=True)
            if phase == "error":
                await asyncio.sleep(0.05)
                raise RuntimeError("a machine bug")
            if phase == "callback-error":
                asyncio.get_running_loop().call_later(0.05, lambda: 1 / 0)
            try:
                await asyncio.sleep(30)
            finally:
                gpio.set_output("contactor", True)  # a teardown that misbehaves: must be dropped

        return run_guarded(safe, charge)
    return 2  # pragma: no cover - unreachable: SafeOutputs never swallows exceptions


if __name__ == "__main__":
    sys.exit(main())
