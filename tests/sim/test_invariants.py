"""The safety-invariant checker against violating and clean timelines."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ccs2chademo.sim.invariants import (
    CAR_CONTACTORS_OPENED_UNDER_LOAD,
    CONTACTOR_CLOSED_WITH_VOLTAGE_DIFFERENCE,
    CONTACTOR_OPENED_UNDER_LOAD,
    D2_BEFORE_PRECHARGE_VOLTAGE,
    DISCHARGE_ABOVE_CAR_LIMIT,
    INLET_VOLTAGE_BEFORE_CAR_CONTACTORS,
    SESSION_END_STATE,
    TARGET_ABOVE_CAR_REQUEST,
    TARGET_ABOVE_CHARGER_LIMIT,
    InvariantChecker,
    SafetySnapshot,
)

IDLE = SafetySnapshot(t=0.0, contactor_closed=False, dc_current_a=0.0, charger_voltage_v=0.0, battery_voltage_v=370.0,
                      car_contactors_closed=False, inlet_voltage_v=0.0, d1=False, d2=False, cp_state="B")


def clean_session() -> list[SafetySnapshot]:
    """A DX session in 100 ms steps: precharge, d2, car contactors, adapter contactor, ramp, stop."""
    snaps: list[SafetySnapshot] = []
    s = replace(IDLE, d1=True)
    t = 0.0

    def add(**changes: object) -> None:
        nonlocal s, t
        t = round(t + 0.1, 3)
        s = replace(s, t=t, **changes)  # type: ignore[arg-type]
        snaps.append(s)

    add(cp_state="C", charger_voltage_v=500.0)  # cable check: inlet isolated by the open contactor
    add(charger_voltage_v=0.0, precharge_target_v=372.0)
    for v in range(50, 380, 50):
        add(charger_voltage_v=float(v))
    add(charger_voltage_v=371.0)
    add(d2=True)
    add(car_contactors_closed=True, inlet_voltage_v=370.0)
    add(contactor_closed=True, inlet_voltage_v=371.0)
    add(ccs_target_current_a=0.0, charger_limit_a=200.0, car_request_a=0.0)
    for i in range(1, 31):  # the car asks for 120 A, the target ramps +4 A per step
        add(car_request_a=120.0, ccs_target_current_a=min(120.0, 4.0 * i), dc_current_a=min(120.0, 4.0 * i))
    add(car_request_a=0.0)  # the car stops: the target ramps down 10 A per 100 ms
    for i in range(1, 13):
        current = max(0.0, 120.0 - 10.0 * i)
        add(ccs_target_current_a=current, dc_current_a=current)
    add(ccs_target_current_a=None, car_contactors_closed=False, dc_current_a=0.0)
    add(contactor_closed=False, charger_voltage_v=30.0, inlet_voltage_v=30.0)
    add(d2=False)
    add(d1=False, cp_state="B")
    return snaps


def run(snaps: list[SafetySnapshot], sx: bool = False) -> InvariantChecker:
    checker = InvariantChecker(sx=sx)
    for snap in snaps[:-1]:
        checker.check(snap)
    checker.end_session(snaps[-1], stop_reason="0x01 car stopped")
    return checker


def kinds(checker: InvariantChecker) -> list[str]:
    return [v.invariant for v in checker.violations]


def test_clean_session_has_no_violations() -> None:
    assert kinds(run(clean_session())) == []


@pytest.mark.parametrize("direction", ["charging", "discharging"])
def test_contactor_opened_under_load(direction: str) -> None:
    snaps = clean_session() if direction == "charging" else discharge_session()
    i = next(i for i, s in enumerate(snaps) if abs(s.dc_current_a) >= 100)
    snaps.insert(i + 1, replace(snaps[i], t=snaps[i].t + 0.05, contactor_closed=False))
    checker = run(snaps)
    assert kinds(checker) == [CONTACTOR_OPENED_UNDER_LOAD]
    assert "opened at 100.0 A (limit 5 A)" in checker.violations[0].detail


def test_opening_under_load_is_allowed_in_an_emergency() -> None:
    checker = InvariantChecker()
    loaded = replace(IDLE, contactor_closed=True, dc_current_a=80.0, emergency=True)
    checker.check(loaded)
    checker.check(replace(loaded, t=0.1, contactor_closed=False))
    assert checker.violations == []


def test_contactor_closed_with_more_than_20v_difference() -> None:
    checker = InvariantChecker()
    before = replace(IDLE, charger_voltage_v=340.0, car_contactors_closed=True, battery_voltage_v=370.0)
    checker.check(before)
    new = checker.check(replace(before, t=0.1, contactor_closed=True))
    assert [v.invariant for v in new] == [CONTACTOR_CLOSED_WITH_VOLTAGE_DIFFERENCE]
    ok = InvariantChecker()
    ok.check(replace(before, charger_voltage_v=355.0))
    assert ok.check(replace(before, t=0.1, charger_voltage_v=355.0, contactor_closed=True)) == []


def test_closing_onto_an_open_car_uses_the_inlet_side() -> None:
    """Unwelding toggles with nothing applied: 0 V on both sides is fine."""
    checker = InvariantChecker()
    for i in range(6):
        checker.check(replace(IDLE, t=i * 0.1, contactor_closed=bool(i % 2)))
    assert checker.violations == []


def test_d2_before_precharge_voltage() -> None:
    snaps = clean_session()
    i = next(i for i, s in enumerate(snaps) if s.d2)
    early = [replace(s, d2=True) if 3 <= j < i else s for j, s in enumerate(snaps)]
    assert kinds(run(early)) == [D2_BEFORE_PRECHARGE_VOLTAGE]
    assert kinds(run(early, sx=True)) == []  # SX sets d2 at car ready by design


def test_ccs_target_above_the_charger_limit_beyond_the_latency() -> None:
    checker = InvariantChecker(latency_s=0.5)
    base = replace(IDLE, ccs_target_current_a=100.0, car_request_a=100.0, charger_limit_a=60.0)
    for i in range(5):  # 0.4 s: a CCS round to catch up is fine
        assert checker.check(replace(base, t=i * 0.1)) == []
    found = [v.invariant for i in range(5, 20) for v in checker.check(replace(base, t=i * 0.1))]
    assert found == [TARGET_ABOVE_CHARGER_LIMIT]  # reported once per episode


def test_ccs_target_above_the_car_request() -> None:
    checker = InvariantChecker()
    base = replace(IDLE, charger_limit_a=200.0, car_request_a=50.0, ccs_target_current_a=50.0)
    checker.check(base)
    new = checker.check(replace(base, t=0.1, ccs_target_current_a=54.0))  # rising above the request
    assert [v.invariant for v in new] == [TARGET_ABOVE_CAR_REQUEST]


def test_target_that_does_not_ramp_down_after_the_request_fell() -> None:
    checker = InvariantChecker(latency_s=0.5)
    base = replace(IDLE, charger_limit_a=200.0, car_request_a=0.0, ccs_target_current_a=100.0)
    found = [v.invariant for i in range(20) for v in checker.check(replace(base, t=i * 0.1))]
    assert found == [TARGET_ABOVE_CAR_REQUEST]


def test_a_ramp_step_in_flight_when_the_request_falls_is_not_a_violation() -> None:
    """Campaign finding (clara, enable dropped early in CurrentDemand): the car's request falls to
    0 right after its last frame asked for 9 A; the controller's next step still follows that
    frame (8 → 9 A), then drops at the next one.  Within the latency the target may follow the
    request as it was; above it, or rising after the latency, it may not."""
    base = replace(IDLE, charger_limit_a=200.0, car_request_a=9.0, ccs_target_current_a=8.0)

    def run_steps(targets: list[float]) -> list[str]:
        checker = InvariantChecker(latency_s=0.5)
        checker.check(base)
        return [v.invariant for i, target in enumerate(targets, 1)
                for v in checker.check(replace(base, t=i * 0.02, car_request_a=0.0, ccs_target_current_a=target))]

    assert run_steps([9.0] * 5 + [0.0] * 5) == []
    assert run_steps([9.0] * 5 + [9.0 - 1.0 * i for i in range(1, 9)]) == []  # ramping down at the rate
    assert run_steps([12.0]) == [TARGET_ABOVE_CAR_REQUEST]  # above the request it had
    assert run_steps([9.0] * 30 + [9.5, 9.5]) == [TARGET_ABOVE_CAR_REQUEST]  # never down after the latency
    assert run_steps([9.0] * 30) == [TARGET_ABOVE_CAR_REQUEST]


def test_a_ramp_step_in_flight_after_the_request_fell_is_not_a_violation() -> None:
    """The request falls (125 → 0 A) while the target is still at 0 A, and the controller's next
    ramp step (0 → 4 A, made on the request it last heard) comes a few physics steps later:
    within the latency that is the step in flight; after the latency it is a violation."""
    base = replace(IDLE, charger_limit_a=200.0, car_request_a=125.0, ccs_target_current_a=0.0)

    def run_steps(step_at: int) -> list[str]:
        checker = InvariantChecker(latency_s=0.5)
        checker.check(base)
        out = []
        for i in range(1, 40):
            target = 4.0 if step_at <= i < step_at + 5 else 0.0
            out += [v.invariant for v in checker.check(replace(base, t=i * 0.02, car_request_a=0.0,
                                                               ccs_target_current_a=target))]
        return out

    assert run_steps(3) == []  # 40 ms after the fall, dropped 100 ms later
    assert run_steps(30) == [TARGET_ABOVE_CAR_REQUEST]  # 0.6 s after the fall: the controller knew


def test_discharging_target_is_not_a_request_violation() -> None:
    checker = InvariantChecker()
    base = replace(IDLE, charger_limit_a=200.0, car_request_a=0.0, ccs_target_current_a=40.0, discharging=True)
    for i in range(30):
        checker.check(replace(base, t=i * 0.1))
    assert checker.violations == []


def test_inlet_voltage_before_the_car_closes_its_contactors() -> None:
    snaps = clean_session()
    i = next(i for i, s in enumerate(snaps) if s.precharge_target_v is not None)
    leaky = [replace(s, contactor_closed=True, inlet_voltage_v=s.charger_voltage_v) if i <= j < i + 4 else s
             for j, s in enumerate(snaps)]
    assert INLET_VOLTAGE_BEFORE_CAR_CONTACTORS in kinds(run(leaky))


def test_inlet_voltage_after_contactors_opened_at_the_end_is_fine() -> None:
    assert INLET_VOLTAGE_BEFORE_CAR_CONTACTORS not in kinds(run(clean_session()))


def test_session_end_state() -> None:
    snaps = clean_session()
    bad_end = replace(snaps[-1], contactor_closed=True, d2=True, cp_state="C")
    checker = InvariantChecker()
    for s in snaps[:-1]:
        checker.check(s)
    checker.end_session(bad_end, stop_reason=None)
    end = [v for v in checker.violations if v.invariant == SESSION_END_STATE]
    assert len(end) == 1
    for part in ("contactor closed", "d2=on", "CP in state C", "no stop reason"):
        assert part in end[0].detail


def test_end_session_resets_for_the_next_session() -> None:
    checker = run(clean_session())
    for s in clean_session()[:-1]:
        checker.check(s)
    checker.end_session(clean_session()[-1], stop_reason=0x02)
    assert checker.violations == []


# ------------------------------------------------------------------ V2X: negative current


def discharge_session() -> list[SafetySnapshot]:
    """The clean session with the current flowing out of the battery (a V2X discharger)."""
    return [replace(s, dc_current_a=-s.dc_current_a, discharging=s.dc_current_a > 0, car_max_discharge_a=120.0)
            for s in clean_session()]


def test_clean_discharge_session_has_no_violations() -> None:
    snaps = discharge_session()
    assert min(s.dc_current_a for s in snaps) == -120.0
    assert kinds(run(snaps)) == []


@pytest.mark.parametrize("direction", ["charging", "discharging"])
def test_car_contactors_opened_under_load(direction: str) -> None:
    snaps = clean_session() if direction == "charging" else discharge_session()
    i = next(i for i, s in enumerate(snaps) if abs(s.dc_current_a) >= 40)
    snaps.insert(i + 1, replace(snaps[i], t=snaps[i].t + 0.05, car_contactors_closed=False))
    assert CAR_CONTACTORS_OPENED_UNDER_LOAD in kinds(run(snaps))


def test_discharge_above_the_car_maximum() -> None:
    base = replace(IDLE, contactor_closed=True, car_contactors_closed=True, car_max_discharge_a=15.0, discharging=True)
    checker = InvariantChecker(latency_s=0.5)
    found = [(round(i * 0.1, 1), v.invariant) for i in range(12)
             for v in checker.check(replace(base, t=i * 0.1, dc_current_a=-30.0))]
    assert found == [(0.6, DISCHARGE_ABOVE_CAR_LIMIT)]  # once, after the control latency
    assert "30.0 A taken from the battery" in checker.violations[0].detail
    ok = InvariantChecker(latency_s=0.5)
    for i in range(30):  # at the limit, a short overshoot, no declared maximum, or charging: fine
        ok.check(replace(base, t=i * 0.1, dc_current_a=-15.4 if i % 10 else -25.0))
    for i in range(30, 60):
        ok.check(replace(base, t=i * 0.1, dc_current_a=-60.0, car_max_discharge_a=0.0))
    for i in range(60, 90):
        ok.check(replace(base, t=i * 0.1, dc_current_a=60.0))
    assert ok.violations == []
