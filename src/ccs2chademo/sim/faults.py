"""Fault injection for the simulated charger, named ``NAME@STATE``.

STATE is a DIN message name without Req/Res (``CableCheck``); without ``@STATE`` a fault hits
CurrentDemand.  A fault fires once, on the first request of that kind (for PowerDelivery: the
ON request), and rewrites the reply the charger would have given.  Several faults may be given
for one session: each fires once, in its own state, so an early one can cost a CCS restart and a
later one end the session; faults of the same state hit successive requests of that kind, in the
order given (one reply never carries two).

=====================  ====================================================================
``failed``             ResponseCode FAILED
``sequence-error``     ResponseCode FAILED_SequenceError
``unknown-session``    ResponseCode FAILED_UnknownSession
``timeout``            no response at all
``tcp-reset``          the charger closes the connection with RST instead of answering
``evse-shutdown``      DC_EVSEStatusCode EVSE_Shutdown
``emergency-shutdown`` DC_EVSEStatusCode EVSE_EmergencyShutdown
``malfunction``        DC_EVSEStatusCode EVSE_Malfunction
=====================  ====================================================================

The three status faults need a DC_EVSEStatus; in the four messages without one (SessionSetup,
ServiceDiscovery, ServicePaymentSelection, ContractAuthentication) they become ResponseCode
FAILED, which is how such a charger can refuse there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..v2g.messages import ISO20_NAMES, ISO20_ONLY_KINDS, EvMessage, Kind
from ..v2g.secc import DC_STATUS_KINDS, Reply

RESPONSE_CODES = {
    "failed": "FAILED",
    "sequence-error": "FAILED_SequenceError",
    "unknown-session": "FAILED_UnknownSession",
}
STATUS_CODES = {
    "evse-shutdown": "EVSE_Shutdown",
    "emergency-shutdown": "EVSE_EmergencyShutdown",
    "malfunction": "EVSE_Malfunction",
}
FAULT_NAMES: tuple[str, ...] = (*RESPONSE_CODES, "timeout", "tcp-reset", *STATUS_CODES)
#: States a fault can target: every DIN message of the session (not the handshake) …
FAULT_STATES: tuple[Kind, ...] = tuple(k for k in Kind if k is not Kind.SUPPORTED_APP_PROTOCOL
                                       and k not in ISO20_ONLY_KINDS)
#: … and every message of an ISO 15118-20 DC session, named by its kind (``ScheduleExchange``,
#: ``CurrentDemand``) or its -20 name (``DC_ChargeLoop``).
ISO20_FAULT_STATES: tuple[Kind, ...] = tuple(k for k in Kind if k not in (
    Kind.SUPPORTED_APP_PROTOCOL, Kind.SERVICE_PAYMENT_SELECTION))
DEFAULT_STATE = Kind.CURRENT_DEMAND


class FaultError(ValueError):
    """A fault name that is not ``NAME[@STATE]`` with known parts."""


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    state: Kind = DEFAULT_STATE

    @classmethod
    def parse(cls, text: str) -> Fault:
        name, _, state = text.strip().partition("@")
        if name not in FAULT_NAMES:
            raise FaultError(f"unknown fault {name!r}; known: {', '.join(FAULT_NAMES)}")
        if not state:
            return cls(name)
        for kind in (*FAULT_STATES, *ISO20_FAULT_STATES):
            if state in (kind.value, ISO20_NAMES.get(kind)):
                return cls(name, kind)
        known = dict.fromkeys(k.value for k in (*FAULT_STATES, *ISO20_FAULT_STATES))
        raise FaultError(f"unknown state {state!r}; known: {', '.join(known)} (and the -20 names)")

    def __str__(self) -> str:
        return f"{self.name}@{self.state.value}"


class FaultInjector:
    """A :data:`~ccs2chademo.v2g.secc.ReplyHook` that applies each of its faults once (see the
    module docstring); ``on_fire(fault)`` is told when one fires (the world logs it)."""

    def __init__(self, *faults: Fault, on_fire: Callable[[Fault], None] | None = None) -> None:
        if not faults:
            raise ValueError("a FaultInjector needs at least one fault")
        self.faults = faults
        #: per fault, the number of the request it fired on (None: not yet)
        self.fired: list[int | None] = [None] * len(faults)
        self.on_fire = on_fire
        self._seen = 0

    @property
    def fired_at_request(self) -> int | None:
        """The request the first fault to fire hit (None: none has fired yet)."""
        hits = [n for n in self.fired if n is not None]
        return min(hits) if hits else None

    def __call__(self, request: EvMessage, reply: Reply) -> Reply:
        self._seen += 1
        if reply.message is None:
            return reply
        for i, fault in enumerate(self.faults):
            if self.fired[i] is None and request.kind is fault.state:
                self.fired[i] = self._seen
                if self.on_fire is not None:
                    self.on_fire(fault)
                return _faulty(fault.name, reply)
        return reply


def _faulty(name: str, reply: Reply) -> Reply:
    """The reply as the fault ``name`` rewrites it (``reply.message`` is not None)."""
    message = reply.message
    assert message is not None
    if name == "timeout":
        return Reply(None)
    if name == "tcp-reset":
        return Reply(None, reply.delay, reset=True)
    if name in STATUS_CODES and message.kind in DC_STATUS_KINDS:
        return replace(reply, message=replace(message, status_code=STATUS_CODES[name]))
    return replace(reply, message=replace(message, response_code=RESPONSE_CODES.get(name, "FAILED")))
