"""PhysicalValue multiplier choice (exi._bits.pick_multiplier)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ccs2chademo.exi._bits import pick_multiplier


def _reference(x: float) -> tuple[int, int]:
    exact = [(abs(m), -m, round(x / 10.0**m)) for m in range(-3, 4)
             if -32768 <= round(x / 10.0**m) <= 32767
             and abs(round(x / 10.0**m) * 10.0**m - x) <= 1e-9 * max(1.0, abs(x))]
    if exact:
        _, neg_m, val = min(exact)
        return val, -neg_m
    m = next(m for m in range(-3, 4) if -32768 <= round(x / 10.0**m) <= 32767)
    return round(x / 10.0**m), m


def test_known_choices() -> None:
    assert pick_multiplier(412.8, -3, 3, -32768, 32767) == (4128, -1)
    assert pick_multiplier(400.0, -3, 3, -32768, 32767) == (400, 0)
    assert pick_multiplier(100_000.0, -3, 3, -32768, 32767) == (10000, 1)
    assert pick_multiplier(0.1, -3, 3, -32768, 32767) == (1, -1)


@given(st.one_of(st.integers(-300_000, 300_000).map(float), st.floats(-3000, 3000, allow_nan=False)))
def test_same_choice_as_the_exhaustive_rule(x: float) -> None:
    assert pick_multiplier(x, -3, 3, -32768, 32767) == _reference(x)
