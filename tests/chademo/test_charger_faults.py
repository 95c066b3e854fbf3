"""Faults and bad input: each ends in the defined stop within its time, logged (chademo.md §7, §11)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.chademo.charger import encode_remaining
from ccs2chademo.chademo.frames import VehicleLimits, VehicleStatus
from ccs2chademo.chademo.interfaces import ChargerConfig, ChargerState, StopReason, Upstream
from ccs2chademo.runtime import CanFrame, CanReceived, InputChanged
from ccs2chademo.sim.chademo_world import ChademoWorld
from ccs2chademo.sim.profiles import VehicleProfile
from ccs2chademo.sim.vehicle import FAULT_NAMES
from tests.chademo.helpers import ChargerHarness, Recorder, profile_with, run_until_charging, spy_on, world


def charging(name: str | VehicleProfile = "leaf-ze1-40", **kwargs: object) -> tuple[ChademoWorld, Recorder]:
    w, log = world(name, **kwargs)  # type: ignore[arg-type]
    run_until_charging(w, 10.0)
    return w, log


def assert_safe_end(w: ChademoWorld) -> None:
    assert w.charger.state is ChargerState.ENDED
    view = w.charger.vehicle
    assert not (view.d1 or view.d2 or view.locked or view.charging)
    assert w.line_times("d1", False), "d1 went off"


def stop_time(log: Recorder) -> float:
    return log.kinds("chademo", "stop")[0][0]


def test_can_silence_is_fatal_after_1s() -> None:
    w, log = charging()
    silent_at = w.sim.now()
    w.to_car("can_silent", True)
    w.run(until=silent_at + 40)
    assert StopReason.CAN_TIMEOUT in w.charger.stop_reasons
    assert 1.0 <= stop_time(log) - silent_at <= 1.25
    assert log.kinds("chademo", "car-can-gap"), "the gap was logged as a warning first"
    assert_safe_end(w)
    # with the car silent the charger cannot see 0x102.5.3: that stop step times out after 10 s
    assert [f for _, f in log.kinds("chademo", "stop-step-timeout") if f["step"] == "car_contactors_open"]


def test_can_silence_before_ready() -> None:
    w, log = world("leaf-ze1-40")
    w.start()
    w.sim.run(until=1.0)
    w.to_car("can_silent", True)
    w.run(until=30)
    assert w.charger.stop_reasons == StopReason.CAN_TIMEOUT
    assert stop_time(log) <= 2.3
    assert_safe_end(w)


@pytest.mark.parametrize("fault", [*FAULT_NAMES, "system"])
def test_every_car_fault_bit_stops(fault: str) -> None:
    w, log = charging()
    at = w.sim.now()
    w.to_car("fault", fault)
    w.run(until=at + 30)
    expected = StopReason.CAR_ERROR if fault == "system" else StopReason.BATTERY_FAULT
    assert expected in w.charger.stop_reasons
    assert stop_time(log) - at <= 0.35  # the car's next cycle + ours
    assert_safe_end(w)


def test_k_drop_alone_stops() -> None:
    """The j line opening stops even while 0x102.5.0 still says enabled (redundant stop paths)."""
    w, log = charging()
    at = w.sim.now()
    w.to_charger("k", False)
    w.sim.run(until=at + 0.25)
    assert w.charger.stop_reasons == StopReason.K_OFF
    assert stop_time(log) - at <= 0.11


def test_not_in_park_stops() -> None:
    w, log = charging()
    at = w.sim.now()
    w.to_car("shift", "drive")
    w.run(until=at + 30)
    assert StopReason.NOT_IN_PARK in w.charger.stop_reasons
    assert stop_time(log) - at <= 0.35
    assert_safe_end(w)


def test_not_in_park_before_ready_times_out() -> None:
    w, log = world("leaf-ze1-40")
    w.to_car("shift", "drive")
    w.start()
    w.run(until=40)
    assert w.charger.stop_reasons == StopReason.CAR_READY_TIMEOUT
    assert stop_time(log) == pytest.approx(8.0, abs=0.11)
    assert_safe_end(w)


def test_stop_request_before_charging_is_ignored() -> None:
    w, log = charging("env200-40")  # sets 0x102.5.4 spuriously before its first request
    reasons = [f["reason"] for _, f in log.kinds("chademo", "rx-ignored")]
    assert any("0x102.5.4" in r for r in reasons)
    assert w.charger.state is ChargerState.CHARGING


def test_target_above_available_is_battery_incompatible() -> None:
    profile = profile_with("leaf-ze1-40", target_voltage=520, max_voltage=530)
    w, log = world(profile)
    w.start()
    w.run(until=40)
    assert w.charger.stop_reasons == StopReason.BATTERY_INCOMPATIBLE
    first_frame = log.kinds("chademo", "car-first-frame")[0][0]
    assert stop_time(log) - first_frame <= 2.3
    assert w.car.charger_status is not None and w.car.charger_status.battery_incompatible  # 0x109.5.3 reached the car
    assert_safe_end(w)


def test_charging_time_runs_out() -> None:
    w, _ = charging(profile_with("leaf-ze1-40", max_charge_time_10s=3))  # 30 s
    w.run(until=w.sim.now() + 60)
    assert StopReason.CHARGING_TIME in w.charger.stop_reasons
    assert_safe_end(w)


def test_upstream_stop_and_user_stop() -> None:
    w, _ = charging()
    w.source.stopped = True
    w.run(until=w.sim.now() + 30)
    assert StopReason.UPSTREAM_STOPPED in w.charger.stop_reasons
    assert_safe_end(w)
    w, _ = charging()
    w.to_charger("stop", True)
    w.run(until=w.sim.now() + 30)
    assert w.charger.stop_reasons & StopReason.USER
    assert_safe_end(w)


def test_current_deviation_fault_without_dynamic_control() -> None:
    """A car without any dynamic flag in static mode faults on > 20 A under-delivery (4.2)."""
    profile = profile_with("leaf-ze0-24", legacy_dynamic_bit=False)
    w, _ = charging(profile, config=ChargerConfig(dynamic_current_fallback=False))  # type: ignore[arg-type]
    w.sim.run(until=w.sim.now() + 20)
    w.source.delivery_cap = 60.0
    w.run(until=w.sim.now() + 40)
    assert StopReason.BATTERY_FAULT in w.charger.stop_reasons
    assert "fault_current_deviation" in w.car.faults
    assert_safe_end(w)


def test_voltage_echo_triggers_voltage_deviation() -> None:
    """A charger reporting the target instead of the real voltage trips 0x102.4.4 (chademo.md §6.2)."""
    w, _ = charging("zombieverter")
    real = w.charger.upstream
    w.source.upstream = lambda: Upstream(  # type: ignore[method-assign]
        present_voltage=400.0, present_current=real.present_current, precharge_done=True
    )
    w.run(until=w.sim.now() + 30)
    assert "fault_voltage_deviation" in w.car.faults
    assert StopReason.BATTERY_FAULT in w.charger.stop_reasons


# ------------------------------------------------------------------------------- bad input


def started() -> ChargerHarness:
    h = ChargerHarness()
    h.feed(0.0, InputChanged("start", True))
    return h


def status(**kw: object) -> CanFrame:
    return VehicleStatus(target_voltage=410, **kw).to_can()  # type: ignore[arg-type]


def test_wrong_dlc_unknown_and_extended_ids_are_ignored_and_logged() -> None:
    h = started()
    h.feed(0.05, CanReceived("can", CanFrame(0x102, bytes(7))))
    h.feed(0.06, CanReceived("can", CanFrame(0x123, bytes(8))))
    h.feed(0.07, CanReceived("can", CanFrame(0x123, bytes(8))))
    h.feed(0.08, CanReceived("can", CanFrame(0x102, status().data, is_extended_id=True)))
    h.feed(0.09, CanReceived("can", CanFrame(0x109, bytes(8))))
    h.feed(0.095, CanReceived("other-bus", status()))
    h.advance(0.5)
    reasons = [(f["id"], f["reason"]) for _, f in h.log_kinds("rx-ignored")]
    assert ("0x102", "DLC 7") in reasons
    assert reasons.count(("0x123", "unknown ID")) == 1  # logged once
    assert ("0x102", "unknown ID") in reasons  # the extended one
    assert ("0x109", "charger ID (another charger?)") in reasons
    assert not h.charger.vehicle.seen and h.sent == []  # none of them counts as the car's 0x102


def test_garbage_status_values_stop_as_the_spec_says() -> None:
    h = started()
    for n in range(30):
        h.feed(0.05 + n * 0.1, CanReceived("can", VehicleLimits(max_battery_voltage=0xFFFF).to_can()))
        h.feed(0.06 + n * 0.1, CanReceived("can", VehicleStatus(target_voltage=0xFFFF, current_request=255).to_can()))
    assert h.charger.stop_reasons == StopReason.BATTERY_INCOMPATIBLE
    assert max(s.present_current for _, s in h.statuses()) == 0
    assert not any(s.charging for _, s in h.statuses())


def test_bad_inputs_are_rejected_with_a_log() -> None:
    h = started()
    h.feed(0.01, InputChanged("upstream", {"present_voltage": 5}))
    h.feed(0.02, InputChanged("start", "now"))
    kinds = [f["name"] for _, f in h.log_kinds("input-rejected")]
    assert kinds == ["upstream", "start"]


def test_a_second_start_is_ignored() -> None:
    h = started()
    h.feed(0.5, InputChanged("start", True))
    assert h.log_kinds("start-ignored")


# ------------------------------------------------------------------------------- properties

STATUS = st.builds(
    VehicleStatus,
    protocol_number=st.integers(0, 3),
    target_voltage=st.sampled_from([0, 300, 410, 499, 500, 501, 65535]),
    current_request=st.integers(0, 255),
    fault_over_voltage=st.booleans(),
    fault_current_deviation=st.booleans(),
    charging_enabled=st.booleans(),
    shift_not_park=st.booleans(),
    system_fault=st.booleans(),
    contactors_open=st.booleans(),
    stop_before_charging=st.booleans(),
    legacy_dynamic_control=st.booleans(),
    charged_rate=st.integers(0, 255),
)
STEP = st.tuples(
    st.floats(0.0, 0.6),  # gap before the frame
    STATUS,
    st.booleans(),  # k
    st.floats(0.0, 200.0),  # dynamic limit of the source
    st.booleans(),  # precharge done
)


def _latest(history: list[tuple[float, float]], t: float) -> float:
    """The value in force at ``t`` (inputs at exactly ``t`` may or may not be seen yet: take the larger)."""
    before = [v for tv, v in history if tv < t]
    at = [v for tv, v in history if tv <= t]
    return max(before[-1] if before else 0.0, at[-1] if at else 0.0)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(STEP, min_size=1, max_size=80), fake=st.integers(0, 3))
def test_random_car_sequences_keep_the_invariants(steps: list, fake: int) -> None:
    h = ChargerHarness(ChargerConfig(fake_idle_amps=fake))
    h.feed(0.0, InputChanged("start", True))
    t = 0.0
    requests: list[tuple[float, float]] = []
    limits: list[tuple[float, float]] = []
    presents: list[tuple[float, float]] = []
    for gap, frame, k, dyn, precharged in steps:
        t += gap
        # an ideal source: delivers exactly the present demand
        present = float(h.demand.current)
        up = Upstream(dynamic_current=dyn, present_voltage=380.0, present_current=present, precharge_done=precharged)
        h.feed(t, InputChanged("upstream", up))
        h.feed(t, InputChanged("k", k))
        h.feed(t, CanReceived("can", frame.to_can()))
        requests.append((t, frame.current_request))
        presents.append((t, present))
        limits.append((t, min(dyn, 200.0)))
    h.advance(t + 45.0)  # the car falls silent: whatever state, the charger must end safely
    assert h.charger.state is ChargerState.ENDED
    assert h.times("d1", False) and not h.charger.vehicle.d1 and not h.charger.vehicle.d2
    statuses = h.statuses()
    # charging (0x109.5.0) never starts without a request
    for i, (ts, s) in enumerate(statuses):
        if s.charging and (i == 0 or not statuses[i - 1][1].charging):
            assert _latest(requests, ts) > 0
    # the current asked of the source never exceeds min(request, available), and only while charging
    demanded = [(td, float(d.current)) for td, name, d in h.outputs if name == "demand"]
    for (td, current), (_, _, d) in zip(demanded, [o for o in h.outputs if o[1] == "demand"], strict=True):
        assert current == 0 or d.charging
        assert current <= _latest(requests, td) and current <= _latest(limits, td) + 1e-9
    # what 0x109 reports is the source's current (= an earlier demand), or the fake idle amps
    for ts, s in statuses:
        assert s.present_current <= max(_latest(presents, ts), fake if s.charging else 0)


def test_stop_at_zero_current_still_sends_0x25_first() -> None:
    """5.5 is set one frame before 5.0 is cleared, even when no current flows (chademo.md §3.5)."""
    w, _ = charging()
    spy = spy_on(w)
    w.source.delivery_cap = 0.0
    w.sim.run(until=w.sim.now() + 1.0)
    w.to_charger("stop", True)
    w.run(until=w.sim.now() + 30)
    assert spy.status_bytes() == [0x05, 0x25, 0x24, 0x20]


@pytest.mark.parametrize(
    ("seconds", "encoded"),
    [(0, (0, 0)), (9.9, (0, 0)), (59, (5, 0)), (60, (0xFF, 1)), (4800, (0xFF, 80)), (10**6, (0xFF, 0xFF))],
)
def test_remaining_time_encoding(seconds: float, encoded: tuple[int, int]) -> None:
    assert encode_remaining(seconds) == encoded  # chademo.md §3.5, the original adapter's rule


def test_stop_reasons_are_logged_in_hex() -> None:
    reasons = StopReason.K_OFF | StopReason.CAR_ERROR
    assert reasons.describe() == "0x240 (K_OFF|CAR_ERROR)"
    assert StopReason.NONE.describe() == "0x0 (NONE)"


@pytest.mark.parametrize(
    "kwargs", [{"protocol_number": 3}, {"max_amps": 256}, {"fake_idle_amps": -1}, {"max_volts": 0}]
)
def test_charger_config_is_validated(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        ChargerConfig(**kwargs)  # type: ignore[arg-type]


def test_leaf_refuses_to_close_with_voltage_on_the_inlet() -> None:
    """Why the adapter keeps its contactor open (0 V at the inlet) until the car has closed."""
    w, log = world("leaf-ze1-40")
    w.source.hold_voltage = 380.0
    w.start()
    w.run(until=40)
    assert w.line_times("contactors", True) == []
    assert w.charger.stop_reasons == StopReason.CONTACTORS_TIMEOUT
    assert stop_time(log) - w.line_times("d2", True)[0] == pytest.approx(4.0, abs=0.11)
    assert_safe_end(w)
