"""The car side of a DC V2G session (EVCC): DIN SPEC 70121, ISO 15118-2 DC and ISO 15118-20 DC with EIM.

One sans-I/O machine runs the whole application layer over one TCP stream (ccs-ev.md §8–§12,
ccs-ev.md §16): SupportedAppProtocol → SessionSetup → ServiceDiscovery → (Service)PaymentSelection →
ContractAuthentication/Authorization → ChargeParameterDiscovery → CableCheck → PreCharge →
PowerDelivery(ON) → CurrentDemand loop → PowerDelivery(OFF) → WeldingDetection → SessionStop →
FIN.  What the car side wants arrives as ``InputChanged("request", EvRequest)``; what the
hardware must do leaves as ``SetOutput(Output.CP, "B"|"C")`` and ``SetOutput(Output.EV_CONTACTOR,
bool)`` (the car's own contactors, runtime/signals.py); everything a bridge needs to know
leaves as ``SetOutput("status", EvccStatus)``.

ISO 15118-20 DC (docs/iso20.md) runs in the same machine when ``iso20_priority`` offers it and the
charger picks it: its setup takes its own path (:data:`SETUP_SEQUENCE`: AuthorizationSetup and
Authorization before ServiceDiscovery, ServiceDetail/ServiceSelection, ScheduleExchange after
ChargeParameterDiscovery), then the same states as DIN from CableCheck on.  ``state`` stays the
DIN-named phase (what the bridge compares); :attr:`Evcc.state_name` is the -20 name shown in
summaries and stop reasons.  Every -20 message goes through :mod:`.codec20`, imported at the
first -20 message: its generated schema modules are large (≈ 1 MB of source; compiled from source
they took ≈ 70 MB at import where bytecode caches cannot be written), and a session that never
negotiates -20 needs none of them.

Who opens TCP: the Evcc itself, with ``OpenLink(link, address)`` — at ``config.start_at`` when
``config.secc`` is set ("no SLAC, link already up" mode), or on ``InputChanged("secc",
address)`` from the SDP/SLAC supervisor.  A ``LinkUp`` while idle (someone else connected) also
starts the session.

Three ways a session ends, all with CP B, contactors open and TCP closed by FIN:

* **normal stop** (EV stop request, battery full, EVSE_Shutdown, or at once on
  EVSE_EmergencyShutdown/EVSE_Malfunction): PowerDelivery(OFF) → CP B → 300 ms → contactors open
  → bounded WeldingDetection → SessionStop → FIN (ccs-ev.md §12.2);
* **safe shutdown** (non-OK ResponseCode, timeout, loop limit, TCP loss, bad data, a stop before
  CurrentDemand): CP B → 2 s → contactors open → 1 s → FIN (ccs-ev.md §12.3);
* the reason is always in ``stop_reason`` (rule 16), as ``"<cause>:<state>"``.

States only move forward (rule 13): PowerDelivery(ON) and PowerDelivery(OFF) are separate states.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import pairwise
from typing import Any, Final, cast

from ..deadline import Timers
from ..runtime.events import (
    Address,
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
from ..runtime.machine import MachineBase, successor_table
from ..runtime.signals import Output
from . import codec, v2gtp
from .messages import (
    DIN_PROTOCOL,
    ISO2_PROTOCOL,
    ISO20_CONTROL_MODES,
    ISO20_DC_BPT_SERVICE,
    ISO20_DC_PROTOCOL,
    ISO20_DC_SERVICE,
    OK_CODES,
    PROCESSING_FINISHED,
    PROCESSING_ONGOING,
    SAP_OK_CODES,
    AppProtocol,
    EvMessage,
    EvseMessage,
    Kind,
    Schema,
)
from .tls import TLS_STOP_CAUSES

EPSILON: Final = 1e-9  # the runtime may round a deadline to the nanosecond below it

class EvccState(StrEnum):
    """The session's states (rule 13: they only move forward, in this order); the values are the
    session log's ``state`` records and what other code compares ``Evcc.state`` with."""

    IDLE = "Idle"
    CONNECTING = "Connecting"
    SUPPORTED_APP_PROTOCOL = "SupportedAppProtocol"
    SESSION_SETUP = "SessionSetup"
    AUTHORIZATION_SETUP = "AuthorizationSetup"  # ISO 15118-20 only
    AUTHORIZATION = "Authorization"  # ISO 15118-20 only (before ServiceDiscovery there)
    SERVICE_DISCOVERY = "ServiceDiscovery"
    SERVICE_DETAIL = "ServiceDetail"  # ISO 15118-20 only
    SERVICE_SELECTION = "ServiceSelection"  # ISO 15118-20 only
    SERVICE_PAYMENT_SELECTION = "ServicePaymentSelection"
    CONTRACT_AUTHENTICATION = "ContractAuthentication"
    CHARGE_PARAMETER_DISCOVERY = "ChargeParameterDiscovery"
    SCHEDULE_EXCHANGE = "ScheduleExchange"  # ISO 15118-20 only
    CABLE_CHECK = "CableCheck"
    WAIT_FOR_PRE_CHARGE = "WaitForPreCharge"
    PRE_CHARGE = "PreCharge"
    CONTACTORS_CLOSING = "ContactorsClosing"
    POWER_DELIVERY_ON = "PowerDeliveryOn"
    CURRENT_DEMAND = "CurrentDemand"
    POWER_DELIVERY_OFF = "PowerDeliveryOff"
    STOP_WAIT = "StopWait"
    WELDING_DETECTION = "WeldingDetection"
    SESSION_STOP = "SessionStop"
    SAFE_SHUTDOWN = "SafeShutdown"
    END = "End"


S = EvccState

# Plain values of the states compared on hot paths: a compiled module reads a module constant
# natively, while an Enum member is a class-attribute lookup on every comparison.
_S_CONNECTING: Final = "Connecting"
_S_CURRENT_DEMAND: Final = "CurrentDemand"
_S_END: Final = "End"
_S_IDLE: Final = "Idle"
_S_POWER_DELIVERY_OFF: Final = "PowerDeliveryOff"
_S_POWER_DELIVERY_ON: Final = "PowerDeliveryOn"
_S_SESSION_STOP: Final = "SessionStop"
_S_WAIT_FOR_PRE_CHARGE: Final = "WaitForPreCharge"
#: The states in their (monotonic) order.
STATES = tuple(EvccState)
_STOPPED: Final = frozenset({S.SAFE_SHUTDOWN, S.END})
#: The DIN/ISO-2 session's path (rule 13: states only move forward, checked by a test) …
_POWER_PATH = (S.CABLE_CHECK, S.WAIT_FOR_PRE_CHARGE, S.PRE_CHARGE, S.CONTACTORS_CLOSING, S.POWER_DELIVERY_ON,
               S.CURRENT_DEMAND, S.POWER_DELIVERY_OFF, S.STOP_WAIT, S.WELDING_DETECTION, S.SESSION_STOP, S.END)
_PATH = (S.IDLE, S.CONNECTING, S.SUPPORTED_APP_PROTOCOL, S.SESSION_SETUP, S.SERVICE_DISCOVERY,
         S.SERVICE_PAYMENT_SELECTION, S.CONTRACT_AUTHENTICATION, S.CHARGE_PARAMETER_DISCOVERY, *_POWER_PATH)
#: … the ISO 15118-20 session's path: its setup messages in the schema's order (SETUP_SEQUENCE), then
#: the same phases as DIN/ISO-2 from CableCheck on …
SETUP_SEQUENCE: Final = (
    (S.SESSION_SETUP, Kind.SESSION_SETUP), (S.AUTHORIZATION_SETUP, Kind.AUTHORIZATION_SETUP),
    (S.AUTHORIZATION, Kind.CONTRACT_AUTHENTICATION), (S.SERVICE_DISCOVERY, Kind.SERVICE_DISCOVERY),
    (S.SERVICE_DETAIL, Kind.SERVICE_DETAIL), (S.SERVICE_SELECTION, Kind.SERVICE_SELECTION),
    (S.CHARGE_PARAMETER_DISCOVERY, Kind.CHARGE_PARAMETER_DISCOVERY), (S.SCHEDULE_EXCHANGE, Kind.SCHEDULE_EXCHANGE),
)
#: state of a -20 setup step → the next step
_SETUP_NEXT: Final = {state.value: step for (state, _), step in pairwise(SETUP_SEQUENCE)}
_PATH20 = (S.IDLE, S.CONNECTING, S.SUPPORTED_APP_PROTOCOL, *(state for state, _ in SETUP_SEQUENCE), *_POWER_PATH)
#: the states only a -20 session enters
ISO20_ONLY_STATES: Final = frozenset(state.value for state in _PATH20) - {state.value for state in _PATH}
#: The -20 names of the phases a -20 session shares with DIN/ISO-2: what summaries and stop reasons
#: show (``ccs_states``, ``battery-full:DC_ChargeLoop``); ``Evcc.state`` keeps the DIN-named phase
#: every consumer (the bridge) already understands.
ISO20_STATE_NAMES: Final = {state.value: name for state, name in (
    (S.CHARGE_PARAMETER_DISCOVERY, "DC_ChargeParameterDiscovery"), (S.CABLE_CHECK, "DC_CableCheck"),
    (S.PRE_CHARGE, "DC_PreCharge"), (S.CURRENT_DEMAND, "DC_ChargeLoop"), (S.WELDING_DETECTION, "DC_WeldingDetection"))}
