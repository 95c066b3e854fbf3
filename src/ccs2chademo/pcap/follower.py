"""Follow a V2G session to tell which EXI schema each message uses (exi.md §1, ccs-ev.md §8).

Nothing in the stream names the schema.  The first request/response pair of a connection is
the SupportedAppProtocol handshake; after it, the schema is the one the response's SchemaID
picks from the request's AppProtocol list.  When that cannot be learnt (no negotiator, an
undecodable handshake, a namespace we do not know such as Tesla's, or a capture that starts
mid-session) the first two bytes decide: ``80 9A`` DIN, ``80 98`` ISO 15118-2:2013.

ISO 15118-20 needs neither rule after the handshake: the V2GTP payload type of each message names
its message set (common messages, DC, AC, …), so a -20 message is decoded with the schema of its
payload type wherever it appears.
"""

from __future__ import annotations

from collections.abc import Callable

from ..v2g.v2gtp import PayloadType

#: AppProtocol namespaces of the schemas we decode.  A -20 namespace names the energy transfer
#: the EV offers (DC, AC …); the session then also uses the common messages (by payload type).
NAMESPACES = {
    "urn:din:70121:2012:MsgDef": "din",
    "urn:iso:15118:2:2013:MsgDef": "iso2",
    "urn:iso:std:iso:15118:-20:DC": "iso20-dc",
    "urn:iso:std:iso:15118:-20:AC": "iso20-ac",
    "urn:iso:std:iso:15118:-20:WPT": "iso20-wpt",
    "urn:iso:std:iso:15118:-20:ACDP": "iso20-acdp",
}

#: the ISO 15118-20 payload types and the schema of the messages they carry
PAYLOAD_SCHEMAS: dict[int, str] = {
    PayloadType.ISO20_COMMON_MESSAGES: "iso20-cm",
    PayloadType.ISO20_AC: "iso20-ac",
    PayloadType.ISO20_DC: "iso20-dc",
    PayloadType.ISO20_ACDP: "iso20-acdp",
    PayloadType.ISO20_WPT: "iso20-wpt",
}

_FIRST_BYTES = {b"\x80\x9a": "din", b"\x80\x98": "iso2", b"\x80\x00": "apphand", b"\x80\x40": "apphand"}

#: Given the handshake request and response documents, the negotiated schema or None.
Negotiator = Callable[[bytes, bytes], str | None]


def schema_from_first_bytes(payload: bytes) -> str | None:
    return _FIRST_BYTES.get(payload[:2])


class SessionFollower:
    """Per TCP connection: call :meth:`schema_for` with every message in stream order."""

    def __init__(self, negotiate: Negotiator | None = None) -> None:
        self._negotiate = negotiate
        self._sap_request: bytes | None = None
        self._in_session = False
        self.negotiated: str | None = None

    def schema_for(self, from_ev: bool, payload: bytes, payload_type: int = PayloadType.EXI) -> str | None:
        iso20 = PAYLOAD_SCHEMAS.get(payload_type)
        if iso20 is not None:
            self._in_session = True
            return iso20
        if self._in_session:
            return self.negotiated or schema_from_first_bytes(payload)
        guess = schema_from_first_bytes(payload)
        if guess not in (None, "apphand"):  # a session already under way when the capture began
            self._in_session = True
            return guess
        if from_ev:
            if self._sap_request is None:
                self._sap_request = payload
            return "apphand"
        if self._sap_request is None:  # a response without a request: the capture began in between
            self._in_session = True
            return guess
        self._in_session = True
        if self._negotiate is not None:
            self.negotiated = self._negotiate(self._sap_request, payload)
        return "apphand"
