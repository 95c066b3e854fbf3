"""The ISO 15118-20 DC session of the Evcc driven message by message (the ``Drive`` of
test_evcc.py with -20 EXI on the wire): the offer, the setup order, both control modes, and a
timeout and a failure response at every -20 state ending safe (CP B, contactors open, ended)."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ccs2chademo import exi
from ccs2chademo.runtime import DataReceived, InputChanged, LinkDown, LinkUp
from ccs2chademo.v2g import codec20, v2gtp
from ccs2chademo.v2g.evcc import ISO20_STATE_NAMES, SETUP_SEQUENCE, SUCCESSORS, Evcc, EvccConfig, EvRequest
from ccs2chademo.v2g.messages import ISO20_DC_PROTOCOL, EvMessage, EvseMessage, Kind, Schema

from .test_evcc import REQUEST, Drive

SID = bytes.fromhex("5a1e0c3d7b29e481")


def ok20(mode: str = "scheduled") -> dict[Kind, EvseMessage]:
    """A -20 DC charger's good answer to each request (``mode``: the control mode it confirms)."""
    return {
        Kind.SESSION_SETUP: EvseMessage(Kind.SESSION_SETUP, "OK_NewSessionEstablished", SID, evse_id=b"DE*ABC*E1"),
        Kind.AUTHORIZATION_SETUP: EvseMessage(Kind.AUTHORIZATION_SETUP, session_id=SID),
        Kind.CONTRACT_AUTHENTICATION: EvseMessage(Kind.CONTRACT_AUTHENTICATION, session_id=SID, processing="Finished"),
        Kind.SERVICE_DISCOVERY: EvseMessage(Kind.SERVICE_DISCOVERY, session_id=SID, services=(2, 6)),
        Kind.SERVICE_DETAIL: EvseMessage(Kind.SERVICE_DETAIL, session_id=SID,
                                         parameter_sets=((1, "scheduled"), (2, "dynamic"))),
        Kind.SERVICE_SELECTION: EvseMessage(Kind.SERVICE_SELECTION, session_id=SID),
        Kind.CHARGE_PARAMETER_DISCOVERY: EvseMessage(
            Kind.CHARGE_PARAMETER_DISCOVERY, session_id=SID, max_voltage=920.0, max_current=200.0,
            max_power=150_000.0, min_voltage=150.0, min_current=0.0),
        Kind.SCHEDULE_EXCHANGE: EvseMessage(Kind.SCHEDULE_EXCHANGE, session_id=SID, processing="Finished",
                                            control_mode=mode, max_power=150_000.0, sa_schedule_tuple_id=1),
        Kind.CABLE_CHECK: EvseMessage(Kind.CABLE_CHECK, session_id=SID, processing="Finished"),
        Kind.PRE_CHARGE: EvseMessage(Kind.PRE_CHARGE, session_id=SID, present_voltage=389.0),
        Kind.POWER_DELIVERY: EvseMessage(Kind.POWER_DELIVERY, session_id=SID),
        Kind.CURRENT_DEMAND: EvseMessage(Kind.CURRENT_DEMAND, session_id=SID, present_voltage=395.0,
                                         present_current=60.0, max_voltage=920.0, max_current=70.0,
                                         max_power=150_000.0, control_mode=mode),
        Kind.WELDING_DETECTION: EvseMessage(Kind.WELDING_DETECTION, session_id=SID, present_voltage=12.0),
        Kind.SESSION_STOP: EvseMessage(Kind.SESSION_STOP, session_id=SID),
    }


#: the -20 requests in session order, as (kind, the state's -20 name while it is awaited)
SEQUENCE = [*((kind, ISO20_STATE_NAMES.get(state.value, state.value)) for state, kind in SETUP_SEQUENCE),
            (Kind.CABLE_CHECK, "DC_CableCheck"), (Kind.PRE_CHARGE, "DC_PreCharge"),
            (Kind.POWER_DELIVERY, "PowerDeliveryOn"), (Kind.CURRENT_DEMAND, "DC_ChargeLoop")]
TLS13 = SimpleNamespace(version="TLSv1.3")


