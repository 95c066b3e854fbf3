"""Hand-written runtime shared by the generated EXI codecs.

The generated modules keep the whole input in one Python int ``v`` of ``e`` bits and a bit
cursor ``p``; a read of ``n`` bits is ``(v >> (e - p - n)) & mask``, so reading past the end
gives a negative shift count (``ValueError``) that every generated function turns into
:class:`ExiDecodeError`. Encoders shift-or into one int ``a`` that starts with a sentinel 1 bit,
so the bit count is ``a.bit_length() - 1`` and no separate counter is passed around.

Only the variable-length EXI datatypes (W3C EXI 1.0 section 7.1: Unsigned Integer, Integer, String,
Binary) live here; fixed-width reads and writes are inlined by the generator.
"""

from __future__ import annotations

import functools
from enum import IntEnum
from typing import Any


class ExiError(Exception):
    """Base of the codec's typed errors (deliberately not a ValueError, see module doc)."""


class ExiDecodeError(ExiError):
    """The input is not a valid EXI stream for the schema; carries the bit offset and state."""

    def __init__(self, message: str, bit_offset: int = -1, state: str = "") -> None:
        self.bit_offset = bit_offset
        self.state = state
        where = f" at bit {bit_offset}" if bit_offset >= 0 else ""
        super().__init__(f"{message}{where}" + (f" (in {state})" if state else ""))


class ExiEncodeError(ExiError):
    """The message cannot be encoded; the text names the type and field at fault."""


def dec_uint(v: int, p: int, e: int) -> tuple[int, int]:
    """EXI Unsigned Integer (EXI section 7.1.6): 7-bit groups, least significant first, bit 7 = more."""
    b = (v >> (e - p - 8)) & 0xFF
    p += 8
    if b < 0x80:
        return b, p
    x = b & 0x7F
    shift = 7
    while shift < 70:
        b = (v >> (e - p - 8)) & 0xFF
        p += 8
        x |= (b & 0x7F) << shift
        if b < 0x80:
            return x, p
        shift += 7
    # a long number: take the rest in blocks of octets, so the cost stays linear in its length
    groups: list[int] = []
    while True:
        n = min((e - p) >> 3, 512)
        if n == 0:
            raise ExiDecodeError("unsigned integer runs past the end", p)
        block = ((v >> (e - p - 8 * n)) & ((1 << (8 * n)) - 1)).to_bytes(n, "big")
        for i, b in enumerate(block):
            groups.append(b & 0x7F)
            if b < 0x80:
                rest = int("".join(f"{g:07b}" for g in reversed(groups)), 2)
                return x | (rest << shift), p + 8 * (i + 1)
        p += 8 * n


def dec_int(v: int, p: int, e: int) -> tuple[int, int]:
    """EXI Integer (EXI section 7.1.5): sign bit (1 = negative), then Unsigned |x| (|x| - 1 if negative)."""
    neg = (v >> (e - p - 1)) & 1
    x, p = dec_uint(v, p + 1, e)
    return (-x - 1 if neg else x), p


def dec_bin(v: int, p: int, e: int) -> tuple[bytes, int]:
    """EXI Binary (EXI section 7.1.1): Unsigned length, then the octets."""
    n, p = dec_uint(v, p, e)
    bits = n << 3
    if bits > e - p:
        raise ExiDecodeError(f"binary of {n} bytes runs past the end", p)
    if n == 0:
        return b"", p
    x = (v >> (e - p - bits)) & ((1 << bits) - 1)
    return x.to_bytes(n, "big"), p + bits


def dec_str(v: int, p: int, e: int) -> tuple[str, int]:
    """EXI String (EXI section 7.1.10) with valuePartitionCapacity 0: length + 2, then code points.

    Lengths 0 and 1 are string-table hits, which cannot occur without a string table; they are
    rejected (exi.md §8), as OpenV2G does.
    """
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
    chunk = (v >> (e - p - bits)) & ((1 << bits) - 1)
    if not chunk & int.from_bytes(b"\x80" * n, "big"):
        return chunk.to_bytes(n, "big").decode("ascii"), p + bits
    chars = []
    for i in range(n):
        if i & 511 == 511:
            v &= (1 << (e - p)) - 1  # drop consumed bits: keeps each read O(1) (see dec_uint)
        c, p = dec_uint(v, p, e)
        if c > 0x10FFFF:
            raise ExiDecodeError(f"code point {c:#x} beyond U+10FFFF", p)
        chars.append(chr(c))
    return "".join(chars), p


