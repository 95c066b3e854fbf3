"""A slow, independent EXI decoder: interprets the generator's grammar tables state by state.

It shares only the grammar model with the generated code (none of the emitter's static event
tracking, merged reads or helpers), so comparing the two catches emitter bugs; the grammar itself
is checked by the byte-exact vectors.
"""

from __future__ import annotations

from typing import Any

from ccs2chademo import exi

from .grammar_model import gen, model


class Bits:
    def __init__(self, data: bytes) -> None:
        self.s = "".join(f"{b:08b}" for b in data)
        self.i = 0

    def take(self, n: int) -> int:
        if self.i + n > len(self.s):
            raise exi.ExiDecodeError("oracle: end of stream", self.i)
        x = int(self.s[self.i:self.i + n], 2) if n else 0
        self.i += n
        return x

    def uint(self) -> int:
        x, shift = 0, 0
        while True:
            b = self.take(8)
            x |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return x

    def value(self, module: Any, stype: Any) -> Any:
        s = gen().finalize_simple(stype)
        if s.kind == "bool":
            return self.take(1) == 1
        if s.kind == "enum":
            return getattr(module, s.pyname)(self.take(s.bits))
        if s.kind == "nbit":
            return self.take(s.bits) + s.vmin
        if s.kind == "uint":
            return self.uint()
        if s.kind == "int":
            neg = self.take(1)
            x = self.uint()
            return -x - 1 if neg else x
        if s.kind == "bin":
            n = self.uint()
            return bytes(self.take(8) for _ in range(n))
        n = self.uint()
        assert n >= 2, "string-table hit"
        return "".join(chr(self.uint()) for _ in range(n - 2))


def decode_type(schema: str, pyname: str, bits: Bits) -> Any:
    module = exi.FRAGMENT_SCHEMAS[schema]
    g = next(x for x in model(schema).grammars.values() if x.ct.pyname == pyname)
    field_of = {p.idx: fi for fi in g.fields for p in fi.positions}
    values: dict[str, Any] = {fi.pyname: [] if fi.is_list else None for fi in g.fields}
    state = 0
    while True:
        code = bits.take(g.width(state))
        if code >= len(g.prods[state]):
            raise exi.ExiDecodeError("oracle: second-level or invalid event code", bits.i)
        kind, target = g.prods[state][code]
        if kind == "EE":
            return getattr(module, pyname)(**values)
        if kind in ("ANY", "CHM"):
            raise exi.ExiDecodeError("oracle: wildcard/mixed content", bits.i)
        fi, pos = field_of[target], g.positions[target - 1]
        if kind == "SE" and not isinstance(pos.elem.type, gen().Simple):
            val = decode_type(schema, pos.elem.type.pyname, bits)
        elif kind == "SE":
            assert bits.take(1) == 0, "CH expected"
            val = bits.value(module, fi.stype)
            assert bits.take(1) == 0, "EE expected"
        else:
            val = bits.value(module, fi.stype)
        if fi.is_list:
            values[fi.pyname].append(val)
        else:
            values[fi.pyname] = val
        state = target


def decode(data: bytes, schema: str) -> Any:
    m = model(schema)
    bits = Bits(data)
    assert bits.take(8) == 0x80
    code = bits.take(len(m.globals_sorted).bit_length())
    root = m.globals_sorted[code]
    return decode_type(schema, root.type.pyname, bits)
