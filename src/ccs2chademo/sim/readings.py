"""How the simulated world quantises what it measures: ``round(x, n)``, cheaper.

The world, the power stage and the adapter's hardware round their readings (voltages, currents,
SoC) at every 20 ms physics step; ``round(x, n)`` converts ``x`` to a decimal string and back,
which was ≈ 2 % of a session.  Compiled with the per-event modules (``_build.py``).
"""

from __future__ import annotations

import math


def round_decimals(x: float, digits: int) -> float:
    """``round(x, digits)`` bit for bit, for 0 ≤ digits ≤ 3 without its decimal conversion.

    ``y = x × 10^n`` is within half an ulp of the exact product, so unless ``y`` lies within a
    rounding error of a tie (k + ½) the exact product rounds to the same whole number ``r``; and
    ``r / 10^n`` is one correctly rounded division, the double nearest r × 10^-n, which is what
    ``round`` returns (a zero keeps the sign of ``x``, as there).  Near a tie and for large or
    non-finite values this is ``round`` itself (``tests/sim/test_readings.py`` compares them).
    """
    if digits == 1:  # branches, not a tuple of scales: mypyc boxes a constant tuple of floats to index it
        scale = 10.0
    elif digits == 2:
        scale = 100.0
    elif digits == 3:
        scale = 1000.0
    elif digits == 0:
        scale = 1.0
    else:
        return round(x, digits)
    y = x * scale
    if -1e7 < y < 1e7:
        whole = math.floor(y)
        frac = y - whole  # exact: y and its whole part share their exponent range
        if not 0.499999 < frac < 0.500001:
            r = whole + 1 if frac > 0.5 else whole
            return r / scale if r != 0 else 0.0 * x
    return round(x, digits)
