"""The car's connection supervisor: SLAC → SDP → TCP, then V2GTP to the V2G session above it.

ccs-ev.md §13.2 describes *connection levels* (retriggerable timers, highest wins) because the
reference PEVs run everything from one 30 ms loop.  With sans-I/O machines the same rules are a
plain state machine, which is easier to test and cannot drift into a level that no layer owns:

==============  ======  =====================================================================
state           level   leaves on
==============  ======  =====================================================================
``modem``       5       a local modem answered GET_SW → ``slac`` (ccs-ev.md §5; asks again until one does)
``slac``        10      SET_KEY.CNF accepted → ``sdp`` (SlacPev retries itself; 15 s guard)
``sdp``         15      valid response → ``connecting``; 50 requests unanswered → ``modem``
``connecting``  50      LinkUp → ``connected`` (``tls`` when TLS was agreed); refused/timeout → warm restart
``tls``         60      handshake done → ``connected``; any TLS failure → ``finished``
``connected``   80      LinkDown → warm restart; the session closes → ``finished``
==============  ======  =====================================================================

**TLS** (:mod:`ccs2chademo.v2g.tls`, docs/tls.md): with a :class:`~ccs2chademo.v2g.tls.
TlsPolicy` other than ``off`` the SDP request asks for TLS (security 0x00) and the charger's answer
decides: 0x00 → a :class:`~ccs2chademo.v2g.tls.TlsChannel` (part ``tls``) sits between TCP and the
V2GTP stream; 0x10 → plain TCP with ``prefer`` (logged ``tls-declined``), the end with ``require``
(``tls-failed``, cause ``not-offered``).  A TLS failure (bad certificate, alert, handshake failure
or stall, a bad record) closes TCP and reaches the session as ``LinkDown("v2g", "tls-<cause>: …")``;
the connection is then ``finished`` (the bridge decides whether a new CCS session starts).  Before
``LinkUp`` the session gets ``InputChanged("tls", TlsInfo)`` when the link is secured (an ISO
15118-20 session must know the version, [V2G20-1237]).

*Warm restart* (ccs-ev.md §6): one SDP request, 0.5 s, then SLAC again.  **From ``connecting`` on, every
HomePlug frame and SDP datagram is ignored** (ccs-ev.md §13.2, §16 rule 4): a neighbour car's MATCH.CNF
must never reach a SET_KEY while a session runs.

The seam for the V2G session (``session``, e.g. the EVCC machine) is the ordinary machine
protocol on one datagram link named ``"v2g"``: it receives ``LinkUp("v2g", peer)`` when TCP is
connected to the announced address/port, ``FrameReceived("v2g", exi)`` for every complete V2GTP
message of payload type 0x8001 — or 0x8002/0x8004, ISO 15118-20's common and DC message sets —
(the 8-byte header stripped, reassembled however TCP split it), and ``LinkDown("v2g", reason)``
when TCP ends; it answers with ``SendFrame("v2g", exi)`` (framed here with a V2GTP header of type
0x8001, or of the type an ISO 15118-20 session gives as the frame's ``dest``) and
``CloseLink("v2g", abort)`` (FIN, or RST with ``abort``).  Its timer and all its other actions
(``Log``, ``SetOutput``) pass through unchanged.
"""

from __future__ import annotations

import random
from enum import StrEnum
from typing import Any, Final, cast

from ..deadline import Timers, due
from ..runtime.events import (
    Action,
    CloseLink,
    DataReceived,
    Event,
    FrameReceived,
    InputChanged,
    LinkDown,
    LinkUp,
    OpenLink,
    SendData,
    SendFailed,
    SendFrame,
    SetOutput,
)
from ..runtime.machine import Machine, MachineBase, machine_base, successor_table
from ..v2g import v2gtp
from ..v2g.discovery import SdpClient, SdpResult
from ..v2g.sdp import Security
from ..v2g.tls import TlsChannel, TlsFailure, TlsMode, TlsPolicy, link_down_reason, tagged
from .finder import FinderState, ModemFinder
from .slac import SlacPev, SlacResult, SlacTiming

SESSION_LINK: Final = "v2g"
MAX_TCP_FAILURES: Final = 3


