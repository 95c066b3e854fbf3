"""codec20 (neutral messages ⇄ ISO 15118-20 DC EXI) against the peer's bytes of
tests/exi/iso20_vectors.py, its round trips, and the Secc answering a -20 session."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo import exi
from ccs2chademo.exi import iso20_cm as cm
from ccs2chademo.runtime import DataReceived, LinkUp, SendData
from ccs2chademo.sim.charger import PERSONALITIES, PowerStageModel, StageParams
from ccs2chademo.v2g import codec, codec20, v2gtp
from ccs2chademo.v2g.codec import CodecError
from ccs2chademo.v2g.messages import ISO20_DC_PROTOCOL, EvMessage, EvseMessage, Kind, Schema
from ccs2chademo.v2g.secc import Secc, SeccConfig

from ..exi.iso20_vectors import SESSION_ID, VECTORS


def _hex(name: str, n: int = 0) -> bytes:
    """The ``n``-th vector of message ``name``."""
    return bytes.fromhex([h for _, m, h in VECTORS if type(m).__name__ == name][n])


def test_peer_responses_read_as_the_neutral_model() -> None:
    loop = codec20.decode_response(_hex("DC_ChargeLoopRes"), Kind.CURRENT_DEMAND)
    assert (loop.kind, loop.response_code, loop.session_id) == (Kind.CURRENT_DEMAND, "OK", SESSION_ID)
    assert (loop.present_voltage, loop.present_current, loop.max_power) == (382.6, 124.8, 150_000.0)
    assert loop.status_code is None and loop.notification == "None"
    dynamic = codec20.decode_response(_hex("DC_ChargeLoopRes", 2), Kind.CURRENT_DEMAND)
    assert (dynamic.max_current, dynamic.max_voltage) == (200.0, 920.0)
    detail = codec20.decode_response(_hex("ServiceDetailRes"), Kind.SERVICE_DETAIL)
    assert detail.parameter_sets == ((1, "dynamic"),)
    discovery = codec20.decode_response(_hex("ServiceDiscoveryRes"), Kind.SERVICE_DISCOVERY)
    assert discovery.services == (2, 6)
    schedule = codec20.decode_response(_hex("ScheduleExchangeRes", 1), Kind.SCHEDULE_EXCHANGE)
    assert (schedule.control_mode, schedule.sa_schedule_tuple_id, schedule.processing) == ("scheduled", 1, "Finished")
    power = codec20.decode_response(_hex("PowerDeliveryRes"), Kind.POWER_DELIVERY)
    assert (power.status_code, power.notification) == (None, "ExitStandby")
    cpd = codec20.decode_response(_hex("DC_ChargeParameterDiscoveryRes"), Kind.CHARGE_PARAMETER_DISCOVERY)
    assert (cpd.max_voltage, cpd.max_current, cpd.min_voltage, cpd.processing) == (920.0, 200.0, 150.0, "Finished")


def test_peer_requests_read_as_the_neutral_model() -> None:
    dc = v2gtp.PayloadType.ISO20_DC
    loop = codec20.decode_request(_hex("DC_ChargeLoopReq"), dc)
    assert (loop.control_mode, loop.target_current, loop.target_voltage, loop.present_voltage) == (
        "scheduled", 125.0, 410.0, 382.4)
    dynamic = codec20.decode_request(_hex("DC_ChargeLoopReq", 2), dc)
    assert (dynamic.control_mode, dynamic.target_current, dynamic.target_voltage) == ("dynamic", 125.0, 435.0)
    scheduled_bpt = codec20.decode_request(_hex("DC_ChargeLoopReq", 1), dc)
    assert (scheduled_bpt.control_mode, scheduled_bpt.target_current, scheduled_bpt.max_discharge_current,
            scheduled_bpt.max_discharge_power) == ("scheduled", -25.0, 25.0, 10_000.0)
    dynamic_bpt = codec20.decode_request(_hex("DC_ChargeLoopReq", 3), dc)
    assert (dynamic_bpt.control_mode, dynamic_bpt.max_discharge_current, dynamic_bpt.min_soc,
            dynamic_bpt.v2x_energy_to_floor) == ("dynamic", 25.0, 30, -10_000.0)
    cpd = codec20.decode_request(_hex("DC_ChargeParameterDiscoveryReq", 1), dc)
    assert (cpd.max_discharge_current, cpd.max_discharge_power) == (25.0, 10_000.0)
    start = codec20.decode_request(_hex("PowerDeliveryReq"), v2gtp.PayloadType.ISO20_COMMON_MESSAGES)
    assert start.power_on and start.discharge_channel


def test_peer_bpt_responses_read_as_the_neutral_model() -> None:
    """The DC_BPT answers a bidirectional charger gives: its discharge limits, and the discharging
    schedule's power as a magnitude (the peer writes it negative)."""
    cpd = codec20.decode_response(_hex("DC_ChargeParameterDiscoveryRes", 1), Kind.CHARGE_PARAMETER_DISCOVERY)
    assert (cpd.max_discharge_current, cpd.max_discharge_power) == (30.0, 11_000.0)
    loop = codec20.decode_response(_hex("DC_ChargeLoopRes", 3), Kind.CURRENT_DEMAND)
    assert (loop.present_current, loop.max_discharge_current, loop.max_discharge_power) == (-25.0, 30.0, 11_000.0)
    plain = codec20.decode_response(_hex("DC_ChargeLoopRes"), Kind.CURRENT_DEMAND)
    assert plain.max_discharge_current is None
    schedule = codec20.decode_response(_hex("ScheduleExchangeRes", 1), Kind.SCHEDULE_EXCHANGE)
    assert schedule.schedule_discharge_power == 10_000.0