#: … the moves that skip a step on it (a LinkUp while idle; an EVSE stop in PowerDeliveryRes(ON)) …
_SKIPS: Final = {S.IDLE: {S.SUPPORTED_APP_PROTOCOL}, S.POWER_DELIVERY_ON: {S.POWER_DELIVERY_OFF}}
#: … and the safe shutdown, which every state before it may fall into (ccs-ev.md §12.3) and which
#: ends the session: what may follow each state (docs/machines.md).
def _successors() -> dict[str, set[str]]:
    """Each path's next step, the skips, and the safe shutdown after any state before it."""
    table: dict[str, set[str]] = {S.SAFE_SHUTDOWN: {S.END}, S.END: set()}
    for path in (_PATH, _PATH20):
        for state, after in pairwise(path):
            table.setdefault(state, {S.SAFE_SHUTDOWN, *_SKIPS.get(state, ())}).add(after)
    return table


SUCCESSORS = successor_table(_successors())
#: The states in which a stop request is a safe shutdown (before PowerDelivery(ON), ccs-ev.md §12.3).
_BEFORE_POWER: Final = frozenset(STATES[:STATES.index(S.POWER_DELIVERY_ON)])


class EvccTimer(StrEnum):
    """What the Evcc waits for (one at a time: arming one replaces the other)."""

    START = "start"  # "no SLAC, link already up": connect at ``start_at``
    CONNECT_TIMEOUT = "connect-timeout"
    RESPONSE_TIMEOUT = "response-timeout"  # the request ``_timer_msg`` is unanswered
    RESEND = "resend"  # the next request ``_timer_msg`` of an Ongoing/PreCharge/welding loop
    PRECHARGE_START = "precharge-start"  # the delay after CableCheck
    CAR_NOT_READY = "car-not-ready"  # ready_to_start never came
    PRECHARGE_TIMEOUT = "precharge-timeout"
    POWER_DELIVERY_ON = "power-delivery-on"  # the contactors settled
    NEXT_CURRENT_DEMAND = "next-current-demand"
    OPEN_CONTACTORS = "open-contactors"  # normal stop: CP B → this → contactors open, welding
    SAFE_OPEN = "safe-open"  # safe shutdown: CP B → this → contactors open
    END = "end"  # safe shutdown: … → this → unlock, FIN


#: read on every CurrentDemand round: module constants, not Enum class attribute lookups
_T_RESPONSE_TIMEOUT: Final = EvccTimer.RESPONSE_TIMEOUT
_T_RESEND: Final = EvccTimer.RESEND
_T_NEXT_CURRENT_DEMAND: Final = EvccTimer.NEXT_CURRENT_DEMAND
_K_CURRENT_DEMAND: Final = Kind.CURRENT_DEMAND
_K_PRE_CHARGE: Final = Kind.PRE_CHARGE
_K_SESSION_SETUP: Final = Kind.SESSION_SETUP
_K_SUPPORTED_APP_PROTOCOL: Final = Kind.SUPPORTED_APP_PROTOCOL
_SCHEMA_DIN: Final = Schema.DIN
_SCHEMA_ISO2: Final = Schema.ISO2
_SCHEMA_ISO20: Final = Schema.ISO20
#: the requests a DC_BPT session changes (:meth:`Evcc._bpt_fields`)
_BPT_KINDS: Final = frozenset({Kind.CHARGE_PARAMETER_DISCOVERY, Kind.SCHEDULE_EXCHANGE, Kind.POWER_DELIVERY,
                               Kind.CURRENT_DEMAND})
#: V2GTP payload types a -20 session reads besides the handshake's (its message sets)
_ISO20_PAYLOAD_TYPES: Final = frozenset({v2gtp.PayloadType.ISO20_COMMON_MESSAGES, v2gtp.PayloadType.ISO20_DC})


#: EVSEStatusCodes that let a session continue (ccs-ev.md §12.1).
RUNNING_STATUSES: Final = frozenset({None, "EVSE_NotReady", "EVSE_Ready", "EVSE_IsolationMonitoringActive"})
#: EVSEStatusCodes that stop a running CurrentDemand with PowerDelivery(OFF), mapped to the cause.
STOP_STATUSES: Final = {
    "EVSE_Shutdown": "evse-shutdown",
    "EVSE_EmergencyShutdown": "evse-emergency-shutdown",
    "EVSE_Malfunction": "evse-malfunction",
}


@dataclass(slots=True, init=False)
class EvRequest:
    """What the car side wants; the bridge sends a new one whenever something changes.

    * ``target_voltage``/``target_current``: CurrentDemand EVTargetVoltage/EVTargetCurrent
      (voltage capped at ``max_voltage``, current at ``max_current`` and the EVSE's dynamic limit);
    * ``precharge_voltage``: PreCharge EVTargetVoltage (the battery voltage or its estimate);
    * ``max_voltage``/``max_current``/``max_power``: EVMaximum*Limit in ChargeParameterDiscovery
      and every CurrentDemandReq (max_voltage = CHAdeMO target + 1 V, rule 11);
    * ``soc``: EVRESSSOC in every DC_EVStatus (0–100);
    * ``stop``: end the session (normal stop in CurrentDemand, safe shutdown before it);
    * ``hold_precharge``: once the precharge voltage is reached keep re-sending PreChargeReq
      (≈450 ms) instead of completing — the adapter's precharge stall (adapter.md §2 step 5);
    * ``ready_to_start``: the first PreChargeReq waits for it after CableCheck;
    * ``discharge_current_limit``: what a bidirectional charger may take from the battery (A; the
      CHAdeMO car's 0x200 maximum or the adapter's fallback, in V2X mode); above 0 an ISO 15118-20
      session selects DC_BPT when the charger offers it (docs/iso20.md "BPT");
    * ``discharge_floor_soc``, ``battery_capacity_wh``: the car's discharge floor (%) and capacity,
      sent as MinimumSOC and EVMinimumV2XEnergyRequest in a DC_BPT session.
    """

    target_voltage: Final[float]
    target_current: Final[float]
    precharge_voltage: Final[float]
    max_voltage: Final[float]
    max_current: Final[float]
    max_power: Final[float]
    soc: Final[int]
    stop: Final[bool]
    hold_precharge: Final[bool]
    ready_to_start: Final[bool]
    #: the adapter: the car's contactors are still closed, so WeldingDetection rounds do not count
    #: yet (adapter.md §4: counted only after the car's contactors are open)
    welding_hold: Final[bool]
    discharge_current_limit: Final[float]
    discharge_floor_soc: Final[int | None]
    battery_capacity_wh: Final[float]

    def __init__(
        self,
        target_voltage: float = 0.0,
        target_current: float = 0.0,
        precharge_voltage: float = 0.0,
        max_voltage: float = 411.0,
        max_current: float = 200.0,
        max_power: float = 100_000.0,
        soc: int = 20,
        stop: bool = False,
        hold_precharge: bool = False,
        ready_to_start: bool = True,
        welding_hold: bool = False,
        discharge_current_limit: float = 0.0,
        discharge_floor_soc: int | None = None,
        battery_capacity_wh: float = 0.0,
    ) -> None:
        self.target_voltage = target_voltage
        self.target_current = target_current
        self.precharge_voltage = precharge_voltage
        self.max_voltage = max_voltage
        self.max_current = max_current
        self.max_power = max_power
        self.soc = soc
        self.stop = stop
        self.hold_precharge = hold_precharge
        self.ready_to_start = ready_to_start
        self.welding_hold = welding_hold
        self.discharge_current_limit = discharge_current_limit
        self.discharge_floor_soc = discharge_floor_soc
        self.battery_capacity_wh = battery_capacity_wh

    def __eq__(self, other: object) -> bool:
        # compiled field by field (dataclasses' __eq__ runs interpreted); the bridge compares requests on every cycle
        return (isinstance(other, EvRequest) and self.target_voltage == other.target_voltage and
                self.target_current == other.target_current and self.precharge_voltage == other.precharge_voltage and
                self.max_voltage == other.max_voltage and self.max_current == other.max_current and
                self.max_power == other.max_power and self.soc == other.soc and self.stop == other.stop and
                self.hold_precharge == other.hold_precharge and self.ready_to_start == other.ready_to_start and
                self.welding_hold == other.welding_hold and
                self.discharge_current_limit == other.discharge_current_limit and
                self.discharge_floor_soc == other.discharge_floor_soc and
                self.battery_capacity_wh == other.battery_capacity_wh)

    def __hash__(self) -> int:
        return hash((self.target_voltage, self.target_current, self.precharge_voltage, self.max_voltage,
                     self.max_current, self.max_power, self.soc, self.stop, self.hold_precharge, self.ready_to_start,
                     self.welding_hold, self.discharge_current_limit, self.discharge_floor_soc,
                     self.battery_capacity_wh))


