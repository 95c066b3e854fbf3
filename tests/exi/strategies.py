"""Hypothesis strategies for valid messages: random walks over the generator's EXI grammars.

Every draw follows the grammar of the type (so choices, unrolled bounds and required elements are
respected by construction) and fills simple values within their XSD facets; strings and lists
are capped to keep examples small. Wildcards and mixed text are never produced (the codec does
not encode them).

``xml=True`` draws only what an XML toolchain such as the iso15118 package's (JSON → XML →
EXIficient) can carry: no element of an abstract type or an abstract element (invalid in a
document, although EXI lists them), only XML characters, and no empty string or binary value
(EXIficient writes those as a second-level EE, docs/exi.md, so the streams would differ by design).
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any, Literal

from hypothesis import strategies as st

from ccs2chademo import exi

from .grammar_model import gen, model

MAX_ITEMS = 3
MAX_TEXT = 12


def simple_strategy(module: ModuleType, stype: Any, xml: bool = False) -> st.SearchStrategy[Any]:
    s = gen().finalize_simple(stype)
    if s.kind == "bool":
        return st.booleans()
    if s.kind == "enum":
        return st.sampled_from(list(getattr(module, s.pyname)))
    if s.kind in ("nbit", "uint", "int"):
        lo = s.vmin if s.vmin is not None else -(2**70)
        hi = s.vmax if s.vmax is not None else 2**70
        return st.integers(lo, hi)
    low = max(s.minlen, 1) if xml else s.minlen
    cap = max(min(s.maxlen, MAX_TEXT) if s.maxlen is not None else MAX_TEXT, low)
    if s.kind == "str":
        # XML collapses the white space of every string type but xs:string (anyURI, ID, token …)
        drop: list[Literal["Cc", "Cs", "Zs"]] = ["Cc", "Cs", "Zs"] if s.builtin != "string" else ["Cc", "Cs"]
        chars = st.characters(codec="utf-8", exclude_categories=drop) if xml else st.characters(codec="utf-8")
        return st.text(chars, min_size=low, max_size=cap)
    return st.binary(min_size=low, max_size=cap)


def _valid_in_xml(pos: Any) -> bool:
    return not (pos.elem.abstract or getattr(pos.elem.type, "abstract", False))


@functools.cache
def _grammars(schema: str) -> dict[str, Any]:
    return {g.ct.pyname: g for g in model(schema).grammars.values()}


@st.composite
def instance(draw: st.DrawFn, schema: str, pyname: str, depth: int = 0, xml: bool = False) -> Any:
    module = exi.FRAGMENT_SCHEMAS[schema]
    g = _grammars(schema)[pyname]
    field_of = {p.idx: fi for fi in g.fields for p in fi.positions}
    values: dict[str, Any] = {fi.pyname: [] if fi.is_list else None for fi in g.fields}
    counts: dict[str, int] = {}
    state = 0
    for _ in range(10_000):
        options = [(k, t) for k, t in g.prods[state] if k in ("SE", "AT", "CH", "EE")
                   and not (xml and k == "SE" and not _valid_in_xml(g.positions[t - 1]))]
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
            val = draw(instance(schema, pos.elem.type.pyname, depth + 1, xml))
        else:
            val = draw(simple_strategy(module, fi.stype, xml))
        counts[fi.pyname] = counts.get(fi.pyname, 0) + 1
        if fi.is_list:
            values[fi.pyname].append(val)
        else:
            values[fi.pyname] = val
        state = target
    raise AssertionError("grammar walk did not terminate")


def roots(schema: str) -> list[str]:
    """The document roots' classes; loads the grammar model now, outside hypothesis (which runs
    draws with a lower recursion limit than the -20 schedules' unrolled 2048 copies need)."""
    return [el.type.pyname for el in model(schema).roots]


def body_members(schema: str) -> list[str]:
    g = _grammars(schema)["Body"]
    return [m.type.pyname for m in g.fields[0].members]


@st.composite
def v2g_message(draw: st.DrawFn, schema: str, body: str) -> Any:
    module = exi.SCHEMAS[schema]
    header = draw(instance(schema, "MessageHeader"))
    content = draw(instance(schema, body))
    return module.V2G_Message(header=header, body=module.Body(body_element=content))
