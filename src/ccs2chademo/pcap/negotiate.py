"""Learn the negotiated schema from a captured SupportedAppProtocol handshake (ccs-ev.md §8)."""

from __future__ import annotations

import logging

from .. import exi
from .follower import NAMESPACES

log = logging.getLogger(__name__)


def negotiated_schema(request: bytes, response: bytes) -> str | None:
    """The schema the response's SchemaID picks from the request's AppProtocol list, if we decode it.

    None when either document does not decode, the response names no SchemaID (a failed
    negotiation), or the chosen namespace is not one of :data:`~.follower.NAMESPACES`.
    """
    try:
        req = exi.decode(request, "apphand")
        res = exi.decode(response, "apphand")
    except exi.ExiDecodeError as exc:
        log.warning("handshake does not decode, schema from first bytes: %s", exc)
        return None
    if not isinstance(req, exi.apphand.SupportedAppProtocolReq) or not isinstance(
            res, exi.apphand.SupportedAppProtocolRes):
        log.warning("handshake is %s / %s, not request / response", type(req).__name__, type(res).__name__)
        return None
    if res.schema_id is None:
        return None
    for offer in req.app_protocol:
        if offer.schema_id == res.schema_id:
            schema = NAMESPACES.get(offer.protocol_namespace)
            if schema is None:
                log.warning("negotiated namespace %s is not one we decode", offer.protocol_namespace)
            return schema
    log.warning("response SchemaID %d is not among the offers", res.schema_id)
    return None
