"""Our objects in the JSON form of the iso15118 package's codec, and that codec's known JSON quirks.

Its JSON is the XML document in JSON clothes (the codec goes JSON → JAXB → XML → EXIficient):
element and attribute names as keys (attributes without ``@``), simple content as ``"value"``,
integers and booleans as JSON values, enumerations by literal, hexBinary as upper-case hex and
base64Binary as base64 (the lexical forms of XML), repeated elements as arrays.
"""

from __future__ import annotations

import base64
import functools
from enum import IntEnum
from typing import Any

from ccs2chademo import exi

from .grammar_model import model

NAMESPACES = {"iso20-cm": "urn:iso:std:iso:15118:-20:CommonMessages", "iso20-dc": "urn:iso:std:iso:15118:-20:DC",
              "iso20-ac": "urn:iso:std:iso:15118:-20:AC", "iso20-wpt": "urn:iso:std:iso:15118:-20:WPT",
              "iso20-acdp": "urn:iso:std:iso:15118:-20:ACDP"}


@functools.cache
def _builtins(schema: str, pyname: str) -> dict[str, str]:
    """Field → XSD built-in type of its simple value, for one type of ``schema``."""
    g = next(g for g in model(schema).grammars.values() if g.ct.pyname == pyname)
    return {fi.pyname: fi.stype.builtin for fi in g.fields if fi.stype is not None}


def _value(val: Any, builtin: str, schema: str) -> Any:
    if isinstance(val, IntEnum):
        return exi.SCHEMAS[schema].ENUM_VALUES[type(val)][val]
    if isinstance(val, bytes):
        return val.hex().upper() if builtin == "hexBinary" else base64.b64encode(val).decode()
    if isinstance(val, bool | int | str):
        return val
    return to_peer(val, schema)


def to_peer(obj: Any, schema: str) -> dict[str, Any]:
    """One object (not its element name) in the peer's JSON form."""
    builtins = _builtins(schema, type(obj).__name__)
    out: dict[str, Any] = {}
    for py, xml, card, tag, typ in exi.SCHEMAS[schema].META[type(obj)]:
        val = getattr(obj, py)
        if val is None or (card == 2 and not val):
            continue
        if isinstance(typ, dict):  # substitution group: the member's element name
            names = {cls: name for name, cls in typ.items()}
            if card == 2:
                out[xml] = [{names[type(x)]: to_peer(x, schema)} for x in val]
            else:
                out[names[type(val)]] = to_peer(val, schema)
            continue
        key = "value" if tag == "t" else xml
        builtin = builtins.get(py, "")
        out[key] = [_value(x, builtin, schema) for x in val] if card == 2 else _value(val, builtin, schema)
    return out


def document(msg: Any) -> dict[str, Any]:
    """A -20 message as the peer's JSON document: ``{root element: {...}}``."""
    return {exi.message_name(msg): to_peer(msg, msg.SCHEMA)}


def agrees(theirs: Any, ours: Any) -> bool:
    """The peer's decoded JSON equals ours up to its one shape quirk: an element of a mixed content
    model (xmldsig's HMACOutputLength, the key of a KeyValue) comes out as a one-item list, JAXB's
    content list."""
    if isinstance(theirs, list) and len(theirs) == 1 and not isinstance(ours, list):
        return agrees(theirs[0], ours)
    if isinstance(theirs, dict) and isinstance(ours, dict):
        return theirs.keys() == ours.keys() and all(agrees(theirs[k], ours[k]) for k in ours)
    if isinstance(theirs, list) and isinstance(ours, list):
        return len(theirs) == len(ours) and all(agrees(a, b) for a, b in zip(theirs, ours, strict=True))
    return type(theirs) is type(ours) and theirs == ours