class ConnectionState(StrEnum):
    """The supervisor's states (the table of the module docstring); the values are the session log's."""

    IDLE = "idle"
    MODEM = "modem"
    SLAC = "slac"
    SDP = "sdp"
    CONNECTING = "connecting"
    TLS = "tls"
    CONNECTED = "connected"
    FINISHED = "finished"


C = ConnectionState

# Plain values of the states compared on hot paths: a compiled module reads a module constant
# natively, while an Enum member is a class-attribute lookup on every comparison.
_C_CONNECTED: Final = "connected"
_C_CONNECTING: Final = "connecting"
_C_IDLE: Final = "idle"
_C_MODEM: Final = "modem"
_C_SDP: Final = "sdp"
_C_SLAC: Final = "slac"
_C_TLS: Final = "tls"
#: V2GTP payload types passed to the session: DIN/ISO-2 (and every handshake) and ISO 15118-20 DC
_SESSION_PAYLOAD_TYPES: Final = frozenset({v2gtp.PayloadType.EXI, v2gtp.PayloadType.ISO20_COMMON_MESSAGES,
                                           v2gtp.PayloadType.ISO20_DC})
#: ccs-ev.md §13.2 connection level of each state
LEVELS: Final[dict[str, int]] = {C.MODEM: 5, C.SLAC: 10, C.SDP: 15, C.CONNECTING: 50, C.TLS: 60, C.CONNECTED: 80,
                          C.FINISHED: 5, C.IDLE: 5}
#: What may follow each state (docs/machines.md): ``modem`` is the full restart, ``sdp`` the warm
#: one (ccs-ev.md §6); a finished session's supervisor is replaced, not restarted.
CONNECTION_SUCCESSORS = successor_table({
    C.IDLE: {C.MODEM},
    C.MODEM: {C.SLAC},
    C.SLAC: {C.SDP},
    C.SDP: {C.CONNECTING, C.MODEM, C.FINISHED},  # modem: SDP unanswered; finished: TLS required, not offered
    C.CONNECTING: {C.CONNECTED, C.TLS, C.SDP, C.MODEM},  # modem: MAX_TCP_FAILURES in a row
    C.TLS: {C.CONNECTED, C.FINISHED},  # finished: the handshake failed
    C.CONNECTED: {C.FINISHED, C.SDP},
    C.FINISHED: set(),
})


class ConnectionTimer(StrEnum):
    """What the supervisor itself waits for (its parts and the session keep their own timers)."""

    POWER_ON = "power-on"  # start at the first timer (``start_at``)
    CONNECT_TIMEOUT = "connect-timeout"  # TCP not connected within ``connect_timeout``


