"""The charger side of a DC V2G session (SECC), DIN SPEC 70121, ISO 15118-2 DC and ISO 15118-20 DC, EIM.

It answers one EV over one TCP stream: handshake (the offered schema of best priority that we
support), SessionSetup (any request SessionID of 1–8 bytes, ours as configured — Tesla uses 4),
then every DC EIM request with the field values real cars accepted (ccs-ev.md §15).  The power
electronics behind the answers (insulation test, precharge slew, present voltage/current) are a
:class:`PowerStage` (the simulated one is :class:`ccs2chademo.sim.charger.PowerStageModel`).

Latency per reply and a ``hook`` that may rewrite a reply (fault injection) come from outside,
so the same machine is a fast Alpitronic, a slow Compleo or a charger that stops answering.
Requests out of sequence get FAILED_SequenceError, a wrong SessionID FAILED_UnknownSession
(as a real Supercharger did).  An ISO 15118-20 session (``Schema.ISO20`` among ``schemas``)
follows the -20 message order, offers the control modes ``iso20_control_modes`` in
ServiceDetailRes and answers ScheduleExchange in the mode asked for (:mod:`.codec20`).  With
``iso20_bpt`` it lists bidirectional DC (DC_BPT) too; an EV that selects it is discharged whenever
it offers to be (:meth:`Secc._bpt_target`, docs/iso20.md "The bidi-wallbox").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final, Protocol

from ..deadline import Timers
from ..runtime.events import (
    CloseLink,
    DataReceived,
    Event,
    InputChanged,
    LinkDown,
    LinkUp,
    SendData,
)
from ..runtime.machine import MachineBase, successor_table
from ..runtime.signals import Output
from . import codec, v2gtp
from .messages import (
    ISO20_CONTROL_MODES,
    ISO20_DC_BPT_SERVICE,
    ISO20_DC_SERVICE,
    EvMessage,
    EvseMessage,
    Kind,
    Schema,
)

EPSILON: Final = 1e-9


class SeccState(StrEnum):
    """The server's states; the values are the session log's."""

    LISTENING = "Listening"
    HANDSHAKE = "Handshake"  # connected: SupportedAppProtocol next
    SESSION = "Session"  # a protocol was negotiated


#: What may follow each state (docs/machines.md): any end of the connection goes back to listening.
SECC_SUCCESSORS = successor_table({
    SeccState.LISTENING: {SeccState.HANDSHAKE},
    SeccState.HANDSHAKE: {SeccState.SESSION, SeccState.LISTENING},
    SeccState.SESSION: {SeccState.LISTENING},
})


class SeccTimer(StrEnum):
    """What the server waits for.  ``reply`` stands for the queue of delayed replies: its deadline
    is the earliest one's."""

    REPLY = "reply"
    IDLE_TIMEOUT = "idle-timeout"  # no request for ``SeccConfig.idle_timeout``: close


#: read on every request and reply: module constants, not Enum class attribute lookups
_T_REPLY: Final = SeccTimer.REPLY
_T_IDLE_TIMEOUT: Final = SeccTimer.IDLE_TIMEOUT
_K_CABLE_CHECK: Final = Kind.CABLE_CHECK
_K_CHARGE_PARAMETER_DISCOVERY: Final = Kind.CHARGE_PARAMETER_DISCOVERY
_K_CONTRACT_AUTHENTICATION: Final = Kind.CONTRACT_AUTHENTICATION
_K_CURRENT_DEMAND: Final = Kind.CURRENT_DEMAND
_K_POWER_DELIVERY: Final = Kind.POWER_DELIVERY
_K_PRE_CHARGE: Final = Kind.PRE_CHARGE
_K_SESSION_SETUP: Final = Kind.SESSION_SETUP
_K_SESSION_STOP: Final = Kind.SESSION_STOP
_K_SUPPORTED_APP_PROTOCOL: Final = Kind.SUPPORTED_APP_PROTOCOL
_K_WELDING_DETECTION: Final = Kind.WELDING_DETECTION
_TIMER_ORDER: Final = (_T_REPLY, _T_IDLE_TIMEOUT)