def test_a_bpt_power_delivery_start_is_byte_exact_with_the_peer() -> None:
    want = _hex("PowerDeliveryReq")
    stamp = next(m for _, m, _ in VECTORS if type(m).__name__ == "PowerDeliveryReq").header.time_stamp
    msg = EvMessage(Kind.POWER_DELIVERY, session_id=SESSION_ID, power_on=True, discharge_channel=True)
    ours = exi.decode(codec20.encode_request(msg, stamp), "iso20-cm")
    # ours names the schedule it took (EVPowerProfile, the interop tests); the peer's vector has none
    assert ours.ev_power_profile is not None
    assert exi.encode(replace(ours, ev_power_profile=None)) == want


@pytest.mark.parametrize("name", ["AuthorizationSetupReq", "ServiceDiscoveryReq", "DC_CableCheckReq"])
def test_header_only_requests_are_byte_exact_with_the_peer(name: str) -> None:
    want = _hex(name)
    kind = codec20.decode_request(want, codec20.payload_type(Kind.CABLE_CHECK) if name.startswith("DC_")
                                  else v2gtp.PayloadType.ISO20_COMMON_MESSAGES).kind
    index = [type(m).__name__ for _, m, _ in VECTORS].index(name)
    stamp = VECTORS[index][1].header.time_stamp
    assert codec20.encode_request(EvMessage(kind, session_id=SESSION_ID), stamp) == want


def test_payload_types_name_the_message_set() -> None:
    assert codec20.payload_type(Kind.CURRENT_DEMAND) == v2gtp.PayloadType.ISO20_DC == 0x8004
    assert codec20.payload_type(Kind.SCHEDULE_EXCHANGE) == v2gtp.PayloadType.ISO20_COMMON_MESSAGES == 0x8002
    with pytest.raises(CodecError):
        codec20.encode_request(EvMessage(Kind.SERVICE_PAYMENT_SELECTION, session_id=SESSION_ID), 0)
    with pytest.raises(CodecError):
        codec20.decode_response(b"\x80\x00\x01", Kind.SESSION_SETUP)


@pytest.mark.parametrize("mode", ["scheduled", "dynamic"])
def test_power_delivery_start_names_the_schedule_tuple_taken(mode: str) -> None:
    """-20 carries the EV's choice of schedule tuple only in PowerDelivery(Start)'s EVPowerProfile."""
    msg = EvMessage(Kind.POWER_DELIVERY, session_id=SESSION_ID, power_on=True, sa_schedule_tuple_id=7,
                    max_power=50_000.0, remaining_full_s=1200.0, control_mode=mode)
    start = exi.decode(codec20.encode_request(msg, 1_700_000_000), "iso20-cm")
    assert isinstance(start, cm.PowerDeliveryReq) and start.ev_power_profile is not None
    profile = start.ev_power_profile
    assert profile.time_anchor == 1_700_000_000
    [entry] = profile.ev_power_profile_entries.ev_power_profile_entry
    assert (entry.duration, entry.power.value * 10 ** entry.power.exponent) == (1200, 50_000)
    if mode == "scheduled":
        assert profile.scheduled_evppt_control_mode is not None
        assert profile.scheduled_evppt_control_mode.selected_schedule_tuple_id == 7
    else:
        assert profile.dynamic_evppt_control_mode is not None and profile.scheduled_evppt_control_mode is None
    stop = exi.decode(codec20.encode_request(replace(msg, power_on=False), 1), "iso20-cm")
    assert isinstance(stop, cm.PowerDeliveryReq) and stop.ev_power_profile is None


