"""Modem finder (ccs-ev.md §5): is there a HomePlug modem on our Ethernet at all?

SLAC needs a local modem (ccs-ev.md §3 precondition, connection level 10).  The finder broadcasts
VS_SW_VER.REQ ("GET_SW"), counts the VS_SW_VER.CNF answers addressed to us for ``window``
seconds, and repeats after ``pause`` until at least one modem answered.  Inside a formed AVLN
the charger's modem answers too, so ``modems`` also tells "one" from "two" (ccs-ev.md §2.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..deadline import TimerMachine
from ..runtime.events import Event, FrameReceived, SendFailed, SendFrame
from . import frames as F


@dataclass(frozen=True, slots=True)
class ModemInfo:
    mac: bytes
    version: str
    device_id: int


class ModemFinder(TimerMachine):
    def __init__(self, mac: bytes, name: str = "modem_finder", link: str = "plc", window: float = 0.5,
                 pause: float = 0.5) -> None:
        super().__init__(name, "idle")
        self.mac = mac
        self.link = link
        self.window = window
        self.pause = pause
        self.rounds = 0
        self.modems: list[ModemInfo] = []
        self.found: list[ModemInfo] = []  # the result of the last complete round with ≥ 1 answer

    def start(self, now: float) -> None:
        self.found = []
        self._ask(now)

    def _ask(self, now: float) -> None:
        self.rounds += 1
        self.modems = []
        self._emit(SendFrame(self.link, F.SwVerReq(dest=F.BROADCAST, source=self.mac).encode()))
        self._enter("searching", round=self.rounds)
        self._deadline = now + self.window

    def _expired(self, now: float) -> None:
        if self.state == "searching":
            if self.modems:
                self.found = list(self.modems)
                self._enter("done", modems=len(self.found))
                for m in self.found:
                    self._log("modem", mac=F.format_mac(m.mac), version=m.version, device_id=f"0x{m.device_id:02x}")
            else:
                self._log("no-modem", round=self.rounds)
                self._enter("pausing")
                self._deadline = now + self.pause
        elif self.state == "pausing":
            self._ask(now)

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, SendFailed) and event.link == self.link:
            self._log("send-failed", reason=event.reason)
            return
        if self.state != "searching" or not isinstance(event, FrameReceived) or event.link != self.link:
            return
        if not F.is_homeplug(event.frame):
            return
        try:
            mme = F.decode(event.frame)
        except F.MmeError as exc:
            self._log("rejected", reason=str(exc))
            return
        if isinstance(mme, F.SwVerCnf) and mme.dest == self.mac and all(m.mac != mme.source for m in self.modems):
            self.modems.append(ModemInfo(mme.source, mme.version, mme.device_id))
