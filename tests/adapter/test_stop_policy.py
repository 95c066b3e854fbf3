"""The stop policy on its own: every way a session ends, one behaviour per test
(adapter/stop_policy.py; the end-to-end stop paths are in tests/adapter_e2e)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from ccs2chademo.adapter.stop_policy import MAX_CCS_RESTARTS, StopInputs, StopPlan, stop_plan

RUNNING = StopInputs(ccs_parameters_done=True, contactor_closed=True)


def test_nothing_stopping_plans_nothing() -> None:
    assert stop_plan(RUNNING) == StopPlan(ccs_final=True)


def test_charger_stops_normally_car_gets_a_normal_stop_and_power_hears_it() -> None:
    plan = stop_plan(replace(RUNNING, ccs_reason="evse-shutdown:CurrentDemand"))
    assert plan.begun and plan.upstream_stopped and not plan.upstream_fault
    assert plan.report_ccs == "evse-shutdown:CurrentDemand"
    assert not plan.hold_car_current and not plan.emergency_open and not plan.restart_ccs


def test_current_demand_timeout_is_a_fault_toward_the_car_with_the_current_held() -> None:
    inputs = replace(RUNNING, ccs_reason="timeout:CurrentDemand", ccs_safe_shutdown=True, safe_shutdown_at=10.0,
                     now=10.5)
    plan = stop_plan(inputs)
    assert plan.begun and plan.upstream_fault and not plan.upstream_stopped
    assert plan.hold_car_current  # the car's stop waits: nobody reports the current any more
    assert not plan.emergency_open  # the safe shutdown's CP B wait (2 s) is not over


def test_safe_shutdown_opens_the_contactor_after_its_cp_b_wait() -> None:
    inputs = replace(RUNNING, ccs_reason="tcp-reset:CurrentDemand", ccs_safe_shutdown=True, safe_shutdown_at=10.0)
    assert not stop_plan(replace(inputs, now=11.99)).emergency_open
    assert stop_plan(replace(inputs, now=12.0)).emergency_open
    assert not stop_plan(replace(inputs, now=12.0, contactor_closed=False)).emergency_open


def test_safe_shutdown_opens_the_contactor_before_a_stopping_car_gives_up() -> None:
    """The car opens its contactors 2.5 s after its stop whatever the current (chademo.md §10):
    when it stopped before the safe shutdown, the adapter's contactor breaks the current first."""
    inputs = replace(RUNNING, ccs_reason="timeout:CurrentDemand", ccs_safe_shutdown=True, safe_shutdown_at=10.8,
                     car_stopping=True, car_stop_at=10.0)
    assert not stop_plan(replace(inputs, now=11.99)).emergency_open
    assert stop_plan(replace(inputs, now=12.0)).emergency_open  # before CP B + 2 s (12.8)
    assert not stop_plan(replace(inputs, now=12.0, safe_shutdown_at=None, ccs_safe_shutdown=False,
                                 ccs_reason=None)).emergency_open  # a charger that answers reports the current


def test_ccs_end_before_parameter_discovery_restarts_not_stops() -> None:
    early = StopInputs(ccs_reason="tcp-reset:SessionSetup", ccs_safe_shutdown=True, ccs_ended=True)
    plan = stop_plan(early)
    assert plan.restart_ccs and not plan.begun and not plan.ccs_final and plan.report_ccs is None
    assert not plan.upstream_fault and not plan.upstream_stopped


def test_out_of_restarts_the_ccs_side_is_over_and_that_is_a_stop() -> None:
    spent = StopInputs(ccs_reason="tcp-reset:SessionSetup", ccs_ended=True, ccs_restarts=MAX_CCS_RESTARTS)
    assert not stop_plan(spent).restart_ccs
    over = replace(spent, ccs_over=True)
    plan = stop_plan(over)
    assert plan.begun and plan.ccs_final and plan.report_ccs == "tcp-reset:SessionSetup"


def test_ccs_over_without_a_reason_reports_ccs_ended() -> None:
    assert stop_plan(StopInputs(ccs_over=True)).report_ccs == "ccs-ended"


def test_car_stops_power_hears_it_and_no_contactor_closes() -> None:
    plan = stop_plan(replace(RUNNING, car_stopping=True, car_reason="0xc0 (K_OFF|CAR_DISABLED)"))
    assert plan.begun and plan.report_car == "0xc0 (K_OFF|CAR_DISABLED)"
    assert not plan.request_stop  # both sides stop when the power manager makes it pending


def test_discovery_session_ending_is_not_reported_but_blocks_closing() -> None:
    plan = stop_plan(StopInputs(car_stopping=True))  # the car side stopping, no charge session yet
    assert plan.begun and plan.report_car is None


def test_button_pending_stops_both_sides_and_makes_a_ccs_end_final() -> None:
    plan = stop_plan(StopInputs(power_cause="button", ccs_ended=True, ccs_reason="x"))
    assert plan.request_stop and plan.begun and plan.ccs_final and not plan.restart_ccs


def test_forced_off_is_a_stop() -> None:
    assert stop_plan(StopInputs(forced_off=True)).begun


inputs = st.builds(
    StopInputs,
    ccs_reason=st.none() | st.sampled_from(["evse-shutdown", "timeout:CurrentDemand"]),
    ccs_safe_shutdown=st.booleans(), ccs_parameters_done=st.booleans(), ccs_ended=st.booleans(),
    ccs_over=st.booleans(), ccs_restarts=st.integers(0, MAX_CCS_RESTARTS + 1), car_stopping=st.booleans(),
    car_reason=st.none() | st.just("0x01"), power_cause=st.none() | st.sampled_from(["button", "ccs: x"]),
    forced_off=st.booleans(), contactor_closed=st.booleans(),
    safe_shutdown_at=st.none() | st.floats(0, 100), now=st.floats(0, 200))


@given(inputs)
def test_a_restart_is_never_a_stop_and_a_stop_never_restarts(s: StopInputs) -> None:
    plan = stop_plan(s)
    assert not (plan.restart_ccs and plan.ccs_final)
    if plan.restart_ccs:
        assert not plan.upstream_fault and not plan.upstream_stopped and plan.report_ccs is None


@given(inputs)
def test_every_reaction_implies_the_stop_began(s: StopInputs) -> None:
    plan = stop_plan(s)
    if plan.upstream_fault or plan.upstream_stopped or plan.report_ccs or plan.request_stop:
        assert plan.begun
    if s.power_cause is not None or s.forced_off or s.car_stopping:
        assert plan.begun
