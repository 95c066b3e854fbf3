"""Modem finder (ccs-ev.md §5): is there a HomePlug modem on our Ethernet at all?

SLAC needs a local modem (ccs-ev.md §3 precondition, connection level 10).  The finder broadcasts
VS_SW_VER.REQ ("GET_SW"), counts the VS_SW_VER.CNF answers addressed to us for ``window``
seconds, and repeats after ``pause`` until at least one modem answered.  Inside a formed AVLN
the charger's modem answers too, so ``modems`` also tells "one" from "two" (ccs-ev.md §2.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from ..deadline import Timers
from ..runtime.events import Event, FrameReceived, SendFailed, SendFrame
from ..runtime.machine import MachineBase, successor_table
from . import frames as F


class FinderState(StrEnum):
    """The finder's states; the values are the session log's."""

    IDLE = "idle"
    SEARCHING = "searching"  # GET_SW sent, counting the answers for ``window`` seconds
    PAUSING = "pausing"  # nobody answered: ask again after ``pause``
    DONE = "done"  # at least one modem answered


#: What may follow each state (docs/machines.md); a connection restart searches again.
FINDER_SUCCESSORS = successor_table({
    FinderState.IDLE: {FinderState.SEARCHING},
    FinderState.SEARCHING: {FinderState.PAUSING, FinderState.DONE},
    FinderState.PAUSING: {FinderState.SEARCHING},
    FinderState.DONE: {FinderState.SEARCHING},
})


class FinderTimer(StrEnum):
    """What the finder waits for (one at a time)."""

    WINDOW = "answer-window"  # the end of a round's answer window
    PAUSE = "pause"  # the end of the pause between rounds


@dataclass(frozen=True, slots=True)
class ModemInfo:
    mac: bytes
    version: str
    device_id: int


class ModemFinder(MachineBase):
    def __init__(self, mac: bytes, name: str = "modem_finder", link: str = "plc", window: float = 0.5,
                 pause: float = 0.5) -> None:
        super().__init__(name, FinderState.IDLE.value, FINDER_SUCCESSORS)
        self.timers = Timers()
        self.mac = mac
        self.link = link
        self.window = window
        self.pause = pause
        self.rounds = 0
        self.modems: list[ModemInfo] = []
        self.found: list[ModemInfo] = []  # the result of the last complete round with ≥ 1 answer

    def get_timer(self) -> float | None:
        return self.timers.next()

    def handle_timer(self, now: float) -> None:
        for purpose in self.timers.expired(now):
            self._on_timer(cast(FinderTimer, purpose), now)  # the member armed: no Enum lookup

    def _arm(self, purpose: FinderTimer, at: float) -> None:
        self.timers.clear()  # one timer at a time: arming replaces
        self.timers.start(purpose, at)

    def start(self, now: float) -> None:
        self.found = []
        self._ask(now)

    def _ask(self, now: float) -> None:
        self.rounds += 1
        self.modems = []
        self._emit(SendFrame(self.link, F.SwVerReq(dest=F.BROADCAST, source=self.mac).encode()))
        self._enter(FinderState.SEARCHING.value, round=self.rounds)
        self._arm(FinderTimer.WINDOW, now + self.window)

    def _on_timer(self, purpose: FinderTimer, now: float) -> None:
        if purpose is FinderTimer.WINDOW:
            if self.modems:
                self.found = list(self.modems)
                self._enter(FinderState.DONE.value, modems=len(self.found))
                for m in self.found:
                    self._log("modem", mac=F.format_mac(m.mac), version=m.version, device_id=f"0x{m.device_id:02x}")
            else:
                self._log("no-modem", round=self.rounds)
                self._enter(FinderState.PAUSING.value)
                self._arm(FinderTimer.PAUSE, now + self.pause)
        else:  # PAUSE
            self._ask(now)

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, SendFailed) and event.link == self.link:
            self._log("send-failed", reason=event.reason)
            return
        if self.state != FinderState.SEARCHING or not isinstance(event, FrameReceived) or event.link != self.link:
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