class Drive20(Drive):
    """A Drive whose charger speaks ISO 15118-20 DC after the handshake."""

    def __init__(self, mode: str = "scheduled", request: EvRequest = REQUEST, **config: object) -> None:
        cfg = EvccConfig(secc=("::1", 15118), iso20_priority=1, iso20_without_tls=True, iso20_control_mode=mode)
        self.frames: list[tuple[float, v2gtp.V2gtpMessage]] = []  # the -20 requests as sent
        super().__init__(replace(cfg, **config), request)  # type: ignore[arg-type]
        self.ok = ok20(mode)

    def decode(self, frame: v2gtp.V2gtpMessage) -> EvMessage:
        if frame.payload_type == v2gtp.PayloadType.EXI:
            return super().decode(frame)
        self.frames.append((self.now, frame))
        return codec20.decode_request(frame.payload, frame.payload_type)

    def answer(self, msg: EvseMessage, after: float = 0.01) -> None:
        if msg.kind is Kind.SUPPORTED_APP_PROTOCOL or self.evcc.schema is not Schema.ISO20:
            super().answer(msg, after)
            return
        payload = codec20.encode_response(msg, 1_700_000_000)
        self.event(DataReceived("tcp", v2gtp.encode(payload, codec20.payload_type(msg.kind))), after)

    def to20(self, kind: Kind) -> None:
        """Run the -20 happy path until the request ``kind`` has been sent."""
        self.at(0.0)
        self.event(LinkUp("tcp"))
        self.answer(EvseMessage(Kind.SUPPORTED_APP_PROTOCOL, "OK_SuccessfulNegotiation",
                                schema_id=ISO20_DC_PROTOCOL.schema_id))
        while self.last.kind is not kind:
            assert not self._waiting(), self.evcc.status.stop_reason
            self.answer(self.ok[self.last.kind])
            if self.evcc.awaiting is None and self.last.kind is not kind and not self._waiting():
                self.at(self.evcc.get_timer() or self.now)

    def stop_to_the_end(self, request: EvRequest) -> None:
        """The car asks to stop (``request`` with ``stop``); every request answered well to the end."""
        self.event(InputChanged("request", replace(request, stop=True)))
        while not self.evcc.status.ended:
            if self.evcc.awaiting is not None:
                self.answer(self.ok[self.evcc.awaiting])
            else:
                self.at(self.evcc.get_timer() or self.now)

    def ends_safe(self) -> None:
        """Run out the clock: the session ended with CP B, the contactors open and a reason."""
        self.at(self.now + 120.0)
        status = self.evcc.status
        assert status.ended and status.stop_reason is not None
        assert self.outputs["cp"] == "B" and self.outputs["ev_contactor"] is False
        assert not status.current_demand


def kinds_sent(d: Drive) -> list[Kind]:
    return list(dict.fromkeys(m.kind for _, m in d.sent))


@pytest.mark.parametrize(("priority", "order"), [(1, ["iso20", "din", "iso2"]), (2, ["din", "iso20", "iso2"]),
                                                 (3, ["din", "iso2", "iso20"])])
def test_priority_places_iso20_among_the_offer_over_tls_13(priority: int, order: list[str]) -> None:
    d = Drive(EvccConfig(secc=("::1", 15118), iso20_priority=priority))
    d.event(InputChanged("tls", TLS13))
    d.event(LinkUp("tcp"))
    offer = d.sent[0][1].protocols
    assert [str(p.schema) for p in offer] == order
    assert [p.priority for p in offer] == [1, 2, 3]
    assert not [k for _, k, _ in d.log if k.startswith("iso20")]


def test_without_tls_13_iso20_is_not_offered_unless_configured() -> None:
    d = Drive(EvccConfig(secc=("::1", 15118), iso20_priority=1))
    d.event(InputChanged("tls", SimpleNamespace(version="TLSv1.2")))
    d.event(LinkUp("tcp"))
    assert d.sent[0][1].protocols == EvccConfig().protocols
    assert [(k, f) for _, k, f in d.log if k.startswith("iso20")] == [("iso20-not-offered", {"tls": "TLSv1.2"})]
    d = Drive(EvccConfig(secc=("::1", 15118), iso20_priority=1, iso20_without_tls=True))
    d.event(LinkUp("tcp"))
    assert d.sent[0][1].protocols[0].schema is Schema.ISO20
    assert [(k, f) for _, k, f in d.log if k.startswith("iso20")] == [("iso20-without-tls", {"tls": None})]