volts = st.integers(0, 9000).map(lambda v: v / 10)
amps = st.integers(0, 4000).map(lambda v: v / 10)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["scheduled", "dynamic"]), volts, amps, volts, st.integers(0, 100))
def test_charge_loop_request_round_trip(mode: str, tv: float, ti: float, pv: float, soc: int) -> None:
    msg = EvMessage(Kind.CURRENT_DEMAND, session_id=SESSION_ID, soc=soc, target_voltage=tv, target_current=ti,
                    max_voltage=500.0, max_current=200.0, max_power=100_000.0, present_voltage=pv, control_mode=mode)
    back = codec20.decode_request(codec20.encode_request(msg, 1), v2gtp.PayloadType.ISO20_DC)
    assert (back.control_mode, back.target_voltage, back.target_current, back.present_voltage, back.soc) == (
        mode, tv, ti, pv, soc)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["scheduled", "dynamic"]), volts, amps,
       st.sampled_from([None, "EVSE_Ready", "EVSE_Shutdown", "EVSE_EmergencyShutdown", "EVSE_Malfunction"]))
def test_charge_loop_response_round_trip(mode: str, v: float, i: float, status: str | None) -> None:
    msg = EvseMessage(Kind.CURRENT_DEMAND, session_id=SESSION_ID, present_voltage=v, present_current=i,
                      max_voltage=500.0, max_current=i, max_power=100_000.0, control_mode=mode, status_code=status)
    back = codec20.decode_response(codec20.encode_response(msg, 1), Kind.CURRENT_DEMAND)
    assert (back.present_voltage, back.present_current, back.max_current) == (v, i, i)
    stopping = status not in (None, "EVSE_Ready")
    assert back.status_code == ("EVSE_Shutdown" if stopping else None)
    assert back.response_code == ("FAILED" if status in ("EVSE_EmergencyShutdown", "EVSE_Malfunction") else "OK")


signed_amps = st.integers(-4000, 4000).map(lambda v: v / 10)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["scheduled", "dynamic"]), signed_amps, amps, st.integers(0, 100),
       st.one_of(st.none(), st.integers(-1000, 0).map(lambda wh: wh * 100.0)))
def test_bpt_charge_loop_round_trip(mode: str, target: float, discharge: float, floor: int,
                                    to_floor: float | None) -> None:
    """A DC_BPT loop request (signed target, discharge limits, MinimumSOC, V2X energy) and its
    answer (a negative present current, the charger's discharge limits) survive the wire."""
    msg = EvMessage(Kind.CURRENT_DEMAND, session_id=SESSION_ID, soc=50, target_voltage=380.0, target_current=target,
                    max_voltage=500.0, max_current=200.0, max_power=100_000.0, present_voltage=370.0,
                    control_mode=mode, max_discharge_current=discharge, max_discharge_power=12_500.0,
                    min_soc=floor, v2x_energy_to_floor=to_floor)
    back = codec20.decode_request(codec20.encode_request(msg, 1), v2gtp.PayloadType.ISO20_DC)
    assert (back.control_mode, back.max_discharge_current, back.max_discharge_power, back.min_soc) == (
        mode, discharge, 12_500.0, floor)
    assert back.target_current == target  # scheduled: EVTargetCurrent; dynamic: EVMaximumChargeCurrent
    assert back.v2x_energy_to_floor == (to_floor if mode == "dynamic" else None)
    res = EvseMessage(Kind.CURRENT_DEMAND, session_id=SESSION_ID, present_voltage=370.0, present_current=-discharge,
                      max_voltage=500.0, max_current=40.0, max_power=11_000.0, min_voltage=150.0, control_mode=mode,
                      max_discharge_current=40.0, max_discharge_power=11_000.0)
    answer = codec20.decode_response(codec20.encode_response(res, 1), Kind.CURRENT_DEMAND)
    assert (answer.present_current, answer.max_discharge_current, answer.max_discharge_power) == (
        -discharge, 40.0, 11_000.0)


