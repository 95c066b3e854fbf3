"""Hand-written runtime of the generated EXI codecs written for compilation (``exi/native/``).

The pure modules (``exi/_bits.py``) keep a whole message in one Python int and shift it: the
fastest form for the interpreter, and the slowest for mypyc, where every shift of a number wider
than a machine word allocates a new one.  The native twins read the message as ``bytes`` a few
octets at a time (:func:`rd`) and write into a :class:`Writer` whose pending bits fit a machine
word, so compiled code does small-int arithmetic only.

Same results as the pure runtime, errors included: :func:`rd` raises ``ValueError("negative shift
count")`` exactly where the pure read ``(v >> (e - p - n))`` would, and the variable-length
datatypes below follow ``exi/_bits.py`` step for step (same checks, same offsets, same messages),
so a decoder's error text and bit offset are the pure decoder's.  ``tests/exi/test_native.py``
holds them to that on every capture, vector and truncation.
"""

from __future__ import annotations

import sys
from array import array
from typing import Any, Final

from mypy_extensions import i64

from .._bits import ExiDecodeError

#: the ``array`` type code of 32-bit unsigned items (a C ``unsigned int``: 4 octets on every platform
#: CPython runs on), and whether the host stores them least significant octet first (then
#: :func:`finish` swaps them)
_WORD: Final = "I"
if array(_WORD).itemsize != 4:  # pragma: no cover - no such platform is supported
    raise ImportError("the compiled EXI writer needs 4-octet unsigned ints; build pure (CCS2CHADEMO_PURE=1)")
_SWAP: Final = sys.byteorder == "little"


def rd(v: bytes, p: i64, n: i64) -> int:
    """The ``n`` bits of ``v`` at bit ``p`` (most significant first), as the pure read gives them.

    ``n`` is at most 48 (the generator refuses wider merged reads), so the octets that hold the
    bits, at most 55 bits beyond ``p``'s octet start, fit one machine word (``i64``: compiled, no
    overflow checks and no boxing).
    """
    end = p + n
    if end > i64(len(v)) << 3:
        raise ValueError("negative shift count")  # the pure read's error, word for word
    if n == 0:
        return 0
    i = p >> 3
    last = (end - 1) >> 3
    # the first octet without the bits before p, so no mask is needed at the end (compiled, a
    # literal 1 in `1 << n` is a C int: a mask built so would be wrong from n = 32 on)
    x: i64 = v[i] & (0xFF >> (p & 7))
    if last == i:  # most reads lie in one or two octets
        return int(x >> (((i + 1) << 3) - end))
    if last == i + 1:
        return int(((x << 8) | v[last]) >> (((last + 1) << 3) - end))
    while i < last:
        i += 1
        x = (x << 8) | v[i]
    return int(x >> (((last + 1) << 3) - end))


def dec_uint(v: bytes, p: int, e: int) -> tuple[int, int]:
    """EXI Unsigned Integer (EXI section 7.1.6), as ``exi/_bits.dec_uint``."""
    b = rd(v, p, 8)
    p += 8
    if b < 0x80:
        return b, p
    x = b & 0x7F
    shift = 7
    while shift < 70:
        b = rd(v, p, 8)
        p += 8
        x |= (b & 0x7F) << shift
        if b < 0x80:
            return x, p
        shift += 7
    # a long number: collect the groups and join them once, so the cost stays linear in its length
    groups: list[int] = []
    while True:
        if e - p < 8:
            raise ExiDecodeError("unsigned integer runs past the end", p)
        b = rd(v, p, 8)
        p += 8
        groups.append(b & 0x7F)
        if b < 0x80:
            rest = int("".join(f"{g:07b}" for g in reversed(groups)), 2)
            return x | (rest << shift), p


def dec_int(v: bytes, p: int, e: int) -> tuple[int, int]:
    """EXI Integer (EXI section 7.1.5), as ``exi/_bits.dec_int``."""
    neg = rd(v, p, 1)
    x, p = dec_uint(v, p + 1, e)
    return (-x - 1 if neg else x), p


def _octets(v: bytes, p: int, n: int) -> bytes:
    """``n`` octets starting at bit ``p`` (checked by the caller to lie inside ``v``).  Unaligned,
    six octets per native read, joined in one int and converted once (compiled, that beats both
    a list of octets and a shift of ``int.from_bytes`` of the input)."""
    if p & 7 == 0:
        return v[p >> 3:(p >> 3) + n]
    x = 0
    left = n
    while left > 6:
        x = (x << 48) | rd(v, p, 48)
        p += 48
        left -= 6
    return ((x << (left << 3)) | rd(v, p, left << 3)).to_bytes(n, "big")


def dec_bin(v: bytes, p: int, e: int) -> tuple[bytes, int]:
    """EXI Binary (EXI section 7.1.1), as ``exi/_bits.dec_bin``."""
    n, p = dec_uint(v, p, e)
    bits = n << 3
    if bits > e - p:
        raise ExiDecodeError(f"binary of {n} bytes runs past the end", p)
    if n == 0:
        return b"", p
    return _octets(v, p, n), p + bits