@dataclass(slots=True, init=False)
class EvccStatus:
    """Everything the bridge needs from the CCS side, published on every change."""

    state: Final[str]
    schema: Final[str | None]
    session_id: Final[bytes]
    cp: Final[str]
    contactor: Final[bool]
    present_voltage: Final[float | None]
    present_current: Final[float | None]
    evse_status: Final[str | None]
    evse_max_voltage: Final[float | None]
    evse_max_current: Final[float | None]
    evse_max_power: Final[float | None]
    evse_min_voltage: Final[float | None]
    #: latest CurrentDemandRes EVSEMaximumCurrentLimit, else the ChargeParameterDiscovery one
    evse_dynamic_current: Final[float | None]
    charge_parameter_discovery_done: Final[bool]
    cable_check_done: Final[bool]
    precharge_reached: Final[bool]
    current_demand: Final[bool]
    stop_reason: Final[str | None]
    safe_shutdown: Final[bool]
    ended: Final[bool]
    #: the charger agreed to a bidirectional service (ISO 15118-20 DC_BPT): it takes current out
    #: of the battery when it decides to, reading no target current as a discharge allowance
    bidirectional: Final[bool]

    def __init__(
        self,
        state: str,
        schema: str | None = None,
        session_id: bytes = b"",
        cp: str = "B",
        contactor: bool = False,
        present_voltage: float | None = None,
        present_current: float | None = None,
        evse_status: str | None = None,
        evse_max_voltage: float | None = None,
        evse_max_current: float | None = None,
        evse_max_power: float | None = None,
        evse_min_voltage: float | None = None,
        evse_dynamic_current: float | None = None,
        charge_parameter_discovery_done: bool = False,
        cable_check_done: bool = False,
        precharge_reached: bool = False,
        current_demand: bool = False,
        stop_reason: str | None = None,
        safe_shutdown: bool = False,
        ended: bool = False,
        bidirectional: bool = False,
    ) -> None:
        self.state = state
        self.schema = schema
        self.session_id = session_id
        self.cp = cp
        self.contactor = contactor
        self.present_voltage = present_voltage
        self.present_current = present_current
        self.evse_status = evse_status
        self.evse_max_voltage = evse_max_voltage
        self.evse_max_current = evse_max_current
        self.evse_max_power = evse_max_power
        self.evse_min_voltage = evse_min_voltage
        self.evse_dynamic_current = evse_dynamic_current
        self.charge_parameter_discovery_done = charge_parameter_discovery_done
        self.cable_check_done = cable_check_done
        self.precharge_reached = precharge_reached
        self.current_demand = current_demand
        self.stop_reason = stop_reason
        self.safe_shutdown = safe_shutdown
        self.ended = ended
        self.bidirectional = bidirectional

    def __eq__(self, other: object) -> bool:
        # hot: Evcc._publish compares every status it makes with the last (see CarElectrical)
        return (isinstance(other, EvccStatus) and self.state == other.state and self.schema == other.schema and
                self.session_id == other.session_id and self.cp == other.cp and self.contactor == other.contactor and
                self.present_voltage == other.present_voltage and self.present_current == other.present_current and
                self.evse_status == other.evse_status and self.evse_max_voltage == other.evse_max_voltage and
                self.evse_max_current == other.evse_max_current and self.evse_max_power == other.evse_max_power and
                self.evse_min_voltage == other.evse_min_voltage and
                self.evse_dynamic_current == other.evse_dynamic_current and
                self.charge_parameter_discovery_done == other.charge_parameter_discovery_done and
                self.cable_check_done == other.cable_check_done and
                self.precharge_reached == other.precharge_reached and self.current_demand == other.current_demand and
                self.stop_reason == other.stop_reason and self.safe_shutdown == other.safe_shutdown and
                self.ended == other.ended and self.bidirectional == other.bidirectional)

    def __hash__(self) -> int:
        return hash((self.state, self.schema, self.session_id, self.cp, self.contactor, self.present_voltage,
                     self.present_current, self.evse_status, self.evse_max_voltage, self.evse_max_current,
                     self.evse_max_power, self.evse_min_voltage, self.evse_dynamic_current,
                     self.charge_parameter_discovery_done, self.cable_check_done, self.precharge_reached,
                     self.current_demand, self.stop_reason, self.safe_shutdown, self.ended, self.bidirectional))

    def measured(self, voltage: float | None, current: float | None, evse_status: str | None,
                 dynamic_current: float | None) -> EvccStatus:
        """This status with a CurrentDemandRes's measurements (once per exchange: spelled out,
        because ``dataclasses.replace`` costs several times more)."""
        return EvccStatus(
            self.state, self.schema, self.session_id, self.cp, self.contactor, voltage, current, evse_status,
            self.evse_max_voltage, self.evse_max_current, self.evse_max_power, self.evse_min_voltage,
            dynamic_current, self.charge_parameter_discovery_done, self.cable_check_done,
            self.precharge_reached, self.current_demand, self.stop_reason, self.safe_shutdown, self.ended,
            self.bidirectional)

    @property
    def result(self) -> str:
        """``completed`` (normal stop to SessionStop), ``safe-shutdown`` or ``incomplete``."""
        if self.safe_shutdown:
            return "safe-shutdown"
        return "completed" if self.ended else "incomplete"


def _default_timeouts() -> dict[Kind, float]:
    """Per-message response timeouts, ccs-ev.md §11 (PreCharge: 30 s in total, see config)."""
    return {
        Kind.SUPPORTED_APP_PROTOCOL: 2.0,
        Kind.SESSION_SETUP: 2.0,
        Kind.SERVICE_DISCOVERY: 2.0,
        Kind.SERVICE_PAYMENT_SELECTION: 2.0,
        Kind.CONTRACT_AUTHENTICATION: 2.0,
        Kind.CHARGE_PARAMETER_DISCOVERY: 5.0,
        Kind.CABLE_CHECK: 30.0,
        Kind.PRE_CHARGE: 30.0,
        Kind.POWER_DELIVERY: 6.0,
        Kind.CURRENT_DEMAND: 1.0,
        Kind.WELDING_DETECTION: 2.0,
        Kind.SESSION_STOP: 2.0,
    }


def _iso20_timeouts() -> dict[Kind, float]:
    """ISO 15118-20's V2G_EVCC_Msg_Timeout per request (docs/iso20.md "Timing", with sources):
    Table 214 for the common messages (2 s; ServiceDetail 5 s), Table 216 for DC (2 s;
    DC_ChargeLoop 0.5 s).  DC_PreCharge's stays inside the 30 s PreCharge bound (``precharge_total``)."""
    timeouts = dict.fromkeys(
        (Kind.SESSION_SETUP, Kind.AUTHORIZATION_SETUP, Kind.CONTRACT_AUTHENTICATION, Kind.SERVICE_DISCOVERY,
         Kind.SERVICE_SELECTION, Kind.CHARGE_PARAMETER_DISCOVERY, Kind.SCHEDULE_EXCHANGE, Kind.CABLE_CHECK,
         Kind.PRE_CHARGE, Kind.POWER_DELIVERY, Kind.WELDING_DETECTION, Kind.SESSION_STOP), 2.0)
    timeouts[Kind.SERVICE_DETAIL] = 5.0
    timeouts[Kind.CURRENT_DEMAND] = 0.5
    return timeouts


def _default_limits() -> dict[Kind, int]:
    """Request limits of the Ongoing loops (ccs-ev.md §11)."""
    return {
        Kind.CONTRACT_AUTHENTICATION: 120,
        Kind.CHARGE_PARAMETER_DISCOVERY: 60,
        Kind.CABLE_CHECK: 60,
        Kind.SCHEDULE_EXCHANGE: 60,
    }