class PowerStage(Protocol):
    """The charger's power electronics as the SECC sees them."""

    def set_ev_contactor(self, closed: bool, now: float) -> None: ...

    def cable_check(self, now: float) -> bool:
        """Run (or continue) the insulation test; True once it is finished."""
        ...

    def precharge(self, target_voltage: float, target_current: float, now: float) -> float:
        """Slew toward the target; the present output voltage."""
        ...

    def power_delivery(self, on: bool, now: float) -> str:
        """Switch energy transfer; the ResponseCode ("OK" or a FAILED_* name)."""
        ...

    def current_demand(self, target_voltage: float, target_current: float, now: float) -> tuple[float, float, str]:
        """Present voltage, present current and the DC_EVSEStatusCode name."""
        ...

    def welding(self, now: float) -> float:
        """Present voltage while the EV checks its contactors."""
        ...

    def reset(self, now: float) -> None: ...


@dataclass(slots=True, init=False)
class Reply:
    """What the SECC does with one request: answer after ``delay``, stay silent, or RST.

    ``raw`` replaces the answer with bytes sent as they are, each chunk ``offset`` seconds after
    ``delay`` — what a broken or hostile charger sends (``sim/hostile.py``): a corrupt or
    oversized message, a V2GTP length field of 4 GB, a reply dripped one byte per second.
    """

    message: Final[EvseMessage | None]
    delay: Final[float]
    reset: Final[bool]
    raw: Final[tuple[tuple[float, bytes], ...]]

    def __init__(
        self,
        message: EvseMessage | None,
        delay: float = 0.0,
        reset: bool = False,
        raw: tuple[tuple[float, bytes], ...] = (),
    ) -> None:
        self.message = message
        self.delay = delay
        self.reset = reset
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Reply) and self.message == other.message and self.delay == other.delay and
                self.reset == other.reset and self.raw == other.raw)

    def __hash__(self) -> int:
        return hash((self.message, self.delay, self.reset, self.raw))


#: Rewrites a reply (fault injection); gets the request and the reply the charger would give.
ReplyHook = Callable[[EvMessage, Reply], Reply]
Latency = Callable[[EvMessage], float]


@dataclass(frozen=True)
class SeccConfig:
    """Field values of the answers (defaults: ccs-ev.md §15)."""

    session_id: bytes = bytes.fromhex("0102030405060708")
    evse_id: bytes = bytes.fromhex("5a5a3030303030")  # "ZZ00000"
    session_setup_code: str = "OK_NewSessionEstablished"
    schemas: tuple[Schema, ...] = (Schema.DIN, Schema.ISO2)
    max_voltage: float = 450.0
    max_current: float = 200.0
    max_power: float = 10_000.0 * 10
    min_voltage: float = 200.0
    min_current: float = 1.0
    current_regulation_tolerance: float = 5.0
    peak_current_ripple: float = 5.0
    #: ContractAuthentication/Authorization answers Ongoing this many times before Finished.
    authorization_ongoing: int = 1
    #: … and, besides, keeps answering Ongoing until this long after the first request (a charger
    #: waiting for an RFID card or an app; 0: no wait).
    authorization_wait_s: float = 0.0
    #: The literal of those Ongoing answers in ISO 15118-2 (DIN knows only "Ongoing").
    iso_ongoing_literal: str = "Ongoing"
    #: DC_EVSEStatusCode in ChargeParameterDiscoveryRes (Compleo: EVSE_NotReady).
    parameter_status: str = "EVSE_Ready"
    #: Which EVSEMaximum*Limit fields CurrentDemandRes carries (Compleo: current and power).
    demand_limits: frozenset[str] = frozenset({"voltage", "current", "power"})
    #: Close the connection after this long without a request (longer than every EV timeout,
    #: ISO-2's 60 s sequence timeout).
    idle_timeout: float = 60.0
    #: ISO 15118-20: the control modes offered in ServiceDetailRes, one parameter set each (IDs 1, 2, …)
    iso20_control_modes: tuple[str, ...] = ("scheduled", "dynamic")
    #: ISO 15118-20: offer bidirectional DC (DC_BPT) besides DC; its discharge limits are the
    #: charge limits (``max_current``, ``max_power``)
    iso20_bpt: bool = False

    def __post_init__(self) -> None:
        if not 1 <= len(self.session_id) <= 8:
            raise ValueError("SessionID is 1 to 8 bytes")
        if not self.iso20_control_modes or not set(self.iso20_control_modes) <= set(ISO20_CONTROL_MODES.values()):
            raise ValueError("iso20_control_modes: one or more of scheduled, dynamic")


