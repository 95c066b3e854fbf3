"""The bit-level worked examples of docs/spec/exi.md §6, the API contract and its typed errors."""

from __future__ import annotations

import pytest

from ccs2chademo import exi
from ccs2chademo.exi import apphand, din, iso2

SAP_REQ = bytes.fromhex("8000dbab9371d3234b71d1b981899189d191818991d26b9b3a232b30020000040040")


def test_sap_request_worked_example() -> None:
    msg = exi.decode(SAP_REQ, "apphand")
    assert msg == apphand.SupportedAppProtocolReq(app_protocol=[apphand.AppProtocol(
        protocol_namespace="urn:din:70121:2012:MsgDef", version_number_major=2, version_number_minor=0,
        schema_id=1, priority=1)])
    assert len(SAP_REQ) == 34 and exi.encode(msg) == SAP_REQ
    assert exi.message_name(msg) == "supportedAppProtocolReq"


def test_sap_response_worked_example() -> None:
    msg = apphand.SupportedAppProtocolRes(response_code=apphand.ResponseCode.OK_SuccessfulNegotiation, schema_id=1)
    assert exi.encode(msg) == bytes.fromhex("80400040")
    assert exi.decode(bytes.fromhex("80400040"), "apphand") == msg


def test_din_session_setup_worked_example() -> None:
    msg = din.make_message(bytes(8), din.SessionSetupReq(evccid=b""))
    assert exi.encode(msg) == bytes.fromhex("809a02000000000000000011d00000")
    mac = bytes.fromhex("020000000001")
    six = exi.encode(din.make_message(bytes(8), din.SessionSetupReq(evccid=mac)))
    assert exi.decode(six, "din") == din.make_message(bytes(8), din.SessionSetupReq(evccid=mac))
    assert len(six) == 15 + 6


def test_optional_false_differs_from_absent() -> None:
    """exi.md §4.5: presence matters (an optional boolean false is not the same stream as absent)."""
    def req(bulk: bool | None) -> bytes:
        pv = din.PhysicalValue.of
        body = din.CurrentDemandReq(
            dc_ev_status=din.DC_EVStatus(ev_ready=True, ev_error_code=din.DC_EVErrorCode.NO_ERROR, evresssoc=50),
            ev_target_current=pv(10, din.UnitSymbol.A), ev_target_voltage=pv(400, din.UnitSymbol.V),
            bulk_charging_complete=bulk, charging_complete=False)
        return exi.encode(din.make_message(bytes(8), body))
    assert req(None) != req(False)
    decoded = exi.decode(req(False), "din")
    assert isinstance(decoded, din.V2G_Message) and isinstance(decoded.body.body_element, din.CurrentDemandReq)
    assert decoded.body.body_element.bulk_charging_complete is False


def test_physical_value_helper() -> None:
    v = din.PhysicalValue.of(412.8, din.UnitSymbol.V)
    assert (v.value, v.multiplier) == (4128, -1) and v.value_float == pytest.approx(412.8)
    assert iso2.PhysicalValue.of(400, iso2.UnitSymbol.V).value_float == 400
    assert din.PhysicalValue.of(100000, din.UnitSymbol.W).multiplier == 1
    with pytest.raises(exi.ExiEncodeError):
        din.PhysicalValue.of(1e12, din.UnitSymbol.W)


def test_to_json_shape() -> None:
    msg = exi.decode(bytes.fromhex("809a02004080c1014181c210e00040800001828610181818008400c0"), "din")
    j = exi.to_json(msg)
    assert j["schema"] == "din" and j["message"] == "CurrentDemandRes"
    res = j["body"]["V2G_Message"]["Body"]["CurrentDemandRes"]
    assert j["body"]["V2G_Message"]["Header"]["SessionID"] == "0102030405060708"
    assert res["ResponseCode"] == "OK" and res["DC_EVSEStatus"]["EVSENotification"] == "None"
    assert res["EVSEPresentVoltage"] == {"Multiplier": 0, "Unit": "V", "Value": 450}
    assert exi.from_json(j) == msg


@pytest.mark.parametrize("data", [b"", b"$EXI\x80", b"\xa0\x00", b"\x81\x00", b"\x40", b"\x80", b"\x80\x9a"])
def test_header_and_truncation_errors(data: bytes) -> None:
    with pytest.raises(exi.ExiDecodeError):
        exi.decode(data, "din")


def test_decode_error_carries_offset_and_state() -> None:
    data = bytes.fromhex("809a02004080c1014181c210e00040800001828610181818008400c0")
    with pytest.raises(exi.ExiDecodeError) as err:
        exi.decode(data[:20], "din")
    assert err.value.bit_offset > 8 and err.value.state


def _bits(text: str) -> bytes:
    text = text.replace(" ", "")
    text += "0" * (-len(text) % 8 + 64)
    return int(text, 2).to_bytes(len(text) // 8, "big")


@pytest.mark.parametrize("length", ["00000000", "00000001"])
def test_string_table_hit_rejected(length: str) -> None:
    # header · SE(Req) · SE(AppProtocol) · SE(ProtocolNamespace) · CH · string length 0/1 = table hit
    with pytest.raises(exi.ExiDecodeError, match="string-table"):
        exi.decode(_bits("10000000 00 0 0 0" + length), "apphand")


def test_second_level_ee_only_for_empty_simple_content() -> None:
    # DIN SessionSetupReq whose EVCCID (hexBinary) is the second-level EE `1 000` (EXIficient)
    head = "10000000 1001101 0 0 0 00001000" + "0" * 64 + "0 10 0 011101 0"
    msg = exi.decode(_bits(head + "1 000" + "0 0 0"), "din")
    assert isinstance(msg, din.V2G_Message) and msg.body.body_element == din.SessionSetupReq(evccid=b"")
    with pytest.raises(exi.ExiDecodeError, match="second-level"):
        exi.decode(_bits(head + "1 001" + "0 0 0"), "din")


def test_encode_errors_name_the_field() -> None:
    body = din.SessionSetupReq(evccid=None)  # type: ignore[arg-type]
    with pytest.raises(exi.ExiEncodeError, match="evccid"):
        exi.encode(din.make_message(bytes(8), body))
    pv = din.PhysicalValue(multiplier=9, unit=din.UnitSymbol.V, value=1)
    with pytest.raises(exi.ExiEncodeError, match="multiplier"):
        exi.encode(din.make_message(bytes(8), din.PreChargeReq(
            dc_ev_status=din.DC_EVStatus(ev_ready=True, ev_error_code=din.DC_EVErrorCode.NO_ERROR, evresssoc=1),
            ev_target_voltage=pv, ev_target_current=pv)))
    with pytest.raises(exi.ExiEncodeError):
        exi.encode(object())  # type: ignore[arg-type]
    with pytest.raises(exi.ExiEncodeError):
        exi.message_name(din.PhysicalValue(multiplier=0, value=1))  # type: ignore[arg-type]
    with pytest.raises(exi.ExiEncodeError):
        exi.to_json(din.make_message(b"", iso2.SessionStopReq(charging_session=iso2.ChargingSession.Pause)))  # type: ignore[arg-type]
    with pytest.raises(exi.ExiEncodeError):
        exi.from_json({"schema": "din", "body": {"V2G_Message": {"Header": {}}}})


def test_unknown_schema() -> None:
    with pytest.raises(exi.ExiDecodeError):
        exi.decode(SAP_REQ, "iso20")
