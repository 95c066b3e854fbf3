"""ISO 15118-20: byte-exact vectors of a DC/BPT session, shared types, grammar facts, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ccs2chademo import exi
from ccs2chademo.exi import iso20_ac, iso20_cm, iso20_dc, xmldsig

from .grammar_model import grammar, production_names
from .iso20_vectors import FRAGMENTS, VECTORS


def _id(vec: tuple[str, Any, str]) -> str:
    return f"{exi.message_name(vec[1])}-{vec[2][:20]}"


@pytest.mark.parametrize("vec", VECTORS, ids=_id)
def test_vector(vec: tuple[str, Any, str]) -> None:
    schema, msg, hexa = vec
    data = bytes.fromhex(hexa)
    assert exi.encode(msg) == data
    back = exi.decode(data, schema)
    assert back == msg and exi.message_name(back) == type(msg).__name__
    doc = exi.to_json(back)
    assert doc["schema"] == schema and list(doc["body"]) == [doc["message"]]
    assert exi.from_json(json.loads(json.dumps(doc))) == msg


@pytest.mark.parametrize("name, obj, hexa", FRAGMENTS, ids=[f[0] for f in FRAGMENTS])
def test_fragment(name: str, obj: Any, hexa: str) -> None:
    data = bytes.fromhex(hexa)
    assert exi.encode_fragment([obj], "iso20-cm") == data
    assert exi.decode_fragment(data, "iso20-cm") == [(name, obj)]


def test_every_dc_message_and_control_mode_has_a_vector() -> None:
    dc_roots = set(iso20_dc.ROOT_ELEMENT.values())
    assert {exi.message_name(m) for s, m, _ in VECTORS if s == "iso20-dc"} == dc_roots
    modes = {type(m.cl_req_control_mode).__name__ for _, m, _ in VECTORS if isinstance(m, iso20_dc.DC_ChargeLoopReq)}
    modes |= {type(m.cl_res_control_mode).__name__ for _, m, _ in VECTORS if isinstance(m, iso20_dc.DC_ChargeLoopRes)}
    modes |= {type(m.dc_cpd_req_energy_transfer_mode).__name__ for _, m, _ in VECTORS
              if isinstance(m, iso20_dc.DC_ChargeParameterDiscoveryReq)}
    concrete = {c.__name__ for c in iso20_dc.META if c.__name__.endswith(("ControlMode", "EnergyTransferMode"))}
    assert modes == concrete - {"CLReqControlMode", "CLResControlMode", "DC_CPDResEnergyTransferMode",
                                "BPT_DC_CPDResEnergyTransferMode"}


def test_common_types_are_one_class_in_every_message_set() -> None:
    """The -20 message sets import CommonTypes from iso20_cm and xmldsig from xmldsig: a header or
    a RationalNumber built once serves every message of a session."""
    for module in (iso20_dc, iso20_ac):
        assert module.MessageHeader is iso20_cm.MessageHeader and module.RationalNumber is iso20_cm.RationalNumber
        assert module.ResponseCode is iso20_cm.ResponseCode and module.EVSEStatus is iso20_cm.EVSEStatus
        assert module.Signature is iso20_cm.Signature is xmldsig.Signature
    assert iso20_cm.RationalNumber.SCHEMA == "iso20-cm" and iso20_dc.DC_ChargeLoopReq.SCHEMA == "iso20-dc"


def test_document_and_fragment_grammars() -> None:
    # every global element of the file, CommonTypes and xmldsig counts (the message is the root)
    assert (iso20_dc.DOCUMENT_CODE_BITS, len(iso20_dc.DOCUMENT_GLOBALS)) == (6, 48)
    assert (iso20_cm.DOCUMENT_CODE_BITS, len(iso20_cm.DOCUMENT_GLOBALS)) == (6, 54)
    assert iso20_dc.DOCUMENT_GLOBALS.index("DC_ChargeLoopReq") == 13
    assert iso20_cm.DOCUMENT_GLOBALS.index("SessionSetupReq") == 35
    # EXI 8.5.2: the element declarations of types no global element reaches count too
    assert "PresentSOC" in iso20_cm.FRAGMENT_ELEMENTS and "AckMaxDelay" in iso20_cm.FRAGMENT_ELEMENTS
    assert iso20_cm.FRAGMENT_ELEMENTS.index("PnC_AReqAuthorizationMode") == 151


def test_control_mode_group_lists_the_head_of_abstract_type() -> None:
    """CLReqControlMode has an abstract type: never valid in a document, but EXIficient's grammar
    lists it among the members (the vectors' codes depend on it)."""
    g = grammar("iso20-dc", "DC_ChargeLoopReq")
    state = next(s for s in range(len(g.prods)) if "Dynamic_DC_CLReqControlMode" in production_names(g, s))
    assert production_names(g, state) == ["BPT_Dynamic_DC_CLReqControlMode", "BPT_Scheduled_DC_CLReqControlMode",
                                          "CLReqControlMode", "Dynamic_DC_CLReqControlMode",
                                          "Scheduled_DC_CLReqControlMode"]
    msg = iso20_dc.DC_ChargeLoopReq(header=VECTORS[0][1].header, meter_info_requested=False,
                                    ev_present_voltage=iso20_cm.RationalNumber(exponent=0, value=400),
                                    cl_req_control_mode=iso20_cm.CLReqControlMode())
    assert exi.decode(exi.encode(msg), "iso20-dc") == msg


@pytest.mark.parametrize("vec", VECTORS[::4], ids=_id)
def test_truncated_streams_raise_typed_errors(vec: tuple[str, Any, str]) -> None:
    data = bytes.fromhex(vec[2])
    for n in range(1, len(data)):
        with pytest.raises(exi.ExiDecodeError):
            exi.decode(data[:n], vec[0])


def test_bad_input_raises_typed_errors() -> None:
    req = bytes.fromhex(VECTORS[0][2])
    with pytest.raises(exi.ExiDecodeError, match="not a message"):  # the root code of CLReqControlMode
        exi.decode(bytes([0x80, iso20_dc.DOCUMENT_GLOBALS.index("CLReqControlMode") << 2]), "iso20-dc")
    with pytest.raises(exi.ExiDecodeError, match="unknown schema"):
        exi.decode(req, "iso20")
    with pytest.raises(exi.ExiEncodeError, match="required"):
        exi.encode(iso20_cm.SessionSetupReq(header=iso20_cm.MessageHeader(session_id=bytes(8), time_stamp=0),
                                            evccid=None))  # type: ignore[arg-type]
    one = iso20_cm.RationalNumber(exponent=0, value=1)
    with pytest.raises(exi.ExiEncodeError, match="substitution group"):  # not a control mode
        exi.encode(iso20_dc.DC_ChargeLoopReq(header=VECTORS[0][1].header, meter_info_requested=False,
                                             ev_present_voltage=one, cl_req_control_mode=one))  # type: ignore[arg-type]
