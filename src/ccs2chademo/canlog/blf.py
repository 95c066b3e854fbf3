"""A walk over a BLF file's object chain before python-can reads it (found by fuzzing, issue 15).

python-can 4.6's BLF reader steps from one object to the next by the object's size field; an
object *inside a log container* whose size is 0 sends it back to the same object forever (with
an unknown header version it loops without yielding; with a known one it yields the same frame
without end).  A 428-byte file did it.  :func:`check` walks the same chain — the file header's
size, then objects of ``LOBJ`` + header size + header version + object size + object type (16
bytes), log containers (type 10) whose 16-byte header gives the compression (0 none, 2 zlib),
objects inside a container found within 8 bytes of padding, an object that does not fit
continuing in the next container — and refuses any object smaller than its own 16-byte header.
Everything else (a bad signature, a truncated file, corrupt zlib data) is left to python-can,
whose errors :class:`~ccs2chademo.canlog.reader.CanLog` already reports.

Containers are decompressed one at a time, each to at most :data:`MAX_CONTAINER` bytes, so the
walk needs no more memory than python-can's own reading.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

_OBJECT = struct.Struct("<4sHHLL")  # signature, header size, header version, object size, object type
_CONTAINER = struct.Struct("<H6xL4x")  # compression method, uncompressed size
_LOG_CONTAINER = 10
_NO_COMPRESSION, _ZLIB = 0, 2
#: padding python-can skips while looking for the next object inside a container
_PADDING = 8
#: the most one container may expand to (real loggers write 128 kB containers)
MAX_CONTAINER = 64 * 1024 * 1024


class BlfObjectError(ValueError):
    """An object inside a log container smaller than its own header."""

    def __init__(self, size: int) -> None:
        super().__init__(f"a BLF object of {size} bytes in a log container, smaller than its "
                         f"{_OBJECT.size}-byte header")


def check(fh: BinaryIO) -> None:
    """Raise :class:`BlfObjectError` if python-can would loop on the BLF file ``fh`` (positioned
    at its start); ``OSError`` passes."""
    head = fh.read(8)
    if len(head) < 8 or head[:4] != b"LOGG":
        return
    fh.seek(int.from_bytes(head[4:8], "little"))
    tail = b""
    while True:
        raw = fh.read(_OBJECT.size)
        if len(raw) < _OBJECT.size:
            return
        signature, _, _, size, kind = _OBJECT.unpack(raw)
        if signature != b"LOBJ" or size < _OBJECT.size:
            return  # python-can raises, or reads the rest of the file as this object: no loop
        body = fh.read(size - _OBJECT.size)
        fh.read(size % 4)
        if kind != _LOG_CONTAINER or len(body) < _CONTAINER.size:
            continue
        method, _ = _CONTAINER.unpack_from(body)
        payload = body[_CONTAINER.size :]
        if method == _ZLIB:
            try:
                payload = zlib.decompressobj().decompress(payload, MAX_CONTAINER)
            except zlib.error:
                return
        elif method != _NO_COMPRESSION:
            continue
        tail = _inner(tail + payload)


def _inner(data: bytes) -> bytes:
    """Walk the objects of a container's data; what does not fit yet is returned."""
    pos = 0
    while True:
        found = data.find(b"LOBJ", pos, pos + _PADDING + 4)
        if found < 0 or len(data) - found < _OBJECT.size:
            return data[pos:]
        size = _OBJECT.unpack_from(data, found)[3]
        if size < _OBJECT.size:
            raise BlfObjectError(size)
        if found + size > len(data):
            return data[found:]
        pos = found + size