@dataclass(frozen=True)
class EvccConfig:
    """Fixed behaviour of the EV side; the defaults are the spec values."""

    mac: bytes = bytes.fromhex("020000000001")
    #: Offer in this order; each entry's priority is sent as given (default DIN first).
    protocols: tuple[AppProtocol, ...] = (DIN_PROTOCOL, ISO2_PROTOCOL)
    link: str = "tcp"
    #: The link carries whole EXI documents (``FrameReceived``/``SendFrame``, V2GTP done below
    #: us — the ``"v2g"`` seam of :class:`ccs2chademo.homeplug.connection.PevConnection`) instead
    #: of a V2GTP byte stream (``DataReceived``/``SendData``).
    framed: bool = False
    #: "No SLAC, link already up": connect to this address at ``start_at`` by ourselves.
    secc: Address | None = None
    start_at: float = 0.0
    timeouts: dict[Kind, float] = field(default_factory=_default_timeouts)
    #: ISO 15118-2 overrides (ccs-ev.md §10: 5 s for PowerDelivery).
    iso_timeouts: dict[Kind, float] = field(default_factory=lambda: {Kind.POWER_DELIVERY: 5.0})
    #: ISO 15118-20's timeout of every -20 request (its own table, not DIN's)
    iso20_timeouts: dict[Kind, float] = field(default_factory=_iso20_timeouts)
    #: ISO 15118-20 V2G_EVCC_Ongoing_Timeout: the longest an Ongoing loop (Authorization,
    #: ScheduleExchange, DC_CableCheck) may last, from its first request (docs/iso20.md "Timing")
    iso20_ongoing_timeout: float = 60.0
    limits: dict[Kind, int] = field(default_factory=_default_limits)
    ongoing_interval: float = 1.0  # Ongoing loops poll ≈1/s (ccs-ev.md §11)
    precharge_interval: float = 0.45  # PreChargeReq spacing (ccs-ev.md §9 row 8, adapter stall)
    precharge_total: float = 30.0
    precharge_tolerance: float = 20.0  # |present − target| below this = reached (ccs-ev.md §9 row 8)
    precharge_current: float = 1.0
    precharge_start_delay: float = 0.0  # the adapter uses 2 s (adapter.md §2 step 3)
    precharge_wait_limit: float = 30.0  # bound on waiting for ready_to_start
    contactor_settle: float = 0.45  # contactors closed → PowerDeliveryReq(ON)
    current_demand_interval: float = 0.0  # 0: next CurrentDemandReq as soon as the response is in
    stop_cp_wait: float = 0.3  # PowerDeliveryRes(OFF) → CP B → this → contactors open
    safe_cp_wait: float = 2.0  # safe shutdown: CP B → this → contactors open
    safe_unlock_wait: float = 1.0  # … → this → unlock, FIN
    welding_voltage: float = 40.0
    welding_rounds: int = 10
    welding_duration: float = 20.0
    welding_interval: float = 0.25
    welding_ev_ready: bool = False  # EVReady in WeldingDetectionReq (0 in the adapter)
    stop_soc: int = 100
    energy_capacity: float = 100_000.0  # Wh
    energy_request: float = 100_000.0  # Wh
    full_soc: int = 100
    bulk_soc: int = 80
    remaining_full_s: float = 1200.0
    remaining_bulk_s: float = 600.0
    #: ISO 15118-20 DC: its place among ``protocols`` in the offer (1 = first); None = not offered
    #: (the offer and everything after it as without -20).  Offered only over TLS 1.3 (real -20
    #: chargers require it, [V2G20-1237]) unless ``iso20_without_tls``.
    iso20_priority: int | None = None
    iso20_without_tls: bool = False
    #: the -20 control mode the EV asks for in ServiceSelection: "scheduled" or "dynamic"
    iso20_control_mode: str = "scheduled"
    #: Unix time at ``now`` = 0: every -20 MessageHeader's TimeStamp is ``epoch + now`` (a
    #: composition root reads the clock; 0 in simulation keeps runs reproducible)
    epoch: float = 0.0

    def __post_init__(self) -> None:
        if not self.protocols or len(self.protocols) > 20:
            raise ValueError("offer 1 to 20 app protocols")
        if len({p.schema_id for p in self.protocols}) != len(self.protocols):
            raise ValueError("app protocol SchemaIDs must be distinct")
        if len(self.mac) != 6:
            raise ValueError("EVCCID is the 6-byte MAC")
        if self.iso20_priority is not None and not 1 <= self.iso20_priority <= len(self.protocols) + 1:
            raise ValueError(f"iso20_priority is 1 to {len(self.protocols) + 1}")
        if self.iso20_priority is not None and ISO20_DC_PROTOCOL.schema_id in {p.schema_id for p in self.protocols}:
            raise ValueError(f"SchemaID {ISO20_DC_PROTOCOL.schema_id} is ISO 15118-20's")
        if self.iso20_control_mode not in ISO20_CONTROL_MODES.values():
            raise ValueError("iso20_control_mode is scheduled or dynamic")

    def offer(self, tls_version: str | None) -> tuple[AppProtocol, ...]:
        """The SupportedAppProtocol offer over a link secured with ``tls_version`` (None: plain
        TCP): ``protocols`` as they are, or with -20 at its place and every priority renumbered."""
        if self.iso20_priority is None or (tls_version != "TLSv1.3" and not self.iso20_without_tls):
            return self.protocols
        ordered = sorted(self.protocols, key=lambda p: p.priority)
        ordered.insert(self.iso20_priority - 1, ISO20_DC_PROTOCOL)
        return tuple(replace(p, priority=i) for i, p in enumerate(ordered, 1))


