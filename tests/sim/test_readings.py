"""``round_decimals`` is ``round(x, n)`` bit for bit (sim/readings.py)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.sim.readings import round_decimals


def _same_float(a: float, b: float) -> bool:
    return math.copysign(1.0, a) == math.copysign(1.0, b) and (a == b or (math.isnan(a) and math.isnan(b)))


@settings(max_examples=3000)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-2e4, 2e4),
                 st.integers(-2_000_000, 2_000_000).map(lambda n: n / 1000),
                 st.integers(-2_000_000, 2_000_000).map(lambda n: n / 200),  # ties of every digit count
                 st.integers(-2_000_000, 2_000_000).map(lambda n: n * 0.005 + 1e-12)),
       st.integers(0, 3))
def test_round_decimals_is_round(x: float, digits: int) -> None:
    assert _same_float(round_decimals(x, digits), round(x, digits)), (x, digits)


def test_round_decimals_keeps_the_sign_of_a_zero() -> None:
    for x in (-0.0, -0.04, -0.004, 0.0, 0.04, -1e-300):
        for digits in range(4):
            assert _same_float(round_decimals(x, digits), round(x, digits)), (x, digits)