#: Responses that carry a DC_EVSEStatus.
DC_STATUS_KINDS: Final = frozenset({
    Kind.CHARGE_PARAMETER_DISCOVERY, Kind.CABLE_CHECK, Kind.PRE_CHARGE, Kind.POWER_DELIVERY,
    Kind.CURRENT_DEMAND, Kind.WELDING_DETECTION,
})

#: What may follow each request (DIN/ISO-2 DC EIM message sequence); SessionStop ends any state.
_NEXT: dict[Kind | None, frozenset[Kind]] = {
    None: frozenset({Kind.SESSION_SETUP}),
    Kind.SESSION_SETUP: frozenset({Kind.SERVICE_DISCOVERY}),
    Kind.SERVICE_DISCOVERY: frozenset({Kind.SERVICE_PAYMENT_SELECTION}),
    Kind.SERVICE_PAYMENT_SELECTION: frozenset({Kind.CONTRACT_AUTHENTICATION}),
    Kind.CONTRACT_AUTHENTICATION: frozenset({Kind.CONTRACT_AUTHENTICATION, Kind.CHARGE_PARAMETER_DISCOVERY}),
    Kind.CHARGE_PARAMETER_DISCOVERY: frozenset({Kind.CHARGE_PARAMETER_DISCOVERY, Kind.CABLE_CHECK}),
    Kind.CABLE_CHECK: frozenset({Kind.CABLE_CHECK, Kind.PRE_CHARGE}),
    Kind.PRE_CHARGE: frozenset({Kind.PRE_CHARGE, Kind.POWER_DELIVERY}),
    Kind.POWER_DELIVERY: frozenset({Kind.CURRENT_DEMAND, Kind.POWER_DELIVERY, Kind.WELDING_DETECTION}),
    Kind.CURRENT_DEMAND: frozenset({Kind.CURRENT_DEMAND, Kind.POWER_DELIVERY}),
    Kind.WELDING_DETECTION: frozenset({Kind.WELDING_DETECTION}),
    Kind.SESSION_STOP: frozenset(),
}
#: … and in an ISO 15118-20 DC session (its setup order; from CableCheck on as above)
_NEXT20: dict[Kind | None, frozenset[Kind]] = {
    None: frozenset({Kind.SESSION_SETUP}),
    Kind.SESSION_SETUP: frozenset({Kind.AUTHORIZATION_SETUP}),
    Kind.AUTHORIZATION_SETUP: frozenset({Kind.CONTRACT_AUTHENTICATION}),
    Kind.CONTRACT_AUTHENTICATION: frozenset({Kind.CONTRACT_AUTHENTICATION, Kind.SERVICE_DISCOVERY}),
    Kind.SERVICE_DISCOVERY: frozenset({Kind.SERVICE_DETAIL}),
    Kind.SERVICE_DETAIL: frozenset({Kind.SERVICE_DETAIL, Kind.SERVICE_SELECTION}),
    Kind.SERVICE_SELECTION: frozenset({Kind.CHARGE_PARAMETER_DISCOVERY}),
    Kind.CHARGE_PARAMETER_DISCOVERY: frozenset({Kind.SCHEDULE_EXCHANGE}),
    Kind.SCHEDULE_EXCHANGE: frozenset({Kind.SCHEDULE_EXCHANGE, Kind.CABLE_CHECK}),
    **{last: nxt for last, nxt in _NEXT.items() if last is not None and last not in (
        Kind.SESSION_SETUP, Kind.SERVICE_DISCOVERY, Kind.SERVICE_PAYMENT_SELECTION, Kind.CONTRACT_AUTHENTICATION,
        Kind.CHARGE_PARAMETER_DISCOVERY)},
}


