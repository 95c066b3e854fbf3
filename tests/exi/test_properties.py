"""Property tests: random valid messages round-trip; random and mutated bytes only raise ExiDecodeError."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccs2chademo import exi

from . import oracle
from .iso20_vectors import VECTORS as ISO20_VECTORS
from .strategies import body_members, instance, roots, v2g_message
from .test_vectors import VECTORS

ISO20 = [schema for schema in exi.SCHEMAS if schema.startswith("iso20-")]

FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])


def _roundtrip(msg: object) -> None:
    data = exi.encode(msg)  # type: ignore[arg-type]
    back = exi.decode(data, msg.SCHEMA)  # type: ignore[attr-defined]
    assert back == msg
    assert oracle.decode(data, msg.SCHEMA) == msg  # type: ignore[attr-defined]
    assert exi.encode(back) == data
    assert exi.from_json(json.loads(json.dumps(exi.to_json(back)))) == msg


@pytest.mark.parametrize("body", body_members("din"))
@FAST
@given(data=st.data())
def test_din_messages_roundtrip(body: str, data: st.DataObject) -> None:
    _roundtrip(data.draw(v2g_message("din", body)))


@pytest.mark.parametrize("body", body_members("iso2"))
@FAST
@given(data=st.data())
def test_iso2_messages_roundtrip(body: str, data: st.DataObject) -> None:
    _roundtrip(data.draw(v2g_message("iso2", body)))


@pytest.mark.parametrize("root", ["SupportedAppProtocolReq", "SupportedAppProtocolRes"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_sap_messages_roundtrip(root: str, data: st.DataObject) -> None:
    _roundtrip(data.draw(instance("apphand", root)))


@pytest.mark.parametrize("schema, root", [(schema, root) for schema in ISO20 for root in roots(schema)])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_iso20_messages_roundtrip(schema: str, root: str, data: st.DataObject) -> None:
    _roundtrip(data.draw(instance(schema, root)))


@pytest.mark.parametrize("schema, element, cls", [
    ("iso2", "AuthorizationReq", "AuthorizationReq"),  # signed ISO-2 AuthorizationReq
    ("xmldsig", "SignedInfo", "SignedInfo"),  # SignedInfo digests
    ("iso20-cm", "PnC_AReqAuthorizationMode", "PnC_AReqAuthorizationMode"),  # signed -20 Authorization
])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fragment_roundtrip(schema: str, element: str, cls: str, data: st.DataObject) -> None:
    obj = data.draw(instance(schema, cls))
    raw = exi.encode_fragment([obj], schema)
    assert exi.decode_fragment(raw, schema) == [(element, obj)]


def _decode_only_typed_errors(data: bytes, schema: str) -> None:
    try:
        msg = exi.decode(data, schema)
    except exi.ExiDecodeError:
        return
    out = exi.encode(msg)  # whatever decodes must re-encode, to a canonical stream of bounded size
    assert len(out) <= 3 * len(data) + 2
    assert exi.decode(out, schema) == msg


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["apphand", "din", "iso2"]), st.binary(max_size=80))
def test_random_bytes(schema: str, tail: bytes) -> None:
    prefix = {"apphand": b"\x80", "din": b"\x80\x9a", "iso2": b"\x80\x98"}[schema]
    _decode_only_typed_errors(prefix + tail, schema)
    _decode_only_typed_errors(tail, schema)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ISO20), st.integers(0, 63), st.binary(max_size=80))
def test_iso20_random_bytes(schema: str, root_code: int, tail: bytes) -> None:
    """After the header, a root code (6 bits in every -20 set) of any global element, then noise."""
    head = (0x80 << 6 | root_code).to_bytes(2, "big")
    _decode_only_typed_errors(head + tail, schema)
    _decode_only_typed_errors(tail, schema)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ISO20_VECTORS), st.data())
def test_iso20_mutated_vectors(vec: tuple[str, object, str], data: st.DataObject) -> None:
    _decode_only_typed_errors(_mutated(bytearray.fromhex(vec[2]), data), vec[0])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([v for v in VECTORS if "fragment" not in v["message"]]), st.data())
def test_mutated_vectors(vec: dict[str, str], data: st.DataObject) -> None:
    _decode_only_typed_errors(_mutated(bytearray.fromhex(vec["hex"]), data), vec["schema"])


def _mutated(raw: bytearray, data: st.DataObject) -> bytes:
    """One bit flipped, a cut, bytes inserted or a byte replaced, at a random place after the header."""
    op = data.draw(st.sampled_from(["flip", "truncate", "insert", "byte"]))
    i = data.draw(st.integers(1, len(raw) - 1))
    if op == "flip":
        raw[i] ^= 1 << data.draw(st.integers(0, 7))
    elif op == "truncate":
        del raw[i:]
    elif op == "insert":
        raw[i:i] = data.draw(st.binary(min_size=1, max_size=4))
    else:
        raw[i] = data.draw(st.integers(0, 255))
    return bytes(raw)
