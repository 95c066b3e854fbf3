"""The clara side's board inputs (issue 13): inlet temperatures (derating, then the over-temperature
stop), the inlet lock's feedback (the session does not start without it, an opened lock stops it)
and the CP duty cycle (IEC 61851-1's table; basic AC with the VCU's on-board charger)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccs2chademo.adapter.clara_side import (
    LOCK_CLOSED,
    LOCK_CLOSING,
    LOCK_OPEN,
    ClaraState,
    ClaraStop,
    ac_current_limit,
    digital_communication,
    temperature_limit,
)
from ccs2chademo.adapter.config import ConfigError, build_config
from ccs2chademo.adapter.mapping import CurrentRamp
from ccs2chademo.chademo.interfaces import SessionKind, Upstream
from ccs2chademo.runtime.signals import Input
from ccs2chademo.sim.ac_evse import duty_for

from .test_clara_side import BATTERY, Driver, clara_charging, vcu_frame


# ---------------------------------------------------------------------------------- IEC 61851-1 duty → current
@pytest.mark.parametrize(("duty", "amps"), [
    # IEC 61851-1:2017 Annex A, Table A.8
    (5.0, 0.0), (3.0, 0.0), (7.0, 0.0), (2.0, 0.0), (7.5, 0.0), (8.0, 6.0), (9.9, 6.0), (10.0, 6.0),
    (16.0, 9.6), (26.7, 16.0), (50.0, 30.0), (53.3, 32.0), (85.0, 51.0), (90.0, 65.0), (96.0, 80.0),
    (96.5, 80.0), (97.0, 80.0), (97.5, 0.0), (100.0, 0.0), (0.0, 0.0),
])
def test_ac_current_limit_follows_the_iec_61851_table(duty: float, amps: float) -> None:
    assert ac_current_limit(duty) == pytest.approx(amps, abs=0.05)


def test_5_percent_is_digital_communication() -> None:
    assert digital_communication(5.0) and digital_communication(3.0) and digital_communication(7.0)
    assert not digital_communication(10.0) and not digital_communication(2.9)


@given(st.floats(6.0, 51.0) | st.floats(52.6, 80.0))  # (85 % itself belongs to the lower range)
def test_the_sim_evse_duty_round_trips_through_the_controllers_table(amps: float) -> None:
    assert ac_current_limit(duty_for(amps)) == pytest.approx(amps, abs=0.2)


@pytest.mark.parametrize("amps", [5.9, 52.0, 80.5])
def test_no_duty_cycle_offers_these(amps: float) -> None:
    with pytest.raises(ValueError, match="offers"):
        duty_for(amps)


# ---------------------------------------------------------------------------------- temperature
def test_derating_curve() -> None:
    assert temperature_limit(60.0, 200.0, 60, 70, 10) == 200.0
    assert temperature_limit(65.0, 200.0, 60, 70, 10) == 105.0
    assert temperature_limit(70.0, 200.0, 60, 70, 10) == 10.0
    assert temperature_limit(90.0, 200.0, 60, 70, 10) == 10.0


def test_derating_invalid_order_is_rejected() -> None:
    with pytest.raises(ConfigError, match="derate-temp"):
        build_config({"mode": "clara", "clara": {"derate-temp": 80, "max-pin-temperature": 70}})


def test_a_hot_inlet_derates_the_request_and_0x109_then_stops_above_the_maximum() -> None:
    d = Driver(**{"lock-feedback": False}).charging()
    d.vcu = {**d.vcu, "ChargeCurrent": 150.0} if d.vcu else None
    d.run(d.now + 0.2)
    assert d.side.demand.current == 150
    d.side.sensor(Input.INLET_TEMP1, 40.0, d.now)
    d.side.sensor(Input.INLET_TEMP2, 65.0, d.now)  # halfway: 200 → 105 A
    d.run(d.now + 0.2)
    assert d.side.demand.current == 105
    last = d.frames(0x357)[-1]
    assert (last["LimitationReason"], last["MaxTemp"]) == (1, 65)
    assert d.frames(0x109)[-1]["EvseMaxCurrent"] == 105  # the VCU clamps to it
    assert d.logs("clara-derating")[-1]["inlet_hot"] is True
    d.side.sensor(Input.INLET_TEMP2, 70.5, d.now)
    assert d.side.state == ClaraState.STOP_WAIT_CURRENT and d.side.stop_reason is ClaraStop.INLET_OVERHEAT
    assert d.side.demand.current == 0
    d.run(d.now + 0.2)
    assert d.frames(0x357)[-1]["PortState"] == 5 and d.side.values["StopReason"] == 7


def test_a_session_that_starts_with_a_hot_inlet_stops_at_once() -> None:
    d = Driver()
    d.side.sensor(Input.INLET_TEMP1, 80.0, 0.0)  # one reading, before the session; none after
    _start_locking(d)
    assert d.side.stop_reason is ClaraStop.INLET_OVERHEAT and not d.side.contactors_evident()


def test_a_wrong_typed_sensor_value_is_logged_and_dropped() -> None:
    d = Driver()
    d.side.sensor(Input.INLET_TEMP1, "hot", 0.0)
    d.side.sensor(Input.LOCK_FEEDBACK, 1.0, 0.0)
    d.out += d.side.actions()
    assert [r["name"] for r in d.logs("clara-input-rejected")] == ["inlet_temp1", "lock_feedback"]
    assert d.side.values["MaxTemp"] == 0


# ---------------------------------------------------------------------------------- the lock's feedback
def _start_locking(d: Driver) -> None:
    d.side.start(SessionKind.DISCOVERY, d.now)
    d.run(d.now + 0.3)
    d.side.start(SessionKind.CHARGE, d.now)
    d.side.feed(Upstream(present_voltage=BATTERY - 5, precharge_done=True), d.now)
    d.run(d.now + 0.2)


def test_with_feedback_the_inlet_contactors_wait_for_the_lock() -> None:
    d = Driver(**{"lock-feedback": True})
    _start_locking(d)
    assert d.side.values["LockState"] == LOCK_CLOSING and d.outputs("lock") == [True]
    assert d.side.state == ClaraState.CHARGING and not d.side.contactors_evident()
    d.side.sensor(Input.LOCK_FEEDBACK, True, d.now)
    assert d.side.values["LockState"] == LOCK_CLOSED and d.side.contactors_evident()


def test_no_lock_feedback_in_time_is_a_lock_failure() -> None:
    d = Driver(**{"lock-feedback": True, "lock-timeout-ms": 1000})
    _start_locking(d)
    d.run(d.now + 1.0)
    assert d.side.stop_reason is ClaraStop.LOCK_FAILURE and not d.side.contactors_evident()
    assert d.logs("clara-lock-failed") == [{"closing": True, "after_ms": 1000}]
    d.side.feed(Upstream(), d.now)  # the charger's voltage falls
    d.run(d.now + 1.5)  # no current: the stop moves on; the lock never moved, so it is open at once
    assert d.side.state == ClaraState.ENDED and d.side.values["LockState"] == LOCK_OPEN


def test_a_lock_that_opens_during_the_charge_stops_it() -> None:
    d = Driver(**{"lock-feedback": True})
    _start_locking(d)
    d.side.sensor(Input.LOCK_FEEDBACK, True, d.now)
    d.run(d.now + 0.5)
    d.side.sensor(Input.LOCK_FEEDBACK, False, d.now)
    assert d.side.stop_reason is ClaraStop.LOCK_FAILURE
    d.out += d.side.actions()
    assert d.logs("clara-lock-feedback")[-1] == {"locked": False, "unexpected": True}


def test_unlocking_waits_for_the_feedback_and_a_stuck_lock_still_ends() -> None:
    d = Driver(**{"lock-feedback": True})
    _start_locking(d)
    d.side.sensor(Input.LOCK_FEEDBACK, True, d.now)
    d.side.stop(d.now)
    d.side.feed(Upstream(), d.now)
    d.run(d.now + 1.3)
    assert d.side.state == ClaraState.STOP_UNLOCK and d.outputs("lock") == [True, False]
    d.run(d.now + 1.6)  # the feedback never says "open"
    assert d.side.state == ClaraState.ENDED and d.side.values["LockState"] == 0
    assert d.logs("clara-lock-failed") == [{"closing": False, "after_ms": 1500}]


# ---------------------------------------------------------------------------------- basic AC
def test_basic_ac_locks_then_presents_c_while_the_obc_charges() -> None:
    d = Driver(**{"lock-feedback": True})
    d.side.sensor(Input.CP_DUTY, duty_for(16.0), 0.0)
    d.vcu = {**(d.vcu or {}), "AcObcState": 1.0}
    d.side.start(SessionKind.DISCOVERY, 0.0)
    d.run(0.3)
    assert d.side.state == ClaraState.AC_CHARGING and not d.side.discovered()  # CCS never starts
    assert d.outputs("lock") == [True] and d.outputs("cp") == []
    last = d.frames(0x357)[-1]
    assert (last["PortState"], last["EvseAcCurrentLimit"]) == (3, 16)
    d.side.sensor(Input.LOCK_FEEDBACK, True, d.now)
    d.vcu["AcObcState"] = 2.0
    d.run(d.now + 0.3)
    assert d.outputs("cp") == ["C"] and d.side.charging()
    d.vcu["enable"] = 0.0
    d.run(d.now + 0.3)
    assert d.outputs("cp") == ["C", "B"] and d.side.stop_reason is ClaraStop.MISSING_ENABLE
    d.side.sensor(Input.LOCK_FEEDBACK, False, d.now)
    assert d.side.state == ClaraState.ENDED and d.side.stop_report() == "enable off"


def test_5_percent_takes_the_dc_flow() -> None:
    d = Driver()
    d.side.sensor(Input.CP_DUTY, 5.0, 0.0)
    d.side.start(SessionKind.DISCOVERY, 0.0)
    d.run(0.3)
    assert d.side.discovered() and d.frames(0x357)[-1]["EvseAcCurrentLimit"] == 0


# ---------------------------------------------------------------------------------- the VCU's request, at once
def test_a_vcu_current_change_reaches_the_pending_request_at_once_within_the_ramp() -> None:
    rig = clara_charging()
    assert rig.ccs.request.target_current == 40.0
    rig.bridge.receive(vcu_frame(ChargeCurrent=41.0), rig.now + 0.03)  # between two cycles
    assert rig.ccs.request.target_current == 41.0  # the next CurrentDemandReq carries it
    rig.bridge.receive(vcu_frame(ChargeCurrent=60.0), rig.now + 0.05)
    assert rig.ccs.request.target_current == 44.0  # still at most +4 A in this cycle
    rig.bridge.receive(vcu_frame(ChargeCurrent=10.0), rig.now + 0.07)
    assert rig.ccs.request.target_current == 30.0  # and at most −10 A


def test_the_ramp_redone_within_a_cycle_keeps_its_rate() -> None:
    ramp = CurrentRamp()
    assert [ramp.step(100.0, 200.0) for _ in range(3)] == [4.0, 8.0, 12.0]
    assert ramp.step(9.0, 200.0, again=True) == 9.0  # this cycle's step (from 8 A) redone with 9 A
    assert ramp.step(100.0, 200.0, again=True) == 12.0  # the cycle's step from 8 A, redone
    assert ramp.step(100.0, 200.0) == 16.0
