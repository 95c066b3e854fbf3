"""SLAC (ISO 15118-3 signal-level attenuation characterisation) as sans-I/O machines.

* :class:`SlacPev` — the car side (ccs-ev.md §3): PARAM.REQ, 3 START_ATTEN_CHAR, 10 sounds,
  ATTEN_CHAR.IND/RSP, MATCH.REQ/CNF, then NID/NMK into the local modem with SET_KEY.
* :class:`SlacEvse` — the charger side for the simulated charger (ccs-ev.md §4): echoes the RunID,
  answers with an attenuation profile and its own NID/NMK.

Both speak raw Ethernet frames on one link (``"plc"``); the frame's MAC header carries the
addressing, so ``SendFrame.dest`` stays ``None``.  Every received frame is checked before it may
change state (ccs-ev.md §16 rule 5): decodable, addressed to us, our RunID.  A rejected frame is logged
(``kind="rejected"`` with a ``reason``) and leaves the state untouched.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from ..deadline import Timers, due
from ..runtime.events import Event, FrameReceived, SendFailed, SendFrame
from ..runtime.machine import MachineBase, successor_table
from . import frames as F

#: ccs-ev.md §4: all groups 9 dB except the last three (value 0 is treated as defective by the Ioniq).
DEFAULT_PROFILE = bytes([9] * 55 + [0x0F, 0x13, 0x19])
NUM_GROUPS = 58


class PevState(StrEnum):
    """:class:`SlacPev`'s states, the steps of ccs-ev.md §3; the values are the session log's."""

    IDLE = "idle"
    WAIT_PARAM_CNF = "wait_param_cnf"
    START_ATTEN = "start_atten"
    SOUNDING = "sounding"
    WAIT_ATTEN_CHAR = "wait_atten_char"
    COLLECT = "collect"  # ATTEN_CHAR.INDs arrive: after ``match_delay`` the best is matched
    WAIT_MATCH_CNF = "wait_match_cnf"
    WAIT_SET_KEY_CNF = "wait_set_key_cnf"
    DONE = "done"


_P = PevState
#: The steps of one attempt …
_STEPS = {
    _P.IDLE: {_P.WAIT_PARAM_CNF},
    _P.WAIT_PARAM_CNF: {_P.START_ATTEN},
    _P.START_ATTEN: {_P.SOUNDING},
    _P.SOUNDING: {_P.WAIT_ATTEN_CHAR, _P.COLLECT},  # collect: an answer before the last sound
    _P.WAIT_ATTEN_CHAR: {_P.COLLECT},
    _P.COLLECT: {_P.WAIT_MATCH_CNF},
    _P.WAIT_MATCH_CNF: {_P.WAIT_SET_KEY_CNF},
    _P.WAIT_SET_KEY_CNF: {_P.DONE},
    _P.DONE: set(),
}
#: … and a new attempt, which starts over at ``wait_param_cnf`` from any state (a timeout, the
#: guard, a new start): what may follow each :class:`SlacPev` state (docs/machines.md).
PEV_SUCCESSORS = successor_table({state: {*nexts, _P.WAIT_PARAM_CNF} for state, nexts in _STEPS.items()})


class PevTimer(StrEnum):
    """What :class:`SlacPev` waits for: one step timer (the one of its state) and the guard."""

    PARAM_CNF = "param-cnf-timeout"
    NEXT_START_ATTEN = "next-start-atten"
    NEXT_SOUND = "next-sound"
    ATTEN_CHAR = "atten-char-timeout"
    MATCH = "match"  # the end of the ATTEN_CHAR.IND collection: choose the EVSE, MATCH.REQ
    MATCH_CNF = "match-cnf-timeout"
    SET_KEY_CNF = "set-key-cnf-timeout"
    GUARD = "guard"  # any step stuck longer than ``SlacTiming.guard``: start over


#: The step timer of each state (``idle`` and ``done`` wait for nothing).
_STEP_TIMER = {
    _P.WAIT_PARAM_CNF: PevTimer.PARAM_CNF,
    _P.START_ATTEN: PevTimer.NEXT_START_ATTEN,
    _P.SOUNDING: PevTimer.NEXT_SOUND,
    _P.WAIT_ATTEN_CHAR: PevTimer.ATTEN_CHAR,
    _P.COLLECT: PevTimer.MATCH,
    _P.WAIT_MATCH_CNF: PevTimer.MATCH_CNF,
    _P.WAIT_SET_KEY_CNF: PevTimer.SET_KEY_CNF,
}


class EvseState(StrEnum):
    """:class:`SlacEvse`'s states; the values are the session log's."""

    CONFIGURING = "configuring"  # writing NID/NMK into its own modem (SET_KEY.REQ, retried)
    MODEM_RESTART = "modem_restart"  # the modem accepted the key and restarts
    SERVING = "serving"


#: What may follow each :class:`SlacEvse` state (docs/machines.md).
EVSE_SUCCESSORS = successor_table({
    EvseState.CONFIGURING: {EvseState.MODEM_RESTART},
    EvseState.MODEM_RESTART: {EvseState.SERVING},
    EvseState.SERVING: set(),
})


class EvseTimer(StrEnum):
    """What :class:`SlacEvse` waits for.  ``send`` and ``sounding-window`` stand for queues (the
    delayed answers, each PEV's sounding window): their deadline is the earliest entry."""

    SEND = "send"  # the earliest delayed answer (``response_delay``)
    SOUNDING_WINDOW = "sounding-window"  # the earliest end of a PEV's sounding window without ATTEN_CHAR.IND
    SET_KEY_RETRY = "set-key-retry"  # configuring: the modem did not confirm the key
    MODEM_RESTART = "modem-restart"  # the modem restarted with the key: serve


@dataclass(frozen=True, slots=True)
class SlacTiming:
    """PEV timings of ccs-ev.md §3; defaults are the reference PEV's 30 ms cycle."""

    param_timeout: float = 1.0  # step 2: then a new attempt (new RunID)
    cnf_to_start: float = 0.030  # step 3: must stay ≤ 100 ms (Tesla SC, Compleo)
    start_count: int = 3
    start_spacing: float = 0.030
    sound_count: int = 10
    sound_spacing: float = 0.030
    atten_char_timeout: float = 1.5  # step 6, after the last sound (ABB answers after 608 ms)
    match_delay: float = 0.9  # step 8, from the first ATTEN_CHAR.RSP
    match_timeout: float = 2.0  # step 10
    match_tries: int = 2
    set_key_timeout: float = 1.0  # step 12
    guard: float = 15.0  # any step stuck longer → restart from step 1

    def __post_init__(self) -> None:
        if self.cnf_to_start > 0.1:
            raise ValueError("ccs-ev.md §3: at most 100 ms from SLAC_PARAM.CNF to the first START_ATTEN_CHAR")


@dataclass(frozen=True, slots=True)
class SlacResult:
    evse_mac: bytes
    nid: bytes
    nmk: bytes
    run_id: bytes
    attenuation: float  # mean of the chosen ATTEN_CHAR.IND groups, dB


@dataclass(slots=True)
class _Candidate:
    mac: bytes
    attenuation: float


class _SlacBase(MachineBase):
    """Shared receive path: decode, address check; typed rejects become log records."""

    def __init__(self, name: str, mac: bytes, link: str, initial: str,
                 successors: dict[str, frozenset[str]]) -> None:
        super().__init__(name, initial, successors)
        if len(mac) != 6:
            raise ValueError("MAC must be 6 bytes")
        self.mac = mac
        self.link = link
        self.rejected = 0

    def _send(self, mme: F.Mme) -> None:
        self._emit(SendFrame(self.link, mme.encode()))

    def _reject(self, reason: str, frame: F.Frame | None = None) -> None:
        self.rejected += 1
        fields: dict[str, object] = {"reason": reason}
        if frame is not None:
            fields["message"] = frame.NAME
            fields["source"] = F.format_mac(frame.source)
        self._log("rejected", **fields)

    def _decode(self, event: Event) -> F.Mme | None:
        """The frame of ``event`` if it is a known MME for us; otherwise log why not."""
        if isinstance(event, SendFailed):
            self._log("send-failed", link=event.link, reason=event.reason)
            return None
        if not isinstance(event, FrameReceived) or event.link != self.link:
            return None
        if not F.is_homeplug(event.frame):
            return None
        try:
            mme = F.decode(event.frame)
        except F.MmeError as exc:
            self._reject(str(exc))
            return None
        if isinstance(mme, F.UnknownMme):
            self._log("ignored", reason="unknown MMTYPE", mmtype=f"0x{mme.mmtype:04x}")
            return None
        return mme


class SlacPev(_SlacBase):
    """Car-side SLAC.  Call :meth:`start`; :attr:`result` is set when the modem accepted the key.

    Several chargers may answer (a shared cabinet, cross-talk): every valid ATTEN_CHAR.IND gets
    its RSP, and after ``match_delay`` the one with the lowest mean attenuation is matched
    (ISO 15118-3 selection; with one charger this is "take the first", as ccs-ev.md §3 says).
    """

    def __init__(self, mac: bytes, rng: random.Random, name: str = "slac_pev", link: str = "plc",
                 timing: SlacTiming | None = None, set_key_dest: bytes = F.BROADCAST) -> None:
        super().__init__(name, mac, link, _P.IDLE.value, PEV_SUCCESSORS)
        self.rng = rng
        self.timing = timing or SlacTiming()
        self.set_key_dest = set_key_dest
        self.run_id = b""
        self.attempts = 0
        self.result: SlacResult | None = None
        self.timers = Timers()
        self._step: PevTimer | None = None  # the armed step timer
        self._count = 0
        self._candidates: list[_Candidate] = []
        self._evse_mac = b""
        self._match: F.SlacMatchCnf | None = None
        self.first_param_cnf_at: float | None = None  # the "CCS lifesign" (ccs-ev.md §3)

    # -- control ----------------------------------------------------------------------------
    def start(self, now: float) -> None:
        """Begin a new attempt at step 1 with a fresh random RunID."""
        self.attempts += 1
        self.result = None
        self.run_id = bytes(self.rng.getrandbits(8) for _ in range(8))
        self._candidates = []
        self._match = None
        self._log("attempt", n=self.attempts, run_id=self.run_id.hex())
        self._send(F.SlacParamReq(dest=F.BROADCAST, source=self.mac, run_id=self.run_id))
        self._goto(_P.WAIT_PARAM_CNF, now, now + self.timing.param_timeout)
        self.timers.start(PevTimer.GUARD, now + self.timing.guard)

    @property
    def active(self) -> bool:
        return self.state not in (_P.IDLE, _P.DONE)

    def _goto(self, state: PevState, now: float, deadline: float | None, **why: object) -> None:
        if state != self.state:
            if state in (_P.IDLE, _P.DONE):
                self.timers.cancel(PevTimer.GUARD)
            else:
                self.timers.start(PevTimer.GUARD, now + self.timing.guard)
        self._enter(state.value, **why)  # the plain value: the session log shows it (docs/machines.md)
        self._arm_step(deadline)

    def _arm_step(self, at: float | None) -> None:
        """(Re-)arm the step timer of the current state (one step timer at a time)."""
        if self._step is not None:
            self.timers.cancel(self._step)
        self._step = _STEP_TIMER.get(PevState(self.state)) if at is not None else None
        if self._step is not None and at is not None:
            self.timers.start(self._step, at)

    # -- machine protocol -------------------------------------------------------------------
    def get_timer(self) -> float | None:
        return self.timers.next()

    def handle_timer(self, now: float) -> None:
        step = self._step
        step_due = step is not None and due(self.timers.at(step), now)
        if due(self.timers.at(PevTimer.GUARD), now) and not step_due:
            self.timers.cancel(PevTimer.GUARD)
            self._on_timer(PevTimer.GUARD, now)
        elif step is not None and step_due:  # a due step goes first; a due guard waits for the next call
            self.timers.cancel(step)
            self._step = None
            self._on_timer(step, now)

    def _on_timer(self, purpose: PevTimer, now: float) -> None:
        """What happens when each purpose times out; every step arms the next one."""
        t = self.timing
        if purpose is PevTimer.GUARD:
            self._log("timeout", step=self.state, reason="SLAC step stuck longer than the guard")
            self.start(now)
        elif purpose in (PevTimer.PARAM_CNF, PevTimer.ATTEN_CHAR, PevTimer.SET_KEY_CNF):
            self._log("timeout", step=self.state)
            self.start(now)
        elif purpose is PevTimer.NEXT_START_ATTEN:
            self._send(F.StartAttenCharInd(dest=F.BROADCAST, source=self.mac, forwarding_sta=self.mac,
                                           run_id=self.run_id, num_sounds=t.sound_count))
            self._count += 1
            if self._count < t.start_count:
                self._arm_step(now + t.start_spacing)
            else:
                self._count = 0
                self._goto(_P.SOUNDING, now, now + t.sound_spacing)
        elif purpose is PevTimer.NEXT_SOUND:
            remaining = t.sound_count - 1 - self._count
            self._send(F.MnbcSoundInd(dest=F.BROADCAST, source=self.mac, count=remaining, run_id=self.run_id))
            self._count += 1
            if remaining > 0:
                self._arm_step(now + t.sound_spacing)
            else:
                self._goto(_P.WAIT_ATTEN_CHAR, now, now + t.atten_char_timeout)
        elif purpose is PevTimer.MATCH:
            best = min(self._candidates, key=lambda c: c.attenuation)
            self._evse_mac = best.mac
            self._log("evse-chosen", evse=F.format_mac(best.mac), attenuation=round(best.attenuation, 2),
                      candidates=len(self._candidates))
            self._count = 0
            self._send_match(now)
        elif purpose is PevTimer.MATCH_CNF:
            if self._count < t.match_tries:
                self._log("retry", step=self.state, n=self._count)
                self._send_match(now)
            else:
                self._log("timeout", step=self.state)
                self.start(now)

    def _send_match(self, now: float) -> None:
        self._count += 1
        self._send(F.SlacMatchReq(dest=self._evse_mac, source=self.mac, pev_mac=self.mac, evse_mac=self._evse_mac,
                                  run_id=self.run_id))
        self._goto(_P.WAIT_MATCH_CNF, now, now + self.timing.match_timeout)

    def receive(self, event: Event, now: float) -> None:
        mme = self._decode(event)
        if mme is None or not self.active:
            return
        if mme.dest != self.mac:
            # ccs-ev.md §2.4: the modem forwards the charger's answers to *any* car; never act on them.
            if isinstance(mme, F.SlacParamCnf | F.AttenCharInd | F.SlacMatchCnf | F.SetKeyCnf):
                self._reject(f"addressed to {F.format_mac(mme.dest)}, not to us", mme)
            return
        if isinstance(mme, F.SetKeyCnf):
            self._on_set_key_cnf(mme, now)
            return
        run_id = getattr(mme, "run_id", None)
        if run_id is None:
            return
        if run_id != self.run_id:
            self._reject(f"foreign RunID {run_id.hex()} (ours {self.run_id.hex()})", mme)
            return
        if isinstance(mme, F.SlacParamCnf):
            self._on_param_cnf(mme, now)
        elif isinstance(mme, F.AttenCharInd):
            self._on_atten_char(mme, now)
        elif isinstance(mme, F.SlacMatchCnf):
            self._on_match_cnf(mme, now)

    def _on_param_cnf(self, cnf: F.SlacParamCnf, now: float) -> None:
        if self.state != _P.WAIT_PARAM_CNF:
            return  # a duplicate answer to a repeated REQ
        if cnf.forwarding_sta != self.mac:
            self._reject(f"FORWARDING_STA {F.format_mac(cnf.forwarding_sta)} is not us", cnf)
            return
        if self.first_param_cnf_at is None:
            self.first_param_cnf_at = now
            self._log("lifesign", evse=F.format_mac(cnf.source))
        self._count = 0
        self._goto(_P.START_ATTEN, now, now + self.timing.cnf_to_start, evse=F.format_mac(cnf.source))

    def _on_atten_char(self, ind: F.AttenCharInd, now: float) -> None:
        if self.state not in (_P.SOUNDING, _P.WAIT_ATTEN_CHAR, _P.COLLECT):
            return
        if ind.source_address != self.mac:
            self._reject(f"SOURCE_ADDRESS {F.format_mac(ind.source_address)} is not us", ind)
            return
        if not ind.groups:
            self._reject("no attenuation groups", ind)
            return
        self._send(F.AttenCharRsp(dest=ind.source, source=self.mac, source_address=self.mac, run_id=self.run_id))
        if any(c.mac == ind.source for c in self._candidates):
            return
        self._candidates.append(_Candidate(ind.source, ind.mean_attenuation))
        self._log("atten-char", evse=F.format_mac(ind.source), attenuation=round(ind.mean_attenuation, 2))
        if self.state != _P.COLLECT:
            self._goto(_P.COLLECT, now, now + self.timing.match_delay)

    def _on_match_cnf(self, cnf: F.SlacMatchCnf, now: float) -> None:
        if self.state != _P.WAIT_MATCH_CNF:
            return
        if cnf.source != self._evse_mac or cnf.evse_mac != self._evse_mac or cnf.pev_mac != self.mac:
            self._reject("MATCH.CNF from or for another station", cnf)
            return
        self._match = cnf
        self._send(F.SetKeyReq(dest=self.set_key_dest, source=self.mac, nid=cnf.nid, nmk=cnf.nmk))
        self._goto(_P.WAIT_SET_KEY_CNF, now, now + self.timing.set_key_timeout, nid=cnf.nid.hex())

    def _on_set_key_cnf(self, cnf: F.SetKeyCnf, now: float) -> None:
        if self.state != _P.WAIT_SET_KEY_CNF or self._match is None:
            return
        if not cnf.accepted:
            # ccs-ev.md §2.4: Result 0 is what a *remote* modem answers; the local QCA modem says 1.
            self._reject("SET_KEY.CNF result 0 (not our local modem)", cnf)
            return
        attenuation = next(c.attenuation for c in self._candidates if c.mac == self._evse_mac)
        self.result = SlacResult(self._evse_mac, self._match.nid, self._match.nmk, self.run_id, attenuation)
        self._goto(_P.DONE, now, None, evse=F.format_mac(self._evse_mac))
        self._log("slac-ok", evse=F.format_mac(self._evse_mac), nid=self._match.nid.hex(), attempts=self.attempts)


def random_network_key(rng: random.Random) -> tuple[bytes, bytes]:
    """ccs-ev.md §4 (current pyPLC EVSE): NID ``01 02 r r r r 07``, NMK ``0x77×16`` with bytes 2–6 random."""
    nid = bytes([1, 2, *(rng.getrandbits(8) for _ in range(4)), 7])
    nmk = bytearray(b"\x77" * 16)
    for i in range(2, 7):
        nmk[i] = rng.getrandbits(8)
    return nid, bytes(nmk)


@dataclass(slots=True)
class _PevSession:
    run_id: bytes
    profile_sum: list[int]
    profiles: int = 0
    atten_due: float | None = None  # end of the sounding window announced by START_ATTEN_CHAR
    atten_sent: bool = False


class SlacEvse(_SlacBase):
    """Charger-side SLAC responder.  One session per PEV MAC; the RunID is always echoed (ccs-ev.md §4).

    With ``configure_modem`` it first writes its NID/NMK into its own modem and waits
    ``modem_restart`` before serving, as pyPLC's EVSE does.  ``response_delay`` models the
    charger's reaction time (real chargers 5–20 ms).  When its modem delivers
    CM_ATTEN_PROFILE.IND for a PEV, ATTEN_CHAR.IND carries their average; otherwise the ccs-ev.md §4
    profile.  ATTEN_CHAR.IND goes out on the last sound (CNT 0) or, if that sound was lost, when
    the TIME_OUT window announced by START_ATTEN_CHAR.IND (6 × 100 ms) ends — as ISO 15118-3
    chargers do.
    """

    def __init__(self, mac: bytes, nid: bytes, nmk: bytes, name: str = "slac_evse", link: str = "plc",
                 configure_modem: bool = True, modem_restart: float = 8.0, response_delay: float = 0.008) -> None:
        super().__init__(name, mac, link, (EvseState.CONFIGURING if configure_modem else EvseState.SERVING).value,
                         EVSE_SUCCESSORS)
        if len(nid) != 7 or len(nmk) != 16 or nid[6] & 0xC0:
            raise ValueError("NID is 7 bytes (54 bits), NMK 16 bytes")
        self.nid = nid
        self.nmk = nmk
        self.modem_restart = modem_restart
        self.response_delay = response_delay
        self.sessions: dict[bytes, _PevSession] = {}
        self.matched: list[bytes] = []
        self._outbox: list[tuple[float, F.Mme]] = []
        self.timers = Timers()
        if configure_modem:
            self.timers.start(EvseTimer.SET_KEY_RETRY, 0.0)  # the first SET_KEY.REQ at once
        self._arm()

    def get_timer(self) -> float | None:
        return self.timers.next()

    def handle_timer(self, now: float) -> None:
        # the queues first, then the modem step: the order this responder has always used
        for purpose in (EvseTimer.SEND, EvseTimer.SOUNDING_WINDOW, EvseTimer.SET_KEY_RETRY, EvseTimer.MODEM_RESTART):
            if due(self.timers.at(purpose), now):
                self._on_timer(purpose, now)
        self._arm()

    def _on_timer(self, purpose: EvseTimer, now: float) -> None:
        if purpose is EvseTimer.SEND:
            ready = [m for t, m in self._outbox if due(t, now)]
            self._outbox = [(t, m) for t, m in self._outbox if not due(t, now)]
            for mme in ready:
                self._send(mme)
        elif purpose is EvseTimer.SOUNDING_WINDOW:
            for pev, session in self.sessions.items():
                if not session.atten_sent and due(session.atten_due, now):
                    self._log("sounding-window-over", pev=F.format_mac(pev))
                    self._atten_char(now, pev, session)
        elif purpose is EvseTimer.SET_KEY_RETRY:
            self._send(F.SetKeyReq(dest=F.BROADCAST, source=self.mac, nid=self.nid, nmk=self.nmk))
            self.timers.start(EvseTimer.SET_KEY_RETRY, now + 1.0)  # retry if the modem does not confirm
        else:  # MODEM_RESTART
            self.timers.cancel(EvseTimer.MODEM_RESTART)
            self._enter(EvseState.SERVING.value)

    def _arm(self) -> None:
        """The queue timers follow their earliest entries."""
        self.timers.cancel(EvseTimer.SEND)
        if self._outbox:
            self.timers.start(EvseTimer.SEND, min(t for t, _ in self._outbox))
        self.timers.cancel(EvseTimer.SOUNDING_WINDOW)
        windows = [s.atten_due for s in self.sessions.values() if s.atten_due is not None and not s.atten_sent]
        if windows:
            self.timers.start(EvseTimer.SOUNDING_WINDOW, min(windows))

    def _later(self, now: float, mme: F.Mme) -> None:
        self._outbox.append((now + self.response_delay, mme))

    def receive(self, event: Event, now: float) -> None:
        self._receive(event, now)
        self._arm()

    def _receive(self, event: Event, now: float) -> None:
        mme = self._decode(event)
        if mme is None:
            return
        if isinstance(mme, F.SetKeyCnf):
            if self.state == EvseState.CONFIGURING and mme.dest == self.mac and mme.accepted:
                self._enter(EvseState.MODEM_RESTART.value)
                self.timers.cancel(EvseTimer.SET_KEY_RETRY)
                self.timers.start(EvseTimer.MODEM_RESTART, now + self.modem_restart)
            return
        if self.state != EvseState.SERVING:
            return
        if isinstance(mme, F.SlacParamReq):
            self.sessions[mme.source] = _PevSession(mme.run_id, [0] * NUM_GROUPS)
            self._later(now, F.SlacParamCnf(dest=mme.source, source=self.mac, forwarding_sta=mme.source,
                                            run_id=mme.run_id))
            return
        if isinstance(mme, F.AttenProfileInd):
            session = self.sessions.get(mme.pev_mac)
            if session is not None and len(mme.groups) == NUM_GROUPS:
                session.profile_sum = [a + b for a, b in zip(session.profile_sum, mme.groups, strict=True)]
                session.profiles += 1
            return
        session = self.sessions.get(mme.source)
        run_id = getattr(mme, "run_id", None)
        if session is None or run_id is None:
            return
        if run_id != session.run_id:
            self._reject(f"RunID {run_id.hex()} is not the one of this PEV's SLAC_PARAM.REQ", mme)
            return
        if isinstance(mme, F.StartAttenCharInd) and session.atten_due is None:
            session.atten_due = now + mme.time_out * 0.1
        elif isinstance(mme, F.MnbcSoundInd) and mme.count == 0 and not session.atten_sent:
            self._atten_char(now, mme.source, session)
        elif isinstance(mme, F.AttenCharRsp):
            self._log("atten-char-rsp", pev=F.format_mac(mme.source), result=mme.result)
        elif isinstance(mme, F.SlacMatchReq):
            if mme.dest != self.mac or mme.evse_mac != self.mac:
                self._reject("MATCH.REQ for another EVSE", mme)
                return
            self._later(now, F.SlacMatchCnf(dest=mme.source, source=self.mac, pev_mac=mme.source, evse_mac=self.mac,
                                            run_id=run_id, nid=self.nid, nmk=self.nmk))
            if mme.source not in self.matched:
                self.matched.append(mme.source)
                self._log("matched", pev=F.format_mac(mme.source))

    def _atten_char(self, now: float, pev: bytes, session: _PevSession) -> None:
        session.atten_sent = True
        self._later(now, F.AttenCharInd(dest=pev, source=self.mac, source_address=pev, run_id=session.run_id,
                                        groups=self._profile(session)))

    @staticmethod
    def _profile(session: _PevSession) -> bytes:
        if not session.profiles:
            return DEFAULT_PROFILE
        return bytes(min(255, round(s / session.profiles)) for s in session.profile_sum)
