"""``round_decimals`` is ``round(x, n)`` and ``round_int`` is ``round(x)``, bit for bit (rounding.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.rounding import round_decimals, round_int


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


@settings(max_examples=3000)
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                 st.integers(-2_000_000, 2_000_000).map(lambda n: n / 2),  # every tie, odd and even
                 st.integers(-2_000_000, 2_000_000).map(lambda n: n / 2 + 1e-9),
                 st.floats(-1e6, 1e6)))
def test_round_int_is_round(x: float) -> None:
    assert round_int(x) == round(x) and type(round_int(x)) is int, x


def test_round_int_fails_as_round() -> None:
    for x in (math.nan, math.inf, -math.inf):
        with pytest.raises(type(_error_of(x))):
            round_int(x)
    for x in (0.5, 1.5, 2.5, -0.5, -1.5, 2.0**52 + 0.5, 2.0**53, -(2.0**60), 1e300):
        assert round_int(x) == round(x), x


def _error_of(x: float) -> Exception:
    try:
        round(x)
    except (ValueError, OverflowError) as exc:
        return exc
    raise AssertionError(f"round({x}) did not fail")
