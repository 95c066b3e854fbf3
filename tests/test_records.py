"""The hot value records: dataclasses with ``Final`` fields and a hand-written ``__init__``.

mypyc builds such an ``__init__`` natively (a frozen dataclass's generated one sets every field
through ``object.__setattr__``, ≈25× slower), mypy rejects any later assignment, and compiled
instances refuse it at run time.  What the hand-written ``__init__`` must keep: one parameter per
field, in field order, each stored unchanged; equality and hashing by value.  The records compared
on every cycle also write out ``__eq__`` and ``__hash__`` (those of ``dataclasses`` run interpreted):
every field must take part, and the hash is the dataclass's, that of the tuple of the fields.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import os
import sys
from pathlib import Path

import pytest

from ccs2chademo._build import compiled_origins
from ccs2chademo.chademo.charger import ChargerCurrent
from ccs2chademo.chademo.interfaces import ChargerState, PowerDemand, SessionKind, StopReason, Upstream, VehicleView
from ccs2chademo.runtime import events
from ccs2chademo.sim.invariants import SafetySnapshot
from ccs2chademo.sim.vehicle import CarElectrical
from ccs2chademo.v2g.evcc import EvccStatus, EvRequest
from ccs2chademo.v2g.messages import EvMessage, EvseMessage, Kind
from ccs2chademo.v2g.secc import Reply
from ccs2chademo.v2g.v2gtp import V2gtpMessage


def value_for(annotation: str, i: int) -> object:
    """A value of the annotated type, distinct per field (compiled constructors check types)."""
    kind = annotation.split(" | ")[0]
    if kind == "str":
        return f"v{i}"
    if kind == "bool":
        return i % 2 == 0
    if kind == "int":
        return 100 + i
    if kind == "float":
        return 0.5 + i
    if kind == "bytes":
        return bytes([i])
    if kind == "Kind":
        return list(Kind)[i % len(Kind)]
    if kind == "ChargerState":
        return list(ChargerState)[i % len(ChargerState)]
    if kind == "SessionKind":
        return list(SessionKind)[i % len(SessionKind)]
    if kind == "StopReason":
        return StopReason(1 << (i % 17))
    if kind == "CanFrame":
        return events.CanFrame(i, bytes([i]))
    if kind == "EvseMessage":
        return EvseMessage(list(Kind)[i % len(Kind)])
    if kind.startswith("tuple"):
        return ()
    if kind.startswith("dict"):
        return {"field": i}
    return ("any", i)


def source_annotations(cls: type) -> dict[str, str]:
    """The fields' annotations as written (a compiled class keeps only erased runtime types),
    gathered along the bases (events of one shape share a base record)."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        module = sys.modules[klass.__module__]
        if not dataclasses.is_dataclass(klass) or module.__name__ == "builtins":
            continue
        path = Path(str(module.__file__))
        tree = ast.parse(path.with_name(path.name.split(".")[0] + ".py").read_text())
        node = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == klass.__name__)
        found |= {st.target.id: ast.unparse(st.annotation).removeprefix("Final[").removesuffix("]").split(" | ")[0]
                  for st in node.body if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name)}
    return found


RECORDS = [cls for cls in vars(events).values() if dataclasses.is_dataclass(cls) and isinstance(cls, type)]
RECORDS += [CarElectrical, SafetySnapshot, EvccStatus, EvMessage, EvseMessage, VehicleView, EvRequest, Upstream,
            PowerDemand, ChargerCurrent, V2gtpMessage, Reply]


def other_value(annotation: str, value: object, i: int) -> object:
    """A value of the annotated type that differs from ``value``."""
    if annotation == "bool":
        return not value
    if annotation.startswith("tuple"):
        return (("other", i),)
    return value_for(annotation, i + 1)


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_init_stores_every_field_in_order(cls: type) -> None:
    names = [f.name for f in dataclasses.fields(cls)]
    params = list(inspect.signature(cls).parameters)
    assert params == names
    annotations = source_annotations(cls)
    values = {name: value_for(annotations[name], i) for i, name in enumerate(names)}
    record = cls(**values)
    assert {name: getattr(record, name) for name in names} == values
    positional = cls(*values.values())
    assert positional == record
    twins = [t for t in RECORDS if t is not cls and [f.name for f in dataclasses.fields(t)] == names]
    assert all(record != twin(*values.values()) for twin in twins)  # one shape, distinct classes
    if "dict" not in " ".join(annotations.values()):  # a Log's fields make it unhashable, as before
        assert hash(positional) == hash(record)
        assert hash(record) == hash(tuple(values.values()))  # what the dataclass's __hash__ gives
    for i, name in enumerate(names):  # a hand-written __eq__ compares every field
        changed = dataclasses.replace(record, **{name: other_value(annotations[name], values[name], i)})
        assert changed != record, name
        assert (changed == record) is False, name


@pytest.mark.skipif(not compiled_origins(), reason="pure-Python build")
@pytest.mark.skipif(bool(os.environ.get("CCS2CHADEMO_PURE")), reason="pure-Python build")
def test_compiled_records_refuse_assignment() -> None:
    frame = events.CanFrame(0x100, b"\x00" * 8)
    with pytest.raises(AttributeError):
        frame.data = b""  # type: ignore[misc]