class Evcc(MachineBase):
    """The EV communication controller's session machine (see the module docstring)."""

    def __init__(self, name: str = "evcc", config: EvccConfig | None = None,
                 request: EvRequest | None = None, exi: codec.Codec = codec.EXI) -> None:
        """``exi``: the EXI codec (the simulation passes its cache, ``sim/codec_cache.py``)."""
        super().__init__(name, S.IDLE.value, SUCCESSORS)
        self.cfg = config or EvccConfig()
        self._exi = exi
        self.req = request or EvRequest()
        self.schema: Schema | None = None
        self.session_id = b""
        self.messages = 0  # responses handled
        self.sent = 0  # requests written
        self.states: list[str] = [S.IDLE.value]  # the states entered, as the schema names them
        self._stream = v2gtp.V2gtpStream()
        #: what the machine waits for (one purpose at a time) and the request it is about
        self.timers = Timers()
        self._timer_msg: Kind | None = None  # the request the armed purpose is about (no record built per arm)
        if self.cfg.secc is not None:
            self.timers.start(EvccTimer.START, self.cfg.start_at)
        self._awaiting: Kind | None = None
        self._count: dict[Kind, int] = {}
        self._ongoing_since: dict[Kind, float] = {}  # an Ongoing loop's first request (-20's Ongoing timer)
        self._last_sent = 0.0
        self._link_up = False
        self._sa_tuple = 1
        #: the TLS version of the link (InputChanged "tls" before LinkUp), the offer made on it, and
        #: the -20 service choice (ServiceDetail)
        self._tls_version: str | None = None
        self._offered = self.cfg.protocols
        self._service = ISO20_DC_SERVICE
        self._parameter_set = 0
        #: DC_BPT, scheduled mode: the discharge power of the charger's schedule (None: it has none)
        self._schedule_discharge: float | None = None
        self._cable_check_done_at = 0.0
        self._precharge_deadline = 0.0
        self._welding_started = 0.0
        self._welding_rounds = 0
        self._status = EvccStatus(S.IDLE.value)
        self._published: EvccStatus | None = None
        self._emit(SetOutput(Output.CP, "B"))
        self._emit(SetOutput(Output.EV_CONTACTOR, False))
        self._publish()

    # ------------------------------------------------------------------ machine protocol
    @property
    def status(self) -> EvccStatus:
        return self._status

    @property
    def state_name(self) -> str:
        """The state as the negotiated schema names it (a -20 session: ``DC_ChargeLoop`` for
        ``CurrentDemand``, :data:`ISO20_STATE_NAMES`); what summaries and stop reasons show."""
        if self.schema is _SCHEMA_ISO20:
            return ISO20_STATE_NAMES.get(self.state, self.state)
        return self.state

    @property
    def awaiting(self) -> Kind | None:
        """The request whose response is outstanding (None between requests)."""
        return self._awaiting

    def get_timer(self) -> float | None:
        return self.timers.next()

    def handle_timer(self, now: float) -> None:
        deadline = self.timers.next()
        if deadline is None or now + EPSILON < deadline:
            return
        for purpose in self.timers.expired(now):
            self._on_timer(cast(EvccTimer, purpose), now)  # the member armed: no Enum lookup
        self._publish()

    def _on_timer(self, purpose: EvccTimer, now: float) -> None:
        """What happens when each purpose times out (the one place that says so)."""
        msg, self._timer_msg = self._timer_msg, None
        if purpose is _T_RESPONSE_TIMEOUT:
            assert msg is not None
            self._on_timeout(msg, now)
        elif purpose is _T_RESEND:
            assert msg is not None
            self._send(msg, now)
        elif purpose is _T_NEXT_CURRENT_DEMAND:
            self._next_current_demand(now)
        elif purpose is EvccTimer.POWER_DELIVERY_ON:
            self._next(S.POWER_DELIVERY_ON, Kind.POWER_DELIVERY, now)
        elif purpose is EvccTimer.PRECHARGE_START:
            self._maybe_start_precharge(now)
        elif purpose is EvccTimer.PRECHARGE_TIMEOUT:
            self._safe_shutdown(f"timeout:{self.state_name}", now)
        elif purpose is EvccTimer.CAR_NOT_READY:
            self._safe_shutdown("car-not-ready:WaitForPreCharge", now)
        elif purpose is EvccTimer.OPEN_CONTACTORS:
            self._start_welding(now)
        elif purpose is EvccTimer.SAFE_OPEN:
            self._safe_open(now)
        elif purpose is EvccTimer.END:
            self._end(now)
        elif purpose is EvccTimer.CONNECT_TIMEOUT:
            # abort the attempt: TCP may be up below a TLS handshake that never finished (v2g/tls.py)
            self._emit(CloseLink(self.cfg.link, abort=True))
            self._safe_shutdown("connect-timeout:Connecting", now)
        elif purpose is EvccTimer.START:
            self._start_direct(now)

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, InputChanged):
            self._on_input(event.name, event.value, now)
        elif isinstance(event, LinkUp):
            self._on_link_up(now)
        elif isinstance(event, LinkDown):
            self._on_link_down(event.reason, now)
        elif isinstance(event, DataReceived):
            self._on_data(event.data, now)
        elif isinstance(event, FrameReceived):
            if self.state not in _STOPPED:
                self._on_payload(event.frame, now)
        elif isinstance(event, SendFailed):
            self._safe_shutdown(f"send-failed:{self.state_name}", now)
        self._publish()

    # ------------------------------------------------------------------ inputs and link
    def _on_input(self, name: str, value: Any, now: float) -> None:
        if name == "request":
            if not isinstance(value, EvRequest):
                raise TypeError(f"request must be an EvRequest, got {type(value).__name__}")
            self.req = value
            if value.stop:
                self._on_stop_request(now)
            elif self.state == _S_WAIT_FOR_PRE_CHARGE and value.ready_to_start:
                self._maybe_start_precharge(now)
        elif name == "secc" and self.state == _S_IDLE:
            self._open(value, now)
        elif name == "tls":  # the link below is secured (a TlsInfo), before LinkUp: decides the -20 offer
            self._tls_version = getattr(value, "version", None)

    def _start_direct(self, now: float) -> None:
        if self.state == _S_IDLE:
            self._open(self.cfg.secc, now)

    def _open(self, address: Address, now: float) -> None:
        self._go(S.CONNECTING, target=address)
        self._emit(OpenLink(self.cfg.link, address))
        self._arm(EvccTimer.CONNECT_TIMEOUT, now + self.cfg.timeouts[Kind.SUPPORTED_APP_PROTOCOL])

    def _on_link_up(self, now: float) -> None:
        self._link_up = True
        if self.state in (_S_IDLE, _S_CONNECTING):
            self._go(S.SUPPORTED_APP_PROTOCOL)
            self._offer()
            self._send(Kind.SUPPORTED_APP_PROTOCOL, now)

    def _offer(self) -> None:
        """Choose the SupportedAppProtocol offer for this link (ISO 15118-20 only over TLS 1.3 or
        with ``iso20_without_tls``), logging why -20 is left out or offered without TLS."""
        cfg = self.cfg
        self._offered = cfg.offer(self._tls_version)
        if cfg.iso20_priority is None:
            return
        if self._offered is cfg.protocols:
            self._log("iso20-not-offered", tls=self._tls_version)
        elif self._tls_version != "TLSv1.3":
            self._log("iso20-without-tls", tls=self._tls_version)

    def _on_link_down(self, reason: str, now: float) -> None:
        self._link_up = False
        if self.state == _S_END:
            return
        if self.state == _S_SESSION_STOP:
            self._end(now)
            return
        head = reason.split(":")[0]
        # a failure of the TLS layer below (v2g/tls.py) names its own cause
        cause = head if head in TLS_STOP_CAUSES else "tcp-reset" if reason == "reset" else f"tcp-{head}"
        self._safe_shutdown(f"{cause}:{self.state_name}", now)

    def _on_stop_request(self, now: float) -> None:
        if self.state in _BEFORE_POWER:
            # ccs-ev.md §12.3: a stop requested before CurrentDemand goes straight to safe shutdown.
            self._safe_shutdown(f"ev-stop-request:{self.state_name}", now)
        elif self.state == _S_CURRENT_DEMAND and self._awaiting is None:
            self._normal_stop("ev-stop-request", now)
        # otherwise: evaluated at the next response (CurrentDemand) or already stopping

    # ------------------------------------------------------------------ receiving
    def _on_data(self, data: bytes, now: float) -> None:
        if self.state in _STOPPED:
            return
        try:
            frames = self._stream.feed(data)
        except v2gtp.V2gtpError as exc:
            self._log("bad-frame", error=str(exc))
            self._safe_shutdown(f"bad-frame:{self.state_name}", now)
            return
        for frame in frames:
            if self.state in _STOPPED:
                return
            if frame.payload_type != v2gtp.PayloadType.EXI and not (
                    self.schema is _SCHEMA_ISO20 and frame.payload_type in _ISO20_PAYLOAD_TYPES):
                self._log("ignored-frame", payload_type=frame.payload_type)
                continue
            self._on_payload(frame.payload, now)

    def _on_payload(self, payload: bytes, now: float) -> None:
        kind = self._awaiting
        if kind is None:
            self._log("unexpected-message", state=self.state)
            return
        try:
            if self.schema is _SCHEMA_ISO20 and kind is not _K_SUPPORTED_APP_PROTOCOL:
                from . import codec20  # imported at the first -20 message: module doc
                msg = codec20.decode_response(payload, kind)
            else:
                msg = self._exi.decode_response(payload, self.schema if kind is not _K_SUPPORTED_APP_PROTOCOL else None)
        except codec.CodecError as exc:
            self._log("bad-message", error=str(exc), expected=kind)
            self._safe_shutdown(f"bad-message:{kind}", now)
            return
        if msg.kind is not kind:
            self._log("wrong-response", expected=kind, got=msg.kind)
            self._safe_shutdown(f"unexpected-{msg.kind}:{kind}", now)
            return
        if msg.session_id != self.session_id and kind is not _K_SUPPORTED_APP_PROTOCOL and kind is not _K_SESSION_SETUP:
            # every real charger answers a whole connection with the SessionID of its SessionSetupRes
            # (all captures in shared/data); another one is another session's answer (issue 15)
            self._log("session-id-changed", expected=self.session_id, got=msg.session_id, msg=kind)
            self._safe_shutdown(f"session-id-changed:{kind}", now)
            return
        self._awaiting = None
        self._disarm()
        self.messages += 1
        # str(): a StrEnum's value without the ``.value`` property (a Python-level call per response)
        self._log("response", msg=str(kind), code=msg.response_code, status=msg.status_code,
                  processing=msg.processing, voltage=msg.present_voltage, current=msg.present_current)
        self._dispatch(msg, now)

    def _dispatch(self, msg: EvseMessage, now: float) -> None:
        if msg.kind is Kind.SUPPORTED_APP_PROTOCOL:
            self._on_sap(msg, now)
            return
        if msg.response_code not in OK_CODES:
            self._safe_shutdown(f"{msg.response_code}:{self.state_name}", now)
            return
        handler = (_HANDLERS20 if self.schema is _SCHEMA_ISO20 else _HANDLERS)[msg.kind]
        handler(self, msg, now)

    # ------------------------------------------------------------------ response handlers
    def _on_sap(self, msg: EvseMessage, now: float) -> None:
        if msg.response_code not in SAP_OK_CODES:
            self._safe_shutdown(f"{msg.response_code}:SupportedAppProtocol", now)
            return
        offered = {p.schema_id: p for p in self._offered}
        if msg.schema_id is None:
            chosen = min(self._offered, key=lambda p: p.priority)
        elif msg.schema_id in offered:
            chosen = offered[msg.schema_id]
        else:
            self._safe_shutdown(f"unoffered-schema-{msg.schema_id}:SupportedAppProtocol", now)
            return
        if chosen.schema is None:
            self._safe_shutdown("unsupported-namespace:SupportedAppProtocol", now)
            return
        self.schema = chosen.schema
        self._log("negotiated", schema=self.schema, schema_id=chosen.schema_id)
        self._next(S.SESSION_SETUP, Kind.SESSION_SETUP, now)

    def _on_session_setup(self, msg: EvseMessage, now: float) -> None:
        if self._take_session_id(msg, now):
            self._next(S.SERVICE_DISCOVERY, Kind.SERVICE_DISCOVERY, now)

    def _take_session_id(self, msg: EvseMessage, now: float) -> bool:
        if not 1 <= len(msg.session_id) <= 8:
            self._safe_shutdown("bad-session-id:SessionSetup", now)
            return False
        self.session_id = msg.session_id  # rule 2: echo exactly what the charger gave
        return True

    def _on_service_discovery(self, msg: EvseMessage, now: float) -> None:
        self._next(S.SERVICE_PAYMENT_SELECTION, Kind.SERVICE_PAYMENT_SELECTION, now)

    def _on_payment_selection(self, msg: EvseMessage, now: float) -> None:
        self._next(S.CONTRACT_AUTHENTICATION, Kind.CONTRACT_AUTHENTICATION, now)

    def _on_authorization(self, msg: EvseMessage, now: float) -> None:
        if self._finished(msg, now):
            self._next(S.CHARGE_PARAMETER_DISCOVERY, Kind.CHARGE_PARAMETER_DISCOVERY, now)

    def _on_charge_parameters(self, msg: EvseMessage, now: float) -> None:
        if not self._status_ok(msg, now):
            return
        if not self._finished(msg, now):
            return
        self._status = replace(
            self._status, evse_max_voltage=msg.max_voltage, evse_max_current=msg.max_current,
            evse_max_power=msg.max_power, evse_min_voltage=msg.min_voltage,
            evse_dynamic_current=msg.max_current, charge_parameter_discovery_done=True)
        if msg.sa_schedule_tuple_id is not None:
            self._sa_tuple = msg.sa_schedule_tuple_id
        if self.schema is _SCHEMA_ISO20:
            self._setup_next(now)  # -20: ScheduleExchange before CP C and CableCheck
            return
        self._set(Output.CP, "C")  # ccs-ev.md §13.1: state C once ChargeParameterDiscovery is Finished
        self._next(S.CABLE_CHECK, Kind.CABLE_CHECK, now)

    def _on_cable_check(self, msg: EvseMessage, now: float) -> None:
        if not self._status_ok(msg, now):
            return
        if not self._finished(msg, now):
            return
        self._status = replace(self._status, cable_check_done=True)
        self._cable_check_done_at = now
        self._go(S.WAIT_FOR_PRE_CHARGE)
        self._maybe_start_precharge(now)

    def _maybe_start_precharge(self, now: float) -> None:
        start = self._cable_check_done_at + self.cfg.precharge_start_delay
        if now < start:
            self._arm(EvccTimer.PRECHARGE_START, start)
        elif self.req.ready_to_start:
            self._precharge_deadline = now + self.cfg.precharge_total
            self._next(S.PRE_CHARGE, Kind.PRE_CHARGE, now)
        else:
            self._arm(EvccTimer.CAR_NOT_READY, self._cable_check_done_at + self.cfg.precharge_wait_limit)

    def _on_precharge(self, msg: EvseMessage, now: float) -> None:
        if not self._status_ok(msg, now):
            return
        present = msg.present_voltage
        self._status = replace(self._status, present_voltage=present, evse_status=msg.status_code)
        target = self.req.precharge_voltage
        minimum = self._status.evse_min_voltage
        if (not self._status.precharge_reached and present is not None
                and abs(present - target) < self.cfg.precharge_tolerance
                and (minimum is None or target > minimum)):
            self._status = replace(self._status, precharge_reached=True)
            self._log("precharge-reached", present=present, target=target, hold=self.req.hold_precharge)
        if self._status.precharge_reached and not self.req.hold_precharge:
            self._go(S.CONTACTORS_CLOSING)
            self._set(Output.EV_CONTACTOR, True)
            self._arm(EvccTimer.POWER_DELIVERY_ON, now + self.cfg.contactor_settle)
            return
        at = max(now, self._last_sent + self.cfg.precharge_interval)
        if at >= self._precharge_deadline:
            self._arm(EvccTimer.PRECHARGE_TIMEOUT, self._precharge_deadline)
        else:
            self._arm(EvccTimer.RESEND, at, Kind.PRE_CHARGE)

    def _on_power_delivery(self, msg: EvseMessage, now: float) -> None:
        if self.state == _S_POWER_DELIVERY_OFF:
            self._set(Output.CP, "B")  # ISO Fig. 107: after PowerDeliveryRes(OFF), before WeldingDetection
            self._go(S.STOP_WAIT)
            self._arm(EvccTimer.OPEN_CONTACTORS, now + self.cfg.stop_cp_wait)
            return
        cause = STOP_STATUSES.get(msg.status_code or "")
        if cause is not None:
            self._normal_stop(cause, now)
        elif not self._status_ok(msg, now):
            return
        else:
            self._status = replace(self._status, current_demand=True)
            self._next(S.CURRENT_DEMAND, Kind.CURRENT_DEMAND, now)

    def _on_current_demand(self, msg: EvseMessage, now: float) -> None:
        status = self._status
        dynamic = msg.max_current if msg.max_current is not None else status.evse_max_current
        if (status.present_voltage != msg.present_voltage or status.present_current != msg.present_current
                or status.evse_status != msg.status_code or status.evse_dynamic_current != dynamic):
            self._status = status.measured(msg.present_voltage, msg.present_current, msg.status_code, dynamic)
        cause = STOP_STATUSES.get(msg.status_code or "")
        if cause is not None:
            self._normal_stop(cause, now)
        elif msg.status_code not in RUNNING_STATUSES:
            self._safe_shutdown(f"{msg.status_code}:{self.state_name}", now)
        elif msg.notification == "StopCharging":
            self._normal_stop("evse-notification-stop", now)
        elif self.req.stop:
            self._normal_stop("ev-stop-request", now)
        elif self.req.soc >= self.cfg.stop_soc and not self._may_discharge():
            self._normal_stop("battery-full", now)
        else:
            at = max(now, self._last_sent + self.cfg.current_demand_interval)
            if at <= now:
                self._send(_K_CURRENT_DEMAND, now)
            else:
                self._arm(_T_NEXT_CURRENT_DEMAND, at)

    def _may_discharge(self) -> bool:
        """A DC_BPT session in which current may still be taken out: the car offers it and the
        charger decides (dynamic mode) or its schedule asks for it (scheduled).  A full battery
        does not end such a session: it only stops asking for charge (:meth:`_bpt_fields`)."""
        return self._status.bidirectional and self.req.discharge_current_limit > 0 and (
            self.cfg.iso20_control_mode == "dynamic" or bool(self._schedule_discharge))

    def _next_current_demand(self, now: float) -> None:
        if self.req.stop:
            self._normal_stop("ev-stop-request", now)
        else:
            self._send(_K_CURRENT_DEMAND, now)

    def _start_welding(self, now: float) -> None:
        self._set(Output.EV_CONTACTOR, False)
        self._welding_started = now
        self._welding_rounds = 0
        self._next(S.WELDING_DETECTION, Kind.WELDING_DETECTION, now)

    def _on_welding(self, msg: EvseMessage, now: float) -> None:
        if self.req.welding_hold:  # the bound starts when the hold ends
            self._welding_rounds = 0
            self._welding_started = now
        self._welding_rounds += 1
        self._status = replace(self._status, present_voltage=msg.present_voltage)
        voltage = msg.present_voltage
        if voltage is not None and voltage < self.cfg.welding_voltage:
            self._next(S.SESSION_STOP, Kind.SESSION_STOP, now)
            return
        at = max(now, self._last_sent + self.cfg.welding_interval)
        if self._welding_rounds >= self.cfg.welding_rounds or at - self._welding_started >= self.cfg.welding_duration:
            # rule 15: never wait for the charger voltage to fall (stale voltage is common)
            self._log("welding-bounded", rounds=self._welding_rounds, voltage=voltage)
            self._next(S.SESSION_STOP, Kind.SESSION_STOP, now)
        else:
            self._arm(EvccTimer.RESEND, at, Kind.WELDING_DETECTION)

    def _on_session_stop(self, msg: EvseMessage, now: float) -> None:
        self._end(now)

    # ------------------------------------------------------------------ ISO 15118-20 setup
    def _setup_next(self, now: float) -> None:
        """Send the -20 setup request that follows the current state (:data:`SETUP_SEQUENCE`)."""
        state, kind = _SETUP_NEXT[self.state]
        self._next(state, kind, now)

    def _on_session_setup20(self, msg: EvseMessage, now: float) -> None:
        if self._take_session_id(msg, now):
            self._setup_next(now)

    def _on_authorization_setup20(self, msg: EvseMessage, now: float) -> None:
        self._setup_next(now)  # EIM only: whatever services it lists, AuthorizationReq(EIM) tells

    def _on_authorization20(self, msg: EvseMessage, now: float) -> None:
        if self._finished(msg, now):
            self._setup_next(now)

    def _on_service_discovery20(self, msg: EvseMessage, now: float) -> None:
        """DC_BPT when the charger lists it and the car lets current be taken out; else DC."""
        if ISO20_DC_BPT_SERVICE in msg.services and self.req.discharge_current_limit > 0:
            self._service = ISO20_DC_BPT_SERVICE
        elif ISO20_DC_SERVICE not in msg.services:
            self._safe_shutdown(f"no-dc-service:{self.state_name}", now)
            return
        self._setup_next(now)

    def _on_service_detail20(self, msg: EvseMessage, now: float) -> None:
        wanted = self.cfg.iso20_control_mode
        sets = [set_id for set_id, mode in msg.parameter_sets if mode == wanted]
        if not sets:
            self._safe_shutdown(f"no-{wanted}-mode:{self.state_name}", now)
            return
        self._parameter_set = sets[0]
        self._setup_next(now)

    def _on_service_selection20(self, msg: EvseMessage, now: float) -> None:
        bpt: dict[str, Any] = {}
        if self._service == ISO20_DC_BPT_SERVICE:
            self._status = replace(self._status, bidirectional=True)
            bpt = {"discharge_a": self.req.discharge_current_limit, "floor_soc": self.req.discharge_floor_soc}
        self._log("service-selected", service=self._service, parameter_set=self._parameter_set,
                  control_mode=self.cfg.iso20_control_mode, **bpt)
        self._setup_next(now)

    def _on_schedule_exchange20(self, msg: EvseMessage, now: float) -> None:
        if not self._finished(msg, now):
            return
        if msg.control_mode != self.cfg.iso20_control_mode:
            self._safe_shutdown(f"control-mode-{msg.control_mode}:{self.state_name}", now)
            return
        if msg.sa_schedule_tuple_id is not None:
            self._sa_tuple = msg.sa_schedule_tuple_id
        self._schedule_discharge = msg.schedule_discharge_power
        self._set(Output.CP, "C")  # as after DIN's ChargeParameterDiscovery: the charge is agreed
        self._next(S.CABLE_CHECK, Kind.CABLE_CHECK, now)


    # ------------------------------------------------------------------ stopping
    def _status_ok(self, msg: EvseMessage, now: float) -> bool:
        """Before CurrentDemand any stopping EVSE status is a safe shutdown."""
        if msg.status_code in RUNNING_STATUSES:
            return True
        self._safe_shutdown(f"{STOP_STATUSES.get(msg.status_code or '', msg.status_code)}:{self.state_name}", now)
        return False

    def _finished(self, msg: EvseMessage, now: float) -> bool:
        """EVSEProcessing: Finished → True; any Ongoing* literal → poll again; else a safe shutdown.

        Exact matches only: a longer or unknown literal must never pass for a known one (an ISO-2
        ``Ongoing_WaitingForCustomerInteraction`` once was taken as Finished, issue 14)."""
        if msg.processing == PROCESSING_FINISHED:
            return True
        if msg.processing in PROCESSING_ONGOING:
            self._poll_again(msg.kind, now)
        else:
            self._safe_shutdown(f"processing-{msg.processing}:{self.state_name}", now)
        return False

    def _normal_stop(self, cause: str, now: float) -> None:
        self._set_reason(f"{cause}:{self.state_name}")
        self._status = replace(self._status, current_demand=False)
        self._next(S.POWER_DELIVERY_OFF, Kind.POWER_DELIVERY, now)

    def _safe_shutdown(self, reason: str, now: float) -> None:
        if self.state in _STOPPED:
            self._log("late-fault", reason=reason)
            return
        self._set_reason(reason)
        self._log("safe-shutdown", reason=reason)
        self._awaiting = None
        self._status = replace(self._status, safe_shutdown=True, current_demand=False)
        self._go(S.SAFE_SHUTDOWN, reason=reason)
        self._set(Output.CP, "B")
        self._arm(EvccTimer.SAFE_OPEN, now + self.cfg.safe_cp_wait)

    def _safe_open(self, now: float) -> None:
        self._set(Output.EV_CONTACTOR, False)
        self._arm(EvccTimer.END, now + self.cfg.safe_unlock_wait)

    def _end(self, now: float) -> None:
        self._awaiting = None
        self._disarm()
        self._set(Output.CP, "B")
        self._set(Output.EV_CONTACTOR, False)
        if self._link_up:
            self._link_up = False
            self._emit(CloseLink(self.cfg.link, abort=False))  # rule 14: FIN, never RST
        self._status = replace(self._status, ended=True)
        self._go(S.END)
        self._log("session-end", result=self._status.result, reason=self._status.stop_reason)

    def _set_reason(self, reason: str) -> None:
        if self._status.stop_reason is None:
            self._status = replace(self._status, stop_reason=reason)

    # ------------------------------------------------------------------ sending
    def _next(self, state: EvccState, kind: Kind, now: float) -> None:
        self._go(state)
        self._send(kind, now)

    def _poll_again(self, kind: Kind, now: float) -> None:
        if self._count.get(kind, 0) >= self.cfg.limits[kind]:
            self._safe_shutdown(f"loop-limit:{self.state_name}", now)
            return
        # the first Ongoing answers the loop's first request: that send began the -20 Ongoing timer
        started = self._ongoing_since.setdefault(kind, self._last_sent)
        if self.schema is _SCHEMA_ISO20 and now - started >= self.cfg.iso20_ongoing_timeout:
            self._safe_shutdown(f"ongoing-timeout:{self.state_name}", now)
            return
        self._arm(EvccTimer.RESEND, max(now, self._last_sent + self.cfg.ongoing_interval), kind)

    def _send(self, kind: Kind, now: float) -> None:
        msg = self._build(kind)
        iso20 = self.schema is _SCHEMA_ISO20 and kind is not _K_SUPPORTED_APP_PROTOCOL
        try:
            if iso20:
                from . import codec20  # imported at the first -20 message: module doc
                payload = codec20.encode_request(self._iso20_fields(msg), int(self.cfg.epoch + now))
            else:
                payload = self._exi.encode_request(msg, self.schema if kind is not _K_SUPPORTED_APP_PROTOCOL else None)
        except codec.CodecError as exc:  # a value we cannot represent: never send garbage
            self._log("encode-failed", error=str(exc), msg=kind)
            self._safe_shutdown(f"encode-failed:{self.state_name}", now)
            return
        if iso20:  # -20 names the message set by the payload type (framed: the V2GTP layer below reads dest)
            ptype = codec20.payload_type(kind)
            self._emit(SendFrame(self.cfg.link, payload, ptype) if self.cfg.framed
                       else SendData(self.cfg.link, v2gtp.encode(payload, ptype)))
        elif self.cfg.framed:
            self._emit(SendFrame(self.cfg.link, payload))
        else:
            self._emit(SendData(self.cfg.link, v2gtp.encode(payload)))
        self._count[kind] = self._count.get(kind, 0) + 1
        self.sent += 1
        self._last_sent = now
        self._awaiting = kind
        if iso20:
            timeout = now + self.cfg.iso20_timeouts[kind]
            if kind is _K_PRE_CHARGE:
                timeout = min(timeout, self._precharge_deadline)
        elif kind is _K_PRE_CHARGE:
            timeout = self._precharge_deadline
        elif self.schema is _SCHEMA_ISO2 and kind in self.cfg.iso_timeouts:
            timeout = now + self.cfg.iso_timeouts[kind]
        else:
            timeout = now + self.cfg.timeouts[kind]
        self._arm(_T_RESPONSE_TIMEOUT, timeout, kind)

    def _on_timeout(self, kind: Kind, now: float) -> None:
        self._log("timeout", msg=kind, state=self.state)
        if kind is Kind.SESSION_STOP:
            self._end(now)  # ccs-ev.md §9 row 13: on response or timeout, FIN
        else:
            self._safe_shutdown(f"timeout:{self.state_name}", now)

    def _build(self, kind: Kind) -> EvMessage:
        req, cfg = self.req, self.cfg
        din = self.schema is _SCHEMA_DIN
        soc = max(0, min(100, int(req.soc)))
        conditioning = False if din else None
        if kind is _K_CURRENT_DEMAND:  # every 30 ms: built in one go
            current = min(req.target_current, req.max_current)
            dynamic = self._status.evse_dynamic_current
            if dynamic is not None:
                current = min(current, dynamic)  # never ask for more than the charger's dynamic maximum
            return EvMessage(
                kind, session_id=self.session_id, soc=soc, ev_ready=True, cabin_conditioning=conditioning,
                ress_conditioning=conditioning, target_voltage=min(req.target_voltage, req.max_voltage),
                target_current=max(0.0, current), max_voltage=req.max_voltage, max_current=req.max_current,
                max_power=req.max_power, bulk_charging_complete=False, charging_complete=False,
                remaining_full_s=cfg.remaining_full_s, remaining_bulk_s=cfg.remaining_bulk_s)
        base = EvMessage(
            kind, session_id=self.session_id, soc=soc,
            ev_ready=kind not in (Kind.CHARGE_PARAMETER_DISCOVERY, Kind.WELDING_DETECTION) or (
                kind is Kind.WELDING_DETECTION and cfg.welding_ev_ready),
            cabin_conditioning=conditioning, ress_conditioning=conditioning)
        if kind is Kind.SUPPORTED_APP_PROTOCOL:
            return EvMessage(kind, protocols=self._offered)
        if kind is Kind.SESSION_SETUP:
            return EvMessage(kind, session_id=bytes(8), evcc_id=cfg.mac)
        if kind is Kind.CHARGE_PARAMETER_DISCOVERY:
            return replace(base, max_voltage=req.max_voltage, max_current=req.max_current, max_power=req.max_power,
                           energy_capacity=cfg.energy_capacity, energy_request=cfg.energy_request,
                           full_soc=cfg.full_soc, bulk_soc=cfg.bulk_soc)
        if kind is Kind.PRE_CHARGE:
            return replace(base, target_voltage=req.precharge_voltage, target_current=cfg.precharge_current)
        if kind is Kind.POWER_DELIVERY:
            on = self.state == _S_POWER_DELIVERY_ON
            return replace(base, power_on=on, bulk_charging_complete=False,
                           charging_complete=not on and req.soc >= cfg.stop_soc,
                           sa_schedule_tuple_id=self._sa_tuple, max_power=req.max_power,
                           remaining_full_s=cfg.remaining_full_s)
        return base

    def _iso20_fields(self, msg: EvMessage) -> EvMessage:
        """``msg`` with what only -20 carries: the battery voltage as EVPresentVoltage, the control
        mode and the service chosen (the DIN/ISO-2 fields stay as :meth:`_build` made them), and
        in a DC_BPT session what :meth:`_bpt_fields` adds."""
        msg = replace(msg, present_voltage=self.req.precharge_voltage, control_mode=self.cfg.iso20_control_mode,
                      service_id=self._service, parameter_set_id=self._parameter_set)
        if self._service != ISO20_DC_BPT_SERVICE or msg.kind not in _BPT_KINDS:
            return msg
        return self._bpt_fields(msg)

    def _bpt_fields(self, msg: EvMessage) -> EvMessage:
        """A DC_BPT request (docs/iso20.md "BPT"): the discharge limits (the car's current at the
        battery voltage), its discharge floor as MinimumSOC and the energy down to it (negative
        above the floor), BPT_ChannelSelection Discharge at PowerDelivery(Start); in scheduled
        mode, where the EV sets the current, a negative EVTargetCurrent while the charger's schedule
        asks for a discharge (its power at the battery voltage, within the car's limit); at the
        charge limit (``stop_soc``) no charge is asked for any more, only the discharge offered."""
        req = self.req
        limit = req.discharge_current_limit
        voltage = max(req.precharge_voltage, 1.0)
        floor = req.discharge_floor_soc
        to_floor: float | None = None
        if floor is not None and req.battery_capacity_wh > 0:
            to_floor = float(round((floor - max(0, min(100, req.soc))) / 100.0 * req.battery_capacity_wh))
        msg = replace(msg, max_discharge_current=limit, max_discharge_power=float(round(limit * voltage)),
                      min_soc=floor, v2x_energy_to_floor=to_floor,
                      discharge_channel=msg.kind is Kind.POWER_DELIVERY and msg.power_on)
        if msg.kind is not _K_CURRENT_DEMAND:
            return msg
        scheduled = self._schedule_discharge
        if self.cfg.iso20_control_mode == "scheduled" and scheduled:
            return replace(msg, target_current=-round(min(limit, scheduled / voltage), 1))
        if req.soc >= self.cfg.stop_soc:
            return replace(msg, target_current=0.0)
        return msg

    # ------------------------------------------------------------------ bookkeeping
    def _arm(self, purpose: EvccTimer, at: float, msg: Kind | None = None) -> None:
        """Wait for ``purpose`` (about request ``msg``); it replaces whatever was armed."""
        self.timers.only(purpose, at)  # one step instead of clear() + start()
        self._timer_msg = msg

    def _disarm(self) -> None:
        self.timers.clear()
        self._timer_msg = None

    def _go(self, state: EvccState, **why: Any) -> None:
        value = state.value  # ``state`` holds the plain value: the session log shows it (docs/machines.md)
        previous = self.state
        if not self._enter(value, **why):
            return  # refused (logged): the successor table does not allow it
        if value != previous:
            self.states.append(self.state_name)
        self._status = replace(self._status, state=value)

    def _set(self, output: Output, value: Any) -> None:
        if output == Output.CP:
            self._status = replace(self._status, cp=value)
        else:
            self._status = replace(self._status, contactor=value)
        self._emit(SetOutput(output, value))

    def _publish(self) -> None:
        status = self._status
        schema = str(self.schema) if self.schema else None
        if status.schema != schema or status.session_id != self.session_id:
            status = self._status = replace(status, schema=schema, session_id=self.session_id)
        if status is not self._published and status != self._published:  # most calls change nothing
            self._published = status
            self._emit(SetOutput("status", status))