def test_unset_priority_offers_exactly_what_it_did() -> None:
    d = Drive(EvccConfig(secc=("::1", 15118)))
    d.event(InputChanged("tls", TLS13))
    d.event(LinkUp("tcp"))
    assert d.sent[0][1].protocols == EvccConfig().protocols
    assert not [k for _, k, _ in d.log if k.startswith("iso20")]


@pytest.mark.parametrize("config", [{"iso20_priority": 4}, {"iso20_priority": 0}, {"iso20_control_mode": "x"},
                                    {"iso20_priority": 1, "protocols": (replace(ISO20_DC_PROTOCOL, priority=1),)}])
def test_bad_iso20_config_is_refused(config: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        EvccConfig(**config)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["scheduled", "dynamic"])
def test_full_session_follows_the_schema_order_in_both_modes(mode: str) -> None:
    d = Drive20(mode)
    d.to20(Kind.CURRENT_DEMAND)
    assert kinds_sent(d) == [Kind.SUPPORTED_APP_PROTOCOL, *(kind for kind, _ in SEQUENCE)]
    selection = next(m for _, m in d.sent if m.kind is Kind.SERVICE_SELECTION)
    assert (selection.service_id, selection.parameter_set_id) == (2, 1 if mode == "scheduled" else 2)
    assert ("service-selected", {"service": 2, "parameter_set": selection.parameter_set_id,
                                 "control_mode": mode}) in [(k, f) for _, k, f in d.log]
    assert d.last.control_mode == mode and d.last.soc == REQUEST.soc
    assert d.last.present_voltage == REQUEST.precharge_voltage and d.last.target_current == REQUEST.target_current
    d.answer(d.ok[Kind.CURRENT_DEMAND])
    assert d.last.target_current == 70.0  # capped by the charger's latest limit (dynamic: sent as the EV's maximum)
    assert d.outputs["cp"] == "C" and d.outputs["ev_contactor"] is True
    d.stop_to_the_end(REQUEST)
    status = d.evcc.status
    assert status.result == "completed" and status.stop_reason == "ev-stop-request:DC_ChargeLoop"
    assert d.evcc.states[-6:] == ["DC_ChargeLoop", "PowerDeliveryOff", "StopWait", "DC_WeldingDetection",
                                  "SessionStop", "End"]
    assert d.outputs["cp"] == "B" and d.outputs["ev_contactor"] is False
    assert d.evcc.state == "End" and status.state == "End"


def test_time_stamps_are_unix_time_and_payload_types_name_the_message_set() -> None:
    d = Drive20(epoch=1_700_000_000.0)
    d.to20(Kind.CURRENT_DEMAND)
    for now, frame in d.frames:
        schema = "iso20-dc" if frame.payload_type == v2gtp.PayloadType.ISO20_DC else "iso20-cm"
        assert exi.decode(frame.payload, schema).header.time_stamp == int(1_700_000_000 + now)
    assert [f.payload_type for _, f in d.frames][-2:] == [0x8002, 0x8004]  # PowerDelivery, DC_ChargeLoop


def test_cp_c_only_after_schedule_exchange() -> None:
    d = Drive20()
    d.to20(Kind.SCHEDULE_EXCHANGE)
    assert d.outputs["cp"] == "B"
    d.answer(d.ok[Kind.SCHEDULE_EXCHANGE])
    assert d.outputs["cp"] == "C" and d.last.kind is Kind.CABLE_CHECK


def test_the_bridge_sees_din_named_phases() -> None:
    d = Drive20()
    d.to20(Kind.CURRENT_DEMAND)
    d.answer(d.ok[Kind.CURRENT_DEMAND])
    assert d.evcc.state == "CurrentDemand" and d.evcc.status.state == "CurrentDemand"
    assert d.evcc.state_name == "DC_ChargeLoop" and d.evcc.status.current_demand


