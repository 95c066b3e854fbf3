"""Tiny V2G stand-ins for the seam tests: one request from the car, one answer from the charger."""

from __future__ import annotations

from ccs2chademo.runtime import DataReceived, Event, FrameReceived, LinkDown, LinkUp, MachineBase, SendData, SendFrame
from ccs2chademo.v2g import v2gtp

# SupportedAppProtocolReq/Res as real cars and chargers send them (captures)
SAP_REQ = bytes.fromhex("8000dbab9371d3234b71d1b981899189d191818991d26b9b3a232b30020000040040")
SAP_RES = bytes.fromhex("80400040")


class EchoSecc(MachineBase):
    """Charger TCP side: answers every EXI message with SAP_RES (V2GTP framed)."""

    def __init__(self, name: str = "secc") -> None:
        super().__init__(name, "listening")
        self.stream = v2gtp.V2gtpStream()
        self.received: list[bytes] = []

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, LinkUp):
            self.stream = v2gtp.V2gtpStream()
            self._enter("connected")
        elif isinstance(event, LinkDown):
            self._enter("listening", reason=event.reason)
        elif isinstance(event, DataReceived):
            for message in self.stream.feed(event.data):
                self.received.append(message.payload)
                self._emit(SendData("tcp", v2gtp.encode(SAP_RES)))

    def handle_timer(self, now: float) -> None:
        pass

    def get_timer(self) -> None:
        return None


class OneShotEvcc(MachineBase):
    """Car V2G session stand-in on the supervisor's ``v2g`` seam: sends SAP_REQ once connected."""

    def __init__(self, name: str = "evcc") -> None:
        super().__init__(name, "waiting")
        self.answers: list[tuple[float, bytes]] = []
        self.connected_at: float | None = None
        self.downs: list[str] = []

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, LinkUp) and event.link == "v2g":
            self.connected_at = now
            self._enter("connected")
            self._emit(SendFrame("v2g", SAP_REQ))
        elif isinstance(event, FrameReceived) and event.link == "v2g":
            self.answers.append((now, event.frame))
            self._enter("answered")
        elif isinstance(event, LinkDown):
            self.downs.append(event.reason)
            self._enter("waiting")

    def handle_timer(self, now: float) -> None:
        pass

    def get_timer(self) -> None:
        return None
