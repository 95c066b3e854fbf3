"""Whole EV sessions against the simulated charger: every personality, every fault in every state."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccs2chademo.runtime.sessionlog import capture
from ccs2chademo.sim.charger import PERSONALITIES
from ccs2chademo.sim.ev_session import build_session, protocols_for
from ccs2chademo.sim.faults import FAULT_NAMES, FAULT_STATES, Fault
from ccs2chademo.v2g.evcc import ISO20_STATE_NAMES, SUCCESSORS
from ccs2chademo.v2g.messages import CODEC_SCHEMAS, EvMessage, Kind, Schema
from ccs2chademo.v2g.secc import DC_STATUS_KINDS, Reply

FULL = ["Idle", "Connecting", "SupportedAppProtocol", "SessionSetup", "ServiceDiscovery", "ServicePaymentSelection",
        "ContractAuthentication", "ChargeParameterDiscovery", "CableCheck", "WaitForPreCharge", "PreCharge",
        "ContactorsClosing", "PowerDeliveryOn", "CurrentDemand", "PowerDeliveryOff", "StopWait",
        "WeldingDetection", "SessionStop", "End"]


def run_logged(**kwargs: Any) -> tuple[Any, list[dict[str, Any]], Any]:
    session = build_session(**kwargs)
    history: list[tuple[float, str, Any]] = []
    slot = session.sim.slots["evcc"]
    inner = slot.on_output
    assert inner is not None

    def record(name: str, value: Any, now: float) -> None:
        if name in ("cp", "ev_contactor"):
            history.append((now, name, value))
        inner(name, value, now)

    slot.on_output = record
    stream = io.StringIO()
    with capture(stream):
        result = session.run(limit=kwargs.get("minutes", 0.1) * 60 + 600)
    log = [json.loads(line) for line in stream.getvalue().splitlines()]
    return result, log, (session, history)


@pytest.mark.parametrize("schema", list(CODEC_SCHEMAS))
@pytest.mark.parametrize("charger", sorted(PERSONALITIES))
def test_every_personality_completes_a_normal_session(charger: str, schema: Schema) -> None:
    result, log, (session, history) = run_logged(charger=charger, schema=schema, minutes=0.1)
    assert result.result == "completed", result.stop_reason
    assert result.states == FULL
    assert result.stop_reason == "ev-stop-request:CurrentDemand"
    assert result.safe_end
    assert session.evcc.schema is schema
    # CP C only after ChargeParameterDiscovery, back to B before the contactors open (ccs-ev.md §13.1, §12.2)
    cp_c = next(t for t, name, value in history if name == "cp" and value == "C")
    closed = next(t for t, name, value in history if name == "ev_contactor" and value is True)
    cp_b = next(t for t, name, value in history if name == "cp" and value == "B" and t > cp_c)
    opened = next(t for t, name, value in history if name == "ev_contactor" and value is False and t > closed)
    assert cp_c < closed < cp_b and opened >= cp_b + 0.3 - 1e-6
    assert any(r["kind"] == "session-end" and r["reason"] == "ev-stop-request:CurrentDemand" for r in log)


def test_personality_quirks_show_up() -> None:
    tesla = build_session(charger="tesla-sc", minutes=0.05)
    tesla.run(600)
    assert tesla.evcc.session_id == bytes.fromhex("06ef0071")
    abb = build_session(charger="abb", minutes=0.05)
    abb.run(600)
    assert abb.evcc.status.result == "completed"  # SessionSetupRes "OK" accepted
    under = build_session(charger="underdeliver", minutes=0.5)
    under.run(600)
    assert under.evcc.status.evse_dynamic_current == 150.0
    stale = build_session(charger="stale-voltage", minutes=0.05)
    with capture(io.StringIO()) as _:
        stale.run(600)
    assert "WeldingDetection" in stale.evcc.states and stale.evcc.status.present_voltage is not None
    assert stale.evcc.status.present_voltage > 300  # never fell, and the session still ended normally
    assert stale.evcc.status.result == "completed"


@pytest.mark.parametrize("minutes", [0.3, 1.5])
def test_compleo_regulates_a_ramped_request_without_tripping(minutes: float) -> None:
    session = build_session(charger="compleo", minutes=minutes)
    assert session.run(900).stop_reason == "ev-stop-request:CurrentDemand"


def test_compleo_trips_emergency_shutdown_on_the_overshoot_of_a_step_and_the_ev_stops_at_once() -> None:
    session = build_session(charger="compleo", minutes=1.0)
    session.car.ramp_up = 100.0  # 0 → 100 A in one step: its under-damped loop overshoots
    result = session.run(900)
    assert result.stop_reason == "evse-emergency-shutdown:CurrentDemand" and result.result == "completed"
    assert result.safe_end


def test_underdeliver_delivers_far_less_than_requested() -> None:
    session = build_session(charger="underdeliver", minutes=0.5)
    seen: list[tuple[float, float]] = []

    def sample(now: float) -> None:
        if session.evcc.status.current_demand:
            seen.append((session.car.request.target_current, session.evcc.status.present_current or 0.0))

    session.sim.every(0.5, sample)
    session.run(600)
    assert max(asked for asked, _ in seen) == 100.0
    assert 55.0 < max(got for _, got in seen) <= 60.5


def expected(fault: Fault) -> tuple[str, str | None]:
    """(result, stop reason) the spec asks for (ccs-ev.md §12, §15)."""
    state = {Kind.POWER_DELIVERY: "PowerDeliveryOn"}.get(fault.state, fault.state.value)
    if fault.state is Kind.SESSION_STOP:
        # no response or a lost link after SessionStopReq: FIN and done; a FAILED code: safe shutdown
        if fault.name in ("timeout", "tcp-reset"):
            return "completed", "ev-stop-request:CurrentDemand"
        return "safe-shutdown", "ev-stop-request:CurrentDemand"
    if fault.state is Kind.WELDING_DETECTION:
        if fault.name in ("evse-shutdown", "emergency-shutdown", "malfunction"):
            return "completed", "ev-stop-request:CurrentDemand"  # the stop is already running
        return "safe-shutdown", "ev-stop-request:CurrentDemand"
    status = {"evse-shutdown": "evse-shutdown", "emergency-shutdown": "evse-emergency-shutdown",
              "malfunction": "evse-malfunction"}
    if fault.name in status and fault.state in DC_STATUS_KINDS:
        if fault.state in (Kind.CURRENT_DEMAND, Kind.POWER_DELIVERY):
            return "completed", f"{status[fault.name]}:{state}"  # PowerDelivery(OFF) at once
        return "safe-shutdown", f"{status[fault.name]}:{state}"
    code = {"failed": "FAILED", "sequence-error": "FAILED_SequenceError", "unknown-session": "FAILED_UnknownSession",
            "timeout": "timeout", "tcp-reset": "tcp-reset"}.get(fault.name, "FAILED")
    return "safe-shutdown", f"{code}:{state}"


@pytest.mark.parametrize("state", FAULT_STATES, ids=lambda k: k.value)
@pytest.mark.parametrize("name", FAULT_NAMES)
def test_every_fault_in_every_state_ends_safe(name: str, state: Kind) -> None:
    fault = Fault(name, state)
    result, log, (session, history) = run_logged(charger="abb", fault=fault, minutes=0.05)
    assert session.injector is not None and session.injector.fired_at_request is not None
    want_result, want_reason = expected(fault)
    assert (result.result, result.stop_reason) == (want_result, want_reason)
    assert result.safe_end
    assert history[-1][1:] in (("cp", "B"), ("ev_contactor", False))
    end = [r for r in log if r["kind"] == "session-end"]
    assert len(end) == 1 and end[0]["reason"] == want_reason
    if result.result == "safe-shutdown":
        cp_b = max(t for t, n, v in history if n == "cp" and v == "C") if any(
            n == "cp" and v == "C" for _, n, v in history) else 0.0
        shutdown = next(r["t"] for r in log if r["kind"] == "safe-shutdown")
        opened = [t for t, n, v in history if n == "ev_contactor" and v is False and t >= shutdown]
        assert cp_b <= shutdown and opened and min(opened) >= shutdown + 2.0 - 1e-6  # ccs-ev.md §12.3: B, 2 s, open


TIMEOUTS = {Kind.SESSION_SETUP: 2.0, Kind.SERVICE_DISCOVERY: 2.0, Kind.SERVICE_PAYMENT_SELECTION: 2.0,
            Kind.CONTRACT_AUTHENTICATION: 2.0, Kind.CHARGE_PARAMETER_DISCOVERY: 5.0, Kind.CABLE_CHECK: 30.0,
            Kind.POWER_DELIVERY: 6.0, Kind.CURRENT_DEMAND: 1.0, Kind.WELDING_DETECTION: 2.0,
            Kind.SESSION_STOP: 2.0}


@pytest.mark.parametrize("state", list(TIMEOUTS), ids=lambda k: k.value)
def test_timeouts_in_virtual_time(state: Kind) -> None:
    _, log, _ = run_logged(charger="abb", fault=Fault("timeout", state), minutes=0.05)
    silent = next(r["t"] for r in log if r["kind"] == "no-response")
    fired = next(r["t"] for r in log if r["kind"] == "timeout")
    assert fired - silent == pytest.approx(TIMEOUTS[state], abs=0.001)  # request took 0.2 ms to arrive


def test_precharge_timeout_counts_from_the_first_request() -> None:
    _, log, (_session, _) = run_logged(charger="abb", fault=Fault("timeout", Kind.PRE_CHARGE), minutes=0.05)
    first = next(r["t"] for r in log if r["kind"] == "state" and r["state"] == "PreCharge")
    fired = next(r["t"] for r in log if r["kind"] == "timeout")
    assert fired - first == pytest.approx(30.0, abs=1e-6)


class Chaos:
    """Delays or drops replies as hypothesis chose (a ReplyHook)."""

    def __init__(self, plan: list[tuple[float, bool]]) -> None:
        self.plan = plan
        self.n = 0

    def __call__(self, request: EvMessage, reply: Reply) -> Reply:
        delay, drop = self.plan[self.n % len(self.plan)]
        self.n += 1
        if drop:
            return Reply(None)
        return Reply(reply.message, reply.delay + delay, reply.reset)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(0.0, 2.5), st.sampled_from([False, False, False, True])),
                min_size=1, max_size=40))
def test_random_delays_and_losses_always_end_with_cp_b_and_contactor_open(plan: list[tuple[float, bool]]) -> None:
    session = build_session(charger="abb", minutes=0.02)
    secc = session.sim.slots["charger"].machine
    secc.hook = Chaos(plan)  # type: ignore[attr-defined]
    result = session.run(limit=3600.0)
    assert session.evcc.status.ended
    assert result.safe_end and result.outputs["cp"] == "B" and result.outputs["ev_contactor"] is False
    assert result.stop_reason is not None


def test_iso2_power_delivery_timeout_is_5_s() -> None:
    _, log, _ = run_logged(charger="abb", schema=Schema.ISO2, fault=Fault("timeout", Kind.POWER_DELIVERY),
                           minutes=0.05)
    silent = next(r["t"] for r in log if r["kind"] == "no-response")
    fired = next(r["t"] for r in log if r["kind"] == "timeout")
    assert fired - silent == pytest.approx(5.0, abs=0.001)


class Garbler:
    """Rewrites replies as hypothesis chose: response codes, status codes, Ongoing, silence."""

    def __init__(self, plan: list[tuple[str | None, str | None, bool]]) -> None:
        self.plan = plan
        self.n = 0

    def __call__(self, request: EvMessage, reply: Reply) -> Reply:
        code, status, silent = self.plan[self.n % len(self.plan)]
        self.n += 1
        if silent or reply.message is None:
            return Reply(None)
        msg = reply.message
        if code is not None:
            msg = replace(msg, response_code=code)
        if status is not None and msg.status_code is not None:
            msg = replace(msg, status_code=status)
        return Reply(msg, reply.delay, reply.reset)


CODES = [None, None, None, None, "OK", "FAILED", "FAILED_SequenceError", "OK_NewSessionEstablished"]
STATUSES = [None, None, None, "EVSE_NotReady", "EVSE_Shutdown", "EVSE_EmergencyShutdown", "EVSE_Malfunction",
            "EVSE_UtilityInterruptEvent", "EVSE_IsolationMonitoringActive", "Reserved_8"]
FULL_ORDER = [*FULL[:-1], "SafeShutdown", "End"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(CODES), st.sampled_from(STATUSES),
                          st.sampled_from([False] * 15 + [True])), min_size=1, max_size=60),
       st.sampled_from(list(CODEC_SCHEMAS)))
def test_random_codes_and_statuses_always_end_safe(plan: list[tuple[str | None, str | None, bool]],
                                                    schema: Schema) -> None:
    session = build_session(charger="abb", minutes=0.02, schema=schema)
    session.sim.slots["charger"].machine.hook = Garbler(plan)  # type: ignore[attr-defined]
    result = session.run(limit=3600.0)
    assert session.evcc.status.ended and result.safe_end and result.stop_reason is not None
    order = result.states
    assert order == sorted(order, key=FULL_ORDER.index)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([*CODES, "WARNING_EVPowerProfileViolation", "OK_PowerToleranceConfirmed"]),
                          st.sampled_from(STATUSES), st.sampled_from([False] * 15 + [True])), min_size=1, max_size=60),
       st.sampled_from(["scheduled", "dynamic"]))
def test_random_codes_and_statuses_always_end_safe_in_iso20(plan: list[tuple[str | None, str | None, bool]],
                                                            mode: str) -> None:
    """The same at the -20 charger: whatever it answers, the -20 session ends safe and moves only
    along its successor table."""
    config = replace(protocols_for(Schema.ISO20), iso20_control_mode=mode)
    session = build_session(charger="iso20-dc", minutes=0.02, schema=Schema.ISO20, config=config)
    session.sim.slots["charger"].machine.hook = Garbler(plan)  # type: ignore[attr-defined]
    result = session.run(limit=3600.0)
    assert session.evcc.status.ended and result.safe_end and result.stop_reason is not None
    raw = [next((k for k, v in ISO20_STATE_NAMES.items() if v == s), s) for s in result.states]
    assert all(after in SUCCESSORS[before] for before, after in pairwise(raw)), raw
