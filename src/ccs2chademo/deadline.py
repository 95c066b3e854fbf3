"""Deadline comparison that survives the virtual runtime's integer-nanosecond clock.

A machine computes ``now + 0.5`` as a float; the virtual runtime schedules it at the *rounded*
nanosecond and calls ``handle_timer`` with that time, which may be a hair below the float
deadline.  Comparing with ``now < deadline`` would then do nothing, the runtime would re-arm the
same deadline, and the run would spin at one instant.  Every deadline check goes through
:func:`due`, which allows one microsecond of slack.
"""

from __future__ import annotations

SLACK = 1e-6


def due(deadline: float | None, now: float) -> bool:
    return deadline is not None and deadline <= now + SLACK