@pytest.mark.parametrize(("kind", "name"), [*SEQUENCE, (Kind.WELDING_DETECTION, "DC_WeldingDetection")])
def test_every_state_times_out_safe(kind: Kind, name: str) -> None:
    d = Drive20()
    if kind is Kind.WELDING_DETECTION:
        d.to20(Kind.CURRENT_DEMAND)
        d.event(InputChanged("request", replace(REQUEST, stop=True)))
        d.answer(d.ok[Kind.CURRENT_DEMAND])
        d.answer(d.ok[Kind.POWER_DELIVERY])
        d.at(d.now + 1.0)
        assert d.last.kind is Kind.WELDING_DETECTION
    else:
        d.to20(kind)
    d.ends_safe()
    assert d.evcc.status.stop_reason.startswith(  # type: ignore[union-attr]
        "ev-stop-request:DC_ChargeLoop" if kind is Kind.WELDING_DETECTION else f"timeout:{name}")


def test_session_stop_timeout_still_ends_with_fin() -> None:
    d = Drive20()
    d.to20(Kind.CURRENT_DEMAND)
    d.event(InputChanged("request", replace(REQUEST, stop=True)))
    for kind in (Kind.CURRENT_DEMAND, Kind.POWER_DELIVERY):
        d.answer(d.ok[kind])
    d.at(d.now + 1.0)
    d.answer(d.ok[Kind.WELDING_DETECTION])
    assert d.last.kind is Kind.SESSION_STOP
    d.ends_safe()
    assert d.evcc.status.result == "completed"


@pytest.mark.parametrize("code", ["FAILED", "FAILED_SequenceError", "WARNING_EIMAuthorizationFailure"])
@pytest.mark.parametrize(("kind", "name"), SEQUENCE)
def test_a_failure_response_at_every_state_ends_safe(kind: Kind, name: str, code: str) -> None:
    d = Drive20()
    d.to20(kind)
    d.answer(replace(d.ok[kind], response_code=code))
    d.ends_safe()
    assert d.evcc.status.stop_reason == f"{code}:{name}"
    assert d.evcc.status.result == "safe-shutdown"


def test_terminate_in_the_charge_loop_is_a_normal_stop() -> None:
    d = Drive20()
    d.to20(Kind.CURRENT_DEMAND)
    d.answer(replace(d.ok[Kind.CURRENT_DEMAND], status_code="EVSE_Shutdown"))  # sent as Terminate
    assert d.last.kind is Kind.POWER_DELIVERY and not d.last.power_on
    assert d.evcc.status.stop_reason == "evse-shutdown:DC_ChargeLoop"


def test_emergency_in_the_charge_loop_arrives_as_failed() -> None:
    d = Drive20()
    d.to20(Kind.CURRENT_DEMAND)
    d.answer(replace(d.ok[Kind.CURRENT_DEMAND], status_code="EVSE_EmergencyShutdown"))
    d.ends_safe()
    assert d.evcc.status.stop_reason == "FAILED:DC_ChargeLoop"


@pytest.mark.parametrize(("mode", "kind", "change", "reason"), [
    ("scheduled", Kind.SERVICE_DISCOVERY, {"services": (1, 6)}, "no-dc-service:ServiceDiscovery"),
    ("dynamic", Kind.SERVICE_DETAIL, {"parameter_sets": ((1, "scheduled"),)}, "no-dynamic-mode:ServiceDetail"),
    ("dynamic", Kind.SCHEDULE_EXCHANGE, {"control_mode": "scheduled"}, "control-mode-scheduled:ScheduleExchange"),
], ids=["no-dc-service", "no-dynamic-mode", "other-control-mode"])
def test_a_charger_without_dc_or_the_control_mode_ends_safe(mode: str, kind: Kind, change: dict[str, Any],
                                                            reason: str) -> None:
    d = Drive20(mode)
    d.to20(kind)
    d.answer(replace(d.ok[kind], **change))
    d.ends_safe()
    assert d.evcc.status.stop_reason == reason


def test_ongoing_schedule_exchange_polls_up_to_the_limit() -> None:
    d = Drive20()
    d.to20(Kind.SCHEDULE_EXCHANGE)
    for _ in range(59):
        d.answer(replace(d.ok[Kind.SCHEDULE_EXCHANGE], processing="Ongoing"))
        d.at(d.evcc.get_timer() or d.now)
        assert d.last.kind is Kind.SCHEDULE_EXCHANGE
    d.answer(replace(d.ok[Kind.SCHEDULE_EXCHANGE], processing="Ongoing"))
    d.ends_safe()
    assert d.evcc.status.stop_reason == "loop-limit:ScheduleExchange"


