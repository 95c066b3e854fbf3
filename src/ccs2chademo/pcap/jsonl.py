"""Records as the JSON objects ``ccs2chademo pcap`` prints, one per line (docs/pcap.md).

:func:`raw_record_json` is the one place that turns a raw frame into an output line: decoders
for SLAC and SDP plug in there (they belong to the homeplug side); the rest stays as it is.
"""

from __future__ import annotations

from typing import Any

from .. import exi
from .records import RawRecord, V2gRecord


def v2g_record_json(record: V2gRecord) -> dict[str, Any]:
    """``{"time", "direction", "connection", "schema", "message", "hex", "body"}``, or with
    ``"error"`` in place of ``message``/``body`` when the message does not decode."""
    line: dict[str, Any] = {"time": record.time, "direction": record.direction, "connection": record.connection,
                            "schema": record.schema}
    if record.schema is None:
        line.update(hex=record.hex, error="schema unknown: no handshake seen and first bytes match no schema")
        return line
    try:
        doc = exi.to_json(exi.decode(record.payload, record.schema))
    except exi.ExiError as exc:
        line.update(hex=record.hex, error=f"{type(exc).__name__}: {exc}")
        return line
    line.update(message=doc["message"], hex=record.hex, body=doc["body"])
    return line


def raw_record_json(record: RawRecord) -> dict[str, Any]:
    """``{"time", "kind", "hex"}``; extend here with decoded SLAC/SDP fields."""
    return {"time": record.time, "kind": record.kind, "hex": record.hex}
