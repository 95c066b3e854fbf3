"""SDP machines (ccs-ev.md §6): :class:`SdpClient` for the car, :class:`SdpServer` for the charger.

Both use one datagram link (``"sdp"``): ``SendFrame(dest=(host, port))`` out and
``FrameReceived(source=(host, port, …))`` in, on Linux a :class:`~ccs2chademo.drivers.linux.
multicast.MulticastUdpPort`, in the simulation a :class:`~ccs2chademo.sim.nic.SimNic` UDP view.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from ..deadline import TimerMachine
from ..runtime.events import Event, FrameReceived, SendFailed, SendFrame
from ..runtime.machine import MachineBase
from .ipv6 import mac_from_link_local
from .sdp import (
    MULTICAST,
    SDP_PORT,
    SdpError,
    SdpRequest,
    SdpResponse,
    Security,
    Transport,
    decode_request,
    decode_response,
)


@dataclass(frozen=True, slots=True)
class SdpResult:
    address: ipaddress.IPv6Address
    port: int
    security: int
    evse_mac: bytes | None  # from the EUI-64 of the announced address, when it is one (ccs-ev.md §16 rule 8)


class SdpClient(TimerMachine):
    """Send a request every ``interval`` until a valid response, at most ``max_requests`` times.

    Send errors (modem rebooting after SET_KEY, carrier lost) are logged and the next request
    goes out on schedule, so the ≈5 s reboot costs nothing but retries (ccs-ev.md §16 rule 7).
    """

    def __init__(self, name: str = "sdp_client", link: str = "sdp", interval: float = 0.5, max_requests: int = 50,
                 security: int = Security.NONE, scope_id: int = 0) -> None:
        super().__init__(name, "idle")
        self.link = link
        self.interval = interval
        self.max_requests = max_requests
        self.security = security
        self.scope_id = scope_id
        self.sent = 0
        self.limit = max_requests
        self.result: SdpResult | None = None
        self.failed = False
        self.rejected = 0

    def start(self, now: float, max_requests: int | None = None) -> None:
        self.sent = 0
        self.limit = max_requests or self.max_requests
        self.result = None
        self.failed = False
        self._enter("discovering", limit=self.limit)
        self._deadline = now

    def _expired(self, now: float) -> None:
        if self.state != "discovering":
            return
        if self.sent >= self.limit:
            self.failed = True
            self._enter("failed", requests=self.sent)
            return
        self.sent += 1
        self._emit(SendFrame(self.link, SdpRequest(self.security, Transport.TCP).encode(),
                             dest=(MULTICAST, SDP_PORT, 0, self.scope_id)))
        self._deadline = now + self.interval

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, SendFailed) and event.link == self.link:
            self._log("send-failed", reason=event.reason, request=self.sent)
            return
        if not isinstance(event, FrameReceived) or event.link != self.link or self.state != "discovering":
            return
        try:
            response = decode_response(event.frame)
        except SdpError as exc:
            self.rejected += 1
            self._log("rejected", reason=str(exc), error=type(exc).__name__, length=len(event.frame))
            return
        self.result = SdpResult(response.address, response.port, response.security,
                                mac_from_link_local(response.address))
        self._deadline = None
        self._enter("done", address=str(response.address), port=response.port, requests=self.sent)


class TlsOffer(StrEnum):
    """What a charger's SDP answer says about TLS (the security byte of the response)."""

    NONE = "none"  # always 0x10: no TLS (every simulated charger before TLS existed)
    ASKED = "asked"  # what the car asked for: a charger that serves both (the car's request decides)
    ONLY = "only"  # always 0x00: a charger that speaks only TLS (ISO 15118-20)


class SdpServer(MachineBase):
    """Answer every valid request (security 0x10 or 0x00, ccs-ev.md §15) with our address, TCP
    port and the security ``tls`` gives."""

    def __init__(self, address: ipaddress.IPv6Address, tcp_port: int, name: str = "sdp_server",
                 link: str = "sdp", tls: TlsOffer = TlsOffer.NONE) -> None:
        super().__init__(name, "serving")
        self.responses = {security: SdpResponse(address, tcp_port, security, Transport.TCP).encode()
                          for security in (Security.NONE, Security.TLS)}
        self.response = self.responses[Security.TLS if tls is TlsOffer.ONLY else Security.NONE]
        self.link = link
        self.tls = tls
        self.answered = 0

    def get_timer(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> None:
        pass

    def receive(self, event: Event, now: float) -> None:
        if not isinstance(event, FrameReceived) or event.link != self.link:
            return
        try:
            request = decode_request(event.frame)
        except SdpError as exc:
            self._log("rejected", reason=str(exc))
            return
        self.answered += 1
        self._log("sdp-request", security=request.security, transport=request.transport)
        response = self.response
        if self.tls is TlsOffer.ASKED and request.security == Security.TLS:
            response = self.responses[Security.TLS]
        self._emit(SendFrame(self.link, response, dest=event.source))