#: ISO 15118-20's V2G_EVCC_Msg_Timeout (Tables 214 and 216, docs/iso20.md "Timing")
MSG_TIMEOUT = {Kind.SERVICE_DETAIL: 5.0, Kind.CURRENT_DEMAND: 0.5}


@pytest.mark.parametrize(("kind", "name"), SEQUENCE)
def test_every_request_waits_as_long_as_the_iso20_table_says(kind: Kind, name: str) -> None:
    d = Drive20()
    d.to20(kind)
    sent_at = d.sent[-1][0]
    assert d.evcc.get_timer() == pytest.approx(sent_at + MSG_TIMEOUT.get(kind, 2.0))
    d.at(sent_at + MSG_TIMEOUT.get(kind, 2.0) - 0.001)
    assert not d.evcc.status.ended and d.evcc.status.stop_reason is None
    d.ends_safe()
    assert d.evcc.status.stop_reason == f"timeout:{name}"


@pytest.mark.parametrize(("kind", "name"), [(Kind.CONTRACT_AUTHENTICATION, "Authorization"),
                                            (Kind.CABLE_CHECK, "DC_CableCheck")])
def test_an_ongoing_loop_ends_at_the_iso20_ongoing_timeout(kind: Kind, name: str) -> None:
    """60 s from the loop's first request (V2G_EVCC_Ongoing_Timeout), slow answers or not; DIN/-2
    keep their request counts (Authorization: 120)."""
    d = Drive20()
    d.to20(kind)
    first = d.sent[-1][0]
    while not d.evcc.status.ended:
        d.answer(replace(d.ok[kind], processing="Ongoing"), after=1.5)
        d.at(d.evcc.get_timer() or d.now)
    assert d.evcc.status.stop_reason == f"ongoing-timeout:{name}"
    polls = [t for t, m in d.sent if m.kind is kind]
    assert len(polls) < 60 and polls[-1] - first < 60.0  # the time bound, before any request count


def test_iso20_path_only_moves_forward() -> None:
    d = Drive20()
    d.to20(Kind.CURRENT_DEMAND)
    raw = [next((k for k, v in ISO20_STATE_NAMES.items() if v == s), s) for s in d.evcc.states]
    for before, after in pairwise(raw):
        assert after in SUCCESSORS[before], (before, after)


FAULTS = ["failed", "timeout", "tcp-reset", "garbage", "wrong-session"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEQUENCE), st.sampled_from(FAULTS), st.sampled_from(["scheduled", "dynamic"]),
       st.booleans())
def test_any_fault_at_any_state_ends_safe(step: tuple[Kind, str], fault: str, mode: str, tls: bool) -> None:
    kind, name = step
    assume(not (fault == "wrong-session" and kind is Kind.SESSION_SETUP))  # SessionSetupRes gives the SessionID
    d = Drive20(mode, iso20_without_tls=not tls)
    if tls:
        d.event(InputChanged("tls", TLS13))
    d.to20(kind)
    if fault == "failed":
        d.answer(replace(d.ok[kind], response_code="FAILED"))
    elif fault == "tcp-reset":
        d.event(LinkDown("tcp", "reset"))
    elif fault == "garbage":
        d.event(DataReceived("tcp", v2gtp.encode(b"\x80\x00garbage", v2gtp.PayloadType.ISO20_DC)))
    elif fault == "wrong-session":
        d.answer(replace(d.ok[kind], session_id=bytes(8)))
    d.ends_safe()
    assert d.evcc.status.result == "safe-shutdown"
    assert d.evcc.status.stop_reason.endswith(f":{name}") or fault in ("garbage", "wrong-session")  # type: ignore[union-attr]


def test_one_evcc_runs_din_when_the_charger_picks_it() -> None:
    d = Drive20()
    d.at(0.0)
    d.event(LinkUp("tcp"))
    d.answer(EvseMessage(Kind.SUPPORTED_APP_PROTOCOL, "OK_SuccessfulNegotiation", schema_id=1))
    assert d.evcc.schema is Schema.DIN and d.last.kind is Kind.SESSION_SETUP
    assert isinstance(d.evcc, Evcc) and d.evcc.state_name == "SessionSetup"