def test_a_stop_without_evse_status_is_failed() -> None:
    msg = EvseMessage(Kind.CABLE_CHECK, session_id=SESSION_ID, processing="Finished", status_code="EVSE_Shutdown")
    assert codec20.decode_response(codec20.encode_response(msg, 1), Kind.CABLE_CHECK).response_code == "FAILED"


# ---------------------------------------------------------------------------------- the Secc side
def _secc(config: SeccConfig | None = None) -> Secc:
    stage = PowerStageModel(StageParams(insulation_test_s=0.0, precharge_slew=1e6, voltage_jitter=0.0), 200.0,
                            100_000.0, rng=random.Random(1))
    return Secc(stage, config=config or SeccConfig(schemas=(Schema.ISO20,)))


def _talk(secc: Secc, requests: list[EvMessage]) -> list[EvseMessage]:
    """The handshake offering -20, then ``requests``; the decoded answers (after the handshake's)."""
    secc.receive(LinkUp("tcp"), 0.0)
    sap = codec.encode_request(EvMessage(Kind.SUPPORTED_APP_PROTOCOL, protocols=(ISO20_DC_PROTOCOL,)), None)
    frames = [v2gtp.encode(sap)] + [
        v2gtp.encode(codec20.encode_request(r, 1), codec20.payload_type(r.kind)) for r in requests]
    out: list[EvseMessage] = []
    kinds = [Kind.SUPPORTED_APP_PROTOCOL, *(r.kind for r in requests)]
    for i, frame in enumerate(frames):
        now = 0.1 * (i + 1)
        secc.receive(DataReceived("tcp", frame), now)
        secc.handle_timer(now + 1.0)
        for action in secc.actions():
            if isinstance(action, SendData):
                reply = v2gtp.V2gtpStream().feed(action.data)[0]
                if kinds[i] is Kind.SUPPORTED_APP_PROTOCOL:
                    assert codec.decode_response(reply.payload, None).schema_id == ISO20_DC_PROTOCOL.schema_id
                    continue
                assert reply.payload_type == codec20.payload_type(kinds[i])
                out.append(codec20.decode_response(reply.payload, kinds[i]))
    return out


SID = SeccConfig().session_id


def _setup(service: int, set_id: int, mode: str, **parameters: float) -> list[EvMessage]:
    """A -20 EV's setup requests, SessionSetup … ScheduleExchange (Authorization twice: Ongoing
    first), selecting ``service`` with parameter set ``set_id``; ``parameters`` go into its
    DC_ChargeParameterDiscoveryReq."""
    return [
        EvMessage(Kind.SESSION_SETUP, session_id=bytes(8), evcc_id=b"\x02\x00\x00\x00\x00\x01"),
        EvMessage(Kind.AUTHORIZATION_SETUP, session_id=SID),
        EvMessage(Kind.CONTRACT_AUTHENTICATION, session_id=SID),
        EvMessage(Kind.CONTRACT_AUTHENTICATION, session_id=SID),
        EvMessage(Kind.SERVICE_DISCOVERY, session_id=SID),
        EvMessage(Kind.SERVICE_DETAIL, session_id=SID, service_id=service),
        EvMessage(Kind.SERVICE_SELECTION, session_id=SID, service_id=service, parameter_set_id=set_id),
        EvMessage(Kind.CHARGE_PARAMETER_DISCOVERY, session_id=SID, max_voltage=411.0, max_power=100_000.0,
                  **parameters),
        EvMessage(Kind.SCHEDULE_EXCHANGE, session_id=SID, energy_request=50_000.0, control_mode=mode)]


@pytest.mark.parametrize("mode", ["scheduled", "dynamic"])
def test_secc_answers_the_setup_in_the_mode_asked_for(mode: str) -> None:
    set_id = 1 if mode == "scheduled" else 2
    answers = _talk(_secc(), _setup(2, set_id, mode, max_current=200.0))
    assert [a.response_code for a in answers] == ["OK_NewSessionEstablished"] + ["OK"] * 8
    assert [a.processing for a in answers[2:4]] == ["Ongoing", "Finished"]
    assert answers[4].services == (2,)
    assert answers[5].parameter_sets == ((1, "scheduled"), (2, "dynamic"))
    assert answers[7].max_voltage == SeccConfig().max_voltage
    assert answers[8].control_mode == mode and answers[8].processing == "Finished"


