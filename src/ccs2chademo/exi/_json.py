"""JSON form of decoded messages, driven by the ``META`` table each generated module carries.

Keys are XSD names: element names as they appear in the stream (for a substitution group the
chosen member, e.g. ``"CurrentDemandReq"``), ``"@Name"`` for attributes and ``"#text"`` for the
value of a simple-content element. bytes are lowercase hex strings, enumerations their
literals as the XSD spells them (``"None"``, ``"W/s"``; codes outside the schema, which the
codec keeps for OpenV2G compatibility, as ``"UNDEFINED_<n>"``), integers and booleans JSON
numbers and booleans; absent optional elements and empty lists are left out.
"""

from __future__ import annotations

from enum import IntEnum
from types import ModuleType
from typing import Any

from ._bits import ExiEncodeError, OpenEnum

Meta = ModuleType  # a generated schema module: META and ENUM_VALUES


def _key(xml: str, tag: str) -> str:
    return "@" + xml if tag == "a" else xml


def _value_to_json(val: Any, meta: Meta) -> Any:
    if isinstance(val, bool):
        return val
    if isinstance(val, IntEnum):
        values: tuple[str, ...] = meta.ENUM_VALUES[type(val)]
        return values[val] if val < len(values) else val.name
    if isinstance(val, int | str):
        return val
    if isinstance(val, bytes):
        return val.hex()
    return obj_to_json(val, meta)


def obj_to_json(obj: Any, meta: Meta) -> dict[str, Any]:
    """One dataclass instance as a JSON object."""
    out: dict[str, Any] = {}
    for py, xml, card, tag, typ in meta.META[type(obj)]:
        val = getattr(obj, py)
        if val is None or (card == 2 and not val):
            continue
        if isinstance(typ, dict):
            names = {cls: name for name, cls in typ.items()}
            if card == 2:
                out[xml] = [{names[type(x)]: obj_to_json(x, meta)} for x in val]
            else:
                out[names[type(val)]] = obj_to_json(val, meta)
        elif card == 2:
            out[_key(xml, tag)] = [_value_to_json(x, meta) for x in val]
        else:
            out[_key(xml, tag)] = _value_to_json(val, meta)
    return out


def _value_from_json(val: Any, typ: Any, meta: Meta, path: str) -> Any:
    if typ is bool:
        if not isinstance(val, bool):
            raise ExiEncodeError(f"{path}: expected true/false, got {val!r}")
        return val
    if typ is int:
        if not isinstance(val, int) or isinstance(val, bool):
            raise ExiEncodeError(f"{path}: expected an integer, got {val!r}")
        return val
    if typ is str:
        if not isinstance(val, str):
            raise ExiEncodeError(f"{path}: expected a string, got {val!r}")
        return val
    if typ is bytes:
        try:
            return bytes.fromhex(val)
        except (TypeError, ValueError):
            raise ExiEncodeError(f"{path}: expected a hex string, got {val!r}") from None
    if isinstance(typ, type) and issubclass(typ, OpenEnum):
        values = meta.ENUM_VALUES[typ]
        if isinstance(val, str) and val in values:
            return typ(values.index(val))
        try:
            return typ.from_name(val)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ExiEncodeError(f"{path}: {val!r} is not one of {list(values)}") from None
    return obj_from_json(val, typ, meta, path)


def obj_from_json(data: Any, cls: type, meta: Meta, path: str) -> Any:
    """Inverse of :func:`obj_to_json` for class ``cls``."""
    if not isinstance(data, dict):
        raise ExiEncodeError(f"{path}: expected an object, got {type(data).__name__}")
    known: set[str] = set()
    kwargs: dict[str, Any] = {}
    for py, xml, card, tag, typ in meta.META[cls]:
        if isinstance(typ, dict):
            if card == 2:
                known.add(xml)
                items = data.get(xml, [])
                if not isinstance(items, list):
                    raise ExiEncodeError(f"{path}.{xml}: expected a list")
                out = []
                for i, item in enumerate(items):
                    if not isinstance(item, dict) or len(item) != 1 or next(iter(item)) not in typ:
                        raise ExiEncodeError(f"{path}.{xml}[{i}]: expected {{member: object}} with one of {list(typ)}")
                    name, sub = next(iter(item.items()))
                    out.append(obj_from_json(sub, typ[name], meta, f"{path}.{xml}[{i}]"))
                kwargs[py] = out
                continue
            known.update(typ)
            present = [name for name in typ if name in data]
            if len(present) > 1:
                raise ExiEncodeError(f"{path}: more than one of {present}")
            if present:
                kwargs[py] = obj_from_json(data[present[0]], typ[present[0]], meta, f"{path}.{present[0]}")
            elif card == 0:
                raise ExiEncodeError(f"{path}: one of {list(typ)} is required")
            continue
        key = _key(xml, tag)
        known.add(key)
        if key not in data:
            if card == 0:
                raise ExiEncodeError(f"{path}.{key}: required")
            continue
        if card == 2:
            if not isinstance(data[key], list):
                raise ExiEncodeError(f"{path}.{key}: expected a list")
            kwargs[py] = [_value_from_json(x, typ, meta, f"{path}.{key}[{i}]") for i, x in enumerate(data[key])]
        else:
            kwargs[py] = _value_from_json(data[key], typ, meta, f"{path}.{key}")
    unknown = set(data) - known
    if unknown:
        raise ExiEncodeError(f"{path}: unknown keys {sorted(unknown)}")
    return cls(**kwargs)


def document_to_json(msg: Any, module: ModuleType) -> dict[str, Any]:
    """The ``body`` part of the JSON form: ``{root element name: object}``."""
    return {module.ROOT_ELEMENT[type(msg)]: obj_to_json(msg, module)}


def document_from_json(body: Any, module: ModuleType) -> Any:
    if not isinstance(body, dict) or len(body) != 1:
        raise ExiEncodeError("body: expected an object with exactly one root element")
    (name, data), = body.items()
    roots = {v: k for k, v in module.ROOT_ELEMENT.items()}
    if name not in roots:
        raise ExiEncodeError(f"body: {name!r} is not a root element of schema {module.SCHEMA!r}")
    return obj_from_json(data, roots[name], module, name)

