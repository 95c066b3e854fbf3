"""The CCS request fields of adapter.md §6.1 and the V2X request of adapter.md §7 (the CHAdeMO charger
fields of adapter.md §6.2–§6.4/§7 are tested with the charger, tests/chademo/test_charger_fields.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.adapter.mapping import (
    EV_MAXIMUM_POWER_LIMIT_W,
    CcsTargetCurrent,
    CurrentRamp,
    MirrorDetector,
    TargetVoltage,
    ev_maximum_voltage_limit,
    ev_ress_soc,
)


def test_ccs_request_fields() -> None:
    assert ev_ress_soc(None) == 20 and ev_ress_soc(104.2) == 100 and ev_ress_soc(55.4) == 55
    assert ev_maximum_voltage_limit(None) == 411 and ev_maximum_voltage_limit(434) == 435
    assert EV_MAXIMUM_POWER_LIMIT_W == 100_000


def test_target_voltage_frozen_at_d2_and_capped() -> None:
    target = TargetVoltage()
    assert target.value(411) == 410  # placeholder
    target.update(434)
    target.freeze()
    target.update(450)  # Xpeng raises it after its contactors close
    assert target.value(ev_maximum_voltage_limit(450)) == 434
    assert target.value(430) == 430  # never above EVMaximumVoltageLimit


def test_ramp_up_and_down_per_100ms() -> None:
    ramp = CurrentRamp()
    assert [ramp.step(10, 200) for _ in range(4)] == [4, 8, 10, 10]
    assert [ramp.step(0, 200) for _ in range(2)] == [0, 0]
    ramp.value = 35
    assert [ramp.step(0, 200) for _ in range(4)] == [25, 15, 5, 0]


def test_ramp_obeys_a_falling_charger_limit_at_once() -> None:
    ramp = CurrentRamp()
    ramp.value = 100
    assert ramp.step(100, 60) == 60


def test_ccs_target_current_paths() -> None:
    mapper = CcsTargetCurrent()
    assert mapper.step(1, in_charging_loop=False, dynamic_max_a=200) == 0  # idle 1 A hidden
    assert [mapper.step(30, in_charging_loop=True, dynamic_max_a=200) for _ in range(3)] == [4, 8, 12]
    assert mapper.step(30, in_charging_loop=True, dynamic_max_a=10) == 10
    # V2X: the CHAdeMO side's discharge demand (car maximum, or the 40 A fallback decided there)
    assert mapper.step(0, in_charging_loop=True, dynamic_max_a=200, discharge_a=40) == 40
    assert mapper.step(0, in_charging_loop=True, dynamic_max_a=200, discharge_a=15) == 15
    assert mapper.step(0, in_charging_loop=False, dynamic_max_a=200, sx_before_current_demand=True) == 1


steps = st.lists(st.tuples(st.floats(0, 255), st.floats(0, 255), st.booleans()), min_size=1, max_size=80)


@settings(max_examples=200)
@given(steps)
def test_ramp_properties(sequence: list[tuple[float, float, bool]]) -> None:
    """Never above the car's request (ramping up) or the charger limit; +4 / −10 per step at most,
    except that a falling charger limit is obeyed at once; a request that fell is left at the
    full −10 A rate."""
    mapper = CcsTargetCurrent()
    previous = 0.0
    for request, limit, in_loop in sequence:
        out = mapper.step(request, in_charging_loop=in_loop, dynamic_max_a=limit)
        wanted = request if in_loop else 0.0
        assert 0 <= out <= limit + 1e-9
        assert out - previous <= 4 + 1e-9
        assert out >= previous - 10 - 1e-9 or out == pytest.approx(limit)
        if out > wanted + 1e-9:  # above the request only while ramping down at the full rate
            assert out == pytest.approx(previous - 10) or out == pytest.approx(min(limit, previous - 10))
        previous = out


def test_mirror_detector() -> None:
    mirror = MirrorDetector()
    assert not mirror.mirroring
    assert mirror.observe(410, 4, 410, 4) and mirror.observe(410, 8, 410.0, 8.0)
    assert not mirror.observe(410, 12, 371.5, 11.8)
    assert not mirror.observe(410, 12, 410, 12)  # a real measurement was seen: stays off


# ------------------------------------------------------------------ the discharge offered to a DC_BPT charger
def test_discharge_is_offered_only_in_v2x_mode_for_a_discharge_compatible_car() -> None:
    from dataclasses import replace

    from ccs2chademo.adapter.mapping import NO_DISCHARGE, discharge_offer

    from .fakes import LEAF_24

    assert discharge_offer(LEAF_24, v2x=True, fallback_a=40) is NO_DISCHARGE  # not discharge compatible
    ze0 = replace(LEAF_24, discharge_compatible=True, max_discharge_current=15, discharge_floor_soc=27.9)
    assert discharge_offer(ze0, v2x=False, fallback_a=40) is NO_DISCHARGE
    offer = discharge_offer(ze0, v2x=True, fallback_a=40)
    assert (offer.current_a, offer.floor_soc, offer.capacity_wh) == (15.0, 28, 24_000.0)  # floor rounded up
    # a car that declares no maximum (0 A, the ZE1) gets the fallback; an unknown floor stays unknown
    offer = discharge_offer(replace(ze0, max_discharge_current=0, discharge_floor_soc=None), v2x=True, fallback_a=40)
    assert (offer.current_a, offer.floor_soc) == (40.0, None)
