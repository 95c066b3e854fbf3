"""The native twins of the DIN and ISO-2 codecs (``exi/native/``) give the pure modules' results.

Byte for byte on every real message (the public vectors and every captured message), error
for error (type, text and bit offset) on every truncation of them and on damaged and random
input, and the same bytes for random valid messages.  The twin runs compiled in the normal build
and interpreted under ``make test-pure``; both must agree with the pure reference.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo import exi
from ccs2chademo._build import compiled_origins
from ccs2chademo.exi import _json, din, iso2
from ccs2chademo.exi.native import _bits as native_bits
from ccs2chademo.exi.native import din as native_din
from ccs2chademo.exi.native import iso2 as native_iso2
from ccs2chademo.v2g import codec
from ccs2chademo.v2g.messages import Schema
from tests.conftest import shared_data
from tests.pcap.capture_table import V2G_COUNTS
from tests.pcap.conftest import extracted

from .strategies import body_members, v2g_message

#: schema → (pure module, its twin)
PAIRS: dict[str, tuple[Any, Any]] = {"din": (din, native_din), "iso2": (iso2, native_iso2)}
SCHEMAS = list(PAIRS)
#: loaded outside hypothesis, which lowers the recursion limit the grammar model needs
BODIES = {schema: body_members(schema) for schema in SCHEMAS}
#: the real messages there are: the captures are all DIN, the vectors hold both
AT_LEAST = {"din": 300, "iso2": 40}


@functools.cache
def real_messages(schema: str) -> list[bytes]:
    """Every document of ``schema`` in the public vectors and the captures, each once."""
    found: dict[bytes, None] = {}
    with shared_data("exi-vectors.jsonl").open() as f:
        for line in f:
            vec = json.loads(line) if line.strip() else None
            if vec and vec["schema"] == schema and "fragment" not in vec["message"]:
                found[bytes.fromhex(vec["hex"])] = None
    for name, count in sorted(V2G_COUNTS.items()):
        if count:
            for m in extracted(name).messages:
                if m.schema == schema:
                    found[bytes(m.payload)] = None
    return list(found)


def outcome(module: Any, data: bytes) -> tuple[str, Any]:
    """What decoding ``data`` with ``module`` gives: the JSON form and the re-encoded bytes, or the
    error's type, text and offset."""
    try:
        doc = module.decode_document(data)
    except exi.ExiError as err:
        return "error", (type(err).__name__, str(err), getattr(err, "bit_offset", None))
    return "ok", (_json.document_to_json(doc, module), module.encode_document(doc).hex())


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_messages_are_there(schema: str) -> None:
    assert len(real_messages(schema)) >= AT_LEAST[schema]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_real_message_gives_the_same_json_and_bytes(schema: str) -> None:
    pure, twin = PAIRS[schema]
    for data in real_messages(schema):
        assert outcome(twin, data) == outcome(pure, data), data.hex()


@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_truncation_of_every_real_message_fails_the_same_way(schema: str) -> None:
    pure, twin = PAIRS[schema]
    for data in real_messages(schema):
        for end in range(1, len(data)):
            assert outcome(twin, data[:end]) == outcome(pure, data[:end]), data[:end].hex()


@pytest.mark.parametrize("schema", SCHEMAS)
@settings(max_examples=300, deadline=None)
@given(index=st.integers(0, 10_000), flips=st.lists(st.integers(0, 10_000), min_size=1, max_size=4))
def test_damaged_real_messages_give_the_same_outcome(schema: str, index: int, flips: list[int]) -> None:
    pure, twin = PAIRS[schema]
    data = bytearray(real_messages(schema)[index % len(real_messages(schema))])
    for f in flips:
        bit = 8 + f % ((len(data) - 1) * 8)  # the header stays: both modules decode after it
        data[bit >> 3] ^= 0x80 >> (bit & 7)
    assert outcome(twin, bytes(data)) == outcome(pure, bytes(data))


@pytest.mark.parametrize("schema", SCHEMAS)
@settings(max_examples=200, deadline=None)
@given(tail=st.binary(min_size=1, max_size=64))
def test_random_bytes_give_the_same_outcome(schema: str, tail: bytes) -> None:
    pure, twin = PAIRS[schema]
    data = b"\x80" + tail
    assert outcome(twin, data) == outcome(pure, data)