def dec_str(v: bytes, p: int, e: int) -> tuple[str, int]:
    """EXI String (EXI section 7.1.10), as ``exi/_bits.dec_str``: string-table hits refused."""
    start = p
    n, p = dec_uint(v, p, e)
    if n < 2:
        raise ExiDecodeError("string-table hit (not possible with valuePartitionCapacity 0)", start)
    n -= 2
    if n == 0:
        return "", p
    bits = n << 3
    if bits > e - p:
        raise ExiDecodeError(f"string of {n} characters runs past the end", p)
    raw = _octets(v, p, n)
    if raw.isascii():
        return raw.decode("ascii"), p + bits
    chars = []
    for _ in range(n):
        c, p = dec_uint(v, p, e)
        if c > 0x10FFFF:
            raise ExiDecodeError(f"code point {c:#x} beyond U+10FFFF", p)
        chars.append(chr(c))
    return "".join(chars), p


class Writer:
    """The encoder's output: whole 32-bit words in ``words``, fewer than 32 pending bits in ``acc``.

    The pure encoders shift one growing int at every write; here a write touches a machine word
    and appends a word to a list every 32 bits (``list.append`` is a C call in compiled code,
    where ``bytearray.append`` is a method lookup, and one big int shifted per word costs more).
    A word, not an octet, per append: per octet, the append, the boxed octet and ``bytes(list)``'s
    conversion of each item back were ≈ a quarter of a compiled encode; :func:`finish` turns the
    words into octets in C (``array``).
    """

    def __init__(self) -> None:
        self.words: list[int] = []
        self.acc: i64 = 0
        self.n: i64 = 0

    def put(self, n: i64, x: i64) -> None:
        """Append the ``n`` low bits of ``x`` (``0 <= x < 2**n``, ``n`` <= 31; the encoders check
        ranges first, and the generator writes longer runs in parts)."""
        acc = (self.acc << n) | x  # fewer than 32 + 31 bits: a non-negative i64
        k = self.n + n
        if k >= 32:
            k -= 32
            self.words.append(int(acc >> k))
            acc &= (i64(1) << k) - 1
        self.acc = acc
        self.n = k

    def bits(self, n: int, x: int) -> None:
        """Append the ``n`` low bits of ``x`` for any ``n`` (a part the pure encoder wrote)."""
        while n > 24:
            n -= 24
            self.put(24, (x >> n) & 0xFFFFFF)
        self.put(n, x & ((1 << n) - 1))

    def octets(self, data: bytes) -> None:
        """Append whole octets."""
        for b in data:
            self.put(8, b)


def enc_uint(a: Writer, x: int) -> Writer:
    """Append an EXI Unsigned Integer; ``x`` must be >= 0 (checked by the caller)."""
    if x < 0:  # the pure encoder's `(a << 8) | x` raises no error but the range checks come first;
        raise ValueError("negative unsigned integer")  # a defensive stop instead of a corrupt stream
    while x >= 0x80:
        a.put(8, 0x80 | (x & 0x7F))
        x >>= 7
    a.put(8, x)
    return a


def enc_int(a: Writer, x: int) -> Writer:
    """Append an EXI Integer."""
    if x < 0:
        a.put(1, 1)
        return enc_uint(a, -x - 1)
    a.put(1, 0)
    return enc_uint(a, x)


def enc_bin(a: Writer, x: bytes) -> Writer:
    """Append an EXI Binary value."""
    enc_uint(a, len(x))
    a.octets(x)
    return a


def enc_str(a: Writer, x: str) -> Writer:
    """Append an EXI String as a string-table miss (length + 2, then code points)."""
    enc_uint(a, len(x) + 2)
    if x.isascii():
        a.octets(x.encode("ascii"))
        return a
    for ch in x:
        enc_uint(a, ord(ch))
    return a


def finish(a: Writer) -> bytes:
    """Pad to whole octets with zero bits (no bits for ED, exi.md §2)."""
    if a.n & 7:
        a.put(8 - (a.n & 7), 0)
    words = array(_WORD, a.words)
    if _SWAP:
        words.byteswap()  # the words' octets most significant first, as the stream has them
    out = words.tobytes()
    tail = a.n >> 3  # whole octets still in ``acc``
    return out + int(a.acc).to_bytes(tail, "big") if tail else out


def start(width: int, code: int) -> Writer:
    """A document or fragment's first bits: the EXI header octet 0x80, then the root's event code."""
    a = Writer()
    a.put(8, 0x80)
    a.put(width, code)
    return a


def named_meta(spec: dict[str, tuple[tuple[str, str, int, str, Any], ...] | None], names: dict[str, Any],
               provided: dict[type, tuple[tuple[str, str, int, str, Any], ...]],
               ) -> dict[type, tuple[tuple[str, str, int, str, Any], ...]]:
    """The twin's ``META`` (for the JSON form of its objects) from its data module's ``META_NAMES``:
    each class name resolved in ``names`` (the twin's globals); an entry of ``None`` is a type the
    twin imports from the provider module, whose own entry (``provided``) it is."""
    out: dict[type, tuple[tuple[str, str, int, str, Any], ...]] = {}
    for name, fields in spec.items():
        cls = names[name]
        if fields is None:
            out[cls] = provided[cls]
            continue
        mapped = []
        for py, xml, card, tag, typ in fields:
            if isinstance(typ, dict):
                typ = {element: names[member] for element, member in typ.items()}
            elif isinstance(typ, str):
                typ = names[typ]
            mapped.append((py, xml, card, tag, typ))
        out[cls] = tuple(mapped)
    return out
