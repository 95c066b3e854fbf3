"""The Secc against the requests real cars sent (shared/data/captures), and its sequence checks."""

from __future__ import annotations

import random

import pytest

from ccs2chademo.pcap import EV_TO_EVSE, V2gRecord, iter_records
from ccs2chademo.runtime import DataReceived, InputChanged, LinkUp, SendData
from ccs2chademo.sim.battery import Battery, linear_battery
from ccs2chademo.sim.charger import PowerStageModel, StageParams
from ccs2chademo.sim.replay import load_recording
from ccs2chademo.v2g import codec, v2gtp
from ccs2chademo.v2g.messages import DIN_PROTOCOL, ISO2_PROTOCOL, EvMessage, EvseMessage, Kind, Schema
from ccs2chademo.v2g.secc import Secc, SeccConfig

from ..conftest import shared_data

CARS = [
    "2023-05-24_pyPlc_with_Ioniq93prcSoc.pcapng",
    "2024-04-20_ModelY_pyPLC_stop_in_precharge.pcapng",
    "2024-06-18_Griffigroen_pyPLC_polestar2_discharging_with_additional_prechargeCircuit.pcapng",
]


def make_secc(config: SeccConfig | None = None, battery: Battery | None = None) -> Secc:
    stage = PowerStageModel(StageParams(insulation_test_s=0.0, precharge_slew=1e6, voltage_jitter=0.0), 200.0,
                            100_000.0, rng=random.Random(1), battery=battery)
    return Secc(stage, config=config)


def exchange(secc: Secc, payloads: list[bytes], schema_after_sap: Schema) -> list[EvseMessage]:
    secc.receive(LinkUp("tcp"), 0.0)
    secc.actions()
    out: list[EvseMessage] = []
    for i, payload in enumerate(payloads):
        now = 0.1 * (i + 1)
        secc.receive(DataReceived("tcp", v2gtp.encode(payload)), now)
        secc.handle_timer(now)
        for action in secc.actions():
            if isinstance(action, SendData):
                body = v2gtp.V2gtpStream().feed(action.data)[0].payload
                out.append(codec.decode_response(body, None if not out else schema_after_sap))
    return out


@pytest.mark.parametrize("capture", CARS, ids=lambda c: c[:24])
def test_real_car_requests_are_all_accepted(capture: str) -> None:
    recording = load_recording(shared_data("captures", capture))
    recorded_ids = {r.session_id for r in recording.requests[2:]}
    assert len(recorded_ids) == 1
    config = SeccConfig(session_id=recorded_ids.pop())
    payloads = [r.payload for r in iter_records(shared_data("captures", capture))
                if isinstance(r, V2gRecord) and r.connection == 0 and r.direction == EV_TO_EVSE]
    responses = exchange(make_secc(config), payloads, recording.schema)
    assert len(responses) == len(recording.requests)
    assert responses[0].response_code == "OK_SuccessfulNegotiation"
    assert [r.response_code for r in responses[1:]] == ["OK_NewSessionEstablished"] + ["OK"] * (len(responses) - 2)
    assert [r.kind for r in responses[1:]] == [r.kind for r in recording.requests[1:]]


def test_polestar_one_byte_session_id_and_iso_offer() -> None:
    recording = load_recording(shared_data("captures", CARS[2]))
    assert recording.requests[1].session_id == b"\x00"
    assert {p.namespace for p in recording.requests[0].protocols} == {
        "urn:din:70121:2012:MsgDef", "urn:iso:15118:2:2013:MsgDef"}


def request(kind: Kind, session_id: bytes = SeccConfig().session_id, **fields: object) -> bytes:
    return codec.encode_request(EvMessage(kind, session_id=session_id, **fields), Schema.DIN)  # type: ignore[arg-type]


def sap() -> bytes:
    return codec.encode_request(EvMessage(Kind.SUPPORTED_APP_PROTOCOL, protocols=(DIN_PROTOCOL, ISO2_PROTOCOL)), None)


def test_sequence_and_session_checks() -> None:
    responses = exchange(make_secc(), [sap(), request(Kind.SESSION_SETUP, bytes(8), evcc_id=b"\x02" * 6),
                                       request(Kind.SERVICE_DISCOVERY, b"\x01"),
                                       request(Kind.SERVICE_DISCOVERY),
                                       request(Kind.CHARGE_PARAMETER_DISCOVERY, max_voltage=400.0, max_current=10.0)],
                         Schema.DIN)
    assert [r.response_code for r in responses] == ["OK_SuccessfulNegotiation", "OK_NewSessionEstablished",
                                                    "FAILED_UnknownSession", "OK", "FAILED_SequenceError"]


def test_current_demand_after_power_delivery_false_is_alpitronics_sequence_error() -> None:
    seq = [sap(), request(Kind.SESSION_SETUP, bytes(8)), request(Kind.SERVICE_DISCOVERY),
           request(Kind.SERVICE_PAYMENT_SELECTION), request(Kind.CONTRACT_AUTHENTICATION),
           request(Kind.CONTRACT_AUTHENTICATION),
           request(Kind.CHARGE_PARAMETER_DISCOVERY, max_voltage=400.0, max_current=10.0),
           request(Kind.CABLE_CHECK), request(Kind.PRE_CHARGE, target_voltage=380.0, target_current=1.0),
           request(Kind.POWER_DELIVERY, power_on=False), request(Kind.CURRENT_DEMAND, target_voltage=380.0)]
    responses = exchange(make_secc(), seq, Schema.DIN)
    assert responses[4].processing == "Ongoing" and responses[5].processing == "Finished"
    assert responses[-1].response_code == "FAILED_SequenceError" and responses[-1].status_code == "EVSE_Shutdown"


def test_power_delivery_fails_when_precharge_was_far_below_the_battery() -> None:
    battery = linear_battery(soc=50.0)  # 390 V
    seq = [sap(), request(Kind.SESSION_SETUP, bytes(8)), request(Kind.SERVICE_DISCOVERY),
           request(Kind.SERVICE_PAYMENT_SELECTION), request(Kind.CONTRACT_AUTHENTICATION),
           request(Kind.CONTRACT_AUTHENTICATION),
           request(Kind.CHARGE_PARAMETER_DISCOVERY, max_voltage=400.0, max_current=10.0),
           request(Kind.CABLE_CHECK), request(Kind.PRE_CHARGE, target_voltage=365.0, target_current=1.0),
           request(Kind.POWER_DELIVERY, power_on=True)]
    secc = make_secc(battery=battery)
    responses = exchange(secc, seq, Schema.DIN)
    assert responses[-1].response_code == "FAILED_PowerDeliveryNotApplied"
    ok = make_secc(battery=battery)
    seq[8] = request(Kind.PRE_CHARGE, target_voltage=380.0, target_current=1.0)
    ok.receive(InputChanged("ev_contactor", True), 0.0)
    assert exchange(ok, seq, Schema.DIN)[-1].response_code == "OK"
