#!/usr/bin/env python3
"""Generate the schema-informed EXI codecs in ``src/ccs2chademo/exi/`` from the V2G XSDs.

Run ``python tools/gen_exi.py`` (default XSD folder ``../shared/data/xsd``); ``--check`` only
compares. Stages (docs/exi.md, docs/spec/exi.md §4–§7):

1. a small XSD reader for the subset these schemas use (sequence, choice, element refs,
   substitution groups, complex/simple content extension, attributes, wildcards, mixed);
   the files of each schema are listed explicitly, so import ``schemaLocation`` values are never
   followed (this sidesteps the DIN xmldsig path trap and the circular DIN imports);
2. an EXI grammar per complex type: the content model is expanded (bounded ``maxOccurs``
   unrolled, unbounded looped, substitution groups listed with their heads) into a position
   automaton (Glushkov), whose states are the EXI non-terminals; productions are ordered as
   EXI 1.0 section 8.5.4.3 says and widths are ceil(log2(n + 1)) because strict = false;
3. an emitter writing one dataclass, one encoder and one decoder per complex type, with the
   fixed-width bit arithmetic inlined; DIN, ISO-2 and the ISO 15118-20 common messages import the
   xmldsig types from xmldsig.py, the other -20 message sets the CommonTypes types and
   enumerations from iso20_cm.py, where their code would be identical (``PROVIDERS``,
   ``Emitter.shared_types``, ``Emitter.shared_enums``).
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

XS = "http://www.w3.org/2001/XMLSchema"
REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "src" / "ccs2chademo" / "exi"
DEFAULT_XSD = REPO.parent / "shared" / "data" / "xsd"

SCHEMAS: dict[str, tuple[list[str], str]] = {
    # name: (files, description)
    "apphand": (["V2G_CI_AppProtocol.xsd"], "SupportedAppProtocol (urn:iso:15118:2:2010:AppProtocol)"),
    "din": (
        [
            "din/V2G_CI_MsgDef.xsd",
            "din/V2G_CI_MsgHeader.xsd",
            "din/V2G_CI_MsgBody.xsd",
            "din/V2G_CI_MsgDataTypes.xsd",
            "xmldsig-core-schema.xsd",
        ],
        "DIN SPEC 70121:2012 (urn:din:70121:2012:MsgDef)",
    ),
    "iso2": (
        [
            "iso15118_2/V2G_CI_MsgDef.xsd",
            "iso15118_2/V2G_CI_MsgHeader.xsd",
            "iso15118_2/V2G_CI_MsgBody.xsd",
            "iso15118_2/V2G_CI_MsgDataTypes.xsd",
            "xmldsig-core-schema.xsd",
        ],
        "ISO 15118-2:2013 (urn:iso:15118:2:2013:MsgDef)",
    ),
    "xmldsig": (["xmldsig-core-schema.xsd"], "W3C XML Signature (fragments only)"),
    # ISO 15118-20: one EXI grammar per message set, each compiled from its own file with
    # CommonTypes and xmldsig (the files it imports), never from the other message sets
    **{
        f"iso20-{short}": (
            [f"iso15118_20/V2G_CI_{xsd}.xsd", "iso15118_20/V2G_CI_CommonTypes.xsd", "xmldsig-core-schema.xsd"],
            f"ISO 15118-20:2022 {title} (urn:iso:std:iso:15118:-20:{xsd})",
        )
        for short, xsd, title in [("cm", "CommonMessages", "common messages"), ("dc", "DC", "DC (with BPT)"),
                                  ("ac", "AC", "AC (with BPT)"), ("wpt", "WPT", "wireless power transfer"),
                                  ("acdp", "ACDP", "AC with a pantograph connection device (ACDP)")]
    },
}

# document roots the API decodes and encodes; ISO 15118-20 has no V2G_Message wrapper: every
# message is a global element of its own (MESSAGES: the Req/Res elements of the schema's first file)
MESSAGES = "messages"
ROOTS = {"xmldsig": [], "apphand": ["supportedAppProtocolReq", "supportedAppProtocolRes"], "din": ["V2G_Message"],
         "iso2": ["V2G_Message"], **{name: MESSAGES for name in SCHEMAS if name.startswith("iso20-")}}

# schemas whose module imports the types of another generated module instead of repeating them:
# DIN, ISO-2 and the -20 common messages compile xmldsig-core along with their own files, and the
# xmldsig types come out the same there as in xmldsig.py; the other -20 message sets compile
# CommonTypes as the common messages do, so they share those types (and enumerations) with
# iso20_cm.py (Emitter.shared_types checks that type by type)
PROVIDERS = {"din": "xmldsig", "iso2": "xmldsig", "iso20-cm": "xmldsig",
             **{name: "iso20-cm" for name in SCHEMAS if name.startswith("iso20-") and name != "iso20-cm"}}


def module_name(schema: str) -> str:
    """The Python module of a schema: ``iso20-dc`` → ``iso20_dc``."""
    return schema.replace("-", "_")

QName = tuple[str, str]  # (namespace, local name)

INT_RANGES: dict[str, tuple[int | None, int | None]] = {
    "byte": (-(2**7), 2**7 - 1), "short": (-(2**15), 2**15 - 1), "int": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1), "unsignedByte": (0, 2**8 - 1), "unsignedShort": (0, 2**16 - 1),
    "unsignedInt": (0, 2**32 - 1), "unsignedLong": (0, 2**64 - 1), "integer": (None, None),
    "nonNegativeInteger": (0, None), "positiveInteger": (1, None), "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
}
STRINGS = {"string", "normalizedString", "token", "anyURI", "ID", "IDREF", "NCName", "Name", "language",
           "NMTOKEN", "QName"}
BINARIES = {"hexBinary", "base64Binary"}


# --------------------------------------------------------------------------------------------
# XSD model
# --------------------------------------------------------------------------------------------


@dataclass
class Simple:
    """A simple type reduced to what EXI needs: representation kind and facets."""

    name: str | None
    kind: str = ""  # bool | enum | nbit | uint | int | str | bin
    enums: list[str] = field(default_factory=list)
    vmin: int | None = None
    vmax: int | None = None
    maxlen: int | None = None
    minlen: int = 0  # length facets do not change the EXI encoding; kept for what a valid value is
    bits: int = 0
    pyname: str = ""  # enum class name
    builtin: str = ""  # the XSD built-in type it derives from (hexBinary vs base64Binary in XML/JSON text)


@dataclass
class Attr:
    name: str
    ns: str
    stype: Simple
    required: bool


@dataclass
class Particle:
    kind: str  # elem | seq | choice | any
    vmin: int = 1
    vmax: int | None = 1
    children: list[Particle] = field(default_factory=list)
    elem: Elem | None = None


@dataclass(eq=False)
class Elem:
    name: str
    ns: str
    type: Complex | Simple | None = None
    head: QName | None = None
    is_global: bool = False
    abstract: bool = False  # never valid in a document; EXI still lists it in its substitution group
    type_ref: object = None  # raw reference, resolved lazily


@dataclass(eq=False)
class Complex:
    name: str | None
    ns: str
    attrs: list[Attr] = field(default_factory=list)
    content: Particle | None = None
    simple: Simple | None = None
    mixed: bool = False
    pyname: str = ""
    abstract: bool = False  # a valid document never holds an element of this type (XSD); EXI grammars ignore it


class Loader:
    """Reads the listed XSD files into one global symbol table (all namespaces together)."""

    def __init__(self, paths: list[Path]) -> None:
        self.raw: dict[tuple[str, QName], tuple[ET.Element, dict[str, str], str, dict[str, str]]] = {}
        self.elems: dict[QName, Elem] = {}
        self.ctypes: dict[QName, Complex] = {}
        self.stypes: dict[QName, Simple] = {}
        self.order: list[QName] = []  # global elements in file order
        self.namespaces: list[str] = []  # target namespace of each file, in the order given
        for path in paths:
            nsmap: dict[str, str] = {}
            for _event, item in ET.iterparse(path, events=("start-ns",)):
                prefix, uri = item  # type: ignore[misc]
                nsmap.setdefault(prefix, uri)
            root = ET.parse(path).getroot()
            tns = root.get("targetNamespace", "")
            self.namespaces.append(tns)
            forms = {"element": root.get("elementFormDefault", "unqualified"),
                     "attribute": root.get("attributeFormDefault", "unqualified")}
            for child in root:
                tag = _local(child.tag)
                if tag in ("element", "complexType", "simpleType"):
                    key = (tag, (tns, child.get("name", "")))
                    self.raw[key] = (child, nsmap, tns, forms)
                    if tag == "element":
                        self.order.append((tns, child.get("name", "")))

    # -- name resolution --
    @staticmethod
    def qname(text: str, nsmap: dict[str, str]) -> QName:
        if ":" in text:
            prefix, local = text.split(":", 1)
            return nsmap[prefix], local
        return nsmap.get("", ""), text

    def element(self, qn: QName) -> Elem:
        if qn not in self.elems:
            node, nsmap, tns, forms = self.raw[("element", qn)]
            el = Elem(qn[1], qn[0], is_global=True)
            self.elems[qn] = el
            if node.get("substitutionGroup"):
                el.head = self.qname(node.get("substitutionGroup", ""), nsmap)
            el.abstract = node.get("abstract") == "true"
            el.type = self._elem_type(node, nsmap, tns, forms, qn[1])
        return self.elems[qn]

    def _elem_type(self, node: ET.Element, nsmap: dict[str, str], tns: str, forms: dict[str, str],
                   name: str) -> Complex | Simple:
        if node.get("type"):
            return self.type_of(self.qname(node.get("type", ""), nsmap))
        for child in node:
            if _local(child.tag) == "complexType":
                return self.complex_type(child, nsmap, tns, forms, None, name)
            if _local(child.tag) == "simpleType":
                return self.simple_type(child, nsmap, None, name)
        raise SystemExit(f"element {name} without type (anyType is not used by the V2G schemas)")

    def type_of(self, qn: QName) -> Complex | Simple:
        if qn[0] == XS:
            return self.builtin(qn[1])
        if qn in self.ctypes:
            return self.ctypes[qn]
        if qn in self.stypes:
            return self.stypes[qn]
        if ("complexType", qn) in self.raw:
            node, nsmap, tns, forms = self.raw[("complexType", qn)]
            return self.complex_type(node, nsmap, tns, forms, qn, qn[1])
        node, nsmap, tns, forms = self.raw[("simpleType", qn)]
        return self.simple_type(node, nsmap, qn, qn[1])

    @staticmethod
    def builtin(name: str) -> Simple:
        st = Simple(None, builtin=name)
        if name == "boolean":
            st.kind = "bool"
        elif name in INT_RANGES:
            st.kind = "int"
            st.vmin, st.vmax = INT_RANGES[name]
        elif name in STRINGS:
            st.kind = "str"
        elif name in BINARIES:
            st.kind = "bin"
        else:
            raise SystemExit(f"unsupported builtin xs:{name}")
        return st

    def simple_type(self, node: ET.Element, nsmap: dict[str, str], qn: QName | None, name: str) -> Simple:
        restr = next((c for c in node if _local(c.tag) == "restriction"), None)
        if restr is None:
            raise SystemExit(f"simple type {name}: only restriction is supported")
        if restr.get("base"):
            base = self.type_of(self.qname(restr.get("base", ""), nsmap))
        else:
            inner = next(c for c in restr if _local(c.tag) == "simpleType")
            base = self.simple_type(inner, nsmap, None, name)
        if not isinstance(base, Simple):
            raise SystemExit(f"simple type {name} restricts a complex type")
        st = Simple(name, base.kind, list(base.enums), base.vmin, base.vmax, base.maxlen, base.minlen,
                    pyname=base.pyname, builtin=base.builtin)
        enums = []
        for facet in restr:
            tag, val = _local(facet.tag), facet.get("value", "")
            if tag == "enumeration":
                enums.append(val)
            elif tag in ("minInclusive", "minExclusive"):
                st.vmin = int(val) + (tag == "minExclusive")
            elif tag in ("maxInclusive", "maxExclusive"):
                st.vmax = int(val) - (tag == "maxExclusive")
            elif tag in ("maxLength", "length"):
                st.maxlen = int(val)
            if tag in ("minLength", "length"):
                st.minlen = int(val)
        if enums:
            st.kind, st.enums = "enum", enums
            st.pyname = name[:-4] if name.endswith("Type") else name
            st.pyname = st.pyname[0].upper() + st.pyname[1:]
        if qn is not None:
            self.stypes[qn] = st
        return st

    def complex_type(self, node: ET.Element, nsmap: dict[str, str], tns: str, forms: dict[str, str],
                     qn: QName | None, name: str) -> Complex:
        ct = Complex(qn[1] if qn else None, tns)
        if qn is not None:
            self.ctypes[qn] = ct  # register first: types may be referenced recursively
            base = name[:-4] if name.endswith("Type") else name
        else:
            base = name[0].upper() + name[1:]
        ct.pyname = base
        ct.mixed = node.get("mixed") == "true"
        ct.abstract = node.get("abstract") == "true"
        for child in node:
            tag = _local(child.tag)
            if tag in ("sequence", "choice"):
                ct.content = self.particle(child, nsmap, tns, forms)
            elif tag == "attribute":
                ct.attrs.append(self.attribute(child, nsmap, tns, forms))
            elif tag == "complexContent":
                if child.get("mixed") == "true":
                    ct.mixed = True
                ext = child[0] if _local(child[0].tag) != "annotation" else child[1]
                if _local(ext.tag) != "extension":
                    raise SystemExit(f"{name}: complexContent restriction is not supported")
                base_t = self.type_of(self.qname(ext.get("base", ""), nsmap))
                assert isinstance(base_t, Complex)
                ct.attrs.extend(base_t.attrs)
                ct.mixed = ct.mixed or base_t.mixed
                own: Particle | None = None
                for sub in ext:
                    stag = _local(sub.tag)
                    if stag in ("sequence", "choice"):
                        own = self.particle(sub, nsmap, tns, forms)
                    elif stag == "attribute":
                        ct.attrs.append(self.attribute(sub, nsmap, tns, forms))
                parts = [x for x in (base_t.content, own) if x is not None]
                ct.content = parts[0] if len(parts) == 1 else (Particle("seq", children=parts) if parts else None)
            elif tag == "simpleContent":
                ext = child[0]
                if _local(ext.tag) != "extension":
                    raise SystemExit(f"{name}: simpleContent restriction is not supported")
                base_t = self.type_of(self.qname(ext.get("base", ""), nsmap))
                if isinstance(base_t, Complex):
                    ct.simple, ct.attrs = base_t.simple, list(base_t.attrs)
                else:
                    ct.simple = base_t
                for sub in ext:
                    if _local(sub.tag) == "attribute":
                        ct.attrs.append(self.attribute(sub, nsmap, tns, forms))
        return ct

    def attribute(self, node: ET.Element, nsmap: dict[str, str], tns: str, forms: dict[str, str]) -> Attr:
        name = node.get("name", "")
        ns = tns if forms["attribute"] == "qualified" else ""
        if node.get("type"):
            st = self.type_of(self.qname(node.get("type", ""), nsmap))
        else:
            st = self.simple_type(next(c for c in node if _local(c.tag) == "simpleType"), nsmap, None, name)
        assert isinstance(st, Simple)
        return Attr(name, ns, st, node.get("use") == "required")

    def particle(self, node: ET.Element, nsmap: dict[str, str], tns: str, forms: dict[str, str]) -> Particle:
        tag = _local(node.tag)
        vmin = int(node.get("minOccurs", "1"))
        mx = node.get("maxOccurs", "1")
        vmax = None if mx == "unbounded" else int(mx)
        if tag in ("sequence", "choice"):
            kids = [self.particle(c, nsmap, tns, forms) for c in node if _local(c.tag) != "annotation"]
            return Particle("seq" if tag == "sequence" else "choice", vmin, vmax, kids)
        if tag == "any":
            return Particle("any", vmin, vmax)
        if tag != "element":
            raise SystemExit(f"unsupported particle {tag}")
        if node.get("ref"):
            el = self.element(self.qname(node.get("ref", ""), nsmap))
        else:
            name = node.get("name", "")
            ns = tns if forms["element"] == "qualified" else ""
            el = Elem(name, ns)
            el.type = self._elem_type(node, nsmap, tns, forms, name)
        return Particle("elem", vmin, vmax, elem=el)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# --------------------------------------------------------------------------------------------
# EXI grammar: position automaton per complex type
# --------------------------------------------------------------------------------------------

RANK = {"AT": 0, "SE": 1, "ANY": 3, "EE": 4, "CH": 5, "CHM": 5}


@dataclass(eq=False)
class Pos:
    idx: int
    kind: str  # AT | SE | CH | ANY
    fkey: str = ""  # field key
    elem: Elem | None = None
    attr: Attr | None = None
    member: int = 0  # index within a substitution group particle


@dataclass
class FieldInfo:
    key: str
    pyname: str
    xml: str
    tag: str  # a (attribute) | e (element) | t (text)
    positions: list[Pos]
    is_list: bool = False
    optional: bool = False
    members: list[Elem] = field(default_factory=list)  # substitution-group field: the elements
    stype: Simple | None = None
    ctype: Complex | None = None


@dataclass
class Grammar:
    """EXI grammar of one complex type: states 0 (start) and one per position."""

    ct: Complex
    positions: list[Pos]
    prods: list[list[tuple[str, int]]]  # per state: (kind, target position idx or -1 for EE)
    fields: list[FieldInfo]
    ordered: bool = True

    def width(self, s: int) -> int:
        return (len(self.prods[s])).bit_length()  # ceil(log2(n + 1)) for n >= 1

    def code(self, s: int, target: int) -> int | None:
        for i, (_, t) in enumerate(self.prods[s]):
            if t == target:
                return i
        return None


class Builder:
    def __init__(self, ld: Loader) -> None:
        self.ld = ld
        self.members: dict[QName, list[Elem]] = {}
        for qn in ld.order:
            el = ld.element(qn)
            if el.head is not None:
                self.members.setdefault(el.head, []).append(el)

    def subst(self, el: Elem) -> list[Elem]:
        """The element and every element that may substitute it, sorted (local name, uri)."""
        out = [el]
        todo = [el]
        while todo:
            cur = todo.pop()
            for m in self.members.get((cur.ns, cur.name), []):
                out.append(m)
                todo.append(m)
        return sorted(out, key=lambda x: (x.name, x.ns))

    def grammar(self, ct: Complex) -> Grammar:
        positions: list[Pos] = []

        def mk(kind: str, **kw: object) -> tuple:
            p = Pos(len(positions) + 1, kind, **kw)  # type: ignore[arg-type]
            positions.append(p)
            return ("pos", p)

        def one(pt: Particle) -> tuple:
            if pt.kind == "elem":
                assert pt.elem is not None
                mem = self.subst(pt.elem)
                return ("alt", [mk("SE", fkey=pt.elem.name, elem=m, member=i) for i, m in enumerate(mem)])
            if pt.kind == "seq":
                return ("seq", [rep(c) for c in pt.children])
            if pt.kind == "choice":
                return ("alt", [rep(c) for c in pt.children])
            return mk("ANY")

        def rep(pt: Particle) -> tuple:
            parts = [one(pt) for _ in range(pt.vmin)]
            if pt.vmax is None:
                parts.append(("star", one(pt)))
            else:
                # (X (X (X)?)?)? — nested so the automaton stays deterministic; positions in order
                copies = [one(pt) for _ in range(pt.vmax - pt.vmin)]
                tail: tuple | None = None
                for cp in reversed(copies):
                    tail = ("opt", ("seq", [cp, tail]) if tail else cp)
                if tail is not None:
                    parts.append(tail)
            return ("seq", parts)

        items: list[tuple] = []
        for at in sorted(ct.attrs, key=lambda a: (a.name, a.ns)):
            node = mk("AT", fkey="@" + at.name, attr=at)
            items.append(node if at.required else ("opt", node))
        n_attr = len(positions)
        if ct.simple is not None:
            items.append(mk("CH", fkey="#text"))
        elif ct.content is not None:
            items.append(rep(ct.content))
        regex = ("seq", items)

        follow: dict[int, set[int]] = {p.idx: set() for p in positions}

        def walk(node: tuple) -> tuple[bool, set[int], set[int]]:
            kind = node[0]
            if kind == "pos":
                i = node[1].idx
                return False, {i}, {i}
            if kind == "seq":
                nullable, first, last = True, set(), set()
                for child in node[1]:
                    n2, f2, l2 = walk(child)
                    for x in last:
                        follow[x] |= f2
                    if nullable:
                        first |= f2
                    last = (last | l2) if n2 else l2
                    nullable = nullable and n2
                return nullable, first, last
            if kind == "alt":
                nullable, first, last = False, set(), set()
                for child in node[1]:
                    n2, f2, l2 = walk(child)
                    nullable, first, last = nullable or n2, first | f2, last | l2
                return nullable, first, last
            n2, f2, l2 = walk(node[1])
            if kind == "star":
                for x in l2:
                    follow[x] |= f2
            return True, f2, l2

        nullable, first, last = walk(regex)
        content_idx = {p.idx for p in positions if p.kind != "AT"}

        def order(i: int) -> tuple:
            p = positions[i - 1]
            if p.kind == "AT":
                assert p.attr is not None
                return (0, p.attr.name, p.attr.ns, 0)
            return (RANK[p.kind], "", "", i)

        prods: list[list[tuple[str, int]]] = []
        for s in range(len(positions) + 1):
            nxt = first if s == 0 else follow[s]
            accept = nullable if s == 0 else s in last
            plist = [(positions[i - 1].kind, i) for i in sorted(nxt, key=order)]
            names = [(positions[i - 1].elem.name, positions[i - 1].elem.ns)  # type: ignore[union-attr]
                     for _, i in plist if positions[i - 1].kind == "SE"]
            if len(names) != len(set(names)):
                raise SystemExit(f"{ct.pyname}: non-deterministic content model in state {s}")
            if accept:
                plist.append(("EE", -1))
            if ct.mixed and (s in content_idx or any(t in content_idx for _, t in plist)
                             or (s <= n_attr and accept)):
                plist.append(("CHM", -4))
            prods.append(plist)
        g = Grammar(ct, positions, prods, [])
        self._fields(g, nullable, first, last, follow)
        return g

    def _fields(self, g: Grammar, nullable: bool, first: set[int], last: set[int],
                follow: dict[int, set[int]]) -> None:
        byname: dict[str, FieldInfo] = {}
        for p in g.positions:
            if p.kind == "ANY":
                continue
            fi = byname.get(p.fkey)
            if fi is None:
                if p.kind == "AT":
                    assert p.attr is not None
                    fi = FieldInfo(p.fkey, pyname(p.attr.name), p.attr.name, "a", [], stype=p.attr.stype)
                elif p.kind == "CH":
                    fi = FieldInfo(p.fkey, "value", "#text", "t", [], stype=g.ct.simple)
                else:
                    assert p.elem is not None
                    fi = FieldInfo(p.fkey, pyname(p.fkey), p.fkey, "e", [])
                byname[p.fkey] = fi
                g.fields.append(fi)
            fi.positions.append(p)
            if p.kind == "SE":
                assert p.elem is not None
                if all((m.name, m.ns) != (p.elem.name, p.elem.ns) for m in fi.members):
                    fi.members.append(p.elem)
        seen: set[str] = set()
        for fi in g.fields:
            if fi.pyname in seen:
                raise SystemExit(f"{g.ct.pyname}: field name clash {fi.pyname}")
            seen.add(fi.pyname)
            if fi.tag == "e":
                types = {id(m.type) for m in fi.members}
                if len(fi.members) > 1 or len(types) > 1:
                    classes = [m.type for m in fi.members]
                    if not all(isinstance(c, Complex) for c in classes):
                        raise SystemExit(f"{g.ct.pyname}.{fi.pyname}: substitution group with simple types")
                    if len({c.pyname for c in classes}) != len(classes):  # type: ignore[union-attr]
                        raise SystemExit(f"{g.ct.pyname}.{fi.pyname}: two members share a type")
                elif isinstance(fi.members[0].type, Complex):
                    fi.ctype = fi.members[0].type
                else:
                    fi.stype = fi.members[0].type
            own = {p.idx for p in fi.positions}
            # list: a position of the field reachable from another one
            reach: set[int] = set()
            todo = [t for i in own for t in follow[i]]
            while todo:
                x = todo.pop()
                if x not in reach:
                    reach.add(x)
                    todo.extend(follow[x])
            fi.is_list = bool(reach & own)
            # optional: accepting without passing the field
            ok = nullable
            seen_s: set[int] = set()
            todo = [t for t in first if t not in own]
            while todo and not ok:
                x = todo.pop()
                if x in seen_s:
                    continue
                seen_s.add(x)
                if x in last:
                    ok = True
                todo.extend(t for t in follow[x] if t not in own)
            fi.optional = ok
        rank = {p.idx: i for i, fi in enumerate(g.fields) for p in fi.positions}
        for s, plist in enumerate(g.prods):
            for _, t in plist:
                if s in rank and t in rank and rank[t] < rank[s]:
                    g.ordered = False


_SNAKE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def pyname(name: str) -> str:
    """Field name rule (docs/exi.md): snake case, repeated underscores collapsed."""
    s = re.sub("_+", "_", _SNAKE.sub("_", name).lower())
    return s + "_" if keyword.iskeyword(s) else s


def member_name(value: str) -> str:
    """Enum member rule: the value if it is an identifier, else non-identifier characters → ``_``."""
    s = re.sub(r"\W", "_", value)
    if not s or s[0].isdigit():
        s = "_" + s
    return s + "_" if keyword.iskeyword(s) else s


# --------------------------------------------------------------------------------------------
# Schema model: everything the emitter needs
# --------------------------------------------------------------------------------------------


@dataclass
class Model:
    name: str
    loader: Loader
    builder: Builder
    grammars: dict[int, Grammar]  # id(Complex) -> grammar, emission order = insertion order
    enums: list[Simple]
    globals_sorted: list[Elem]
    fragment_sorted: list[tuple[str, str]]
    roots: list[Elem]
    provider: Model | None = None  # the model of PROVIDERS[name], whose types may be imported


def declared_elements(ld: Loader, found: dict[QName, list[Elem]]) -> None:
    """Add to ``found`` the local element declarations of every named complex type, also of those
    no global element reaches: the fragment grammar lists every element declaration of the schema
    set (EXI 1.0 section 8.5.2), and EXIficient counts them (ISO 15118-20 CommonTypes declares
    elements in abstract base types and in DisplayParameters, which the common messages never use;
    without them the fragment codes of the -20 signed elements differ from the iso15118 codec's)."""
    seen: set[int] = set()

    def walk(pt: Particle | None) -> None:
        if pt is None:
            return
        if pt.elem is not None:
            found.setdefault((pt.elem.name, pt.elem.ns), [])
            if isinstance(pt.elem.type, Complex) and pt.elem.type.name is None and id(pt.elem.type) not in seen:
                seen.add(id(pt.elem.type))
                walk(pt.elem.type.content)
        for child in pt.children:
            walk(child)

    for kind, qn in list(ld.raw):
        if kind == "complexType":
            ct = ld.type_of(qn)
            assert isinstance(ct, Complex)
            walk(ct.content)


def load_model(name: str, xsd_dir: Path = DEFAULT_XSD) -> Model:
    files, _ = SCHEMAS[name]
    ld = Loader([xsd_dir / f for f in files])
    b = Builder(ld)
    globals_ = [ld.element(q) for q in ld.order]
    grammars: dict[int, Grammar] = {}
    enums: dict[str, Simple] = {}
    all_elems: dict[tuple[str, str], list[Elem]] = {}

    def visit_simple(st: Simple) -> None:
        if st.kind == "enum" and st.pyname not in enums:
            enums[st.pyname] = st

    def visit(ct: Complex) -> None:
        if id(ct) in grammars:
            return
        g = b.grammar(ct)
        grammars[id(ct)] = g
        for at in ct.attrs:
            visit_simple(at.stype)
        if ct.simple:
            visit_simple(ct.simple)
        for p in g.positions:
            if p.elem is not None:
                all_elems.setdefault((p.elem.name, p.elem.ns), []).append(p.elem)
                if isinstance(p.elem.type, Complex):
                    visit(p.elem.type)
                elif p.elem.type is not None:
                    visit_simple(p.elem.type)

    for el in globals_:
        all_elems.setdefault((el.name, el.ns), []).append(el)
        if isinstance(el.type, Complex):
            visit(el.type)
        elif el.type is not None:
            visit_simple(el.type)
    declared_elements(ld, all_elems)
    names: dict[str, str] = {}
    for g in grammars.values():
        if g.ct.pyname in names:
            raise SystemExit(f"{name}: class name clash {g.ct.pyname}")
        names[g.ct.pyname] = "class"
    for en in enums:
        if en in names:
            raise SystemExit(f"{name}: enum/class name clash {en}")
        names[en] = "enum"
    rule = ROOTS[name]
    if rule == MESSAGES:
        own_ns = ld.namespaces[0]
        roots = [e for e in globals_ if e.ns == own_ns and e.name.endswith(("Req", "Res"))]
    else:
        roots = [next(e for e in globals_ if e.name == r) for r in rule]
    provider = load_model(PROVIDERS[name], xsd_dir) if name in PROVIDERS else None
    return Model(name, ld, b, grammars, list(enums.values()),
                 sorted(globals_, key=lambda e: (e.name, e.ns)), sorted(all_elems), roots, provider)


# --------------------------------------------------------------------------------------------
# Emitter
# --------------------------------------------------------------------------------------------

HEADER = '''"""{desc}: generated EXI codec — do not edit.

Generated by ``tools/gen_exi.py`` from the XSDs in shared/data/xsd; regenerate instead of
editing. One dataclass, one ``_e_*`` encoder and one ``_d_*`` decoder per complex type.
Decoders take the input as one int ``v`` of ``e`` bits and a bit position ``p`` and return
``(object, new position)``; encoders take the accumulator ``a`` and return it.
Target codes in the tables: position index, -1 EE, -2 second-level escape, -3 invalid code,
-4 production this codec does not decode (wildcard or mixed character content).
"""

# ruff: noqa
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, NoReturn

from ._bits import (
    ExiDecodeError,
    OpenEnum,
    ExiEncodeError,
    dec_bin,
    dec_int,
    dec_str,
    dec_uint,
    enc_bin,
    enc_int,
    enc_str,
    enc_uint,
    finish,
    pick_multiplier,
)
{imports}
SCHEMA = "{name}"
'''

NATIVE_HEADER = '''"""{desc}: generated EXI codec written for compilation — do not edit.

Generated by ``tools/gen_exi.py`` (``Emitter(native=True)``) from the grammar of ``exi/{module}.py``, the pure
reference: the same statements, but the input is read from ``bytes`` by ``rd`` and the output
written through a ``Writer`` (``exi/native/_bits.py`` says why), and the records are plain classes
that mypyc compiles to native classes.  The enumerations and the event-code tables are those of
``exi/{module}_data.py``, which the pure module uses too; the types the pure module imports from its
provider are imported from there as well, with their pure codecs.  The pure module itself is not
imported: a process that only needs the twin (the adapter) does not load it.  Results are the pure
module's, byte for byte and error for error (tests/exi/test_native.py).
"""

# ruff: noqa
from __future__ import annotations

import operator
from typing import Any, Callable, ClassVar, Final, NoReturn

from .._bits import ExiDecodeError, ExiEncodeError, pick_multiplier
from .. import {module}_data as _data
from ._bits import (
    Writer,
    dec_bin,
    dec_int,
    dec_str,
    dec_uint,
    enc_bin,
    enc_int,
    enc_str,
    enc_uint,
    finish,
    named_meta,
    rd,
    start,
)
from ..{module}_data import (
{names})
{shared}
SCHEMA = "{name}"
#: ``operator.index`` as a C variable of the compiled module: a name imported from a Python module
#: is looked up in the module's dict at every use (≈ 8 % of encoding a PreChargeReq)
index: Final[Callable[[Any], int]] = operator.index
'''

DATA_HEADER = '''"""{desc}: the enumerations and tables of the generated EXI codec — do not edit.

Generated by ``tools/gen_exi.py``.  The pure module ``exi/{module}.py`` and its twin written for
compilation ``exi/native/{module}.py`` both take their enumerations and data-only tables from here:
one definition of each, and a process that runs only the twin (the adapter) never loads the pure
module.  ``META_NAMES`` and ``FRAGMENT_NAMES`` name the classes of the JSON tables; each module
resolves them to its own classes.
"""

# ruff: noqa
from __future__ import annotations

from typing import Any

from ._bits import OpenEnum
'''

#: where the pure module of a schema with a twin imports its data module (filled in once the
#: constants are known)
DATA_MARK = "@@data@@"

IMPORTS = '''
# The {provider} types are imported, not repeated: their classes, encoders, decoders and tables
# come out the same in this schema as in {provider}.py (tools/gen_exi.py compares them type by
# type), so each is one class in both modules (its SCHEMA names the module that defines it). The
# document and fragment grammars further down depend on all the elements of this schema and stay
# per schema.
from . import {provider} as _{provider}
{blocks}
'''


def enum_class(st: Simple) -> list[str]:
    """The OpenEnum class of an XSD enumeration (members numbered as the EXI codes)."""
    names = [member_name(v) for v in st.enums]
    if len(set(names)) != len(names):
        raise SystemExit(f"enum {st.pyname}: member names clash after sanitizing")
    return ["", "", f"class {st.pyname}(OpenEnum):", f'    """XSD simpleType {st.name}."""', "",
            *(f"    {n} = {i}" for i, n in enumerate(names))]


def reexport(names: list[str]) -> str:
    """The lines of an import list that re-exports each name (mypy --strict wants ``X as X``)."""
    return "".join(f"    {n} as {n},\n" for n in names)


def py_type(st: Simple) -> str:
    return {"bool": "bool", "nbit": "int", "uint": "int", "int": "int", "str": "str", "bin": "bytes"}.get(
        st.kind, st.pyname)


def finalize_simple(st: Simple) -> Simple:
    if st.kind == "int" and st.vmin is not None and st.vmax is not None and st.vmax - st.vmin < 4096:
        st.kind = "nbit"
        st.bits = (st.vmax - st.vmin).bit_length()
    elif st.kind == "int" and st.vmin is not None and st.vmin >= 0:
        st.kind = "uint"
    elif st.kind == "enum":
        st.bits = (len(st.enums) - 1).bit_length()
    return st


class Emitter:
    """Writes one schema's module.  ``native`` writes its twin for compilation (``exi/native/``):
    the same grammar and the same statements, with the message read from ``bytes`` by ``rd`` and
    written through a ``Writer`` instead of one shifted int (see ``exi/native/_bits.py``), and
    plain classes with a written-out ``__init__`` instead of dataclasses (mypyc makes them native
    classes; the ``__init__`` that ``dataclasses`` writes would run interpreted)."""

    def __init__(self, m: Model, native: bool = False) -> None:
        self.m = m
        self.native = native
        self.out: list[str] = []
        self.consts: list[str] = []
        self.data_consts: list[str] = []  # the constants emit_data writes (schemas with a twin)
        self.declared: set[str] = set()
        self.uses_st = False

    @property
    def acc(self) -> str:
        """The type of an encoder's accumulator."""
        return "Writer" if self.native else "int"

    @property
    def src(self) -> str:
        """The type of a decoder's input."""
        return "bytes" if self.native else "int"

    @property
    def source_line(self) -> str:
        """The line of ``decode_document``/``decode_fragment`` that makes the decoders' input."""
        return "    v = data" if self.native else '    v = int.from_bytes(data, "big")'

    def rd(self, width: int | str, mask: int | None = None) -> str:
        """The expression reading ``width`` bits at ``p`` (masked to ``mask`` if given)."""
        if self.native:
            if isinstance(width, int) and width > 48:  # rd works in one machine word
                raise SystemExit(f"{self.m.name}: a merged read of {width} bits is too wide for the native twin")
            return f"rd(v, p, {width})" + (f" & {mask}" if mask is not None else "")
        if mask is None:
            mask_ = f"{(1 << width) - 1}" if isinstance(width, int) else f"((1 << {width}) - 1)"
        else:
            mask_ = str(mask)
        return f"(v >> (e - p - {width})) & {mask_}"

    # ---- value snippets (as ops, see assemble_enc / assemble_dec) ----
    def enc_value(self, st: Simple, x: str, label: str, ind: str) -> list[tuple]:
        st = finalize_simple(st)
        err = f'    raise ExiEncodeError("{label}: value out of range")'
        if st.kind == "bool":
            return [(ind, "W", 1, f"(1 if {x} else 0)")]
        if st.kind == "enum" and self.native:
            # the enum member as a plain int, once: compiled, comparing and shifting the member
            # itself are generic object operations; ``index`` refuses what is not an int, as the
            # pure comparison does
            n = "n_" + re.sub(r"\W", "_", x)
            return [(ind, "C", [f"{n} = index({x})", f"if not 0 <= {n} < {1 << st.bits}:", err]),
                    (ind, "W", st.bits, n)]
        if st.kind == "enum":
            return [(ind, "C", [f"if not 0 <= {x} < {1 << st.bits}:", err]), (ind, "W", st.bits, x)]
        if st.kind == "nbit":
            assert st.vmin is not None
            rng = [f"if not {st.vmin} <= {x} <= {st.vmin + (1 << st.bits) - 1}:", err]
            off = f"({x} - {st.vmin})" if st.vmin > 0 else (f"({x} + {-st.vmin})" if st.vmin < 0 else x)
            return [(ind, "C", rng), (ind, "W", st.bits, off)]
        if st.kind in ("uint", "int"):
            conds = []
            if st.vmin is not None:
                conds.append(f"{st.vmin} <= {x}")
            if st.vmax is not None:
                conds.append(f"{x} <= {st.vmax}")
            rng = [(ind, "C", [f"if not ({' and '.join(conds)}):", err])] if conds else []
            return [*rng, (ind, "L", f"a = enc_{st.kind}(a, {x})")]
        return [(ind, "L", f"a = enc_{st.kind}(a, {x})")]

    def dec_value(self, st: Simple, x: str, label: str, ind: str) -> list[tuple]:
        st = finalize_simple(st)
        if st.kind == "bool":
            return [(ind, "F", 1, f"{x} = {{r}} == 1")]
        if st.kind == "enum":
            return [(ind, "F", st.bits, f"{x} = _EN_{st.pyname}[{{r}}]")]
        if st.kind == "nbit":
            assert st.vmin is not None
            # no check against the XSD maximum: the unused codes of the n-bit field are kept
            # (OpenV2G does so, and public vectors carry such values; docs/exi.md)
            off = f" + {st.vmin}" if st.vmin > 0 else (f" - {-st.vmin}" if st.vmin < 0 else "")
            return [(ind, "F", st.bits, f"{x} = {{r}}{off}")]
        if st.kind == "uint":  # inline the one-octet case (values below 128)
            ops: list[tuple] = [(ind, "L", f"{x} = {self.rd(8)}"), (ind, "L", f"if {x} < 128:"),
                                (ind, "L", "    p += 8"), (ind, "L", "else:"),
                                (ind, "L", f"    {x}, p = dec_uint(v, p, e)")]
        elif st.kind == "int":  # sign bit + one octet: -128..127
            ops = [(ind, "L", f"{x} = {self.rd(9)}"), (ind, "L", f"if {x} < 128:"),
                   (ind, "L", "    p += 9"), (ind, "L", f"elif 256 <= {x} < 384:"), (ind, "L", f"    {x} = 255 - {x}"),
                   (ind, "L", "    p += 9"), (ind, "L", "else:"), (ind, "L", f"    {x}, p = dec_int(v, p, e)")]
        else:
            ops = [(ind, "L", f"{x}, p = dec_{st.kind}(v, p, e)")]
        if st.kind in ("uint", "int"):
            conds = []
            if st.vmin is not None and not (st.kind == "uint" and st.vmin == 0):
                conds.append(f"{x} < {st.vmin}")
            if st.vmax is not None:
                conds.append(f"{x} > {st.vmax}")
            if conds:
                ops += [(ind, "L", f"if {' or '.join(conds)}:"),
                        (ind, "L", f'    raise ExiDecodeError("value out of range", p, "{label}")')]
        return ops

    # ---- assemblers: merge fixed-width operations into one shift-or / one read ----
    def assemble_enc(self, ops: list[tuple]) -> list[str]:
        """W (write n bits of expr or zeros), C (checks, hoisted), S (statements after), L (line)."""
        out: list[str] = []
        run: list[tuple] = []

        def flush() -> None:
            if not run:
                return
            ind = run[0][0]
            for op in run:
                if op[1] == "C":
                    out.extend(ind + ln for ln in op[2])
            if self.native:
                out.extend(ind + ln for ln in self.native_writes([op for op in run if op[1] == "W"]))
                out.extend(ind + op[2] for op in run if op[1] == "S")
                run.clear()
                return
            expr, k, wrote = "a", 0, False
            for op in run:
                if op[1] == "W":
                    wrote = True
                    if op[3] is None:
                        k += op[2]
                    else:
                        base = expr if expr == "a" else f"({expr})"
                        expr = f"{base} << {k + op[2]} | {op[3]}"
                        k = 0
            if wrote:
                if expr == "a":
                    out.append(f"{ind}a <<= {k}")
                else:
                    out.append(f"{ind}a = ({expr}) << {k}" if k else f"{ind}a = {expr}")
            out.extend(ind + op[2] for op in run if op[1] == "S")
            run.clear()

        return self.group_runs(ops, run, out, flush)

    @staticmethod
    def native_writes(writes: list[tuple]) -> list[str]:
        """``a.put`` calls for a run of W ops, merged as the pure encoder merges its shifts: one call
        for up to 31 bits (what ``Writer.put`` takes), constants folded."""
        out: list[str] = []
        expr, zeros, width = "", 0, 0  # the pending call: value so far, zero bits after it, width

        def flush() -> None:
            nonlocal expr, zeros, width
            if width:
                shifted = f"({expr})" if " " in expr else expr
                value = "0" if not expr else (f"{shifted} << {zeros}" if zeros else expr)
                out.append(f"a.put({width}, {value})")
            expr, zeros, width = "", 0, 0

        for op in writes:
            n, val = op[2], op[3]
            if n > 31:
                raise SystemExit(f"a write of {n} bits is too wide for Writer.put")
            if width + n > 31:
                flush()
            width += n
            if val is None or val == "0":
                zeros += n
            elif not expr and val.isdigit():
                expr, zeros = val, 0
            elif expr.isdigit() and val.isdigit():
                expr, zeros = str((int(expr) << (zeros + n)) | int(val)), 0
            else:
                shifted = f"({expr})" if " " in expr else expr
                expr, zeros = (f"{shifted} << {zeros + n} | {val}" if expr else val), 0
        flush()
        return out

    @staticmethod
    def group_runs(ops: list[tuple], run: list[tuple], out: list[str], flush: Callable[[], None]) -> list[str]:
        """Feed ``ops`` to ``run`` in runs of one indentation; ``flush`` turns a run into lines of
        ``out``; "L" ops are lines of their own that end a run."""
        for op in ops:
            if op[1] == "L":
                flush()
                out.append(op[0] + op[2])
            else:
                if run and run[0][0] != op[0]:
                    flush()
                run.append(op)
        flush()
        return out

    def assemble_dec(self, ops: list[tuple], where: str) -> list[str]:
        """Z (n bits that must be 0), F (n bits into a template with {r}), S (statement), L (line)."""
        out: list[str] = []
        run: list[tuple] = []

        def flush() -> None:
            if not run:
                return
            ind = run[0][0]
            bits = [op for op in run if op[1] in ("Z", "F")]
            width = sum(op[2] for op in bits)
            if bits and all(op[1] == "Z" for op in bits):
                out.extend([f"{ind}if {self.rd(width)}:",
                            f'{ind}    raise ExiDecodeError("unexpected event code (second-level or missing end)",'
                            f' p, "{where}")', f"{ind}p += {width}"])
                out.extend(ind + op[2] for op in run if op[1] == "S")
                run.clear()
                return
            if width:
                out.append(f"{ind}r = {self.rd(width)}")
                out.append(f"{ind}p += {width}")
            shifts: dict[int, int] = {}
            zmask, pos = 0, width
            for op in bits:
                pos -= op[2]
                shifts[id(op)] = pos
                if op[1] == "Z":
                    zmask |= ((1 << op[2]) - 1) << pos
            if zmask:
                out.extend([f"{ind}if r & {zmask}:",
                        f'{ind}    raise ExiDecodeError("unexpected event code (second-level or missing end)", p,'
                        f' "{where}")'])
            for op in run:
                if op[1] == "F":
                    sh, n = shifts[id(op)], op[2]
                    if sh == 0 and n == width:
                        ex = "r"
                    elif sh == 0:
                        ex = f"(r & {(1 << n) - 1})"
                    elif sh + n == width:
                        ex = f"(r >> {sh})"
                    else:
                        ex = f"((r >> {sh}) & {(1 << n) - 1})"
                    out.append(ind + op[3].format(r=ex))
                elif op[1] == "S":
                    out.append(ind + op[2])
            run.clear()

        return self.group_runs(ops, run, out, flush)

    # ---- per type ----
    def emit_enum(self, st: Simple, imported: bool = False) -> None:
        """The enum class (unless ``imported`` from the provider) and the decoder's code table."""
        if not imported:
            self.out += enum_class(st)
        size = 1 << (len(st.enums) - 1).bit_length()
        self.consts.append(f"_EN_{st.pyname}: tuple[{st.pyname}, ...] = tuple(map({st.pyname}, range({size})))")

    def field_type(self, fi: FieldInfo) -> str:
        if fi.stype is not None:
            base = py_type(finalize_simple(fi.stype))
        elif fi.ctype is not None:
            base = fi.ctype.pyname
        else:
            base = " | ".join(m.type.pyname for m in fi.members)  # type: ignore[union-attr]
        if fi.is_list:
            return f"list[{base}]"
        return f"{base} | None" if fi.optional else base

    def emit_class(self, g: Grammar) -> None:
        ct = g.ct
        xsd = f"complexType {ct.name}" if ct.name else "anonymous complexType"
        doc = f"XSD {xsd}."
        if not g.ordered:
            doc += " Element order is fixed to schema order (documents interleaving repeated elements are refused)."
        if any(p.kind == "ANY" for p in g.positions) or ct.mixed:
            doc += " Wildcard and mixed text content are not decoded."
        if self.native:
            self.emit_native_class(g, doc)
            return
        self.out += ["", "", "@dataclass(slots=True, kw_only=True)", f"class {ct.pyname}:", f'    """{doc}"""', ""]
        self.out.append(f'    SCHEMA: ClassVar[str] = "{self.m.name}"')
        for fi in g.fields:
            t = self.field_type(fi)
            if fi.is_list:
                self.out.append(f"    {fi.pyname}: {t} = field(default_factory=list)")
            elif fi.optional:
                self.out.append(f"    {fi.pyname}: {t} = None")
            else:
                self.out.append(f"    {fi.pyname}: {t}")
        if ct.name == "PhysicalValueType":
            self.emit_physical(g)
        if ct.pyname in KEYWORD_BUILDERS:
            name = builder_name(ct.pyname)
            self.out += ["", "", f"{name} = {ct.pyname}  # the builder (KEYWORD_BUILDERS) is the class"]

    def emit_native_class(self, g: Grammar, doc: str) -> None:
        """The record as a plain class: fields, a keyword-only ``__init__``, ``__eq__`` and ``__repr__``
        (what the dataclass gives the pure module)."""
        c = g.ct.pyname
        self.out += ["", "", f"class {c}:", f'    """{doc}"""', "", f'    SCHEMA: ClassVar[str] = "{self.m.name}"']
        self.out += [f"    {fi.pyname}: {self.field_type(fi)}" for fi in g.fields]
        params = []
        for fi in g.fields:
            t = self.field_type(fi)
            params.append(f"{fi.pyname}: {t} | None = None" if fi.is_list
                          else f"{fi.pyname}: {t}" + (" = None" if fi.optional else ""))
        self.out += ["", f"    def __init__(self{', *, ' + ', '.join(params) if params else ''}) -> None:"]
        for fi in g.fields:
            val = f"[] if {fi.pyname} is None else {fi.pyname}" if fi.is_list else fi.pyname
            self.out.append(f"        self.{fi.pyname} = {val}")
        if not g.fields:
            self.out.append("        pass")
        mine = ", ".join(f"self.{fi.pyname}" for fi in g.fields)
        theirs = ", ".join(f"other.{fi.pyname}" for fi in g.fields)
        same = f" and ({mine},) == ({theirs},)" if g.fields else ""
        shown = ", ".join(f"{fi.pyname}={{self.{fi.pyname}!r}}" for fi in g.fields)
        self.out += ["", "    def __eq__(self, other: Any) -> bool:  # Any: a field may be named object",
                     f"        return isinstance(other, {c}){same}", "",
                     "    def __repr__(self) -> str:", f'        return f"{c}({shown})"']
        if g.ct.name == "PhysicalValueType":
            self.emit_physical(g)
        if c in KEYWORD_BUILDERS:
            self.out += ["", "", f"def {builder_name(c)}(*, {', '.join(params)}) -> {c}:",
                         f'    """{c} built by a compiled function: a keyword call of one from generic code is',
                         '    cheaper than one of the class (tools/gen_exi.py, KEYWORD_BUILDERS)."""',
                         f"    return {c}({', '.join(f'{fi.pyname}={fi.pyname}' for fi in g.fields)})"]

    def emit_physical(self, g: Grammar) -> None:
        mult = next(f for f in g.fields if f.pyname == "multiplier").stype
        val = next(f for f in g.fields if f.pyname == "value").stype
        unit = next(f for f in g.fields if f.pyname == "unit")
        assert mult and val and unit.stype
        ut = py_type(unit.stype) + (" | None" if unit.optional else "")
        self.out += [
            "",
            "    @property",
            "    def value_float(self) -> float:",
            '        """Value × 10^Multiplier."""',
            "        return float(self.value * 10.0**self.multiplier)",
            "",
            "    @classmethod",
            f"    def of(cls, x: float, unit: {ut}) -> {g.ct.pyname}:",
            '        """The PhysicalValue for ``x`` (see ``pick_multiplier`` for the choice of multiplier)."""',
            f"        value, multiplier = pick_multiplier(x, {mult.vmin}, {mult.vmax}, {val.vmin}, {val.vmax})",
            "        return cls(multiplier=multiplier, unit=unit, value=value)",
            "",
            "",
            f"def physical_value(multiplier: int, unit: {ut}, value: int) -> {g.ct.pyname}:",
            '    """A PhysicalValue from positional arguments, as the adapter\'s codec builds up to twelve per',
            "    CurrentDemand exchange: compiled, a keyword call of the class from generic code costs",
            "    ≈ 0.3 µs (CPython builds a dict of the keywords), a positional call of this function a",
            '    fraction of that."""',
            f"    return {g.ct.pyname}(multiplier=multiplier, unit=unit, value=value)",
        ]

    def emit_codec(self, g: Grammar) -> None:
        c = g.ct.pyname
        tables = []
        for s in range(len(g.prods)):
            w = g.width(s)
            tgt = [t if k not in ("ANY", "CHM") else -4 for k, t in g.prods[s]]
            tgt.append(-2)
            tgt += [-3] * ((1 << w) - len(tgt))
            tables.append(f"({', '.join(map(str, tgt))},)")
        # annotated as variable-length tuples: a literal's exact tuple type would make mypyc index it
        # with a switch over every element (the twin's _d_Body was 15 000 lines of C)
        self.consts.append(f"_W_{c}: tuple[int, ...] = ({', '.join(str(g.width(s)) for s in range(len(g.prods)))},)")
        self.consts.append(f"_T_{c}: tuple[tuple[int, ...], ...] = ({', '.join(tables)},)")
        self.emit_encoder(g)
        self.emit_decoder(g)

    # ---- encoder ----
    def transitions(self, g: Grammar, fi: FieldInfo, states: set[int]) -> dict[int, tuple[int, int, int]]:
        """state -> (width, code, target) of the field's first member from each of ``states``."""
        trans: dict[int, tuple[int, int, int]] = {}
        for s in sorted(states):
            for _, t in g.prods[s]:
                if t > 0 and g.positions[t - 1] in fi.positions and g.positions[t - 1].member == 0:
                    code = g.code(s, t)
                    assert code is not None
                    trans[s] = (g.width(s), code, t)
        return trans

    def enc_occurrence(self, g: Grammar, fi: FieldInfo, x: str, ind: str, states: set[int] | None) -> list[tuple]:
        """One occurrence of ``fi`` with value ``x``; ``states``: the static state set (None: any, by table)."""
        c = g.ct.pyname
        label = f"{c}.{fi.pyname}"
        sub = len(fi.members) > 1
        ops: list[tuple] = []
        if sub:
            ops += [(ind, "L", f"m_ = _SE_{c}_{fi.pyname}.get(type({x}))"), (ind, "L", "if m_ is None:"),
                    (ind, "L", f'    raise ExiEncodeError("{label}: not a member of the substitution group")')]
        plus = (" + m_" if self.native else " + m_[0]") if sub else ""
        trans = self.transitions(g, fi, set(range(len(g.prods))) if states is None else states)
        if not trans:
            raise SystemExit(f"{label}: unreachable")
        if states is not None and len(states) == 1 and len(trans) == 1:
            w, code, t = next(iter(trans.values()))
            ops.append((ind, "W", w, f"({code}{plus})" if sub else (str(code) if code else None)))
            ops.append((ind, "S", f"st = {t}{plus}", "st"))
        elif states is not None and len(trans) == len(states) and len(trans) <= 3:
            first = True
            for s_, (w, code, t) in trans.items():
                cw = f"({code}{plus})" if sub else (str(code) if code else None)
                ops.append((ind, "L", f"{'if' if first else 'elif'} st == {s_}:"))
                ops += [(ind + "    ", "W", w, cw), (ind + "    ", "S", f"st = {t}{plus}", "st")]
                first = False
            ops += [(ind, "L", "else:"),
                    (ind, "L", f'    raise ExiEncodeError("{label}: not allowed here (missing or misplaced field)")')]
            self.uses_st = True
        else:
            name = f"_X_{c}_{fi.pyname}"
            if name not in self.declared:
                self.declared.add(name)
                self.consts.append(f"{name}: dict[int, tuple[int, int, int]] = "
                                   f"{{{', '.join(f'{s}: {v}' for s, v in trans.items())}}}")
            self.uses_st = True
            ops += [(ind, "L", f"tr = {name}.get(st)"), (ind, "L", "if tr is None:"),
                    (ind, "L", f'    raise ExiEncodeError("{label}: not allowed here (missing, misplaced, too many)")'),
                    (ind, "L", f"a.put(tr[0], tr[1]{plus})" if self.native else f"a = (a << tr[0]) | (tr[1]{plus})"),
                    (ind, "L", f"st = tr[2]{plus}")]
        if sub:
            ops.append((ind, "L", f"a = _se_{c}_{fi.pyname}(m_, {x}, a)" if self.native else f"a = m_[1]({x}, a)"))
        elif fi.ctype is not None:
            ops.append((ind, "L", f"a = _e_{fi.ctype.pyname}({x}, a)"))
        else:
            assert fi.stype is not None
            if fi.tag == "e":
                ops.append((ind, "W", 1, None))  # CH
            ops += self.enc_value(fi.stype, x, label, ind)
            if fi.tag == "e":
                ops.append((ind, "W", 1, None))  # EE
        return ops

    def next_states(self, g: Grammar, fi: FieldInfo, states: set[int]) -> set[int]:
        return {t for s in states for _, t in g.prods[s] if t > 0 and g.positions[t - 1] in fi.positions}

    def emit_encoder(self, g: Grammar) -> None:
        c = g.ct.pyname
        self.uses_st = False
        ind = "        "
        ops: list[tuple] = []
        states = {0}
        for fi in g.fields:
            x = f"o.{fi.pyname}"
            if self.native and len(fi.members) > 1 and not fi.is_list:
                # a substitution group's field read once, as ``object``: after ``if o.f is not None``
                # mypyc casts every further read of ``o.f`` to the narrowed union, one type check per
                # member until the value's (≈ 9 % of encoding a DIN or ISO-2 message with its Body)
                ops.append((ind, "L", f"s_{fi.pyname}: object = {x}"))
                x = f"s_{fi.pyname}"
            if fi.is_list:
                ops.append((ind, "L", f"for i_{fi.pyname} in {x}:"))
                ops += self.enc_occurrence(g, fi, f"i_{fi.pyname}", ind + "    ", None)
                closure, frontier = set(states), set(states)
                while frontier:
                    frontier = self.next_states(g, fi, frontier) - closure
                    closure |= frontier
                states = closure
            elif fi.optional:
                ops.append((ind, "L", f"if {x} is not None:"))
                ops += self.enc_occurrence(g, fi, x, ind + "    ", states)
                states = states | self.next_states(g, fi, states)
            else:
                ops.append((ind, "C", [f"if {x} is None:",
                                       f'    raise ExiEncodeError("{c}.{fi.pyname}: required field is None")']))
                ops += self.enc_occurrence(g, fi, x, ind, states)
                states = self.next_states(g, fi, states)
        ee = {s: (g.width(s), g.code(s, -1)) for s in sorted(states) if g.code(s, -1) is not None}
        if len(states) == 1 and len(ee) == 1:
            w, code = next(iter(ee.values()))
            ops += [(ind, "W", w, str(code) if code else None), (ind, "L", "return a")]
        else:
            name = f"_EE_{c}"
            table = ", ".join(f"{s}: {v}" for s, v in ee.items())
            self.consts.append(f"{name}: dict[int, tuple[int, int]] = {{{table}}}")
            self.uses_st = True
            ops += [(ind, "L", f"te = {name}.get(st)"), (ind, "L", "if te is None:"),
                    (ind, "L", f'    raise ExiEncodeError("{c}: a required field is missing")'),
                    *([(ind, "L", "a.put(te[0], te[1])"), (ind, "L", "return a")] if self.native
                      else [(ind, "L", "return (a << te[0]) | te[1]")])]
        if not self.uses_st:
            ops = [op for op in ops if not (op[1] == "S" and len(op) > 3)]
        elif len(g.prods) > 1:
            ops.insert(0, (ind, "L", "st = 0"))
        for fi in g.fields:
            if len(fi.members) > 1 and self.native:
                self.emit_native_dispatch(g, fi)
            elif len(fi.members) > 1:
                self.consts.append(f"_SE_{c}_{fi.pyname}: dict[type, tuple[int, Callable[[Any, int], int]]] = "
                                   f"{self.sub_encoders(fi)}")
        self.out += ["", "", f"def _e_{c}(o: {c}, a: {self.acc}) -> {self.acc}:", "    try:", *self.assemble_enc(ops),
                     "    except (TypeError, AttributeError, ValueError, OverflowError) as x_:",
                     f'        raise ExiEncodeError(f"{c}: {{x_}}") from None']

    def emit_native_dispatch(self, g: Grammar, fi: FieldInfo) -> None:
        """A substitution group in the twin: the member's index by its class (a table), and one
        function each way that calls the member's codec by an if-chain.  The pure module keeps the
        codecs in its tables; compiled, a call through a table is a Python-level call (arguments
        checked and boxed), a direct call is a C call."""
        c, f = g.ct.pyname, fi.pyname
        members = [m.type.pyname for m in fi.members]  # type: ignore[union-attr]
        table = ", ".join(f"{m}: {i}" for i, m in enumerate(members))
        self.consts.append(f"_SE_{c}_{f}: dict[type, int] = {{{table}}}")
        self.out += ["", "", f"def _se_{c}_{f}(i: int, o: Any, a: Writer) -> Writer:"]
        self.out += [f"    if i == {i}:\n        return _e_{m}(o, a)" for i, m in enumerate(members[:-1])]
        self.out += [f"    return _e_{members[-1]}(o, a)"]
        positions = [(p.idx, p.elem.type.pyname) for p in fi.positions]  # type: ignore[union-attr]
        self.out += ["", "", f"def _sd_{c}_{f}(t: int, v: bytes, p: int, e: int) -> tuple[Any, int]:"]
        self.out += [f"    if t == {t}:\n        return _d_{m}(v, p, e)" for t, m in positions[:-1]]
        self.out += [f"    return _d_{positions[-1][1]}(v, p, e)"]

    def sub_encoders(self, fi: FieldInfo) -> str:
        return "{" + ", ".join(f"{m.type.pyname}: ({i}, _e_{m.type.pyname})"  # type: ignore[union-attr]
                               for i, m in enumerate(fi.members)) + "}"

    def sub_decoders(self, fi: FieldInfo) -> str:
        return "{" + ", ".join(f"{p.idx}: _d_{p.elem.type.pyname}"  # type: ignore[union-attr]
                               for p in fi.positions) + "}"

    # ---- decoder ----
    def dec_read(self, g: Grammar, s: int | None, ind: str, ch_states: set[int]) -> tuple[list[tuple], int | None]:
        """Read the event code of state ``s`` (None: the state in ``st``); returns ops and the static target."""
        c = g.ct.pyname
        if s is None:
            return [(ind, "L", f"w = _W_{c}[st]"), (ind, "L", f"t = _T_{c}[st][{self.rd('w')}]"),
                    (ind, "L", "p += w")], None
        prods = g.prods[s]
        if len(prods) == 1:
            k, t = prods[0]
            t = -4 if k in ("ANY", "CHM") else t
            if s in ch_states:
                return [(ind, "F", 1, f"t = -2 if {{r}} else {t}")], None
            return [(ind, "Z", 1)], t
        name = f"_T_{c}_{s}"
        if name not in self.declared:
            self.declared.add(name)
            self.consts.append(f"{name}: tuple[int, ...] = _T_{c}[{s}]")
        return [(ind, "F", g.width(s), f"t = {name}[{{r}}]")], None

    def dec_item(self, g: Grammar, fi: FieldInfo, x: str, ind: str, pos: int | None) -> list[tuple]:
        c = g.ct.pyname
        label = f"{c}.{fi.xml}"
        if len(fi.members) > 1:
            if pos is not None:
                return [(ind, "L", f"{x}, p = _d_{g.positions[pos - 1].elem.type.pyname}(v, p, e)")]  # type: ignore
            if self.native:
                return [(ind, "L", f"{x}, p = _sd_{c}_{fi.pyname}(t, v, p, e)")]
            return [(ind, "L", f"{x}, p = _SD_{c}_{fi.pyname}[t](v, p, e)")]
        if fi.ctype is not None:
            return [(ind, "L", f"{x}, p = _d_{fi.ctype.pyname}(v, p, e)")]
        assert fi.stype is not None
        st = finalize_simple(fi.stype)
        if fi.tag != "e":
            return self.dec_value(st, x, label, ind)
        if st.kind in ("str", "bin"):
            # CH in state {CH}; a 1 there is EXIficient's second-level EE for an empty value (exi.md §8)
            empty = '""' if st.kind == "str" else 'b""'
            i2 = ind + "    "
            return [(ind, "L", f"if {self.rd(1)}:"), (i2, "L", f"if {self.rd(4, 7)}:"),
                    (i2, "L", f'    raise ExiDecodeError("unsupported second-level event", p, "{label}")'),
                    (i2, "L", "p += 4"), (i2, "L", f"{x} = {empty}"), (ind, "L", "else:"), (i2, "L", "p += 1"),
                    *self.dec_value(st, x, label, i2), (i2, "Z", 1)]
        return [(ind, "Z", 1), *self.dec_value(st, x, label, ind), (ind, "Z", 1)]

    def emit_decoder(self, g: Grammar) -> None:
        c = g.ct.pyname
        ind = "        "
        ch_states = {s for s in range(len(g.prods)) if any(k == "CH" for k, _ in g.prods[s])}
        ops, cur = self.dec_read(g, 0, ind, ch_states)
        for fi in g.fields:
            x = f"f_{fi.pyname}"
            own = [p.idx for p in fi.positions]
            single = len(own) == 1
            if not single:
                self.consts.append(f"_P_{c}_{fi.pyname} = frozenset(({', '.join(map(str, own))},))")
            if len(fi.members) > 1 and not self.native:  # the twin calls _sd_* (emit_native_dispatch)
                self.consts.append(f"_SD_{c}_{fi.pyname}: dict[int, Callable[[int, int, int], tuple[Any, int]]] = "
                                   f"{self.sub_decoders(fi)}")
            cond = f"t == {own[0]}" if single else f"t in _P_{c}_{fi.pyname}"
            if cur is not None and not fi.is_list:
                if cur in own:  # statically present
                    ops += self.dec_item(g, fi, x, ind, cur)
                    more, cur = self.dec_read(g, cur, ind, ch_states)
                    ops += more
                elif fi.optional:
                    ops.append((ind, "S", f"{x} = None"))
                else:
                    ops.append((ind, "L", f'_unexpected({cur}, p, "{c}", "{fi.xml}")'))
                continue
            if cur is not None:
                ops.append((ind, "S", f"t = {cur}"))
                cur = None
            i2 = ind + "    "
            set_st = [] if single else [(i2, "S", "st = t")]
            if fi.tag == "t" and ch_states and finalize_simple(fi.stype).kind in ("str", "bin"):  # type: ignore
                empty = '""' if finalize_simple(fi.stype).kind == "str" else 'b""'  # type: ignore[arg-type]
                more, nxt = self.dec_read(g, own[0], i2, ch_states)
                ops += [(ind, "L", "if t == -2:"), (i2, "Z", 3), (i2, "S", f"{x} = {empty}"), (ind, "L", "else:"),
                        (i2, "L", f"if not ({cond}):"),
                        (i2, "L", f'    _unexpected(t, p, "{c}", "{fi.xml}")'),
                        *self.dec_item(g, fi, x, i2, own[0]), *more]
                if nxt is None:
                    ops += [(i2, "L", "if t != -1:"), (i2, "L", f'    _unexpected(t, p, "{c}", "end of element")')]
                elif nxt != -1:
                    ops.append((i2, "L", f'_unexpected({nxt}, p, "{c}", "end of element")'))
                cur = -1
                continue
            more, nxt = self.dec_read(g, own[0] if single else None, i2, ch_states)
            if nxt is not None:
                more.append((i2, "S", f"t = {nxt}"))
            if fi.is_list:
                # trim the consumed bits now and then: a read costs O(bits before it), so a long list
                # would otherwise make decoding quadratic in the input size (a native read costs
                # O(1) and needs no trimming)
                trim = [] if self.native else [(ind, "S", "b_ = p + 4096")]
                trim_loop = [] if self.native else [(i2, "L", "if p > b_:"), (i2, "L", "    v &= (1 << (e - p)) - 1"),
                                                    (i2, "L", "    b_ = p + 4096")]
                ops += [(ind, "S", f"{x}: {self.field_type(fi)} = []"), *trim,
                        (ind, "L", f"while {cond}:"), *trim_loop, *set_st,
                        *self.dec_item(g, fi, "y", i2, own[0] if single else None),
                        (i2, "L", f"{x}.append(y)"), *more]
            elif fi.optional:
                ops += [(ind, "L", f"if {cond}:"), *set_st,
                        *self.dec_item(g, fi, x, i2, own[0] if single else None), *more,
                        (ind, "L", "else:"), (i2, "S", f"{x} = None")]
            else:
                ops += [(ind, "L", f"if not ({cond}):"), (ind, "L", f'    _unexpected(t, p, "{c}", "{fi.xml}")'),
                        *[(ind, *op[1:]) for op in set_st],
                        *self.dec_item(g, fi, x, ind, own[0] if single else None)]
                more, cur = self.dec_read(g, own[0] if single else None, ind, ch_states)
                ops += more
        if cur is None:
            ops += [(ind, "L", "if t != -1:"), (ind, "L", f'    _unexpected(t, p, "{c}", "end of element")')]
        elif cur != -1:
            ops.append((ind, "L", f'_unexpected({cur}, p, "{c}", "end of element")'))
        args = ", ".join(f"{fi.pyname}=f_{fi.pyname}" for fi in g.fields)
        ops.append((ind, "L", f"return {c}({args}), p"))
        self.out += ["", "", f"def _d_{c}(v: {self.src}, p: int, e: int) -> tuple[{c}, int]:"]
        if any(fi.is_list for fi in g.fields):
            self.out += ["    y: Any"]
        self.out += ["    try:", *self.assemble_dec(ops, c), "    except (ValueError, OverflowError) as x_:",
                     f'        raise ExiDecodeError(f"truncated or invalid stream ({{x_}})", p, "{c}") from None']

    # ---- types imported from the provider module ----
    def type_code(self, g: Grammar) -> tuple[list[str], list[str]]:
        """The class, the codec and the constants of one type as this module writes them (on a
        fresh emitter: every name the emitter declares carries the type's name, so a type's code
        does not depend on what else the module holds)."""
        self.emit_class(g)
        self.emit_codec(g)
        schema = f'    SCHEMA: ClassVar[str] = "{self.m.name}"'
        return [ln for ln in self.out if ln != schema], self.consts

    def shared_types(self) -> dict[str, Grammar]:
        """The types this module imports from its provider module (``PROVIDERS``), by class name.

        Only what is truly identical is shared. A type's grammar depends on its own content model
        and on the members of the substitution groups of the elements it refers to, which the
        other files of a schema could extend; the DIN and ISO-2 files do not, so the xmldsig
        types should come out the same there as in xmldsig.py. Rather than assume it, their code
        is generated in both contexts and compared (the class attribute SCHEMA aside, which
        names the module of the class).
        A type is shared when it matches, every enumeration it uses is shared
        (:meth:`shared_enums`) and every type it refers to is shared as well.
        What depends on the whole schema set is never shared: the document grammar (the number
        of global elements sets the event-code width) and the fragment grammar (all element
        declarations of the schema, sorted) are written per schema, with their own codes for the
        imported types.
        """
        prov = self.m.provider
        if prov is None:
            return {}
        enums = self.shared_enums()
        theirs = {g.ct.pyname: g for g in prov.grammars.values()}
        shared: dict[str, Grammar] = {}
        for g in self.m.grammars.values():
            other = theirs.get(g.ct.pyname)
            if other is None or any(fi.stype is not None and finalize_simple(fi.stype).kind == "enum"
                                    and fi.stype.pyname not in enums for fi in g.fields):
                continue
            if Emitter(self.m).type_code(g) == Emitter(prov).type_code(other):
                shared[g.ct.pyname] = g
        changed = True
        while changed:  # drop types referring to a type that is not shared
            changed = False
            for name, g in list(shared.items()):
                refs = {m.type.pyname for fi in g.fields for m in fi.members if isinstance(m.type, Complex)}
                if not refs <= shared.keys():
                    del shared[name]
                    changed = True
        return shared

    def shared_enums(self) -> dict[str, Simple]:
        """The enumerations this module imports from its provider: same class name, same XSD type
        name and the same literals in the same order (so the same member codes)."""
        prov = self.m.provider
        if prov is None:
            return {}
        theirs = {st.pyname: st for st in prov.enums}
        return {st.pyname: st for st in self.m.enums
                if st.pyname in theirs and (theirs[st.pyname].name, theirs[st.pyname].enums) == (st.name, st.enums)}

    def origin(self, name: str) -> Model:
        """The module that defines the shared class ``name`` (the provider, or the provider's own
        provider where the provider imports it too), so imports name where a class is defined."""
        prov = self.m.provider
        assert prov is not None
        upstream = Emitter(prov)
        if name in upstream.shared_types() or name in upstream.shared_enums():
            return upstream.origin(name)
        return prov

    def imports(self, shared: dict[str, Grammar], enums: dict[str, Simple]) -> str:
        if not shared and not enums:
            return ""
        groups: dict[str, tuple[list[str], list[str]]] = {}  # origin: (classes, codec functions)
        for c in [*enums, *shared]:
            classes, codecs = groups.setdefault(self.origin(c).name, ([], []))
            classes.append(f"    {c} as {c},")
            codecs.extend(f"    _{k}_{c}," for k in ("de" if c in shared else ""))
        blocks = [f"from .{module_name(origin)} import (\n" + "\n".join(classes + codecs) + "\n)"
                  for origin, (classes, codecs) in groups.items()]
        assert self.m.provider is not None
        provider = module_name(self.m.provider.name)
        return IMPORTS.format(provider=provider, blocks="\n".join(blocks))

    # ---- module ----
    def emit(self) -> str:
        m = self.m
        _, desc = SCHEMAS[m.name]
        #: a schema with a twin keeps its enumerations and tables in ``{module}_data.py`` (emit_data),
        #: which both its modules import
        split = m.name in NATIVE
        if self.native:
            shared = Emitter(m).shared_types()
            enums = {st.pyname: st for st in m.enums}
            self.out = [NATIVE_HEADER.format(desc=desc, name=m.name, module=module_name(m.name),
                                             names=reexport(list(enums)),
                                             shared=self.native_imports(shared)).rstrip("\n")]
        else:
            shared = self.shared_types()
            enums = {st.pyname: st for st in m.enums} if split else self.shared_enums()
            imports = self.imports(shared, {} if split else enums) + (DATA_MARK if split else "")
            self.out = [HEADER.format(desc=desc, name=m.name, imports=imports).rstrip("\n")]
        for st in m.enums:
            self.emit_enum(st, st.pyname in enums)
        for g in m.grammars.values():
            if g.ct.pyname not in shared:
                self.emit_class(g)
        self.out += ["", "", "def _unexpected(t: int, p: int, where: str, expected: str) -> NoReturn:",
                     '    what = {-1: "end of element", -2: "second-level event (not supported)", '
                     '-3: "invalid event code", -4: "wildcard or mixed content (not supported)"}.get(t, "element")',
                     '    raise ExiDecodeError(f"unexpected {what} where {expected} was expected", p, where)']
        for g in m.grammars.values():
            if g.ct.pyname not in shared:
                self.emit_codec(g)
            elif self.native:
                self.emit_pure_codec(g)
        self.emit_document()
        self.emit_meta(shared)
        if self.native:
            return "\n".join(self.out) + "\n\n" + self.native_consts() + "\n"
        consts = self.consts
        text = "\n".join(self.out)
        if split:
            self.data_consts = [c for c in consts if self.is_data(c)]
            consts = [c for c in consts if not self.is_data(c)]
            names = [st.pyname for st in m.enums] + [self.const_name(c) for c in self.data_consts] + ["ENUM_VALUES"]
            text = text.replace(DATA_MARK, f"\nfrom .{module_name(m.name)}_data import (\n{reexport(names)})\n")
        return text + "\n\n" + "\n".join(consts) + "\n"

    def native_imports(self, shared: dict[str, Grammar]) -> str:
        """The twin's imports of the types the pure module takes from its provider: the classes from
        the module that defines them, and that module for their pure codecs (emit_pure_codec)."""
        assert self.m.provider is not None
        groups = {module_name(self.m.provider.name): [], **self.by_origin(shared)}  # its META: native_meta
        return "".join((f"from ..{o} import (\n{reexport(names)})\n" if names else "") + f"from .. import {o} as _{o}\n"
                       for o, names in sorted(groups.items()))

    def by_origin(self, names: Iterable[str]) -> dict[str, list[str]]:
        """Shared class or enum names grouped by the module that defines them (:meth:`origin`)."""
        groups: dict[str, list[str]] = {}
        for name in names:
            groups.setdefault(module_name(self.origin(name).name), []).append(name)
        return groups

    @staticmethod
    def const_name(const: str) -> str:
        return re.split(r"(?= = |: )", const, maxsplit=1)[0]

    def is_data(self, const: str) -> bool:
        return self.DATA_CONSTS.fullmatch(self.const_name(const)) is not None

    def emit_data(self) -> str:
        """``exi/{module}_data.py`` of a schema with a twin (after :meth:`emit` of the pure module):
        the enumerations, the data-only constants, ``ENUM_VALUES``, and the JSON tables by class
        name (``META_NAMES``, ``FRAGMENT_NAMES``) from which the twin builds its ``META`` and
        ``FRAGMENT_TYPES`` with its own classes."""
        m = self.m
        _, desc = SCHEMAS[m.name]
        assert self.data_consts, "emit() the pure module first: it sorts out the data constants"
        shared_enums = self.shared_enums()
        out = [DATA_HEADER.format(desc=desc, module=module_name(m.name)).rstrip("\n")]
        out += [f"from .{o} import (\n{reexport(names)})" for o, names in sorted(self.by_origin(shared_enums).items())]
        for st in m.enums:
            if st.pyname not in shared_enums:
                out += enum_class(st)
        out += ["", "", *self.data_consts, "", "", *self.enum_values()]
        shared = self.shared_types()
        out += ["", "", "# META of the pure module by class name (None: the provider's entry), for the twin",
                "META_NAMES: dict[str, tuple[tuple[str, str, int, str, Any], ...] | None] = {"]
        for g in m.grammars.values():
            if g.ct.pyname in shared:
                out.append(f"    {g.ct.pyname!r}: None,")
                continue
            # a class (or {element: class}) by its name in quotes, a builtin or an enum as itself
            items = [f"({py!r}, {xml!r}, {card}, {tag!r}, {repr(typ) if cls or isinstance(typ, dict) else typ})"
                     for py, xml, card, tag, typ, cls in self.meta_fields(g)]
            out.append(f"    {g.ct.pyname!r}: ({', '.join(items)}{',' if len(items) == 1 else ''}),")
        out.append("}")
        frag = ", ".join(f"{i}: ({nm!r}, {cls!r})" for i, nm, cls in self.fragment_types())
        out += ["", "", "# FRAGMENT_TYPES of the pure module by class name, for the twin",
                f"FRAGMENT_NAMES: dict[int, tuple[str, str]] = {{{frag}}}"]
        return "\n".join(out) + "\n"

    #: the constants that are data only (event-code tables, transitions, enum code tables): the twin
    #: takes them from the data module, which the pure module uses too, instead of building them again
    #: in its compiled module init (where they would be most of the C code, and none of the speed)
    DATA_CONSTS = re.compile(r"(_W_|_T_|_X_|_EE_|_P_|_EN_)\w*")

    def native_consts(self) -> str:
        """The twin's constants, each ``Final``: mypyc keeps a final module attribute in a C
        variable, where a plain one is looked up in the module's dict at every use."""
        out = []
        for const in self.consts:
            name, rest = re.split(r"(?= = |: )", const, maxsplit=1)
            if self.DATA_CONSTS.fullmatch(name):
                out.append(f"{name}: Final = _data.{name}")
            elif rest.startswith(": "):
                typ, value = rest[2:].split(" = ", 1)
                out.append(f"{name}: Final[{typ}] = {value}")
            else:
                out.append(f"{name}: Final{rest}")
        return "\n".join(out)

    def native_meta(self) -> None:
        """The twin's tables for JSON: the data module's, with the twin's classes for the names.
        Built at import rather than written out: mypyc turns one large literal into a module
        init whose error paths grow with the square of its size."""
        assert self.m.provider is not None
        provider = module_name(self.m.provider.name)
        self.out += ["", "", "ENUM_VALUES: dict[type, tuple[str, ...]] = _data.ENUM_VALUES",
                     "META: dict[type, tuple[tuple[str, str, int, str, Any], ...]] = "
                     f"named_meta(_data.META_NAMES, globals(), _{provider}.META)"]

    def emit_pure_codec(self, g: Grammar) -> None:
        """A type the pure module imports from its provider (the xmldsig signature types): the twin
        calls the pure codec for it, converting the input and output.  These types occur in no DC
        session message but a signed header's, so they need not be fast, and compiled they would be
        a large part of the twin's C code (their content models have many states)."""
        c = g.ct.pyname
        origin = "_" + module_name(self.origin(c).name)  # the module that defines it
        self.out += ["", "", f"def _d_{c}(v: bytes, p: int, e: int) -> tuple[{c}, int]:",
                     f'    return {origin}._d_{c}(int.from_bytes(v, "big"), p, e)', "", "",
                     f"def _e_{c}(o: {c}, a: Writer) -> Writer:",
                     f"    x = {origin}._e_{c}(o, 1)  # the pure encoders' accumulator starts with a sentinel 1 bit",
                     "    n = x.bit_length() - 1", "    a.bits(n, x ^ (1 << n))", "    return a"]

    def emit_document(self) -> None:
        m = self.m
        n = len(m.globals_sorted)
        w = n.bit_length()  # n globals + SE(*): ceil(log2(n + 1))
        frag_n = len(m.fragment_sorted) + 2  # + SE(*) + ED
        self.out += ["", "", f"DOCUMENT_CODE_BITS = {w}",
                     f"DOCUMENT_GLOBALS = ({', '.join(repr(e.name) for e in m.globals_sorted)},)",
                     f"FRAGMENT_CODE_BITS = {(frag_n - 1).bit_length()}",
                     f"FRAGMENT_ELEMENTS = ({', '.join(repr(nm) for nm, _ in m.fragment_sorted)},)"]
        roots = []
        for el in m.roots:
            assert isinstance(el.type, Complex)
            code = m.globals_sorted.index(el)
            roots.append((el.name, code, el.type.pyname))
        self.out += ["", "", f"ROOT_ELEMENT: dict[type, str] = {{{', '.join(f'{r[2]}: {r[0]!r}' for r in roots)}}}"]
        if roots:
            self.emit_roots(roots, w)
        self.emit_fragment(frag_n)

    def emit_roots(self, roots: list[tuple[str, int, str]], w: int) -> None:
        union = " | ".join(r[2] for r in roots)
        self.out += ["", "", f"Document = {union}"]
        if any(r[0] == "V2G_Message" for r in roots):
            self.emit_make_message()
        self.out += ["", "", "def decode_document(data: bytes) -> Document:",
                     '    """Decode one EXI document (header byte included) whose root is a message element."""',
                     self.source_line, "    e = len(data) << 3", "    p = 8",
                     "    try:", f"        c = {self.rd(w)}", "    except ValueError:",
                     '        raise ExiDecodeError("stream ends before the root element", p) from None',
                     f"    p += {w}"]
        for _name, code, cls in roots:
            self.out += [f"    if c == {code}:", f"        return _d_{cls}(v, p, e)[0]"]
        self.out += ['    raise ExiDecodeError(f"root element code {c} is not a message of this schema", 8, '
                     '"document")']
        self.out += ["", "", "def encode_document(o: Document) -> bytes:",
                     '    """Encode a message root as an EXI document (header 0x80, no bits for ED, zero padding)."""']
        for _name, code, cls in roots:
            start = f"start({w}, {code})" if self.native else f"((1 << 8) | 0x80) << {w} | {code}"
            self.out += [f"    if type(o) is {cls}:", f"        return finish(_e_{cls}(o, {start}))"]
        self.out += ['    raise ExiEncodeError(f"{type(o).__name__} is not a message root of this schema")']

    def emit_make_message(self) -> None:
        body = next(g for g in self.m.grammars.values() if g.ct.pyname == "Body")
        members = body.fields[0].members
        union = " | ".join(m.type.pyname for m in members)  # type: ignore[union-attr]
        self.out += ["", "", "# every element the Body may hold (the BodyElement substitution group)",
                     f"BodyContent = {union}", "", "",
                     "def make_message(session_id: bytes, body_element: BodyContent | None,",
                     "                 notification: Notification | None = None) -> V2G_Message:",
                     '    """A V2G_Message with this SessionID and body element, e.g.',
                     "    ``make_message(sid, CurrentDemandReq(...))``.\"\"\"",
                     "    return V2G_Message(header=MessageHeader(session_id=session_id, notification=notification),",
                     "                       body=Body(body_element=body_element))", "", "",
                     "def encode_message(session_id: bytes, body_element: BodyContent | None) -> bytes:",
                     '    """``encode_document(make_message(session_id, body_element))``: how the adapter\'s codec',
                     "    encodes every message (compiled, the three records are built by direct calls, not by",
                     '    keyword calls from generic code)."""',
                     "    return encode_document(V2G_Message(header=MessageHeader(session_id=session_id),",
                     "                                       body=Body(body_element=body_element)))"]

    def fragment_types(self) -> list[tuple[int, str, str]]:
        """(code, element name, class) of the fragment grammar's elements of one complex type."""
        m = self.m
        frag = []
        for i, (nm, ns) in enumerate(m.fragment_sorted):
            decls = {id(e.type) for e in m.loader.elems.values() if (e.name, e.ns) == (nm, ns)}
            types = [p.elem.type for g in m.grammars.values() for p in g.positions
                     if p.elem is not None and (p.elem.name, p.elem.ns) == (nm, ns)]
            types += [e.type for e in m.globals_sorted if (e.name, e.ns) == (nm, ns)]
            ids = {id(t) for t in types} | decls
            if len(ids) == 1 and isinstance(types[0], Complex):
                frag.append((i, nm, types[0].pyname))
        return frag

    def emit_fragment(self, frag_n: int) -> None:
        """Fragment grammar (EXI section 8.5.2): every element declaration, sorted; elements of complex type."""
        frag = self.fragment_types()
        fb = (frag_n - 1).bit_length()
        types_ = ", ".join(f"{i}: ({nm!r}, {cls})" for i, nm, cls in frag)
        decs = ", ".join(f"{i}: _d_{cls}" for i, _, cls in frag)
        encs = ", ".join(f"{cls}: ({i}, _e_{cls})" for i, _, cls in frag)
        if self.native:  # the data module's table with the twin's classes (see native_meta)
            self.out += ["", "", "FRAGMENT_TYPES: dict[int, tuple[str, type]] = "
                         "{i: (nm, globals()[cls]) for i, (nm, cls) in _data.FRAGMENT_NAMES.items()}",
                         "_FRAGMENT_DEC: dict[int, Callable[[bytes, int, int], tuple[Any, int]]] = "
                         '{i: globals()[f"_d_{cls.__name__}"] for i, (_, cls) in FRAGMENT_TYPES.items()}',
                         "_FRAGMENT_ENC: dict[type, tuple[int, Callable[[Any, Writer], Writer]]] = "
                         '{cls: (i, globals()[f"_e_{cls.__name__}"]) for i, (_, cls) in FRAGMENT_TYPES.items()}']
        else:
            self.out += ["", "", f"FRAGMENT_TYPES: dict[int, tuple[str, type]] = {{{types_}}}",
                         f"_FRAGMENT_DEC: dict[int, Callable[[int, int, int], tuple[Any, int]]] = {{{decs}}}",
                         f"_FRAGMENT_ENC: dict[type, tuple[int, Callable[[Any, int], int]]] = {{{encs}}}"]
        self.out += ["", "", "def decode_fragment(data: bytes) -> list[tuple[str, Any]]:",
                     '    """Decode an EXI fragment (EXI section 8.5.2, signed parts)'
                     ' into (element name, value) pairs."""',
                     self.source_line, "    e = len(data) << 3", "    p = 8",
                     "    out: list[tuple[str, Any]] = []",
                     "    try:", "        while True:", f"            c = {self.rd(fb)}",
                     f"            p += {fb}", f"            if c == {frag_n - 1}:", "                return out",
                     "            dec = _FRAGMENT_DEC.get(c)", "            if dec is None:",
                     '                raise ExiDecodeError(f"fragment element code {c} not supported", p, "fragment")',
                     "            obj, p = dec(v, p, e)", "            out.append((FRAGMENT_TYPES[c][0], obj))",
                     "    except ValueError:",
                     '        raise ExiDecodeError("truncated fragment", p, "fragment") from None']
        self.out += ["", "", "def encode_fragment(items: list[Any]) -> bytes:",
                     '    """Encode objects as an EXI fragment (each by its type\'s element), then ED."""',
                     "    a = start(0, 0)" if self.native else "    a = (1 << 8) | 0x80",
                     "    for o in items:", "        ent = _FRAGMENT_ENC.get(type(o))",
                     "        if ent is None:",
                     '            raise ExiEncodeError(f"{type(o).__name__} cannot be a fragment element")']
        if self.native:
            self.out += [f"        a.put({fb}, ent[0])", "        a = ent[1](o, a)",
                         f"    a.put({fb}, {frag_n - 1})", "    return finish(a)"]
        else:
            self.out += [f"        a = ent[1](o, (a << {fb}) | ent[0])",
                         f"    return finish((a << {fb}) | {frag_n - 1})"]

    def emit_meta(self, shared: dict[str, Grammar]) -> None:
        """Field metadata for JSON conversion and property tests: (name, xml, card, tag, type);
        an imported type's entry is the provider module's."""
        if self.native:
            self.native_meta()
            return
        if self.m.name not in NATIVE:  # else ENUM_VALUES is the data module's
            self.out += ["", "", *self.enum_values()]
        self.out += ["", "", "# (python name, XML name, 0 required / 1 optional / 2 list, a|e|t,"
                     " type or {element: class})",
                     "META: dict[type, tuple[tuple[str, str, int, str, Any], ...]] = {"]
        for g in self.m.grammars.values():
            if g.ct.pyname in shared:
                assert self.m.provider is not None
                self.out.append(f"    {g.ct.pyname}: _{module_name(self.m.provider.name)}.META[{g.ct.pyname}],")
                continue
            items = []
            for py, xml, card, tag, typ, _ in self.meta_fields(g):
                shown = typ if isinstance(typ, str) else "{" + ", ".join(f"{k!r}: {v}" for k, v in typ.items()) + "}"
                items.append(f"({py!r}, {xml!r}, {card}, {tag!r}, {shown})")
            inner = ", ".join(items)
            self.out.append(f"    {g.ct.pyname}: ({inner}{',' if len(items) == 1 else ''}),")
        self.out.append("}")

    def enum_values(self) -> list[str]:
        return ["# XSD enumeration literals per enum class (JSON uses them; member names are sanitized)",
                "ENUM_VALUES: dict[type, tuple[str, ...]] = {",
                *(f"    {st.pyname}: ({', '.join(repr(x) for x in st.enums)},)," for st in self.m.enums), "}"]

    def meta_fields(self, g: Grammar) -> list[tuple[str, str, int, str, str | dict[str, str], bool]]:
        """(python name, XML name, cardinality, tag, type name or {element: class name}, whether the
        type is a class of this schema) of each field of a type."""
        fields: list[tuple[str, str, int, str, str | dict[str, str], bool]] = []
        for fi in g.fields:
            card = 2 if fi.is_list else (1 if fi.optional else 0)
            typ: str | dict[str, str]
            if len(fi.members) > 1:
                typ = {m.name: m.type.pyname for m in fi.members}  # type: ignore[union-attr]
            elif fi.ctype is not None:
                typ = fi.ctype.pyname
            else:
                assert fi.stype is not None
                typ = py_type(finalize_simple(fi.stype))
            fields.append((fi.pyname, fi.xml, card, fi.tag, typ, fi.ctype is not None))
        return fields


#: records the adapter's codec (``v2g/codec.py``) builds at every CurrentDemand exchange, by keywords
#: from generic code: each gets a builder function named in snake case (``current_demand_req``), with
#: the keyword parameters of the class.  In a twin the builder is compiled, and a keyword call of a
#: compiled function matches its keywords against interned names (≈ 50 ns), where a keyword call of a
#: compiled class goes through ``tp_init``, which makes a string of every parameter name at every
#: call (≈ 250 ns for five, more for a CurrentDemandRes); in a pure module the builder is the class.
KEYWORD_BUILDERS = ("DC_EVStatus", "DC_EVSEStatus", "CurrentDemandReq", "CurrentDemandRes")


def builder_name(pyname: str) -> str:
    """``CurrentDemandReq`` → ``current_demand_req``, ``DC_EVSEStatus`` → ``dc_evse_status``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", pyname).replace("__", "_").lower()


#: the schemas that also get a twin written for compilation (``exi/native/``): the two of a DC
#: charging loop through the adapter's ``v2g/codec.py``; the others stay pure (their compiled C would
#: only lengthen the build; the -20 codec has its own mapping, and its modules are loaded lazily)
NATIVE = ("din", "iso2")


def generate(xsd_dir: Path = DEFAULT_XSD) -> dict[str, str]:
    """Module file name (relative to ``exi/``) → text, for every schema and every native twin."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    models = {name: load_model(name, xsd_dir) for name in SCHEMAS}
    out = {f"{module_name(name)}.py": Emitter(model).emit() for name, model in models.items()}
    for name in NATIVE:  # the twin, and the data module its pure module wrote the constants for
        pure = Emitter(models[name])
        pure.emit()
        out[f"{module_name(name)}_data.py"] = pure.emit_data()
        out[f"native/{module_name(name)}.py"] = Emitter(models[name], native=True).emit()
    return out


def main() -> int:
    sys.setrecursionlimit(20000)  # ISO-2 unrolls maxOccurs 1024 into nested optional copies
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xsd", type=Path, default=DEFAULT_XSD)
    ap.add_argument("--check", action="store_true", help="only compare with the committed files")
    args = ap.parse_args()
    stale = []
    for fname, text in generate(args.xsd).items():
        path = OUT / fname
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(fname)
        else:
            path.write_text(text)
    if stale:
        print("stale generated files:", ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
