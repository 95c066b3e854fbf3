"""Test access to the generator's grammar model (tools/gen_exi.py), loaded once per schema."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.conftest import shared_data

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "gen_exi.py"


@functools.cache
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_exi", TOOLS)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_exi"] = module
    spec.loader.exec_module(module)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    return module


@functools.cache
def model(schema: str) -> Any:
    return gen().load_model(schema, shared_data("xsd"))


def grammar(schema: str, pyname: str) -> Any:
    m = model(schema)
    return next(g for g in m.grammars.values() if g.ct.pyname == pyname)


def production_names(g: Any, state: int) -> list[str]:
    """Names of the productions of ``state``: element/attribute names, "EE", "CH", "*"."""
    out = []
    for kind, target in g.prods[state]:
        if kind in ("EE", "CH", "CHM"):
            out.append(kind)
        elif kind == "ANY":
            out.append("*")
        else:
            p = g.positions[target - 1]
            out.append("@" + p.attr.name if kind == "AT" else p.elem.name)
    return out