def enc_uint(a: int, x: int) -> int:
    """Append an EXI Unsigned Integer; ``x`` must be >= 0 (checked by the caller)."""
    if x < 0x80:
        return (a << 8) | x
    while x >= 0x80:
        a = (a << 8) | 0x80 | (x & 0x7F)
        x >>= 7
    return (a << 8) | x


def enc_int(a: int, x: int) -> int:
    """Append an EXI Integer."""
    if x < 0:
        return enc_uint((a << 1) | 1, -x - 1)
    return enc_uint(a << 1, x)


def enc_bin(a: int, x: bytes) -> int:
    """Append an EXI Binary value."""
    n = len(x)
    a = enc_uint(a, n)
    return (a << (n << 3)) | int.from_bytes(x, "big") if n else a


def enc_str(a: int, x: str) -> int:
    """Append an EXI String as a string-table miss (length + 2, then code points)."""
    n = len(x)
    a = enc_uint(a, n + 2)
    if x.isascii():
        return (a << (n << 3)) | int.from_bytes(x.encode("ascii"), "big") if n else a
    for ch in x:
        a = enc_uint(a, ord(ch))
    return a


def finish(a: int) -> bytes:
    """Pad the sentinel-prefixed accumulator to whole bytes (no bits for ED, exi.md §2)."""
    nb = a.bit_length() - 1
    pad = -nb % 8
    nb += pad
    return ((a << pad) ^ (1 << nb)).to_bytes(nb >> 3, "big")


@functools.lru_cache(maxsize=4096)
def pick_multiplier(x: float, mult_min: int, mult_max: int, vmin: int, vmax: int) -> tuple[int, int]:
    """Choose (value, multiplier) for a PhysicalValue so that value × 10^multiplier ≈ x.

    Prefers an exact representation with the multiplier closest to 0 (412.8 → 4128 × 10⁻¹,
    400 → 400 × 10⁰; on a tie the positive multiplier); if none is exact, the finest multiplier
    whose value fits the range.  Cached: a session encodes the same few values over and over.
    """
    tolerance = 1e-9 * max(1.0, abs(x))
    for m in _closest_to_zero(mult_min, mult_max):
        val = round(x / 10.0**m)
        if vmin <= val <= vmax and abs(val * 10.0**m - x) <= tolerance:
            return val, m
    for m in range(mult_min, mult_max + 1):
        val = round(x / 10.0**m)
        if vmin <= val <= vmax:
            return val, m
    raise ExiEncodeError(f"physical value {x} does not fit value {vmin}..{vmax} × 10^{mult_min}..{mult_max}")


@functools.lru_cache(maxsize=16)
def _closest_to_zero(mult_min: int, mult_max: int) -> tuple[int, ...]:
    """Multipliers ordered by |m|, the positive one first on a tie: 0, 1, -1, 2, -2, …"""
    return tuple(sorted(range(mult_min, mult_max + 1), key=lambda m: (abs(m), -m)))


class OpenEnum(IntEnum):
    """IntEnum that also holds the unused codes of its n-bit EXI representation.

    OpenV2G does not range-check enumeration indices, and public vectors carry such values
    (e.g. an ISO-2 EVSEStatusCode of 15 in a 4-bit field); to stay byte-exact with it the codec
    keeps them as pseudo-members named ``UNDEFINED_<n>`` instead of rejecting the stream.
    Iterating the class yields only the schema's values.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, int) and 0 <= value < 1 << 16:
            obj = int.__new__(cls, value)
            obj._name_ = f"UNDEFINED_{value}"
            obj._value_ = value
            return obj
        return None

    @classmethod
    def from_name(cls, name: str) -> Any:
        """Member by name, including ``UNDEFINED_<n>`` pseudo-members."""
        if name.startswith("UNDEFINED_") and name[10:].isdigit():
            return cls(int(name[10:]))
        return cls[name]
