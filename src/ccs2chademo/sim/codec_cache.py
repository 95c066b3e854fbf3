"""The simulation's EXI cache: a :class:`~ccs2chademo.v2g.codec.Codec` that remembers its answers.

Why only here: in a simulated CurrentDemand loop the same requests and responses repeat (a whole
20→80 % session: ≈170 distinct requests and ≈1700 distinct responses among 61 000 exchanges), so
remembering them makes the simulation several times faster; a real adapter's measured values
change every message, so the product encodes and decodes every one (issue 17).  Each operation
is a pure function of its arguments — the neutral messages are frozen, the payloads are bytes —
so an equal input gives the same bytes or the same message: the links carry exactly what the
uncached codec produces (``tests/sim/test_codec_cache.py``).

The world makes one :class:`CachedCodec` per session and gives it to the adapter and the
charger (``Scenario(codec_cache=False)``, ``ccs2chademo simulate --no-codec-cache``: none).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Generic, TypeVar

from ..v2g.codec import EXI, Codec
from ..v2g.messages import EvMessage, EvseMessage, Schema

_In = TypeVar("_In")
_Out = TypeVar("_Out")

#: distinct messages remembered per operation (a few MB at most)
CACHE_SIZE = 4096


class _Memo(Generic[_In, _Out]):
    """One operation with a bounded LRU cache keyed on its arguments.

    Failures are never stored (:func:`functools.lru_cache` keeps only returned values), so a bad
    payload raises again on every call.  An unhashable argument (a ``bytearray`` payload) is
    computed as it is and never stored; a TypeError the operation raises itself is raised again
    by that uncached call.  The key compares by value (``==``), so only arguments of the declared
    types are meant: the frozen messages and ``bytes`` payloads.
    """

    def __init__(self, fn: Callable[[_In, Schema | None], _Out], size: int) -> None:
        self.fn = fn
        self.cached = functools.lru_cache(maxsize=size)(fn)

    def __call__(self, arg: _In, schema: Schema | None) -> _Out:
        try:
            return self.cached(arg, schema)
        except TypeError:  # unhashable: computed as it is, never stored
            return self.fn(arg, schema)

    def counts(self) -> tuple[int, int, int]:
        info = self.cached.cache_info()
        return info.hits, info.misses, info.currsize


class CachedCodec:
    """``inner`` (default: the product's :data:`~ccs2chademo.v2g.codec.EXI`) with each of the
    four operations remembering its last ``size`` distinct inputs."""

    def __init__(self, inner: Codec = EXI, size: int = CACHE_SIZE) -> None:
        self._encode_request = _Memo(inner.encode_request, size)
        self._decode_request = _Memo(inner.decode_request, size)
        self._encode_response = _Memo(inner.encode_response, size)
        self._decode_response = _Memo(inner.decode_response, size)

    def encode_request(self, msg: EvMessage, schema: Schema | None, /) -> bytes:
        return self._encode_request(msg, schema)

    def decode_request(self, payload: bytes, schema: Schema | None, /) -> EvMessage:
        return self._decode_request(payload, schema)

    def encode_response(self, msg: EvseMessage, schema: Schema | None, /) -> bytes:
        return self._encode_response(msg, schema)

    def decode_response(self, payload: bytes, schema: Schema | None, /) -> EvseMessage:
        return self._decode_response(payload, schema)

    def stats(self) -> dict[str, tuple[int, int, int]]:
        """(hits, misses, entries) per operation: what the bench reports and the tests check."""
        return {"encode_request": self._encode_request.counts(), "decode_request": self._decode_request.counts(),
                "encode_response": self._encode_response.counts(),
                "decode_response": self._decode_response.counts()}
