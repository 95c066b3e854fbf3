"""Every captured V2G message through the EXI codec, checked against pyPLC's OpenV2G decodes."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import json
from typing import Any

import pytest

from ccs2chademo import exi
from ccs2chademo.pcap import V2gRecord, extract, negotiated_schema, read_frames
from ccs2chademo.v2g.v2gtp import PayloadType
from tests.conftest import shared_data
from tests.exi.iso20_vectors import VECTORS as ISO20_VECTORS

from .capture_table import FORMAT_A, FORMAT_B, V2G_COUNTS, WITH_VALUES, capture, decoded_a, decoded_b, values
from .companions import DecodedEntry, parse_decoded, parse_values, to_utc_seconds, utc_offset
from .conftest import extracted
from .synth import pcap_bytes, session_frames

MODEL_Y = "2024-04-20_ModelY_pyPLC_stop_in_precharge.pcapng"
POLESTAR = "2024-06-18_Griffigroen_pyPLC_polestar2_discharging_with_additional_prechargeCircuit.pcapng"
#: exi.md §8: the Model Y's 14-byte ContractAuthenticationReq; the canonical encoding is 13 bytes.
TRAILING_BYTE = "809a02004080c1014181c210b800"


@pytest.mark.parametrize("name", [n for n, count in sorted(V2G_COUNTS.items()) if count])
def test_every_message_decodes_and_reencodes_byte_exact(name: str) -> None:
    for m in extracted(name).messages:
        assert m.schema is not None
        doc = exi.decode(m.payload, m.schema)
        again = exi.encode(doc)
        if m.hex == TRAILING_BYTE:
            assert again == m.payload[:13] and exi.message_name(doc) == "ContractAuthenticationReq"
        else:
            assert again == m.payload, (m.frame, m.hex)


def test_the_trailing_byte_message_is_in_the_model_y_capture() -> None:
    assert [m.frame for m in extracted(MODEL_Y).messages if m.hex == TRAILING_BYTE] != []


@pytest.mark.parametrize("name", [n for n, count in sorted(V2G_COUNTS.items()) if count])
def test_handshakes_negotiate_din(name: str) -> None:
    messages = extracted(name).messages
    for req, res in itertools.pairwise(messages):
        if req.schema == res.schema == "apphand" and req.connection == res.connection:
            assert negotiated_schema(req.payload, res.payload) == "din"


def test_negotiation_follows_the_schema_id_through_the_offer() -> None:
    request = extracted(POLESTAR).messages[0].payload  # offers DIN SchemaID 1 and ISO-2 SchemaID 0
    model_y_request = extracted(MODEL_Y).messages[0].payload  # DIN SchemaID 1, Tesla SchemaID 2

    def response(schema_id: int | None, code: str = "OK_SuccessfulNegotiation") -> bytes:
        return exi.encode(exi.apphand.SupportedAppProtocolRes(response_code=exi.apphand.ResponseCode[code],
                                                              schema_id=schema_id))

    assert negotiated_schema(request, response(0)) == "iso2"
    assert negotiated_schema(request, response(1)) == "din"
    assert negotiated_schema(request, response(7)) is None
    assert negotiated_schema(request, response(None, "Failed_NoNegotiation")) is None
    assert negotiated_schema(model_y_request, response(2)) is None  # urn:tesla:din:2018:MsgDef
    assert negotiated_schema(b"\x80\x00\xff", response(1)) is None


def test_a_session_negotiated_to_iso2_is_decoded_as_iso2() -> None:
    """No capture has ISO-2 traffic: the Polestar offer answered with SchemaID 0, then ISO-2 vectors."""
    vectors = [json.loads(line) for line in shared_data("exi-vectors.jsonl").read_text().splitlines()]
    iso2 = [v for v in vectors if v["schema"] == "iso2" and "note" not in v][:12]
    offer = extracted(POLESTAR).messages[0].payload
    answer = exi.encode(exi.apphand.SupportedAppProtocolRes(
        response_code=exi.apphand.ResponseCode.OK_SuccessfulNegotiation, schema_id=0))
    messages = [(True, offer), (False, answer)]
    messages += [(v["message"].endswith("Req"), bytes.fromhex(v["hex"])) for v in iso2]
    got = extract(pcap_bytes(session_frames(messages))).messages
    assert [m.schema for m in got] == ["apphand", "apphand"] + ["iso2"] * len(iso2)
    assert [exi.message_name(exi.decode(m.payload, "iso2")) for m in got[2:]] == [v["message"] for v in iso2]


def test_an_iso20_session_is_decoded_by_payload_type() -> None:
    """No capture has -20 traffic: a handshake that picks -20 DC, then the -20 session vectors, each
    under the V2GTP payload type of its message set (0x8002 common messages, 0x8004 DC)."""
    offer = exi.encode(exi.apphand.SupportedAppProtocolReq(app_protocol=[
        exi.apphand.AppProtocol(protocol_namespace="urn:iso:std:iso:15118:-20:DC", version_number_major=1,
                                version_number_minor=0, schema_id=1, priority=1),
        exi.apphand.AppProtocol(protocol_namespace="urn:din:70121:2012:MsgDef", version_number_major=2,
                                version_number_minor=0, schema_id=2, priority=2)]))
    answer = exi.encode(exi.apphand.SupportedAppProtocolRes(
        response_code=exi.apphand.ResponseCode.OK_SuccessfulNegotiation, schema_id=1))
    assert negotiated_schema(offer, answer) == "iso20-dc"
    types = {"iso20-cm": PayloadType.ISO20_COMMON_MESSAGES, "iso20-dc": PayloadType.ISO20_DC}
    session = [(type(msg).__name__.endswith("Req"), bytes.fromhex(hexa), types[schema])
               for schema, msg, hexa in ISO20_VECTORS]
    got = extract(pcap_bytes(session_frames([(True, offer), (False, answer), *session], cuts=(7, 100)))).messages
    assert [m.schema for m in got] == ["apphand", "apphand"] + [schema for schema, _, _ in ISO20_VECTORS]
    assert [exi.decode(m.payload, m.schema or "") for m in got[2:]] == [msg for _, msg, _ in ISO20_VECTORS]
    # a capture that begins mid-session: the payload type alone tells the schema
    late = extract(pcap_bytes(session_frames(session[20:24]))).messages
    assert [m.schema for m in late] == [schema for schema, _, _ in ISO20_VECTORS[20:24]]


# --- names and key values against the companions ---------------------------------------------

def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.update(_flatten(value, f"{prefix}{key}."))
    else:
        out[prefix[:-1]] = obj
    return out


def _ours(m: V2gRecord) -> tuple[str, dict[str, Any]]:
    doc = exi.to_json(exi.decode(m.payload, m.schema or ""))
    if m.schema == "apphand":
        return doc["message"], {}
    v2g = doc["body"]["V2G_Message"]
    flat = {"header.SessionID": v2g["Header"]["SessionID"].upper()}
    flat.update(_flatten(v2g["Body"][doc["message"]]))
    return doc["message"], flat


KEYS = ["header.SessionID", "ResponseCode", "DC_EVSEStatus.EVSEStatusCode", "DC_EVStatus.EVRESSSOC",
        *(f"{q}.{part}" for q in ("EVTargetVoltage", "EVTargetCurrent", "EVSEPresentVoltage", "EVSEPresentCurrent")
          for part in ("Value", "Multiplier"))]


def _lookup(flat: dict[str, Any], key: str) -> Any:
    """OpenV2G names a nested field by its innermost struct (``DC_EVStatus.EVRESSSOC`` inside
    ChargeParameterDiscoveryReq's DC_EVChargeParameter): match our dotted path by that suffix."""
    if key in flat:
        return flat[key]
    (hit,) = [value for path, value in flat.items() if path.endswith("." + key)]
    return hit


def _compare(entry: DecodedEntry, m: V2gRecord, checked: dict[str, int]) -> None:
    name, flat = _ours(m)
    if m.schema == "apphand":  # pyPLC ran the DIN decoder on the handshake (README section 1.2)
        assert entry.name == "" and name in ("supportedAppProtocolReq", "supportedAppProtocolRes")
        return
    assert entry.fields["g_errn"] == "0" and entry.name == name, (m.frame, entry.name, name)
    for key in KEYS:
        if key not in entry.fields:
            continue
        theirs = entry.fields[key]
        if key == "DC_EVSEStatus.EVSEStatusCode":
            ours = str(exi.din.DC_EVSEStatusCode[_lookup(flat, key)].value)  # OpenV2G prints the enum index
        elif key == "header.SessionID":
            ours, theirs = flat[key], theirs.upper()
        else:
            ours = str(_lookup(flat, key))
        assert ours == theirs, (m.frame, name, key)
        checked[key] = checked.get(key, 0) + 1


@pytest.mark.parametrize("name", FORMAT_A)
def test_format_a_names_and_values_match(name: str) -> None:
    din = [m for m in extracted(name).messages if m.schema == "din"]
    entries = parse_decoded(decoded_a(name))
    offset = utc_offset(entries[0].local_time, din[0].time)
    inside = [e for e in entries if din[0].time - 1 <= to_utc_seconds(e.local_time, offset) <= din[-1].time + 1]
    checked: dict[str, int] = {}
    for e, m in zip(inside, din, strict=True):
        _compare(e, m, checked)
    assert checked["header.SessionID"] == len(din) and checked["ResponseCode"] >= len(din) // 2 - 5


@pytest.mark.parametrize("name", sorted(FORMAT_B))
def test_format_b_names_and_values_match(name: str) -> None:
    by_frame = {m.frame: m for m in extracted(name).messages}
    ipv6 = [f.number for f in read_frames(capture(name)) if f.data[12:14] == b"\x86\xdd"]
    entries = [dataclasses.replace(e, frame=ipv6[(e.frame or 0) - 1]) for e in parse_decoded(decoded_b(name))]
    checked: dict[str, int] = {}
    for e in entries:
        if e.frame in by_frame:
            _compare(e, by_frame[e.frame], checked)
    assert set(checked) >= {"header.SessionID", "ResponseCode", "DC_EVSEStatus.EVSEStatusCode", "DC_EVStatus.EVRESSSOC",
                            "EVTargetVoltage.Value", "EVSEPresentVoltage.Value"}
    if name in (POLESTAR, "2023-05-24_pyPlc_with_Ioniq93prcSoc.pcapng"):
        assert checked["EVSEPresentCurrent.Value"] >= 40 and checked["EVTargetCurrent.Value"] >= 40


def _physical(flat: dict[str, Any], quantity: str) -> float:
    return float(_lookup(flat, f"{quantity}.Value") * 10.0 ** _lookup(flat, f"{quantity}.Multiplier"))


@pytest.mark.parametrize("name", WITH_VALUES)
def test_values_file_matches_decoded_physical_values(name: str) -> None:
    messages = extracted(name).messages
    times = [m.time for m in messages]
    entries = parse_values(values(name))
    offset = utc_offset(entries[0].local_time, messages[0].time)
    for v in entries:
        # stamped with the frame time, cut to µs (the Polestar capture has ns time stamps)
        t = to_utc_seconds(v.local_time, offset)
        i = bisect.bisect_left(times, t - 1e-6)
        assert i < len(times) and abs(times[i] - t) < 1e-6, v
        m = messages[i]
        _, flat = _ours(m)
        ours = float(_lookup(flat, "DC_EVStatus.EVRESSSOC")) if v.name == "EVRESSSOC" else _physical(flat, v.name)
        assert ours == pytest.approx(v.value, abs=1e-9), (m.frame, v)