# The response handlers by message kind (module level: a compiled class cannot keep a table of
# its own functions in the class body).
_HANDLERS: dict[Kind, Callable[[Evcc, EvseMessage, float], None]] = {
    Kind.SESSION_SETUP: Evcc._on_session_setup,
    Kind.SERVICE_DISCOVERY: Evcc._on_service_discovery,
    Kind.SERVICE_PAYMENT_SELECTION: Evcc._on_payment_selection,
    Kind.CONTRACT_AUTHENTICATION: Evcc._on_authorization,
    Kind.CHARGE_PARAMETER_DISCOVERY: Evcc._on_charge_parameters,
    Kind.CABLE_CHECK: Evcc._on_cable_check,
    Kind.PRE_CHARGE: Evcc._on_precharge,
    Kind.POWER_DELIVERY: Evcc._on_power_delivery,
    Kind.CURRENT_DEMAND: Evcc._on_current_demand,
    Kind.WELDING_DETECTION: Evcc._on_welding,
    Kind.SESSION_STOP: Evcc._on_session_stop,
}
#: … and in an ISO 15118-20 session (its setup differs; from CableCheck on the same handlers)
_HANDLERS20: dict[Kind, Callable[[Evcc, EvseMessage, float], None]] = {
    **_HANDLERS,
    Kind.SESSION_SETUP: Evcc._on_session_setup20,
    Kind.AUTHORIZATION_SETUP: Evcc._on_authorization_setup20,
    Kind.CONTRACT_AUTHENTICATION: Evcc._on_authorization20,
    Kind.SERVICE_DISCOVERY: Evcc._on_service_discovery20,
    Kind.SERVICE_DETAIL: Evcc._on_service_detail20,
    Kind.SERVICE_SELECTION: Evcc._on_service_selection20,
    Kind.SCHEDULE_EXCHANGE: Evcc._on_schedule_exchange20,
}
