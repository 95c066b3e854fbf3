"""The Evcc machine driven message by message (no runtime): fields, spacing, limits, stop rules."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ccs2chademo.runtime import CloseLink, DataReceived, InputChanged, LinkDown, LinkUp, OpenLink, SendData, SetOutput
from ccs2chademo.v2g import codec, v2gtp
from ccs2chademo.v2g.evcc import Evcc, EvccConfig, EvRequest
from ccs2chademo.v2g.messages import DIN_PROTOCOL, EvMessage, EvseMessage, Kind, Schema

SID = bytes.fromhex("0a0b0c0d")
REQUEST = EvRequest(target_voltage=410.0, target_current=80.0, precharge_voltage=390.0, max_voltage=411.0, soc=42)

OK: dict[Kind, EvseMessage] = {
    Kind.SESSION_SETUP: EvseMessage(Kind.SESSION_SETUP, "OK_NewSessionEstablished", SID, evse_id=b"ZZ00000"),
    Kind.SERVICE_DISCOVERY: EvseMessage(Kind.SERVICE_DISCOVERY, session_id=SID),
    Kind.SERVICE_PAYMENT_SELECTION: EvseMessage(Kind.SERVICE_PAYMENT_SELECTION, session_id=SID),
    Kind.CONTRACT_AUTHENTICATION: EvseMessage(Kind.CONTRACT_AUTHENTICATION, session_id=SID, processing="Finished"),
    Kind.CHARGE_PARAMETER_DISCOVERY: EvseMessage(
        Kind.CHARGE_PARAMETER_DISCOVERY, session_id=SID, processing="Finished", status_code="EVSE_Ready",
        max_voltage=450.0, max_current=125.0, max_power=50_000.0, min_voltage=200.0, min_current=1.0,
        peak_current_ripple=5.0),
    Kind.CABLE_CHECK: EvseMessage(Kind.CABLE_CHECK, session_id=SID, processing="Finished", status_code="EVSE_Ready",
                                  isolation="Valid"),
    Kind.PRE_CHARGE: EvseMessage(Kind.PRE_CHARGE, session_id=SID, status_code="EVSE_Ready", present_voltage=389.0),
    Kind.POWER_DELIVERY: EvseMessage(Kind.POWER_DELIVERY, session_id=SID, status_code="EVSE_Ready"),
    Kind.CURRENT_DEMAND: EvseMessage(Kind.CURRENT_DEMAND, session_id=SID, status_code="EVSE_Ready",
                                     present_voltage=395.0, present_current=60.0, max_current=70.0),
    Kind.WELDING_DETECTION: EvseMessage(Kind.WELDING_DETECTION, session_id=SID, status_code="EVSE_Ready",
                                        present_voltage=12.0),
    Kind.SESSION_STOP: EvseMessage(Kind.SESSION_STOP, session_id=SID),
}


class Drive:
    """Holds an Evcc, the time, what it sent and the outputs it set."""

    def __init__(self, config: EvccConfig | None = None, request: EvRequest = REQUEST) -> None:
        self.evcc = Evcc("evcc", config or EvccConfig(secc=("::1", 15118)), request)
        self.now = 0.0
        self.sent: list[tuple[float, EvMessage]] = []
        self.outputs: dict[str, Any] = {}
        self.log: list[tuple[float, str, dict[str, Any]]] = []
        self.other: list[Any] = []
        self._drain()

    def _drain(self) -> None:
        for action in self.evcc.actions():
            if isinstance(action, SendData):
                frame = v2gtp.V2gtpStream().feed(action.data)[0]
                self.sent.append((self.now, self.decode(frame)))
            elif isinstance(action, SetOutput):
                self.outputs[action.name] = action.value
            elif hasattr(action, "kind"):
                self.log.append((self.now, action.kind, action.fields))
            else:
                self.other.append(action)

    def decode(self, frame: v2gtp.V2gtpMessage) -> EvMessage:
        """A request the Evcc sent (the first: the handshake)."""
        return codec.decode_request(frame.payload, None if not self.sent else self.evcc.schema)

    def at(self, t: float) -> None:
        """Advance to ``t`` firing every deadline on the way."""
        while (deadline := self.evcc.get_timer()) is not None and deadline <= t:
            self.now = max(self.now, deadline)
            self.evcc.handle_timer(self.now)
            self._drain()
        self.now = max(self.now, t)

    def event(self, event: Any, after: float = 0.01) -> None:
        self.at(self.now + after)
        self.evcc.receive(event, self.now)
        self._drain()

    def answer(self, msg: EvseMessage, after: float = 0.01) -> None:
        schema = None if msg.kind is Kind.SUPPORTED_APP_PROTOCOL else self.evcc.schema
        self.event(DataReceived("tcp", v2gtp.encode(codec.encode_response(msg, schema))), after)

    @property
    def last(self) -> EvMessage:
        return self.sent[-1][1]

    def to(self, kind: Kind, schema_id: int = 1) -> None:
        """Run the happy path until the request ``kind`` has been sent."""
        self.at(0.0)
        self.event(LinkUp("tcp"))
        self.answer(EvseMessage(Kind.SUPPORTED_APP_PROTOCOL, "OK_SuccessfulNegotiation", schema_id=schema_id))
        while self.last.kind is not kind:
            assert not self._waiting(), self.evcc.status.stop_reason
            self.answer(OK[self.last.kind])
            if self.evcc.awaiting is None and self.last.kind is not kind and not self._waiting():
                self.at(self.evcc.get_timer() or self.now)

    def _waiting(self) -> bool:
        return self.evcc.state in ("SafeShutdown", "End")


def test_starts_in_b_open_and_connects_itself_in_direct_mode() -> None:
    d = Drive(EvccConfig(secc=("fe80::1%eth0", 30000), start_at=1.5))
    assert d.outputs == {"cp": "B", "ev_contactor": False, "status": d.evcc.status}
    assert d.evcc.get_timer() == 1.5
    d.at(1.5)
    assert d.other == [OpenLink("tcp", ("fe80::1%eth0", 30000))]


def test_waits_for_the_secc_address_without_direct_mode() -> None:
    d = Drive(EvccConfig())
    assert d.evcc.get_timer() is None
    d.event(InputChanged("secc", ("fe80::2", 51110)))
    assert d.other == [OpenLink("tcp", ("fe80::2", 51110))]


def test_din_only_offer_is_the_fixed_ioniq_request() -> None:
    msg = EvMessage(Kind.SUPPORTED_APP_PROTOCOL, protocols=(DIN_PROTOCOL,))
    assert codec.encode_request(msg, None).hex() == (
        "8000dbab9371d3234b71d1b981899189d191818991d26b9b3a232b30020000040040")


def test_default_offer_is_din_first_then_iso2_and_the_chosen_schema_is_run() -> None:
    d = Drive()
    d.to(Kind.SESSION_SETUP, schema_id=2)
    offer = d.sent[0][1].protocols
    assert [(p.namespace, p.schema_id, p.priority) for p in offer] == [
        ("urn:din:70121:2012:MsgDef", 1, 1), ("urn:iso:15118:2:2013:MsgDef", 2, 2)]
    assert d.evcc.schema is Schema.ISO2
    assert d.last.evcc_id == EvccConfig().mac and d.last.session_id == bytes(8)


def test_unoffered_schema_or_failed_negotiation_is_a_safe_shutdown() -> None:
    d = Drive()
    d.at(0.0)
    d.event(LinkUp("tcp"))
    d.answer(EvseMessage(Kind.SUPPORTED_APP_PROTOCOL, "OK_SuccessfulNegotiation", schema_id=7))
    assert d.evcc.status.stop_reason == "unoffered-schema-7:SupportedAppProtocol"
    d = Drive()
    d.at(0.0)
    d.event(LinkUp("tcp"))
    d.answer(EvseMessage(Kind.SUPPORTED_APP_PROTOCOL, "Failed_NoNegotiation"))
    assert d.evcc.state == "SafeShutdown"


@pytest.mark.parametrize("sid", [b"\x00", SID, bytes(range(1, 9))])
def test_session_id_of_any_length_is_echoed_exactly(sid: bytes) -> None:
    d = Drive()
    d.to(Kind.SESSION_SETUP)
    d.answer(replace(OK[Kind.SESSION_SETUP], session_id=sid, response_code="OK"))  # ABB answers OK
    assert d.last.kind is Kind.SERVICE_DISCOVERY and d.last.session_id == sid


def test_ongoing_authorisation_polls_once_a_second_up_to_the_limit() -> None:
    d = Drive()
    d.to(Kind.CONTRACT_AUTHENTICATION)
    ongoing = replace(OK[Kind.CONTRACT_AUTHENTICATION], processing="Ongoing")
    for _ in range(119):
        sent_at = d.sent[-1][0]
        d.answer(ongoing, after=0.2)
        d.at(sent_at + 0.999)
        assert d.sent[-1][0] == sent_at
        d.at(sent_at + 1.0)
        assert d.sent[-1][0] == pytest.approx(sent_at + 1.0)
    assert sum(1 for _, m in d.sent if m.kind is Kind.CONTRACT_AUTHENTICATION) == 120
    d.answer(ongoing)
    assert d.evcc.status.stop_reason == "loop-limit:ContractAuthentication"


def test_charge_parameters_set_cp_c_and_limits() -> None:
    d = Drive()
    d.to(Kind.CHARGE_PARAMETER_DISCOVERY)
    cpd = d.last
    assert (cpd.ev_ready, cpd.max_voltage, cpd.max_current, cpd.max_power, cpd.soc) == (False, 411.0, 200.0,
                                                                                        100_000.0, 42)
    assert (cpd.energy_capacity, cpd.energy_request, cpd.full_soc, cpd.bulk_soc) == (100_000.0, 100_000.0, 100, 80)
    assert d.outputs["cp"] == "B"
    d.answer(replace(OK[Kind.CHARGE_PARAMETER_DISCOVERY], status_code="EVSE_NotReady"))  # Compleo: continue
    assert d.outputs["cp"] == "C" and d.last.kind is Kind.CABLE_CHECK and d.last.ev_ready
    status = d.evcc.status
    assert (status.evse_max_voltage, status.evse_max_current, status.evse_min_voltage) == (450.0, 125.0, 200.0)


def test_cable_check_30_s_timeout_and_1_s_spacing() -> None:
    d = Drive()
    d.to(Kind.CABLE_CHECK)
    sent_at = d.sent[-1][0]
    assert d.evcc.get_timer() == pytest.approx(sent_at + 30.0)
    d.answer(replace(OK[Kind.CABLE_CHECK], processing="Ongoing", status_code="EVSE_IsolationMonitoringActive"),
             after=0.4)
    assert d.evcc.get_timer() == pytest.approx(sent_at + 1.0)
    d.at(sent_at + 1.0)
    d.at(d.now + 30.0)
    assert d.evcc.status.stop_reason == "timeout:CableCheck" and d.outputs["cp"] == "B"


def test_precharge_20_v_rule_contactor_and_power_delivery_on() -> None:
    d = Drive()
    d.to(Kind.PRE_CHARGE)
    first = d.sent[-1][0]
    assert (d.last.target_voltage, d.last.target_current, d.last.ev_ready) == (390.0, 1.0, True)
    d.answer(replace(OK[Kind.PRE_CHARGE], present_voltage=369.0))  # 21 V off: again after ≈450 ms
    d.at(first + 0.449)
    assert d.sent[-1][0] == first
    d.at(first + 0.45)
    assert d.last.kind is Kind.PRE_CHARGE
    d.answer(replace(OK[Kind.PRE_CHARGE], present_voltage=371.0))
    assert d.evcc.status.precharge_reached and d.outputs["ev_contactor"] is True
    reached = d.now
    d.at(reached + 0.449)
    assert d.last.kind is Kind.PRE_CHARGE
    d.at(reached + 0.45)
    assert d.last.kind is Kind.POWER_DELIVERY and d.last.power_on
    assert (d.last.cabin_conditioning, d.last.ress_conditioning, d.last.bulk_charging_complete,
            d.last.charging_complete) == (False, False, False, False)


def test_hold_precharge_keeps_polling_until_released_within_30_s() -> None:
    d = Drive(request=replace(REQUEST, hold_precharge=True))
    d.to(Kind.PRE_CHARGE)
    first = d.sent[-1][0]
    for _ in range(10):
        d.answer(OK[Kind.PRE_CHARGE])
        d.at(d.sent[-1][0] + 0.45)
    assert d.evcc.status.precharge_reached and d.outputs["ev_contactor"] is False
    assert all(m.kind is Kind.PRE_CHARGE for _, m in d.sent[-10:])
    d.event(InputChanged("request", REQUEST))
    d.answer(OK[Kind.PRE_CHARGE])
    assert d.outputs["ev_contactor"] is True
    # and without release it would have ended at 30 s after the first PreChargeReq
    d2 = Drive(request=replace(REQUEST, hold_precharge=True))
    d2.to(Kind.PRE_CHARGE)
    first = d2.sent[-1][0]
    while d2.evcc.state == "PreCharge":
        if d2.evcc.get_timer() is not None and d2.last.kind is Kind.PRE_CHARGE:
            d2.answer(OK[Kind.PRE_CHARGE])
            d2.at(min(d2.evcc.get_timer() or d2.now, first + 30.0))
    assert d2.evcc.status.stop_reason == "timeout:PreCharge"
    timeout_at = next(t for t, kind, _ in d2.log if kind == "safe-shutdown")
    assert timeout_at == pytest.approx(first + 30.0)


def test_ready_to_start_gates_the_first_precharge_request() -> None:
    d = Drive(EvccConfig(secc=("::1", 1), precharge_start_delay=2.0), replace(REQUEST, ready_to_start=False))
    d.to(Kind.CABLE_CHECK)
    d.answer(OK[Kind.CABLE_CHECK])
    done = d.now
    d.at(done + 5.0)
    assert d.evcc.state == "WaitForPreCharge"
    d.event(InputChanged("request", REQUEST))
    assert d.last.kind is Kind.PRE_CHARGE and d.sent[-1][0] >= done + 2.0


def current_demand(d: Drive) -> None:
    d.to(Kind.POWER_DELIVERY)
    d.answer(OK[Kind.POWER_DELIVERY])
    assert d.last.kind is Kind.CURRENT_DEMAND


def test_current_demand_sends_every_field_and_respects_limits() -> None:
    d = Drive(request=replace(REQUEST, target_voltage=420.0, target_current=150.0))
    current_demand(d)
    req = d.last
    assert (req.target_voltage, req.max_voltage, req.max_current, req.max_power) == (411.0, 411.0, 200.0, 100_000.0)
    assert req.target_current == 125.0  # the ChargeParameterDiscovery maximum
    assert (req.bulk_charging_complete, req.charging_complete, req.remaining_full_s,
            req.remaining_bulk_s) == (False, False, 1200.0, 600.0)
    d.answer(OK[Kind.CURRENT_DEMAND])  # dynamic limit 70 A
    assert d.last.target_current == 70.0 and d.evcc.status.evse_dynamic_current == 70.0
    assert d.evcc.status.present_current == 60.0 and d.evcc.status.current_demand
    sent_at = d.sent[-1][0]
    assert d.evcc.get_timer() == pytest.approx(sent_at + 1.0)  # 1 s CurrentDemand timeout


@pytest.mark.parametrize(("status", "reason"), [
    ("EVSE_Shutdown", "evse-shutdown:CurrentDemand"),
    ("EVSE_EmergencyShutdown", "evse-emergency-shutdown:CurrentDemand"),
    ("EVSE_Malfunction", "evse-malfunction:CurrentDemand"),
])
def test_evse_stops_lead_to_power_delivery_off_then_the_normal_tail(status: str, reason: str) -> None:
    d = Drive()
    current_demand(d)
    d.answer(replace(OK[Kind.CURRENT_DEMAND], status_code=status))
    assert d.last.kind is Kind.POWER_DELIVERY and not d.last.power_on
    assert d.evcc.status.stop_reason == reason
    d.answer(OK[Kind.POWER_DELIVERY])
    assert d.outputs["cp"] == "B" and d.outputs["ev_contactor"] is True
    off = d.now
    d.at(off + 0.3)
    assert d.outputs["ev_contactor"] is False and d.last.kind is Kind.WELDING_DETECTION
    d.answer(OK[Kind.WELDING_DETECTION])
    assert d.last.kind is Kind.SESSION_STOP
    d.answer(OK[Kind.SESSION_STOP])
    assert d.other[-1] == CloseLink("tcp", abort=False) and d.evcc.status.result == "completed"


def test_utility_interrupt_and_failed_codes_are_safe_shutdowns() -> None:
    d = Drive()
    current_demand(d)
    d.answer(replace(OK[Kind.CURRENT_DEMAND], status_code="EVSE_UtilityInterruptEvent"))
    assert d.evcc.state == "SafeShutdown"
    d = Drive()
    current_demand(d)
    d.answer(replace(OK[Kind.CURRENT_DEMAND], response_code="FAILED"))
    assert d.evcc.status.stop_reason == "FAILED:CurrentDemand"
    shutdown = d.now
    assert d.outputs["cp"] == "B" and d.outputs["ev_contactor"] is True
    d.at(shutdown + 1.999)
    assert d.outputs["ev_contactor"] is True
    d.at(shutdown + 2.0)
    assert d.outputs["ev_contactor"] is False and CloseLink("tcp") not in d.other
    d.at(shutdown + 3.0)
    assert d.other[-1] == CloseLink("tcp", abort=False) and d.evcc.state == "End"


def test_welding_detection_is_bounded_for_a_stale_voltage() -> None:
    d = Drive()
    current_demand(d)
    d.event(InputChanged("request", replace(REQUEST, stop=True)))
    d.answer(OK[Kind.CURRENT_DEMAND])
    d.answer(OK[Kind.POWER_DELIVERY])
    d.at(d.now + 0.3)
    for _ in range(10):
        assert d.last.kind is Kind.WELDING_DETECTION
        d.answer(replace(OK[Kind.WELDING_DETECTION], present_voltage=398.0))
        d.at(d.sent[-1][0] + 0.25)
    assert d.last.kind is Kind.SESSION_STOP and d.evcc.status.stop_reason == "ev-stop-request:CurrentDemand"
    assert not d.evcc.status.safe_shutdown


def test_stop_before_current_demand_is_a_safe_shutdown() -> None:
    d = Drive()
    d.to(Kind.CABLE_CHECK)
    d.event(InputChanged("request", replace(REQUEST, stop=True)))
    assert d.evcc.status.stop_reason == "ev-stop-request:CableCheck" and d.evcc.state == "SafeShutdown"


@pytest.mark.parametrize(("reason", "cause"), [("reset", "tcp-reset"), ("closed", "tcp-closed")])
def test_tcp_loss_is_a_safe_shutdown_without_closing_again(reason: str, cause: str) -> None:
    d = Drive()
    current_demand(d)
    d.event(LinkDown("tcp", reason))
    assert d.evcc.status.stop_reason == f"{cause}:CurrentDemand"
    d.at(d.now + 5.0)
    assert d.evcc.state == "End" and CloseLink("tcp") not in d.other and d.outputs["ev_contactor"] is False


def test_garbage_from_the_charger_is_a_safe_shutdown() -> None:
    d = Drive()
    d.to(Kind.SESSION_SETUP)
    d.event(DataReceived("tcp", b"\x02\xfd\x80\x01\x00\x00\x00\x01\x00"))
    assert d.evcc.status.stop_reason == "bad-frame:SessionSetup"
    d = Drive()
    d.to(Kind.SESSION_SETUP)
    d.event(DataReceived("tcp", v2gtp.encode(b"\x80\x9a\xff")))
    assert d.evcc.status.stop_reason == "bad-message:SessionSetup"
    d = Drive()
    d.to(Kind.SESSION_SETUP)
    d.answer(OK[Kind.SESSION_SETUP])
    d.answer(OK[Kind.SESSION_SETUP])  # a response to a request we did not send
    assert d.evcc.status.stop_reason == "unexpected-SessionSetup:ServiceDiscovery"


def test_states_only_move_forward() -> None:
    d = Drive()
    current_demand(d)
    order = d.evcc.states
    assert order == sorted(order, key=["Idle", "Connecting", "SupportedAppProtocol", "SessionSetup",
                                       "ServiceDiscovery", "ServicePaymentSelection", "ContractAuthentication",
                                       "ChargeParameterDiscovery", "CableCheck", "WaitForPreCharge", "PreCharge",
                                       "ContactorsClosing", "PowerDeliveryOn", "CurrentDemand"].index)
