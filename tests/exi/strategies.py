"""Hypothesis strategies for valid messages: random walks over the generator's EXI grammars.

Every draw follows the grammar of the type (so choices, unrolled bounds and required elements are
respected by construction) and fills simple values within their XSD facets; strings and lists
are capped to keep examples small. Wildcards and mixed text are never produced (the codec does
not encode them).
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any

from hypothesis import strategies as st

from ccs2chademo import exi

from .grammar_model import gen, model

MAX_ITEMS = 3
MAX_TEXT = 12


def simple_strategy(module: ModuleType, stype: Any) -> st.SearchStrategy[Any]:
    s = gen().finalize_simple(stype)
    if s.kind == "bool":
        return st.booleans()
    if s.kind == "enum":
        return st.sampled_from(list(getattr(module, s.pyname)))
    if s.kind in ("nbit", "uint", "int"):
        lo = s.vmin if s.vmin is not None else -(2**70)
        hi = s.vmax if s.vmax is not None else 2**70
        return st.integers(lo, hi)
    cap = min(s.maxlen, MAX_TEXT) if s.maxlen is not None else MAX_TEXT
    if s.kind == "str":
        return st.text(st.characters(codec="utf-8"), max_size=cap)
    return st.binary(max_size=cap)


@functools.cache
def _grammars(schema: str) -> dict[str, Any]:
    return {g.ct.pyname: g for g in model(schema).grammars.values()}


@st.composite
def instance(draw: st.DrawFn, schema: str, pyname: str, depth: int = 0) -> Any:
    module = exi.FRAGMENT_SCHEMAS[schema]
    g = _grammars(schema)[pyname]
    field_of = {p.idx: fi for fi in g.fields for p in fi.positions}
    values: dict[str, Any] = {fi.pyname: [] if fi.is_list else None for fi in g.fields}
    counts: dict[str, int] = {}
    state = 0
    for _ in range(10_000):
        options = [(k, t) for k, t in g.prods[state] if k in ("SE", "AT", "CH", "EE")]
        if depth > 6 or any(counts.get(field_of[t].pyname, 0) >= MAX_ITEMS for k, t in options if t > 0):
            ee = [o for o in options if o[0] == "EE"]
            fresh = [o for o in options if o[0] != "EE" and counts.get(field_of[o[1]].pyname, 0) < MAX_ITEMS]
            options = ee or fresh or options
        assert options, f"{pyname}: state {state} has no producible event"
        kind, target = draw(st.sampled_from(options))
        if kind == "EE":
            return getattr(module, pyname)(**values)
        fi = field_of[target]
        pos = g.positions[target - 1]
        if kind == "SE" and not isinstance(pos.elem.type, gen().Simple):
            val = draw(instance(schema, pos.elem.type.pyname, depth + 1))
        else:
            val = draw(simple_strategy(module, fi.stype))
        counts[fi.pyname] = counts.get(fi.pyname, 0) + 1
        if fi.is_list:
            values[fi.pyname].append(val)
        else:
            values[fi.pyname] = val
        state = target
    raise AssertionError("grammar walk did not terminate")


def body_members(schema: str) -> list[str]:
    g = _grammars(schema)["Body"]
    return [m.type.pyname for m in g.fields[0].members]


@st.composite
def v2g_message(draw: st.DrawFn, schema: str, body: str) -> Any:
    module = exi.SCHEMAS[schema]
    header = draw(instance(schema, "MessageHeader"))
    content = draw(instance(schema, body))
    return module.V2G_Message(header=header, body=module.Body(body_element=content))
