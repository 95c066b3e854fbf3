"""Records as the JSON objects ``ccs2chademo pcap`` prints, one per line (docs/pcap.md).

:func:`raw_record_json` is the one place that turns a raw frame into an output line: HomePlug
frames are described by :func:`ccs2chademo.homeplug.frames.describe`, SDP datagrams by the
decoders of :mod:`ccs2chademo.v2g.sdp`.
"""

from __future__ import annotations

from typing import Any

from .. import exi
from ..homeplug import frames as homeplug
from ..v2g import sdp
from ..v2g.v2gtp import PayloadType
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
    """``{"time", "kind", "hex", …}`` plus the decoded fields of the SLAC/SDP frame
    (``"type"``, MACs, RunID, …), or ``"error"`` when it does not decode."""
    line: dict[str, Any] = {"time": record.time, "kind": record.kind, "hex": record.hex}
    if record.kind == "homeplug":
        line.update(homeplug.describe(record.data))
    else:
        line.update(describe_sdp(record.data))
    return line


def describe_sdp(datagram: bytes) -> dict[str, Any]:
    """SDP request/response fields (ccs-ev.md §6); never raises for bad bytes."""
    try:
        if datagram[2:4] == PayloadType.SDP_REQUEST.to_bytes(2, "big"):
            req = sdp.decode_request(datagram)
            return {"type": "SDP_REQUEST", "security": req.security, "transport": req.transport}
        res = sdp.decode_response(datagram)
    except sdp.SdpError as exc:
        return {"type": "invalid", "error": str(exc)}
    return {"type": "SDP_RESPONSE", "address": str(res.address), "port": res.port, "security": res.security,
            "transport": res.transport}
