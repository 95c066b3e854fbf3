"""The V2G stand-ins of the transport tests, under the names the tests use."""

from __future__ import annotations

from ccs2chademo.v2g.loopback import SAP_REQ, SAP_RES, FixedResponder, OneShotRequester

EchoSecc = FixedResponder
OneShotEvcc = OneShotRequester

__all__ = ["SAP_REQ", "SAP_RES", "EchoSecc", "OneShotEvcc"]
