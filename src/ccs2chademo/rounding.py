"""``round(x)`` and ``round(x, n)`` of a float, cheaper: the same results, computed in C when compiled.

Compiled code calls the builtin ``round`` as a Python-level call (≈ 700 instructions, its
``ndigits`` form converting ``x`` to a decimal string and back), and the per-event modules round
at every step: the virtual clock's deadlines in nanoseconds, a link's arrival times, the adapter's
and the simulated world's readings (voltages, currents, SoC).  These two functions give
``round``'s results bit for bit (``tests/test_rounding.py`` compares them) and are compiled with
the per-event modules (``_build.py``).
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


def round_int(x: float) -> int:
    """``round(x)`` of a float (ties to even), in C when compiled.

    ``x - floor(x)`` is exact for every finite double, so comparing it with ½ decides as ``round``
    does; NaN and the infinities raise from ``math.floor`` the errors ``round`` raises (ValueError,
    OverflowError).
    """
    whole = math.floor(x)
    frac = x - whole
    if frac > 0.5 or (frac == 0.5 and whole % 2 == 1):
        return whole + 1
    return whole