def test_secc_refuses_a_wrong_selection_and_a_din_order() -> None:
    start = [EvMessage(Kind.SESSION_SETUP, session_id=bytes(8), evcc_id=b"\x02" * 6),
             EvMessage(Kind.AUTHORIZATION_SETUP, session_id=SID)]
    answers = _talk(_secc(), [*start, EvMessage(Kind.CONTRACT_AUTHENTICATION, session_id=SID),
                              EvMessage(Kind.CONTRACT_AUTHENTICATION, session_id=SID),
                              EvMessage(Kind.SERVICE_DISCOVERY, session_id=SID),
                              EvMessage(Kind.SERVICE_DETAIL, session_id=SID, service_id=2),
                              EvMessage(Kind.SERVICE_SELECTION, session_id=SID, service_id=2, parameter_set_id=7)])
    assert answers[-1].response_code == "FAILED_ServiceSelectionInvalid"
    answers = _talk(_secc(), [EvMessage(Kind.SESSION_SETUP, session_id=bytes(8), evcc_id=b"\x02" * 6),
                              EvMessage(Kind.SERVICE_DISCOVERY, session_id=SID)])  # DIN's order
    assert answers[-1].response_code == "FAILED_SequenceError"


@pytest.mark.parametrize("mode", ["scheduled", "dynamic"])
def test_the_bidi_wallbox_secc_discharges_an_ev_that_offers_dc_bpt(mode: str) -> None:
    """The ``bidi-wallbox`` SECC: DC_BPT listed and detailed, its discharge limits answered, a
    discharging schedule in scheduled mode; in the loop its bidirectional stage takes the EV's
    discharge (dynamic: it decides, at the EV's limit held to its 11 kW; scheduled: the EV's
    negative target)."""
    wallbox = PERSONALITIES["bidi-wallbox"]
    stage = PowerStageModel(replace(wallbox.stage, insulation_test_s=0.0, precharge_slew=1e6, voltage_jitter=0.0),
                            wallbox.secc.max_current, wallbox.secc.max_power, rng=random.Random(1))
    set_id = 1 if mode == "scheduled" else 2
    bpt = {"max_discharge_current": 35.0, "max_discharge_power": 13_000.0}
    answers = _talk(Secc(stage, config=wallbox.secc), [
        *_setup(6, set_id, mode, max_current=125.0, **bpt),
        EvMessage(Kind.CABLE_CHECK, session_id=SID),
        EvMessage(Kind.PRE_CHARGE, session_id=SID, target_voltage=380.0, present_voltage=380.0),
        EvMessage(Kind.POWER_DELIVERY, session_id=SID, power_on=True, discharge_channel=True),
        EvMessage(Kind.CURRENT_DEMAND, session_id=SID, target_voltage=411.0, present_voltage=380.0,
                  target_current=-20.0 if mode == "scheduled" else 60.0, max_power=100_000.0, control_mode=mode,
                  **bpt)])
    assert all(a.response_code.startswith("OK") for a in answers), [a.response_code for a in answers]
    assert answers[4].services == (2, 6)
    assert answers[5].service_id == 6 and answers[5].parameter_sets == ((1, "scheduled"), (2, "dynamic"))
    assert (answers[7].max_discharge_current, answers[7].max_discharge_power) == (40.0, 11_000.0)
    assert answers[8].schedule_discharge_power == (11_000.0 if mode == "scheduled" else None)
    assert answers[-1].max_discharge_current == 40.0
    # dynamic: the EV's 35 A held to 11 kW at 380 V; scheduled: the EV's −20 A
    assert stage.command == pytest.approx(-20.0 if mode == "scheduled" else -11_000.0 / 380.0, abs=0.5)


def test_a_plain_dc_session_at_the_bidi_wallbox_charges() -> None:
    wallbox = PERSONALITIES["bidi-wallbox"]
    stage = PowerStageModel(wallbox.stage, 40.0, 11_000.0, rng=random.Random(1))
    stage.power_delivery(True, 0.0)
    stage.voltage = 380.0
    stage.current_demand(400.0, 25.0, 0.1)
    assert stage.command == 25.0
    stage.current_demand(400.0, -60.0, 0.2)
    assert stage.command == pytest.approx(-11_000.0 / stage.voltage, abs=0.5)  # held to its power both ways