def _allowed(table: dict[Kind | None, frozenset[Kind]]) -> dict[Kind | None, frozenset[Kind]]:
    """What may follow: the successors, and SessionStop after anything but the start."""
    return {last: nxt if last is None else nxt | {Kind.SESSION_STOP} for last, nxt in table.items()}


_ALLOWED: Final = _allowed(_NEXT)
_ALLOWED20: Final = _allowed(_NEXT20)


class Secc(MachineBase):
    """One charger connector's V2G server (see the module docstring)."""

    def __init__(self, stage: PowerStage, name: str = "secc", config: SeccConfig | None = None,
                 latency: Latency | None = None, hook: ReplyHook | None = None, link: str = "tcp",
                 exi: codec.Codec = codec.EXI) -> None:
        """``exi``: the EXI codec (the simulation passes its cache, ``sim/codec_cache.py``)."""
        super().__init__(name, SeccState.LISTENING.value, SECC_SUCCESSORS)
        self.cfg = config or SeccConfig()
        self._exi = exi
        self.stage = stage
        self.latency = latency or (lambda req: 0.0)
        self.hook = hook
        self.link = link
        self.schema: Schema | None = None
        self.requests = 0
        self._stream = v2gtp.V2gtpStream()
        self._last: Kind | None = None
        self._power_on = False
        self._ongoing_left = self.cfg.authorization_ongoing
        self._authorization_from: float | None = None
        self._bpt = False  # the EV selected DC_BPT
        self._replies: list[tuple[float, Reply]] = []
        self.timers = Timers()
        self._connected = False

    # ------------------------------------------------------------------ machine protocol
    def get_timer(self) -> float | None:
        return self.timers.next()

    def handle_timer(self, now: float) -> None:
        now += EPSILON  # the runtime may round a deadline to the nanosecond below it
        # the replies first, then the idle check: the order this server has always used
        for purpose in _TIMER_ORDER:
            at = self.timers.at(purpose)
            if at is not None and at <= now:
                self._on_timer(purpose, now)
        self._arm_reply()

    def _on_timer(self, purpose: SeccTimer, now: float) -> None:
        if purpose is _T_REPLY:
            due = [p for p in self._replies if p[0] <= now]
            self._replies = [p for p in self._replies if p[0] > now]
            for _, reply in due:
                self._deliver(reply, now)
        elif self._connected:  # IDLE_TIMEOUT
            self._log("idle-timeout")
            self._emit(CloseLink(self.link, abort=False))
            self._reset(now)

    def _arm_reply(self) -> None:
        """The reply timer follows the earliest queued reply."""
        if self._replies:  # start() re-arms (same order and earliest as cancel() first), one dict op fewer
            self.timers.start(_T_REPLY, min(t for t, _ in self._replies))
        else:
            self.timers.cancel(_T_REPLY)

    def receive(self, event: Event, now: float) -> None:
        self._receive(event, now)
        self._arm_reply()

    def _receive(self, event: Event, now: float) -> None:
        if isinstance(event, LinkUp):
            self._reset(now)
            self._connected = True
            self.timers.start(_T_IDLE_TIMEOUT, now + self.cfg.idle_timeout)
            self._enter(SeccState.HANDSHAKE.value)
        elif isinstance(event, LinkDown):
            self._log("link-down", reason=event.reason)
            self._reset(now)
        elif isinstance(event, DataReceived):
            self._on_data(event.data, now)
        elif isinstance(event, InputChanged) and event.name == Output.EV_CONTACTOR:
            self.stage.set_ev_contactor(bool(event.value), now)

    # ------------------------------------------------------------------ receiving
    def _reset(self, now: float) -> None:
        self._connected = False
        self._stream = v2gtp.V2gtpStream()
        self.schema = None
        self._last = None
        self._power_on = False
        self._ongoing_left = self.cfg.authorization_ongoing
        self._authorization_from = None
        self._bpt = False
        self._replies = []
        self.timers.clear()
        self.stage.reset(now)
        self._enter(SeccState.LISTENING.value)

    def _on_data(self, data: bytes, now: float) -> None:
        if not self._connected:
            return
        try:
            frames = self._stream.feed(data)
        except v2gtp.V2gtpError as exc:
            self._log("bad-frame", error=str(exc))
            self._emit(CloseLink(self.link, abort=False))
            self._reset(now)
            return
        for frame in frames:
            self.timers.start(_T_IDLE_TIMEOUT, now + self.cfg.idle_timeout)
            try:
                if self.schema is Schema.ISO20:
                    from . import codec20  # imported at the first -20 message: as in evcc.py, module doc
                    request = codec20.decode_request(frame.payload, frame.payload_type)
                else:
                    request = self._exi.decode_request(frame.payload, self.schema)
            except codec.CodecError as exc:
                self._log("bad-message", error=str(exc))
                continue
            self.requests += 1
            reply = self._answer(request, now)
            if self.hook is not None:
                reply = self.hook(request, reply)
            if reply.raw:
                for offset, chunk in reply.raw:
                    self._replies.append((now + reply.delay + offset, Reply(None, raw=((0.0, chunk),))))
                continue
            if reply.message is None and not reply.reset:
                self._log("no-response", msg=request.kind)
                continue
            self._replies.append((now + reply.delay, reply))

    def _deliver(self, reply: Reply, now: float) -> None:
        if not self._connected:
            return
        if reply.reset:
            self._log("reset-connection")
            self._emit(CloseLink(self.link, abort=True))
            self._reset(now)
            return
        if reply.raw:
            self._emit(SendData(self.link, reply.raw[0][1]))
            return
        assert reply.message is not None
        iso20 = self.schema is Schema.ISO20 and reply.message.kind is not _K_SUPPORTED_APP_PROTOCOL
        try:
            if iso20:
                from . import codec20  # imported at the first -20 message: module doc
                payload = codec20.encode_response(reply.message, int(now))
            else:
                payload = self._exi.encode_response(reply.message, self.schema if reply.message.kind
                                                    is not _K_SUPPORTED_APP_PROTOCOL else None)
        except codec.CodecError as exc:
            self._log("encode-failed", error=str(exc))
            return
        if iso20:
            self._emit(SendData(self.link, v2gtp.encode(payload, codec20.payload_type(reply.message.kind))))
        else:
            self._emit(SendData(self.link, v2gtp.encode(payload)))
        if reply.message.kind is _K_SUPPORTED_APP_PROTOCOL and reply.message.response_code != "Failed_NoNegotiation":
            self._enter(SeccState.SESSION.value)

    # ------------------------------------------------------------------ answering
    def _answer(self, req: EvMessage, now: float) -> Reply:
        delay = self.latency(req)
        if req.kind is _K_SUPPORTED_APP_PROTOCOL:
            return Reply(self._negotiate(req), delay)
        if req.kind is not _K_SESSION_SETUP and req.session_id != self.cfg.session_id:
            return Reply(self._failed(req.kind, "FAILED_UnknownSession"), delay)
        if req.kind not in (_ALLOWED20 if self.schema is Schema.ISO20 else _ALLOWED)[self._last]:
            self._log("sequence-error", got=req.kind, after=self._last)
            return Reply(self._failed(req.kind, "FAILED_SequenceError"), delay)
        if req.kind is _K_CURRENT_DEMAND and not self._power_on:
            # Alpitronic: PowerDelivery with ReadyToChargeState false, then CurrentDemand (ccs-ev.md §9 row 9)
            return Reply(replace(self._failed(req.kind, "FAILED_SequenceError"), status_code="EVSE_Shutdown"), delay)
        self._last = req.kind
        return Reply(self._respond20(req, now) if self.schema is Schema.ISO20 else self._respond(req, now), delay)

    def _negotiate(self, req: EvMessage) -> EvseMessage:
        ours = [p for p in sorted(req.protocols, key=lambda p: p.priority) if p.schema in self.cfg.schemas]
        if not ours:
            return EvseMessage(_K_SUPPORTED_APP_PROTOCOL, response_code="Failed_NoNegotiation")
        chosen = ours[0]
        self.schema = chosen.schema
        self._log("negotiated", schema=self.schema, schema_id=chosen.schema_id)
        return EvseMessage(_K_SUPPORTED_APP_PROTOCOL, response_code="OK_SuccessfulNegotiation",
                           schema_id=chosen.schema_id)

    def _failed(self, kind: Kind, code: str) -> EvseMessage:
        return self._base(kind, code, status="EVSE_Ready" if kind in DC_STATUS_KINDS else None)

    def _base(self, kind: Kind, code: str = "OK", status: str | None = None, valid: bool = False,
              **fields: Any) -> EvseMessage:
        """A response; with a DC_EVSEStatus (``status``) the isolation is Invalid unless ``valid``."""
        isolation = "Valid" if valid else "Invalid" if status is not None else None
        return EvseMessage(kind, response_code=code, session_id=self.cfg.session_id, status_code=status,
                           isolation=isolation, **fields)

    def _respond20(self, req: EvMessage, now: float) -> EvseMessage:
        """An ISO 15118-20 DC answer: its own setup messages here, the rest as DIN/ISO-2 with the
        request's control mode (:mod:`.codec20` maps the DC_EVSEStatusCodes)."""
        cfg = self.cfg
        kind = req.kind
        services = (ISO20_DC_SERVICE, ISO20_DC_BPT_SERVICE) if cfg.iso20_bpt else (ISO20_DC_SERVICE,)
        if kind is Kind.SERVICE_DISCOVERY:
            return self._base(kind, services=services)
        if kind is Kind.SERVICE_DETAIL:
            if req.service_id not in services:
                return self._base(kind, "FAILED_ServiceIDInvalid")
            return self._base(kind, service_id=req.service_id,
                              parameter_sets=tuple(enumerate(cfg.iso20_control_modes, 1)))
        if kind is Kind.SERVICE_SELECTION:
            if req.service_id not in services or not 1 <= req.parameter_set_id <= len(cfg.iso20_control_modes):
                return self._base(kind, "FAILED_ServiceSelectionInvalid")
            self._bpt = req.service_id == ISO20_DC_BPT_SERVICE
            return self._base(kind)
        bpt = self._bpt
        if kind is Kind.SCHEDULE_EXCHANGE:
            return self._base(kind, processing="Finished", control_mode=req.control_mode, max_power=cfg.max_power,
                              sa_schedule_tuple_id=1, schedule_discharge_power=cfg.max_power if bpt and (
                                  req.control_mode == "scheduled") else None)
        if kind is Kind.AUTHORIZATION_SETUP:
            return self._base(kind)
        if bpt and kind is _K_CURRENT_DEMAND:
            req = replace(req, target_current=self._bpt_target(req))
        answer = replace(self._respond(req, now), control_mode=req.control_mode)
        if bpt and kind in (_K_CHARGE_PARAMETER_DISCOVERY, _K_CURRENT_DEMAND):
            answer = replace(answer, max_discharge_current=cfg.max_current, max_discharge_power=cfg.max_power,
                             min_voltage=cfg.min_voltage)
        return answer

    def _bpt_target(self, req: EvMessage) -> float:
        """The current a DC_BPT charger sets (negative: out of the battery).  Scheduled mode: the
        EV's EVTargetCurrent, as it is.  Dynamic mode, where the charger decides: a discharge at
        the EV's EVMaximumDischargeCurrent whenever it offers one (the power stage holds it to the
        charger's limits), else a charge at the EV's EVMaximumChargeCurrent."""
        if req.control_mode == "dynamic" and req.max_discharge_current:
            return -req.max_discharge_current
        return req.target_current

    def _respond(self, req: EvMessage, now: float) -> EvseMessage:
        cfg = self.cfg
        kind = req.kind
        if kind is _K_SESSION_SETUP:
            return self._base(kind, cfg.session_setup_code, evse_id=cfg.evse_id)
        if kind is _K_CONTRACT_AUTHENTICATION:
            if self._authorization_from is None:
                self._authorization_from = now
            ongoing = self._ongoing_left > 0 or now - self._authorization_from < cfg.authorization_wait_s
            self._ongoing_left -= 1
            literal = cfg.iso_ongoing_literal if self.schema is Schema.ISO2 else "Ongoing"
            return self._base(kind, processing=literal if ongoing else "Finished")
        if kind is _K_CHARGE_PARAMETER_DISCOVERY:
            return self._base(
                kind, status=cfg.parameter_status, processing="Finished", max_voltage=cfg.max_voltage,
                max_current=cfg.max_current, max_power=cfg.max_power, min_voltage=cfg.min_voltage,
                min_current=cfg.min_current, current_regulation_tolerance=cfg.current_regulation_tolerance,
                peak_current_ripple=cfg.peak_current_ripple, sa_schedule_tuple_id=1)
        if kind is _K_CABLE_CHECK:
            if self.stage.cable_check(now):
                return self._base(kind, status="EVSE_Ready", valid=True, processing="Finished")
            return self._base(kind, status="EVSE_IsolationMonitoringActive", processing="Ongoing")
        if kind is _K_PRE_CHARGE:
            voltage = self.stage.precharge(req.target_voltage, req.target_current, now)
            return self._base(kind, status="EVSE_Ready", valid=True, present_voltage=voltage)
        if kind is _K_POWER_DELIVERY:
            code = self.stage.power_delivery(req.power_on, now)
            self._power_on = req.power_on and code == "OK"
            return self._base(kind, code, status="EVSE_Ready", valid=True)
        if kind is _K_CURRENT_DEMAND:
            voltage, current, status = self.stage.current_demand(req.target_voltage, req.target_current, now)
            # what ``self._base(kind, status=status, valid=True, …)`` makes, in one direct call: through
            # ``_base``'s ``**fields`` the message is built by a Python-level keyword call that parses 33
            # keywords (≈ 17 000 instructions, 2.5 % of a session without the codec cache; callgrind)
            return EvseMessage(
                kind, response_code="OK", session_id=cfg.session_id, status_code=status, isolation="Valid",
                present_voltage=voltage, present_current=current,
                current_limit_achieved=current >= cfg.max_current - 0.5,
                voltage_limit_achieved=voltage >= cfg.max_voltage - 0.5,
                max_voltage=cfg.max_voltage if "voltage" in cfg.demand_limits else None,
                max_current=cfg.max_current if "current" in cfg.demand_limits else None,
                max_power=cfg.max_power if "power" in cfg.demand_limits else None,
                sa_schedule_tuple_id=1)
        if kind is _K_WELDING_DETECTION:
            return self._base(kind, status="EVSE_Ready", valid=True, present_voltage=self.stage.welding(now))
        if kind is _K_SESSION_STOP:
            self.stage.power_delivery(False, now)
        return self._base(kind)
