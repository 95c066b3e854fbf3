"""Minimal V2G peers for transport tests: prove the path SLAC → SDP → TCP → V2GTP end to end.

* :class:`FixedResponder` sits on a charger's TCP link and answers every EXI message with one
  fixed EXI document (by default the SupportedAppProtocolRes a DIN charger sends).
* :class:`OneShotRequester` sits on the supervisor's ``v2g`` seam, sends one EXI document when
  TCP is up, records the answer and optionally closes with FIN.

They carry real handshake bytes but know nothing about EXI; the V2G session machines replace them.
"""

from __future__ import annotations

from ..runtime.events import CloseLink, DataReceived, Event, FrameReceived, LinkDown, LinkUp, SendData, SendFrame
from ..runtime.machine import MachineBase
from . import v2gtp

#: SupportedAppProtocolReq offering DIN 70121, and the charger's "OK, SchemaID 1" answer.
SAP_REQ = bytes.fromhex("8000dbab9371d3234b71d1b981899189d191818991d26b9b3a232b30020000040040")
SAP_RES = bytes.fromhex("80400040")


class FixedResponder(MachineBase):
    """Charger TCP side (link ``"tcp"``): one answer per received V2GTP EXI message."""

    def __init__(self, name: str = "secc", response: bytes = SAP_RES, link: str = "tcp") -> None:
        super().__init__(name, "listening")
        self.response = response
        self.link = link
        self.stream = v2gtp.V2gtpStream()
        self.received: list[bytes] = []
        self.sessions_ended = 0

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, LinkUp):
            self.stream = v2gtp.V2gtpStream()
            self._enter("connected", peer=str(event.peer))
        elif isinstance(event, LinkDown):
            self.sessions_ended += 1
            self._enter("listening", reason=event.reason)
        elif isinstance(event, DataReceived):
            try:
                messages = self.stream.feed(event.data)
            except v2gtp.V2gtpError as exc:
                self._log("rejected", reason=str(exc))
                self._emit(CloseLink(self.link))
                return
            for message in messages:
                self.received.append(message.payload)
                self._emit(SendData(self.link, v2gtp.encode(self.response)))

    def handle_timer(self, now: float) -> None:
        pass

    def get_timer(self) -> None:
        return None


class OneShotRequester(MachineBase):
    """Car V2G stand-in on the ``v2g`` seam: sends ``request`` on every LinkUp, keeps answers."""

    def __init__(self, name: str = "evcc", request: bytes = SAP_REQ, close_after: bool = False) -> None:
        super().__init__(name, "waiting")
        self.request = request
        self.close_after = close_after
        self.answers: list[tuple[float, bytes]] = []
        self.connected_at: float | None = None
        self.downs: list[str] = []

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, LinkUp) and event.link == "v2g":
            self.connected_at = now
            self._enter("connected")
            self._emit(SendFrame("v2g", self.request))
        elif isinstance(event, FrameReceived) and event.link == "v2g":
            self.answers.append((now, event.frame))
            self._enter("answered")
            if self.close_after:
                self._emit(CloseLink("v2g"))
        elif isinstance(event, LinkDown) and event.link == "v2g":
            self.downs.append(event.reason)
            self._enter("waiting")

    def handle_timer(self, now: float) -> None:
        pass

    def get_timer(self) -> None:
        return None