class PevConnection(MachineBase):
    """Composite machine on links ``plc`` (raw HomePlug), ``sdp`` (UDP) and ``tcp`` (stream)."""

    def __init__(self, mac: bytes, rng: random.Random, session: Machine | None = None, name: str = "connection",
                 scope_id: int = 0, timing: SlacTiming | None = None, connect_timeout: float = 5.0,
                 sdp_requests: int = 50, start_at: float = 0.0, tls: TlsPolicy | None = None) -> None:
        super().__init__(name, C.IDLE.value, CONNECTION_SUCCESSORS)
        self.tls = tls or TlsPolicy()
        self.finder = ModemFinder(mac, name=f"{name}.finder")
        self.slac = SlacPev(mac, rng, name=f"{name}.slac", timing=timing)
        self.sdp = SdpClient(name=f"{name}.sdp", scope_id=scope_id, max_requests=sdp_requests,
                             security=self.tls.security)
        #: the TLS connection of the present TCP connection, when the charger agreed to TLS
        self.tls_channel: TlsChannel | None = None
        self._secure = False  # the SDP answer agreed to TLS: the next TCP connection is secured
        self._peer: Any = None
        # a MachineBase (wrapped if need be): compiled, the calls at every event are vtable calls
        self.session: MachineBase | None = None if session is None else machine_base(session)
        self.scope_id = scope_id
        self.connect_timeout = connect_timeout
        self.slac_result: SlacResult | None = None
        self.sdp_result: SdpResult | None = None
        self.ignored = 0
        self.connected_at: float | None = None
        #: first time each state was entered (power-on → SLAC → SDP → TCP figures)
        self.milestones: dict[str, float] = {}
        self._now = 0.0
        self._stream = v2gtp.V2gtpStream()
        self.timers = Timers()
        self.timers.start(ConnectionTimer.POWER_ON, start_at)
        self._tcp_failures = 0
        self._level = -1

    # -- control ------------------------------------------------------------------------------
    def start(self, now: float) -> None:
        """Power-on, and every full restart (ccs-ev.md §13.2: any failure → back to level 5)."""
        self._goto(C.MODEM)
        self.finder.start(now)
        self._pump()

    @property
    def evse_mac(self) -> bytes | None:
        """The charger's MAC: from the SDP answer where it tells (ccs-ev.md §16 rule 8), else from SLAC."""
        if self.sdp_result is not None and self.sdp_result.evse_mac is not None:
            return self.sdp_result.evse_mac
        return self.slac_result.evse_mac if self.slac_result is not None else None

    @property
    def level(self) -> int:
        return LEVELS[self.state]

    def _goto(self, state: ConnectionState, **why: Any) -> None:
        self._enter(state.value, **why)  # the plain value: the session log shows it (docs/machines.md)
        self.milestones.setdefault(state, self._now)
        if self.level != self._level:
            self._level = self.level
            self._emit(SetOutput("connection_level", self._level))

    def _pump(self) -> None:
        """Move the parts' actions into our queue; react to what they finished."""
        for part in (self.finder, self.slac, self.sdp):
            for action in part.actions():
                self._emit(tagged(action, part.name.rsplit(".", 1)[-1]))  # keep which part decided
        self._drain_tls()
        if self.session is not None:
            for action in self.session.actions():
                self._from_session(action)

    # -- machine protocol -----------------------------------------------------------------------
    def get_timer(self) -> float | None:
        """The earliest of our own deadline, the active part's and the session's (asked after
        every event: no list built)."""
        deadline = self.timers.next()
        state = self.state
        part = (self.finder if state == _C_MODEM else self.slac if state == _C_SLAC
                else self.sdp if state == _C_SDP else None)
        if part is not None:
            t = part.get_timer()
            if t is not None and (deadline is None or t < deadline):
                deadline = t
        elif state == _C_TLS and self.tls_channel is not None:
            t = self.tls_channel.get_timer()
            if t is not None and (deadline is None or t < deadline):
                deadline = t
        if self.session is not None:
            t = self.session.get_timer()
            if t is not None and (deadline is None or t < deadline):
                deadline = t
        return deadline

    def handle_timer(self, now: float) -> None:
        self._now = now
        if self.state == _C_IDLE and self._level < 0:  # the first call starts, due or not (the bridge's kickoff)
            self.timers.cancel(ConnectionTimer.POWER_ON)
            self._on_timer(ConnectionTimer.POWER_ON, now)
            return
        if self.state == _C_MODEM and due(self.finder.get_timer(), now):
            self.finder.handle_timer(now)
        if self.state == _C_SLAC and due(self.slac.get_timer(), now):
            self.slac.handle_timer(now)
        if self.state == _C_SDP and due(self.sdp.get_timer(), now):
            self.sdp.handle_timer(now)
        channel = self.tls_channel
        if self.state == _C_TLS and channel is not None and due(channel.get_timer(), now):
            channel.handle_timer(now)
            if channel.failed:
                self._tls_failed(channel, now)
        if self.session is not None and due(self.session.get_timer(), now):
            self.session.handle_timer(now)
        for purpose in self.timers.expired(now):
            self._on_timer(cast(ConnectionTimer, purpose), now)  # the member armed: no Enum lookup
        self._pump()
        self._advance(now)

    def _on_timer(self, purpose: ConnectionTimer, now: float) -> None:
        if purpose is ConnectionTimer.POWER_ON:
            self.start(now)
        elif self.state == _C_CONNECTING:  # CONNECT_TIMEOUT
            self._emit(CloseLink("tcp", abort=True))  # no connection yet: nothing to FIN
            self._restart_warm(now, "TCP connect timed out")

    def receive(self, event: Event, now: float) -> None:
        self._now = now
        link = getattr(event, "link", None)
        if link == "plc":
            if self.state == _C_MODEM:
                self.finder.receive(event, now)
            elif self.state == _C_SLAC:
                self.slac.receive(event, now)
            elif isinstance(event, FrameReceived):
                self._ignore("HomePlug frame", event)
        elif link == "sdp":
            if self.state == _C_SDP:
                self.sdp.receive(event, now)
            elif isinstance(event, FrameReceived):
                self._ignore("SDP datagram", event)
        elif link == "tcp":
            self._on_tcp(event, now)
        elif isinstance(event, InputChanged) and self.session is not None:
            self.session.receive(event, now)  # inputs of the session (e.g. the bridge's EV request)
        self._pump()
        self._advance(now)

    def _ignore(self, what: str, event: FrameReceived) -> None:
        """Count every ignored frame; log the first ten and then every hundredth (a charger
        misusing ATTEN_CHAR.IND sent 210 of them during one session)."""
        self.ignored += 1
        if self.ignored <= 10 or self.ignored % 100 == 0:
            self._log("ignored", reason=f"{what} in state {self.state}", length=len(event.frame), count=self.ignored)

    # -- progress -------------------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        if self.state == _C_MODEM and self.finder.state == FinderState.DONE:
            self._goto(C.SLAC, modems=len(self.finder.found))
            self.slac.start(now)
            self._pump()
        elif self.state == _C_SLAC and self.slac.result is not None:
            self.slac_result = self.slac.result
            self._goto(C.SDP, evse=self.slac_result.evse_mac.hex())
            self.sdp.start(now)
            self._pump()
        elif self.state == _C_SDP and self.sdp.result is not None:
            self.sdp_result = result = self.sdp.result
            if not self._agree_tls(result, now):
                return
            self._goto(C.CONNECTING, address=str(result.address), port=result.port)
            # ccs-ev.md §16 rule 1: the announced address and port, with our interface's scope id
            self._emit(OpenLink("tcp", target=(str(result.address), result.port, 0, self.scope_id)))
            self.timers.start(ConnectionTimer.CONNECT_TIMEOUT, now + self.connect_timeout)
        elif self.state == _C_SDP and self.sdp.failed:
            self._log("restart", reason=f"SDP unanswered after {self.sdp.sent} requests", step="modem")
            self.start(now)

    def _agree_tls(self, result: SdpResult, now: float) -> bool:
        """The charger's SDP answer decides TLS (module docstring); False: the session ends here."""
        mode = self.tls.mode
        self._secure = mode is not TlsMode.OFF and result.security == Security.TLS
        if mode is TlsMode.OFF or self._secure:
            return True
        if mode is TlsMode.PREFER:
            self._log("tls-declined", security=result.security)
            return True
        failure = (TlsFailure.NOT_OFFERED, f"the SDP answer's security is 0x{result.security:02x}, tls = require")
        self._log("tls-failed", part="tls", cause=failure[0].value, detail=failure[1], after_ms=0.0)
        self._to_session(LinkDown(SESSION_LINK, link_down_reason(failure)), now)
        self._goto(C.FINISHED, reason=f"tls-{failure[0].value}")
        return False

    def _tls_failed(self, channel: TlsChannel, now: float, close: bool = True) -> None:
        """A TLS failure ends this connection: FIN after the alert (unless TCP is gone), the
        session told why."""
        assert channel.failure is not None
        self._drain_tls()
        self.tls_channel = None
        if close:
            self._emit(CloseLink("tcp", abort=False))
        self._to_session(LinkDown(SESSION_LINK, link_down_reason(channel.failure)), now)
        self._goto(C.FINISHED, reason=f"tls-{channel.failure[0].value}")

    def _drain_tls(self) -> None:
        if self.tls_channel is not None:
            for action in self.tls_channel.actions():
                self._emit(tagged(action, "tls"))

    def _restart_warm(self, now: float, reason: str) -> None:
        """ccs-ev.md §6: one SDP request and 0.5 s, then SLAC (SdpClient failure takes us to SLAC).

        After ``MAX_TCP_FAILURES`` TCP failures without a connection in between, SLAC starts
        over at once."""
        self._stream = v2gtp.V2gtpStream()
        self.tls_channel = None
        self._tcp_failures += 1
        if self._tcp_failures >= MAX_TCP_FAILURES:
            self._tcp_failures = 0
            self._log("restart", reason=reason, step="modem", failures=MAX_TCP_FAILURES)
            self.start(now)
            return
        self._log("restart", reason=reason, step="sdp")
        self._goto(C.SDP, warm=True)
        self.sdp.start(now, max_requests=1)
        self._pump()

    def _on_tcp(self, event: Event, now: float) -> None:
        if isinstance(event, LinkUp) and self.state == _C_CONNECTING:
            self.timers.cancel(ConnectionTimer.CONNECT_TIMEOUT)
            self.connected_at = now
            self._tcp_failures = 0
            self._stream = v2gtp.V2gtpStream()
            self._peer = event.peer
            if self._secure:
                assert self.tls.context is not None  # TlsPolicy guarantees it unless the mode is off
                self.tls_channel = TlsChannel(self.tls.context, server_side=False, name=f"{self.name}.tls",
                                              handshake_timeout=self.tls.handshake_timeout)
                self._goto(C.TLS, peer=str(event.peer))
                self.tls_channel.start(now)
            else:
                self._goto(C.CONNECTED, peer=str(event.peer))
                self._to_session(LinkUp(SESSION_LINK, event.peer), now)
        elif isinstance(event, LinkDown):
            handshaking = self.tls_channel
            if self.state == _C_TLS and handshaking is not None:
                handshaking.lost(event.reason, now)
                self._tls_failed(handshaking, now, close=False)
            elif self.state == _C_CONNECTED:
                self._to_session(LinkDown(SESSION_LINK, event.reason), now)
                self._restart_warm(now, f"TCP {event.reason}")
            elif self.state == _C_CONNECTING:
                self.timers.cancel(ConnectionTimer.CONNECT_TIMEOUT)
                self._restart_warm(now, f"TCP connect {event.reason}")
        elif isinstance(event, DataReceived) and (self.state == _C_CONNECTED or self.state == _C_TLS):
            data = event.data
            channel = self.tls_channel
            if channel is not None:
                data = self._decrypt(channel, data, now)
                if not data:
                    return
            try:
                messages = self._stream.feed(data)
            except v2gtp.V2gtpError as exc:
                self._log("rejected", reason=str(exc), step="v2gtp")
                self._emit(CloseLink("tcp"))
                self._to_session(LinkDown(SESSION_LINK, f"error: {exc}"), now)
                self._restart_warm(now, "bad V2GTP header")
                return
            for message in messages:
                if message.payload_type not in _SESSION_PAYLOAD_TYPES:
                    self._log("ignored", reason=f"V2GTP payload type 0x{message.payload_type:04x} on TCP")
                    continue
                self._to_session(FrameReceived(SESSION_LINK, message.payload), now)
        elif isinstance(event, SendFailed):
            self._log("send-failed", link="tcp", reason=event.reason)

    def _decrypt(self, channel: TlsChannel, data: bytes, now: float) -> bytes:
        """Ciphertext in, plaintext out; the handshake's end connects the session."""
        plain = channel.feed(data, now)
        self._drain_tls()
        if channel.failed:
            self._tls_failed(channel, now)
            return b""
        if self.state == _C_TLS and channel.established:
            assert channel.info is not None
            self._goto(C.CONNECTED, peer=str(self._peer), tls=channel.info.version)
            self._to_session(InputChanged("tls", channel.info), now)
            self._to_session(LinkUp(SESSION_LINK, self._peer), now)
        return plain

    # -- the seam ---------------------------------------------------------------------------------
    def _to_session(self, event: Event, now: float) -> None:
        if self.session is not None:
            self.session.receive(event, now)

    def _from_session(self, action: Action) -> None:
        if isinstance(action, SendFrame) and action.link == SESSION_LINK:
            if self.state == _C_CONNECTED:
                channel = self.tls_channel
                # the session names an ISO 15118-20 message set by the payload type in ``dest``
                payload_type = action.dest if isinstance(action.dest, int) else v2gtp.PayloadType.EXI
                if channel is None:
                    self._emit(SendData("tcp", v2gtp.encode(action.frame, payload_type)))
                else:
                    channel.send(v2gtp.encode(action.frame, payload_type))
                    self._drain_tls()
            else:
                self._log("dropped", reason=f"session sent in state {self.state}")
        elif isinstance(action, CloseLink) and action.link == SESSION_LINK:
            if self.state == _C_CONNECTED:
                if self.tls_channel is not None and not action.abort:
                    self.tls_channel.close()  # close_notify before the FIN
                    self._drain_tls()
                self._emit(CloseLink("tcp", action.abort))
                self._goto(C.FINISHED)
        else:
            self._emit(action)