@pytest.mark.parametrize("schema", SCHEMAS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_valid_messages_encode_to_the_same_bytes(schema: str, data: st.DataObject) -> None:
    pure, twin = PAIRS[schema]
    body = data.draw(st.sampled_from(BODIES[schema]))
    msg = data.draw(v2g_message(schema, body))
    mine = _json.document_from_json(json.loads(json.dumps(_json.document_to_json(msg, pure))), twin)
    encoded = pure.encode_document(msg)
    assert twin.encode_document(mine) == encoded
    assert _json.document_to_json(twin.decode_document(encoded), twin) == _json.document_to_json(msg, pure)


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_enumerations_are_the_pure_modules(schema: str) -> None:
    pure, twin = PAIRS[schema]
    assert twin.ResponseCode is pure.ResponseCode
    assert twin.ENUM_VALUES == pure.ENUM_VALUES


def test_records_name_their_schema() -> None:
    assert native_din.CurrentDemandReq.SCHEMA == "din"
    pv = native_din.PhysicalValue.of(412.8, din.UnitSymbol.V)
    assert (pv.value, pv.multiplier) == (4128, -1)
    assert pv == native_din.PhysicalValue(multiplier=-1, unit=din.UnitSymbol.V, value=4128)
    assert "value=4128" in repr(pv)


@pytest.mark.skipif(not compiled_origins(), reason="pure-Python build: the codec uses the pure module")
@pytest.mark.parametrize("schema", SCHEMAS)
def test_a_compiled_build_encodes_through_the_compiled_twin(schema: str) -> None:
    twin = exi.codec_module(schema)
    assert twin is PAIRS[schema][1] and not str(twin.__file__).endswith(".py")
    assert codec._module(Schema(schema)) is twin


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_package_api_takes_the_twins_objects(schema: str) -> None:
    twin = PAIRS[schema][1]
    data = real_messages(schema)[0]
    mine = exi.decode_with(twin, data)
    theirs = exi.decode(data, schema)
    assert type(mine).__module__ == twin.__name__ and type(mine).__name__ == "V2G_Message"
    assert exi.encode(mine) == exi.encode(theirs)
    assert exi.message_name(mine) == exi.message_name(theirs)
    assert exi.to_json(mine) == exi.to_json(theirs)


@settings(max_examples=400, deadline=None)
@given(data=st.binary(min_size=1, max_size=24), p=st.integers(0, 200), n=st.integers(0, 48))
def test_a_native_read_is_the_pure_read(data: bytes, p: int, n: int) -> None:
    """Every width the twin may read (up to 48 bits) at every offset, and past the end."""
    v, e = int.from_bytes(data, "big"), len(data) * 8
    try:
        expected: object = (v >> (e - p - n)) & ((1 << n) - 1)
    except ValueError as err:
        expected = str(err)
    try:
        got: object = native_bits.rd(data, p, n)
    except ValueError as err:
        got = str(err)
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 31), st.integers(0, 2**31 - 1)), max_size=40),
       st.binary(max_size=20), st.integers(0, 200))
def test_the_writer_writes_what_the_pure_accumulator_holds(writes: list[tuple[int, int]], octets: bytes,
                                                           wide: int) -> None:
    a, pure = native_bits.Writer(), 1
    for n, x in writes:
        x &= (1 << n) - 1
        a.put(n, x)
        pure = (pure << n) | x
    a.octets(octets)
    pure = (pure << (8 * len(octets))) | int.from_bytes(octets, "big")
    a.bits(wide, (1 << wide) - 1)
    pure = (pure << wide) | ((1 << wide) - 1)
    assert native_bits.finish(a) == exi._bits.finish(pure)


@pytest.mark.parametrize("schema, module", [(schema, m) for schema in SCHEMAS for m in PAIRS[schema]],
                         ids=["din", "native-din", "iso2", "native-iso2"])
def test_the_positional_helpers_are_the_keyword_forms(schema: str, module: Any) -> None:
    """``physical_value`` and ``encode_message`` (what the adapter's codec calls, positionally) are the
    record built by keywords and ``encode_document(make_message(...))``."""
    unit = module.UnitSymbol.V
    assert module.physical_value(-1, unit, 4128) == module.PhysicalValue(multiplier=-1, unit=unit, value=4128)
    for data in real_messages(schema):
        try:
            msg = module.decode_document(data)
        except exi.ExiError:  # some public vectors are invalid on purpose
            continue
        body, sid = msg.body.body_element, bytes(msg.header.session_id)
        if msg.header.notification is None and msg.header.signature is None:
            assert module.encode_message(sid, body) == module.encode_document(module.make_message(sid, body))
    body = module.SessionStopRes(response_code=module.ResponseCode.OK)
    assert module.encode_message(b"\x01" * 8, body) == module.encode_document(module.make_message(b"\x01" * 8, body))


#: the keyword builders tools/gen_exi.py writes (KEYWORD_BUILDERS), by class name
BUILDERS = {"DC_EVStatus": "dc_ev_status", "DC_EVSEStatus": "dc_evse_status",
            "CurrentDemandReq": "current_demand_req", "CurrentDemandRes": "current_demand_res"}


def records_in(pure: Any, obj: Any) -> list[Any]:
    """``obj`` and every generated record below it (fields and list items), depth first; the field
    names are those of the pure module's dataclass of the same name (a compiled class has no table)."""
    found = [obj]
    for f in dataclasses.fields(getattr(pure, type(obj).__name__)):
        value = getattr(obj, f.name)
        for item in value if isinstance(value, list) else [value]:
            if hasattr(type(item), "SCHEMA"):
                found += records_in(pure, item)
    return found


@pytest.mark.parametrize("schema, module", [(schema, m) for schema in SCHEMAS for m in PAIRS[schema]],
                         ids=["din", "native-din", "iso2", "native-iso2"])
def test_the_keyword_builders_are_the_classes(schema: str, module: Any) -> None:
    """``current_demand_req(**fields)`` and the other builders the adapter's codec calls build what the
    class does, for every such record in the real messages."""
    pure = PAIRS[schema][0]
    seen: set[str] = set()
    for data in real_messages(schema):
        try:
            msg = module.decode_document(data)
        except exi.ExiError:
            continue
        for record in records_in(pure, msg):
            name = type(record).__name__
            if name in BUILDERS:
                seen.add(name)
                fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(getattr(pure, name))}
                built = getattr(module, BUILDERS[name])(**fields)
                assert type(built) is type(record) and built == record
    assert seen == set(BUILDERS)
