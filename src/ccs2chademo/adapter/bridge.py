"""The bridge: the adapter as one sans-I/O machine — a CCS *car* toward the charger and a CHAdeMO
*charger* toward the car (adapter.md §1–§7).

Why one composite machine: the two sides are only safe together.  The order of decisions inside
a 100 ms cycle matters (CCS values copied into the CHAdeMO charger data → the CHAdeMO state step
→ car data copied into the CCS request, adapter.md §1), the adapter contactor may close only when *both*
sides agree (adapter.md §2.2), and every stop must reach both sides.  Owning the parts makes that order
explicit and lets the same object run on the virtual runtime and on a Raspberry Pi.

Parts (each an ordinary machine, called directly):

* ``ccs`` — the CCS car side behind the :class:`~.ccs_side.CcsSide` seam: :class:`~.ccs_side.CcsEv`,
  homeplug's ``PevConnection`` (SLAC → SDP → TCP) carrying the EV session ``Evcc``;
* ``car_side`` — the side that feeds the car behind the :class:`~.car_side.CarSide` seam:
  :class:`~.chademo_side.ChademoSide`, a CHAdeMO charger (created when the power manager lets the
  sides run, because special mode 1 decides V2X);
* ``power`` — :class:`~ccs2chademo.adapter.power.PowerManager` (button, LED, power-off);
* ``volts`` — :class:`~.car_voltage.CarVoltage`, the battery voltage's whole life;
* the stop policy :func:`~.stop_policy.stop_plan`, one pure function for every way a session ends.

Both sides are built by factories (``ccs_factory``, ``car_factory``), so a test drives the
bridge with scripted sides (tests/adapter/test_bridge.py) and a second car side plugs in
without touching the CCS side or the stop policy.

Links: ``plc``, ``sdp``, ``tcp`` (the CCS side's), ``can`` (the car's bus).  Inputs
(``InputChanged`` with a :class:`~ccs2chademo.runtime.signals.Input` name): ``K`` (the car's
charge permission), ``BUTTON``, ``VCC4``, ``VCC12``, ``INLET`` (an optional inlet voltmeter, V).
Outputs (``SetOutput`` with an :class:`~ccs2chademo.runtime.signals.Output` name, for the GPIO
driver / the simulated hardware): ``ADAPTER_CONTACTOR``, ``D1``, ``D2``, ``CP``, ``LED``,
``POWER_HOLD``.  The parts are called through typed methods (:class:`.car_side.CarSide`,
:class:`.ccs_side.CcsSide`, the power manager's ``press``/``unlocked``/``stop_reported``/…).
Everything outside reads the bridge through :meth:`Bridge.view`.  Every part's log records
pass through with a ``part`` field.  Phases: :class:`Phase` and its table :data:`SUCCESSORS`.

The flows, states, mapping and stop paths are described in ``docs/bridge.md``; what keeps the
contactor safe (no close once a stop began, never across 20 V, the safe-shutdown emergency open,
car recognition) in ``docs/safety.md``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final

from ..chademo.interfaces import PowerDemand, SessionKind, Upstream
from ..homeplug.slac import SlacTiming
from ..rounding import round_decimals
from ..runtime import (
    CanReceived,
    CloseLink,
    Event,
    InputChanged,
    Log,
    MachineBase,
    SetOutput,
)
from ..runtime.machine import successor_table
from ..runtime.signals import Input, Output
from ..v2g.codec import EXI, Codec
from ..v2g.evcc import EvccStatus, EvRequest
from ..v2g.tls import TlsPolicy
from .car_side import CarSide
from .car_voltage import CarVoltage
from .ccs_side import CcsEv, CcsSide
from .chademo_side import ChademoSide
from .clara_side import SENSOR_INPUTS, ClaraSide
from .config import AdapterConfig
from .mapping import (
    EV_MAXIMUM_POWER_LIMIT_W,
    NO_DISCHARGE,
    CcsTargetCurrent,
    MirrorDetector,
    discharge_offer,
    ev_ress_soc,
)
from .power import PowerManager, PowerSignal, SoftReset
from .recognition import Flow
from .stop_policy import StopInputs, StopPlan, stop_begun, stop_plan


class Phase(StrEnum):
    """Where the adapter is in its session (the ``state`` records of the bridge)."""

    BOOT = "boot"  # the power manager's power-on checks and special-mode selection
    RUNNING = "running"  # the sides run: the discovery session (two-session flow)
    DISCOVERED = "discovered"  # the car is known and the estimate fixed: CCS starts next cycle
    CCS = "ccs"  # the CCS machines run (SLAC … CurrentDemand) beside the CHAdeMO session
    STOPPING = "stopping"  # power-off pending: both sides stop normally
    OFF = "off"  # the power manager stopped the sides before they ran (power cut)


#: The bridge's transition table (docs/machines.md).  A soft reset (always-on) goes back to BOOT
#: from anywhere the sides ran.
SUCCESSORS = successor_table({
    Phase.BOOT: {Phase.RUNNING, Phase.STOPPING, Phase.OFF},  # stopping: a special mode's power-off (unwelding)
    Phase.RUNNING: {Phase.DISCOVERED, Phase.CCS, Phase.STOPPING, Phase.OFF, Phase.BOOT},
    Phase.DISCOVERED: {Phase.CCS, Phase.STOPPING, Phase.OFF, Phase.BOOT},
    Phase.CCS: {Phase.STOPPING, Phase.OFF, Phase.BOOT},
    Phase.STOPPING: {Phase.OFF, Phase.BOOT},
    Phase.OFF: {Phase.BOOT},
})

#: Builds the CCS side: (start_at, single_session) → a fresh side (default: :class:`CcsEv`).
CcsFactory = Callable[[float, bool], CcsSide]
#: Builds the car side: (v2x, single_session) → a fresh side (default: :class:`ChademoSide`).
CarFactory = Callable[[bool, bool], CarSide]

#: read per event, step or cycle: module constants, not Enum class attribute lookups
_IN_BUTTON: Final = Input.BUTTON
_IN_INLET: Final = Input.INLET
_IN_K: Final = Input.K
_IN_VCC12: Final = Input.VCC12
_IN_VCC4: Final = Input.VCC4
_K_CHARGE: Final = SessionKind.CHARGE
_K_DISCOVERY: Final = SessionKind.DISCOVERY
_OUT_ADAPTER_CONTACTOR: Final = Output.ADAPTER_CONTACTOR
_OUT_CP: Final = Output.CP
_OUT_LED: Final = Output.LED
_OUT_POWER_HOLD: Final = Output.POWER_HOLD
_PH_BOOT: Final = Phase.BOOT
_PH_CCS: Final = Phase.CCS
_PH_DISCOVERED: Final = Phase.DISCOVERED
_PH_OFF: Final = Phase.OFF
_PH_RUNNING: Final = Phase.RUNNING
_PH_STOPPING: Final = Phase.STOPPING

CYCLE_S: Final = 0.1  # the CHAdeMO/UI cycle (adapter.md §1); Final: compiled in, not a module dict lookup per event
EPS: Final = 1e-9
WELDING_END_V: Final = 40.0  # adapter.md §12.3 CCS welding-detection end voltage
#: With an inlet voltmeter: how long the charger may take to follow a re-targeted precharge
#: before the adapter refuses to close (well inside the 30 s PreCharge limit, ccs-ev.md).
INLET_RETARGET_S: Final = 10.0
#: below this a CurrentDemand's present current is no charge (a stage's idle reading)
IDLE_CURRENT_A: Final = 1.0
LYING_TOLERANCE_V: Final = 2.0  # "voltage equals the last CurrentDemand voltage"
_CCS_UNLOCKED: Final = frozenset(("Idle", "End"))
#: read on every cycle: a module constant, not an Enum class attribute lookup
_SINGLE_SESSION: Final = Flow.SINGLE_SESSION
#: CCS states in which the charger is known to deliver nothing (after PowerDelivery(OFF), CP B, 300 ms).
_CCS_NOT_DELIVERING: Final = frozenset(("WeldingDetection", "SessionStop", "End"))
#: … and how long after reaching one its current may still be ramping down (real stages: 100 → 0 A
#: in 0.4 s, chademo.md §10; the simulated stage's 0.25 s lag takes 125 A to < 1 A in ≈1.3 s from
#: PowerDelivery(OFF)): the early open (``_keep_closed``) waits this long — nothing measures the
#: current there, and opening at k-off alone broke up to 27 A (the firmware#12 field scenario).
CURRENT_DOWN_S = 1.0
#: LED session patterns by CCS progress (adapter.md §9), highest first.
_LED_BY_EVCC_STATE: Final = {"CurrentDemand": "charging", "PreCharge": "precharge", "CableCheck": "cable-check"}


# A native class (explicit ``__init__``, ``Final`` fields) rather than a frozen dataclass, like the
# stop policy's records: the simulated world takes one view per 20 ms physics step.
@dataclass(slots=True, init=False)
class BridgeView:
    """What the bridge is doing — the only way anything outside the bridge reads its state: the
    world's invariants and physics, the live view, the runner's summary, a status page.  One
    immutable snapshot, taken with :meth:`Bridge.view`."""

    ccs_state: Final[str]
    chademo_state: Final[str]
    power_state: Final[str]
    #: the EV session's own state (``Idle`` … ``CurrentDemand`` … ``End``)
    ccs_session_state: Final[str]
    #: the adapter contactor (not the car's, not the charger's) is closed
    contactor: Final[bool]
    pending: Final[bool]
    #: both sides run (the power manager enabled them; False before and after)
    sides_enabled: Final[bool]
    precharge_target_v: Final[float | None]
    ccs_target_current_a: Final[float | None]
    car_request_a: Final[float]
    charger_limit_a: Final[float | None]
    #: what the charger reports it delivers now (CCS PresentVoltage / PresentCurrent)
    charger_voltage_v: Final[float | None]
    charger_current_a: Final[float | None]
    #: the CurrentDemand loop runs: the charger delivers (or takes) power
    ccs_delivering: Final[bool]
    #: ChargeParameterDiscovery is done: a CCS end from now on is final (no restart)
    ccs_parameters_done: Final[bool]
    #: the EV session is in (or past) its safe shutdown
    ccs_safe_shutdown: Final[bool]
    discharging: Final[bool]
    emergency: Final[bool]
    battery_estimate_v: Final[float | None]
    battery_measured: Final[bool]
    #: the SoC the car reports (0x102.6), once trusted
    soc: Final[float | None]
    stop_reason: Final[str | None]
    #: the first stop of any kind has begun (no contactor may close any more)
    stop_begun: Final[bool]
    #: the adapter contactor was opened by the safe-shutdown path without knowing the current
    emergency_open: Final[bool]
    #: the session flow in use and the recognition rule that chose the curve and flow
    single_session: Final[bool]
    car_rule: Final[str | None]
    #: always-on soft resets so far (each starts a new session)
    soft_resets: Final[int]

    def __init__(
        self, *, ccs_state: str, chademo_state: str, power_state: str, ccs_session_state: str,
        contactor: bool, pending: bool, sides_enabled: bool, precharge_target_v: float | None,
        ccs_target_current_a: float | None, car_request_a: float, charger_limit_a: float | None,
        charger_voltage_v: float | None, charger_current_a: float | None, ccs_delivering: bool,
        ccs_parameters_done: bool, ccs_safe_shutdown: bool, discharging: bool, emergency: bool,
        battery_estimate_v: float | None, battery_measured: bool, soc: float | None, stop_reason: str | None,
        stop_begun: bool, emergency_open: bool, single_session: bool, car_rule: str | None, soft_resets: int,
    ) -> None:
        self.ccs_state = ccs_state
        self.chademo_state = chademo_state
        self.power_state = power_state
        self.ccs_session_state = ccs_session_state
        self.contactor = contactor
        self.pending = pending
        self.sides_enabled = sides_enabled
        self.precharge_target_v = precharge_target_v
        self.ccs_target_current_a = ccs_target_current_a
        self.car_request_a = car_request_a
        self.charger_limit_a = charger_limit_a
        self.charger_voltage_v = charger_voltage_v
        self.charger_current_a = charger_current_a
        self.ccs_delivering = ccs_delivering
        self.ccs_parameters_done = ccs_parameters_done
        self.ccs_safe_shutdown = ccs_safe_shutdown
        self.discharging = discharging
        self.emergency = emergency
        self.battery_estimate_v = battery_estimate_v
        self.battery_measured = battery_measured
        self.soc = soc
        self.stop_reason = stop_reason
        self.stop_begun = stop_begun
        self.emergency_open = emergency_open
        self.single_session = single_session
        self.car_rule = car_rule
        self.soft_resets = soft_resets


@dataclass(slots=True)
class Progress:
    """How far this session's flow has got (a soft reset starts a new one)."""

    discovery_started: bool = False
    #: the discovery session learned the car (kept over an always-on soft reset)
    discovered: bool = False
    #: the CCS machines run (the kickoff, adapter.md §1)
    ccs_started: bool = False
    charge_started: bool = False
    #: the CCS side is over for this session (final end, or out of restarts)
    ccs_over: bool = False
    ccs_restarts: int = 0
    #: when the car side's stop began, as the bridge first saw it (the car's clock for low current)
    car_stop_at: float | None = None


@dataclass(slots=True)
class CcsMemory:
    """What the CCS side said that still matters once it stops answering."""

    #: the last CurrentDemand voltage (the welding-detection verdict) and the current that may
    #: still be flowing (the charger's figure, or what we asked for, whichever is higher)
    last_cd_voltage: float | None = None
    last_cd_current: float = 0.0
    #: when this CCS session's safe shutdown began (the emergency open counts from it)
    safe_shutdown_at: float | None = None
    seen_responses: int = 0
    welding_logged: bool = False
    #: when the CCS side first reached a state in which the charger delivers nothing (the current's
    #: ramp-down is measured from it: the early open waits for ``CURRENT_DOWN_S``)
    not_delivering_at: float | None = None


@dataclass(slots=True)
class ContactorState:
    """The adapter contactor and what decides it besides the two sides (adapter.md §2.2)."""

    closed: bool = False
    #: once opened in a session it stays open
    opened_once: bool = False
    #: the power manager's override (power-off, unwelding mode): wins when not None
    override: bool | None = None
    #: the adapter refused to close for this session (a named stop)
    refused: bool = False
    close_wait_since: float | None = None
    #: opened by the safe-shutdown emergency path without knowing the current
    emergency_open: bool = False


@dataclass(slots=True)
class PowerTold:
    """What the power manager has been told (its inputs are sent on change, stops once)."""

    unlocked: tuple[bool, bool] | None = None
    contactor: bool | None = None
    ccs_stop: bool = False
    car_stop: bool = False
    leds: set[str] = field(default_factory=set)


class Bridge(MachineBase):
    """The adapter controller (see the module docstring)."""

    def __init__(self, config: AdapterConfig, mac: bytes, rng: random.Random, name: str = "adapter",
                 slac_timing: SlacTiming | None = None, scope_id: int = 0,
                 ccs_factory: CcsFactory | None = None, car_factory: CarFactory | None = None,
                 tls: TlsPolicy | None = None, exi: Codec = EXI, epoch: float = 0.0) -> None:
        """``tls``: the CCS side's TLS, built by the composition root from ``config.ccs``
        (:func:`~.ccs_side.tls_policy`: it reads the root certificates); required unless TLS is off.
        ``exi``: the CCS side's EXI codec (the simulated world passes its cache).
        ``epoch``: Unix time at session time 0, read by the composition root (ISO 15118-20 TimeStamps)."""
        # ``state`` holds the phase's plain value: the session log shows it (docs/machines.md)
        super().__init__(name, _PH_BOOT.value, SUCCESSORS)
        self.config = config
        self.mac = mac
        self.rng = rng
        self.slac_timing = slac_timing
        self.scope_id = scope_id
        if tls is None and config.ccs.tls != "off":
            raise ValueError(f"[ccs] tls = {config.ccs.tls!r}: pass the TlsPolicy built by ccs_side.tls_policy()")
        self.tls = tls
        self.exi = exi
        self.epoch = epoch
        self._ccs_factory = ccs_factory
        self._car_factory = car_factory
        self.power = PowerManager(config, name=f"{name}.power")
        self.modes: frozenset[str] = frozenset()
        self.emergency = False
        self.soft_resets = 0
        self.stop_cause: str | None = None  # the last power-off cause (kept over a soft reset)
        self._k = False
        #: a CAN-controlled EV (or the light-bulb demo) feeds the car side, not a CHAdeMO car
        self.clara = config.mode != "chademo"
        #: the last value of each clara-mode sensor input (lock feedback, temperatures, CP duty)
        self.clara_inputs: dict[str, object] = {}
        self._n = 1
        self._init_sides(keep_discovery=False)

    # ------------------------------------------------------------------ (re)initialisation
    def _init_sides(self, keep_discovery: bool) -> None:
        """Fresh protocol sides; an always-on soft reset keeps the discovery results (adapter.md §8)."""
        cfg = self.config
        if not keep_discovery:
            #: the battery voltage's whole life: learned, recognised, fixed, used (car_voltage.py)
            self.volts = CarVoltage(cfg)
        else:
            self.volts.new_session()
        #: the flow of this session: configured, or switched to single-session when the car is
        #: recognised as one that refuses a second session (``_promote``)
        self.flow = Flow.SINGLE_SESSION if cfg.sx is True else Flow.TWO_SESSION
        #: how far this session's flow has got
        self.progress = Progress(discovered=keep_discovery and self.volts.car_target is not None)
        #: the side that feeds the car (car_side.py); created when the power manager lets the sides run
        self.car_side: CarSide | None = None
        #: the last view, valid until the bridge next handles something (the world asks every physics step)
        self._view: BridgeView | None = None
        #: the CCS car side (ccs_side.py): the connection carrying the EV session
        self.ccs: CcsSide = self._new_ccs(0.0)
        self.ccs_status: EvccStatus = self.ccs.status
        self.ccs_memory = CcsMemory()
        self.current = CcsTargetCurrent()
        self.mirror = MirrorDetector()
        self.demand = PowerDemand()
        self.request = EvRequest()
        #: the power manager's outputs as the bridge follows them
        self.enabled = False
        self.pending = False
        self.switch = ContactorState()
        self.told = PowerTold()
        self._upstream: Upstream | None = None
        self._cycle = 0
        self.v2x = False
        #: V2X mode: what the car lets a bidirectional charger take (EvRequest.discharge_*)
        self.discharge = NO_DISCHARGE

    @property
    def _ccs_running(self) -> bool:
        """The CCS machines run: started, and not over for this session."""
        return self.progress.ccs_started and not self.progress.ccs_over

    @property
    def contactor(self) -> bool:
        """The adapter contactor is (commanded) closed."""
        return self.switch.closed

    @property
    def emergency_open(self) -> bool:
        return self.switch.emergency_open

    @property
    def ccs_restarts(self) -> int:
        return self.progress.ccs_restarts

    @property
    def single_session(self) -> bool:
        return self.flow is _SINGLE_SESSION

    def _new_ccs(self, start_at: float) -> CcsSide:
        """A fresh CCS side (power-on, a restart, the switch to the single-session flow)."""
        if self._ccs_factory is not None:
            return self._ccs_factory(start_at, self.single_session)
        return CcsEv(self.name, self.config, self.mac, self.rng, self.single_session, start_at=start_at,
                     scope_id=self.scope_id, slac_timing=self.slac_timing, tls=self.tls, exi=self.exi,
                     epoch=self.epoch)

    def _new_car_side(self, v2x: bool) -> CarSide:
        """The side that feeds the car, when the power manager lets the sides run."""
        if self._car_factory is not None:
            return self._car_factory(v2x, self.single_session)
        if self.config.mode != "chademo":  # a CAN-controlled EV or the light-bulb demo (docs/clara-mode.md)
            return ClaraSide(f"{self.name}.clara", self.config)
        return ChademoSide(f"{self.name}.chademo", self.config, v2x, self.single_session)

    @property
    def ccs_session_state(self) -> str:
        """The EV session's state (``Idle`` … ``CurrentDemand`` … ``End``)."""
        return self.ccs.session_state

    # ------------------------------------------------------------------ views
    @property
    def ccs_state(self) -> str:
        """The EV session's state as its schema names it, or the connection's (slac, sdp, …) before
        TCP is up."""
        if not self.progress.ccs_started:
            return "waiting"
        session = self.ccs.session_state_name
        if session in ("Idle", "Connecting") and not self.progress.ccs_over:
            return self.ccs.link_state
        return session

    @property
    def chademo_state(self) -> str:
        return "idle" if self.car_side is None else self.car_side.state

    def view(self) -> BridgeView:
        """The bridge's state as one immutable snapshot.  The parts change only while the bridge
        handles an event or a timer, so a view stays valid until then and is made once."""
        if self._view is None:
            self._view = self._make_view()
        return self._view

    def _make_view(self) -> BridgeView:
        st, session = self.ccs_status, self.ccs.session_state
        value = self.volts.value
        return BridgeView(
            ccs_state=self.ccs_state, chademo_state=self.chademo_state, power_state=self.power.state,
            ccs_session_state=session, contactor=self.switch.closed, pending=self.pending,
            sides_enabled=self.enabled,
            precharge_target_v=self.request.precharge_voltage if session in ("PreCharge", "ContactorsClosing")
            or st.precharge_reached else None,
            ccs_target_current_a=self.sent_current() if session == "CurrentDemand" else None,
            car_request_a=float(self.demand.current), charger_limit_a=st.evse_dynamic_current,
            charger_voltage_v=st.present_voltage, charger_current_a=st.present_current,
            ccs_delivering=st.current_demand and session == "CurrentDemand",
            ccs_parameters_done=st.charge_parameter_discovery_done, ccs_safe_shutdown=st.safe_shutdown,
            discharging=self.demand.discharge_current > 0, emergency=self.emergency,
            battery_estimate_v=None if value is None else value.volts,
            battery_measured=False if value is None else value.measured, soc=self.volts.car_soc,
            stop_reason=self.stop_reason, stop_begun=self.stop_begun(), emergency_open=self.switch.emergency_open,
            single_session=self.single_session, car_rule=self.volts.rule, soft_resets=self.soft_resets)

    @property
    def stop_reason(self) -> str | None:
        """The cause of the power-off (the first stop on either side — a later button press does
        not replace it here), else the CCS stop reason."""
        return self.stop_cause or self.power.pending_cause or self.ccs_status.stop_reason

    def sent_current(self) -> float:
        """EVTargetCurrent as the Evcc puts it in CurrentDemandReq (its own caps applied)."""
        req = self.request
        current = min(req.target_current, req.max_current)
        dynamic = self.ccs_status.evse_dynamic_current
        if dynamic is not None:
            current = min(current, dynamic)
        return max(0.0, current)

    # ------------------------------------------------------------------ machine protocol
    def get_timer(self) -> float | None:
        # asked after every event: three comparisons in the same order, no tuple built and iterated
        earliest = self._n * CYCLE_S
        t = self.power.get_timer()
        if t is not None and t < earliest:
            earliest = t
        t = self._chademo_timer()
        if t is not None and t < earliest:
            earliest = t
        t = self._ccs_timer()
        if t is not None and t < earliest:
            earliest = t
        return earliest

    def _chademo_timer(self) -> float | None:
        return None if self.car_side is None else self.car_side.get_timer()

    def _ccs_timer(self) -> float | None:
        return self.ccs.get_timer() if self._ccs_running else None

    def handle_timer(self, now: float) -> None:
        self._view = None
        tick = now >= self._n * CYCLE_S - EPS
        if tick:
            self._n += 1
            self._before_chademo(now)
        # A part's deadline may lie a rounding error after ``now`` (the runtime keeps integer
        # nanoseconds): parts are called with their own deadline so they never see "too early".
        side = self.car_side
        if side is not None and (t := side.get_timer()) is not None and t <= now + EPS:
            side.handle_timer(max(now, t))
            self._drain_car_side(now)
        if tick:
            self._after_chademo(now)
        if (t := self.power.get_timer()) is not None and t <= now + EPS:
            self.power.handle_timer(max(now, t))
            self._drain_power(now)
        if (t := self._ccs_timer()) is not None and t <= now + EPS:
            self.ccs.handle_timer(max(now, t))
            self._drain_ccs(now)

    def receive(self, event: Event, now: float) -> None:
        self._view = None
        if isinstance(event, CanReceived):
            if self.car_side is not None:
                asked = self.demand.current
                self.car_side.frame(event, now)
                self._drain_car_side(now)
                if self.demand.current != asked and self.clara and self.enabled and self.ccs_status.current_demand:
                    # a VCU's new current request reaches the next CurrentDemandReq, not only the one
                    # after our next cycle: this cycle's ramp step is redone with it (docs/clara-mode.md)
                    self._update_request(now, again=True)
        elif isinstance(event, InputChanged):
            if event.name == _IN_K:
                self._k = bool(event.value)
                if self.car_side is not None:
                    self.car_side.permission(self._k, now)
            elif event.name == _IN_BUTTON:
                self.power.press(bool(event.value), now)
                self._drain_power(now)
            elif event.name in (_IN_VCC4, _IN_VCC12):
                self.power.supply(event.name, event.value, now)
                self._drain_power(now)
            elif event.name == _IN_INLET and isinstance(event.value, int | float):
                self.volts.inlet(float(event.value))
            elif event.name in SENSOR_INPUTS and self.clara:
                # clara mode's lock feedback, inlet temperatures, CP duty: kept for a side created later
                self.clara_inputs[event.name] = event.value
                if isinstance(side := self.car_side, ClaraSide):
                    side.sensor(event.name, event.value, now)
                    self._drain_car_side(now)
            else:
                self._log("input-rejected", name=event.name, reason="unknown input")
        elif getattr(event, "link", None) in ("plc", "sdp", "tcp") and self._ccs_running:
            self.ccs.receive(event, now)
            self._drain_ccs(now)

    # ------------------------------------------------------------------ the 100 ms cycle
    def _before_chademo(self, now: float) -> None:
        """Sessions to start this cycle, then the CCS values copied into the charger data (adapter.md §1)."""
        if not self.enabled:
            return
        self._cycle += 1
        self._start_sessions(now)
        side = self.car_side
        if side is not None:
            upstream = self._make_upstream(now)
            if upstream != self._upstream:
                self._upstream = upstream
                side.feed(upstream, now)

    def _after_chademo(self, now: float) -> None:
        """Car data copied into the CCS request; the contactor; the power manager's inputs."""
        if not self.enabled:
            return
        side = self.car_side
        if side is not None:
            self._learn_car(side, now)
            if self.progress.car_stop_at is None and (self.demand.stopping or side.stopping()):
                self.progress.car_stop_at = now
        self._decide_contactor(now)
        self._update_request(now)
        self._feed_power(now)

    def _start_sessions(self, now: float) -> None:
        if self.pending:
            return
        if self.single_session:
            if not self.progress.ccs_started:
                self._kickoff(now)
            if not self.progress.charge_started and self.ccs.matched:
                self._start_car_session(now, _K_CHARGE)
            return
        if not self.progress.discovery_started and not self.progress.discovered:
            self.progress.discovery_started = True
            self._start_car_session(now, _K_DISCOVERY)
        elif self.progress.discovered and not self.progress.ccs_started:
            self._kickoff(now)
        elif (not self.progress.charge_started and self.ccs_status.cable_check_done
              and self.ccs.session_state == "WaitForPreCharge"):
            self._start_car_session(now, _K_CHARGE)

    def _start_car_session(self, now: float, kind: SessionKind) -> None:
        assert self.car_side is not None
        if kind is _K_CHARGE:
            self.progress.charge_started = True
        self._log("chademo-session", session=kind.value)
        self.car_side.start(kind, now)
        self._drain_car_side(now)

    def _kickoff(self, now: float) -> None:
        """CCS kickoff (adapter.md §1): from now on the CCS machines run."""
        self.progress.ccs_started = True
        self._enter(_PH_CCS.value, reason="kickoff")
        self._push_request(now)
        self.ccs.handle_timer(now)  # its first timer starts SLAC
        self._drain_ccs(now)

    def _learn_car(self, side: CarSide, now: float) -> None:
        view, volts = side.vehicle, self.volts
        discovering, discovered = view.seen and side.discovering(), side.discovered()
        if self.v2x:
            self.discharge = discharge_offer(view, v2x=True, fallback_a=self.config.max_discharge_amps_fallback)
        volts.learn(view)
        self._drain_volts()
        # DX: decided at the end of discovery.  SX: when the precharge is about to start — the
        # car has been ready for the whole CCS setup by then (an Xpeng reports its SoC only ≈1 s
        # after d2, adapter.md §14 #15).
        if discovering:
            found = volts.recognise(view)
            self._drain_volts()
            promote = found is not None and found.flow is Flow.SINGLE_SESSION
            if promote and not self.single_session and not self.progress.ccs_started:
                self._promote(now)
        sx_ready = self.single_session and view.ready and self.ccs_status.cable_check_done
        if (discovered and not self.progress.discovered) or (sx_ready and not volts.known):
            volts.fix(side.vehicle)  # the latest frames (0x101 capacity may arrive late)
            self._drain_volts()
        side.cycle_done()
        if volts.follow_target(self.demand.d2):
            self._drain_volts()
        if discovered and not self.progress.discovered:
            self.progress.discovered = True
            self._enter(_PH_DISCOVERED.value, target=volts.car_target, soc=volts.car_soc)

    def _drain_volts(self) -> None:
        for record in self.volts.take_logs():
            self._emit(record)

    def _promote(self, now: float) -> None:
        """Switch to the single-session flow (adapter.md §3) without ending the discovery session: the car
        never sees a second session.  CCS starts now; the CHAdeMO session becomes the real one."""
        side = self.car_side
        assert side is not None
        self.flow = Flow.SINGLE_SESSION
        self.progress.discovery_started = self.progress.charge_started = True
        self._log("flow", flow=self.flow.value, reason="car recognised",
                  rule=self.volts.rule)
        side.promote(now)
        self._drain_car_side(now)
        self.ccs = self._new_ccs(now)
        self.ccs_status = self.ccs.status
        self._kickoff(now)

    def _make_upstream(self, now: float) -> Upstream:
        """adapter.md §6.2/§6.3 inputs of the CHAdeMO charger from the CCS side."""
        cfg, st = self.config, self.ccs_status
        in_cd = st.current_demand and self.ccs.session_state == "CurrentDemand"
        fake = self.single_session and not in_cd
        battery_v = self.volts.report(self._cycle)
        if fake or st.evse_max_voltage is None:
            available_v, available_a, dynamic = float(cfg.max_volts), float(cfg.max_amps), None
        else:
            available_v = st.evse_max_voltage
            available_a = st.evse_max_current if st.evse_max_current is not None else float(cfg.max_amps)
            dynamic = st.evse_dynamic_current
        present_v = st.present_voltage or 0.0
        if fake or (in_cd and self.mirror.mirroring):
            present_v = battery_v
        present_a = (st.present_current or 0.0) if in_cd else 0.0
        stop = self._stop_plan(now)
        if stop.hold_car_current:
            # an abrupt CCS end: nobody tells us the current any more — it is what CurrentDemand
            # last said until the adapter contactor is open, so the stop toward the car waits
            present_a = self.ccs_memory.last_cd_current
        return Upstream(
            available_voltage=available_v, available_current=available_a, dynamic_current=dynamic,
            present_voltage=round_decimals(present_v, 1), present_current=round_decimals(present_a, 1),
            # the d2 gate: never once a stop has begun (the car would close onto a charger going off)
            precharge_done=(True if self.single_session else st.precharge_reached) and not stop.begun,
            stopped=stop.upstream_stopped, fault=stop.upstream_fault,
            estimated_battery_voltage=round_decimals(battery_v, 1))

    def _stop_inputs(self, now: float, reasons: bool = True) -> StopInputs:
        """What the stop policy looks at, read from the parts (``reasons=False``: without the car
        side's stop report, which :func:`stop_begun` never reads)."""
        st, side = self.ccs_status, self.car_side
        side_stopping = side is not None and side.stopping()
        # the report is a call through the seam that the per-physics-step view does not need
        car_reason = side.stop_report() if reasons and side is not None and side_stopping else None
        safe_at = self.ccs_memory.safe_shutdown_at
        return StopInputs(
            ccs_reason=st.stop_reason, ccs_safe_shutdown=st.safe_shutdown,
            ccs_parameters_done=st.charge_parameter_discovery_done, ccs_ended=st.ended, ccs_over=self.progress.ccs_over,
            ccs_restarts=self.progress.ccs_restarts, car_stopping=self.demand.stopping or side_stopping,
            car_reason=car_reason,
            power_cause=(self.power.pending_cause or "") if self.pending else None, forced_off=self.emergency,
            contactor_closed=self.switch.closed, safe_shutdown_at=safe_at,
            safe_cp_wait_s=2.0 if safe_at is None else self.ccs.safe_cp_wait,
            car_stop_at=self.progress.car_stop_at, now=now)

    def _stop_plan(self, now: float) -> StopPlan:
        """The one stop policy (adapter/stop_policy.py) on the parts' present status."""
        return stop_plan(self._stop_inputs(now))

    def _decide_contactor(self, now: float) -> None:
        """adapter.md §2.2: close only when the car's contactors are (judged) closed, the charger is at the
        precharge voltage and no stop of any kind has begun; open when the car's contactors open
        (or early at k-off if configured), or in a CCS safe shutdown 2 s after CP B or after the car
        side's stop began, whichever is first (stop_policy.py); once opened in a
        session it stays open.  The power manager's override (special mode 3) wins."""
        want = self._keep_closed(now) if self.switch.closed else self._may_close(now)
        if self.switch.override is not None:
            want = self.switch.override
        elif self.switch.closed and not want:
            self.switch.opened_once = True
        if want != self.switch.closed:
            self.switch.closed = want
            self._log("contactor", closed=want, car_contactors_closed=self.demand.car_contactors_closed,
                      override=self.switch.override)
            self._emit(SetOutput(_OUT_ADAPTER_CONTACTOR, want))

    def stop_begun(self) -> bool:
        """Any stop has begun (the stop policy's ``begun``): from then on no rule may close a
        contactor."""
        return stop_begun(self._stop_inputs(0.0, reasons=False))

    def _may_close(self, now: float) -> bool:
        """Closing: evidence that the car's contactors are closed, the precharge reached, the
        charger's present voltage within 20 V of the car side, and no stop begun — nor about to
        begin: a stop button held down is a stop the power manager acts on at its tick, after this
        decision in the same cycle (adapter.md §1 order), and the CCS stop it causes makes the
        charger ramp its voltage down while the contactor would still be closing."""
        if (self.car_side is None or self.switch.opened_once or self.switch.refused or self.stop_begun()
                or self.power.button
                or not self.ccs_status.precharge_reached or not self.car_side.contactors_evident()):
            return False
        return self._voltages_agree(now)

    def _keep_closed(self, now: float) -> bool:
        """Staying closed needs only the charger side's judgement (it opens once the car reports
        its contactors open, after the current is down, adapter.md §2.1)."""
        side = self.car_side
        if side is None or not self.demand.car_contactors_closed:
            return False
        safe_at = self.ccs_memory.safe_shutdown_at
        if safe_at is not None and self._stop_plan(now).emergency_open:
            # the CCS safe shutdown's "contactors open" step (CP B, 2 s): the charger should be at
            # 0 A by now, but nothing says so; opening here means the car's contactors never break
            # a current the charger kept delivering (adapter.md §14 #3)
            self.switch.emergency_open = True
            self._log("contactor-emergency-open", reason="ccs safe shutdown", after_s=round(now - safe_at, 3),
                      last_current=self.ccs_memory.last_cd_current)
            return False
        # adapter.md §2.1 "Stopping: wait car contactors open" (the current is ≤ 5 A by then): optionally
        # open as soon as k is off, before the car's welding check — but only once the CCS charger
        # has stopped delivering: the CHAdeMO side sees 0 A as soon as CCS leaves CurrentDemand,
        # while the charger is still ramping down.  A charger whose output is still up then
        # (Alpitronic HYC: it never falls, firmware#12/#17) would hold the inlet up through the
        # car's own welding check — a Leaf stores a trouble code: open early for it too.
        waiting = side.waiting_contactors_open()
        off_at = self.ccs_memory.not_delivering_at
        ccs_off = off_at is not None and now - off_at >= CURRENT_DOWN_S - EPS
        early = self.config.open_adapter_contactor_before_wd or self._charger_output_up()
        return not (waiting and ccs_off and early and not self._k)

    def _charger_output_up(self) -> bool:
        """The CCS charger still reports its output above the welding-detection end voltage."""
        volts = self.ccs_status.present_voltage
        return volts is not None and volts > WELDING_END_V

    def _voltages_agree(self, now: float) -> bool:
        """The charger's latest present voltage is within 20 V of the car side
        (:meth:`CarVoltage.agrees`).  With an inlet voltmeter the precharge is first re-targeted
        to its reading; a charger that does not follow within ``INLET_RETARGET_S`` makes the
        adapter refuse to close (a safe stop)."""
        volts, closed, st = self.volts, self.demand.car_contactors_closed, self.ccs_status
        volts.retarget_to_inlet(closed)
        self._drain_volts()
        if volts.above(st.evse_max_voltage, closed):
            self._refuse_close(now, "battery-above-charger-maximum", charger_max=st.evse_max_voltage,
                               car_side=volts.car_side(closed))
            return False
        if volts.agrees(st.present_voltage, closed):
            return True
        if self.switch.close_wait_since is None:
            self.switch.close_wait_since = now
        elif now - self.switch.close_wait_since >= INLET_RETARGET_S - EPS:
            self._refuse_close(now, "voltage-mismatch", charger=st.present_voltage, car_side=volts.car_side(closed))
        return False

    def _refuse_close(self, now: float, reason: str, **fields: object) -> None:
        """Never close this session; stop both sides normally with ``reason`` (a named cause)."""
        self.switch.refused = True
        self._log("contactor-close-refused", reason=reason, **fields)
        self.power.stop_reported("adapter", reason, now)
        self._drain_power(now)

    def _update_request(self, now: float, again: bool = False) -> None:
        cfg, st, demand = self.config, self.ccs_status, self.demand
        limit = st.evse_dynamic_current if st.evse_dynamic_current is not None else st.evse_max_current
        # A VCU asks for its current from the end of the precharge, seconds before the first
        # CurrentDemandReq (ContactorsClosing, PowerDelivery: ≈0.9 s at a Compleo): a ramp running
        # meanwhile reached the charger as one step, which a Compleo's current loop overshot into
        # its EmergencyShutdown (campaign finding, docs/reliability.md).  A single-session car's
        # charging loop runs ahead of CCS the same way (the request shows 1 A meanwhile).  In
        # both the ramp starts with the CurrentDemand loop, from 0 A.
        loop = demand.charging and (st.current_demand or not (self.clara or self.single_session))
        current = self.current.step(
            float(demand.current), in_charging_loop=loop,
            dynamic_max_a=float(cfg.max_amps) if limit is None else min(limit, cfg.max_amps),
            # a bidirectional (DC_BPT) charger takes current out when it decides to: no faked request
            discharge_a=0.0 if st.bidirectional else float(demand.discharge_current),
            sx_before_current_demand=self.single_session and not st.current_demand, again=again)
        volts = self.volts
        max_v = volts.max_voltage(demand.voltage)
        self.request = EvRequest(
            target_voltage=volts.target_voltage(max_v), target_current=round_decimals(current, 1),
            precharge_voltage=volts.precharge_voltage(),
            max_voltage=max_v, max_current=float(cfg.max_amps), max_power=EV_MAXIMUM_POWER_LIMIT_W,
            soc=ev_ress_soc(volts.car_soc), stop=self.pending, hold_precharge=not self.switch.closed,
            ready_to_start=volts.known, welding_hold=self.demand.car_contactors_closed,
            discharge_current_limit=self.discharge.current_a, discharge_floor_soc=self.discharge.floor_soc,
            battery_capacity_wh=self.discharge.capacity_wh)
        self._push_request(now)

    def _is_running_charge(self, *, ccs_response: bool) -> bool:
        """The one rule of what keeps the power manager's inactivity timer from ending a session
        (adapter.md §8, "activity"): a running charge.  Two moments ask — a PreChargeRes/CurrentDemandRes came
        (``ccs_response``), and every feed of the power manager (the car side charging).

        * A CCS response counts in PreCharge and CurrentDemand.
        * A charging car side counts only while the CCS link is up, or when the car charges without
          it (basic AC, ``charging_alone``): a car that closed its contactors first (the
          single-session flow) beside a charger whose SLAC never succeeds is inactivity (a campaign
          finding, issue 15).
        * Neither counts while the adapter asks the charger for current in CurrentDemand and none
          flows: car contactors that report closed but are open leave the charger's output on an
          open circuit — 0 A at the target voltage, which a car tolerant of under-delivery (and
          within its voltage check) accepts for ever (a campaign finding, issue 15).  A target of
          0 A (the car's or the charger's pause) is a running charge."""
        if ccs_response:
            moving = self.ccs.session_state in ("PreCharge", "CurrentDemand")
        else:
            side = self.car_side
            moving = (side is not None and side.charging()
                      and (self.ccs.link_state == "connected" or side.charging_alone()))
        if not moving:
            return False
        if not (self.ccs_status.current_demand and self.ccs.session_state == "CurrentDemand"):
            return True
        return (self.request.target_current < IDLE_CURRENT_A
                or abs(self.ccs_status.present_current or 0.0) >= IDLE_CURRENT_A)

    def _push_request(self, now: float) -> None:
        if self._ccs_running and self.ccs.request != self.request:
            self.ccs.ask(self.request, now)
            self._drain_ccs(now)

    def _feed_power(self, now: float) -> None:
        power = self.power
        side = self.car_side
        unlocked = (self.ccs.session_state in _CCS_UNLOCKED or self.progress.ccs_over, side is None or side.unlocked())
        if unlocked != self.told.unlocked:
            self.told.unlocked = unlocked
            power.unlocked(unlocked[0], unlocked[1], now)
        if self.told.contactor != self.switch.closed:
            self.told.contactor = self.switch.closed
            power.contactor(self.switch.closed, now)
        if self._is_running_charge(ccs_response=False):
            power.activity(now)
        stop = self._stop_plan(now)
        if not self.told.ccs_stop and stop.report_ccs is not None:
            self.told.ccs_stop = True
            power.stop_reported("ccs", stop.report_ccs, now)
        if not self.told.car_stop and stop.report_car is not None:
            self.told.car_stop = True
            # the car side by its mode: "chademo: 0x…" toward a CHAdeMO car, "clara: CAN timeout" toward a VCU
            power.stop_reported(self.config.mode if self.config.mode != "lightbulb" else "clara", stop.report_car, now)
        self._drain_power(now)

    # ------------------------------------------------------------------ the parts' actions
    def _drain_car_side(self, now: float) -> None:
        side = self.car_side
        assert side is not None
        for action in side.actions():
            if isinstance(action, Log):
                self._emit(Log(action.kind, {"part": "chademo", **action.fields}))
            else:  # CAN frames, d1, d2
                self._emit(action)
        self.demand = side.demand

    def _drain_power(self, now: float) -> None:
        for action in self.power.actions():
            if isinstance(action, SetOutput):
                self._on_power_output(action.name, action.value, now)
            elif isinstance(action, Log):
                self._emit(Log(action.kind, {"part": "power", **action.fields}))
            else:
                self._emit(action)

    def _drain_ccs(self, now: float) -> None:
        for action in self.ccs.actions():
            if isinstance(action, SetOutput):
                if action.name == "status":
                    self._on_ccs_status(action.value, now)
                elif action.name == _OUT_CP:
                    self._emit(action)
                # Output.EV_CONTACTOR is a CCS car's own; the adapter's follows adapter.md §2.2 (_decide_contactor).
                # "connection_level" is the connection's progress, visible in its state records.
            elif isinstance(action, Log):
                self._emit(Log(action.kind, {"part": "ccs", **action.fields}))
            else:
                self._emit(action)
        ccs = self.ccs
        if ccs.responses != self.ccs_memory.seen_responses:
            self.ccs_memory.seen_responses = ccs.responses
            # a PreChargeRes or CurrentDemandRes
            if self._is_running_charge(ccs_response=True):
                self.power.activity(now)
                self._drain_power(now)
        self._leds(now)

    def _on_power_output(self, name: str, value: Any, now: float) -> None:
        if name in (_OUT_POWER_HOLD, _OUT_LED):
            self._emit(SetOutput(name, value))
        elif name == PowerSignal.CONTACTOR_OVERRIDE:
            self.switch.override = value
            self._decide_contactor(now)
        elif name == PowerSignal.POWER_OFF_PENDING and value and not self.pending:
            self._on_pending(now)
        elif name == PowerSignal.SIDES_ENABLED:
            if value and not self.enabled:
                self._enable(now)
            elif not value and self.enabled:
                self.enabled = False
                self._enter(_PH_OFF.value if self.power.state != "running" else self.state)
        elif name == PowerSignal.MODES:
            self.modes = value
        elif name == PowerSignal.FORCED_OFF and value:
            self.emergency = True
        elif name == PowerSignal.SOFT_RESET and isinstance(value, SoftReset):
            self._soft_reset(value, now)

    def _enable(self, now: float) -> None:
        self.enabled = True
        self.v2x = v2x = self.config.v2x or "v2x" in self.modes
        self.car_side = side = self._new_car_side(v2x)
        side.permission(self._k, now)
        if isinstance(side, ClaraSide):
            for name, value in self.clara_inputs.items():
                side.sensor(name, value, now)
        self._enter(_PH_RUNNING.value, sx=self.single_session, v2x=v2x)
        if self.single_session and not self.progress.ccs_started and not self.pending:
            # SX: "CCS starts at boot" (adapter.md §3) — as soon as the power-on button check is over, not a
            # CHAdeMO cycle later (the time to the first SLAC frame is a measured target).
            self._kickoff(now)

    def _on_pending(self, now: float) -> None:
        """Power-off pending (adapter.md §4): both sides stop normally."""
        self.pending = True
        self.stop_cause = self.power.pending_cause
        self._log("stop", cause=self.power.pending_cause, ccs=self.ccs_state, chademo=self.chademo_state)
        self._enter(_PH_STOPPING.value, cause=self.power.pending_cause)
        if self.car_side is not None:
            self.car_side.stop(now)
            self._drain_car_side(now)
        self.request = replace(self.request, stop=True)
        self._push_request(now)

    def _soft_reset(self, reset: SoftReset, now: float) -> None:
        """Always-on (adapter.md §8): fresh sides; keep the discovery results (except SX)."""
        self.soft_resets = reset.count
        keep = reset.keep_discovery and not self.single_session  # SX keeps nothing (adapter.md §3)
        self._log("soft-reset", count=reset.count, keep_discovery=keep)
        self._init_sides(keep_discovery=keep)
        self._enter(_PH_BOOT.value, reason="soft reset")

    # ------------------------------------------------------------------ the CCS side's progress
    def _on_ccs_status(self, status: EvccStatus, now: float) -> None:
        previous = self.ccs_status
        self.ccs_status = status
        if status.safe_shutdown and self.ccs_memory.safe_shutdown_at is None:
            self.ccs_memory.safe_shutdown_at = now
            if previous.state == "CurrentDemand":  # the last request may be flowing, whatever the reply said
                self.ccs_memory.last_cd_current = max(self.ccs_memory.last_cd_current, self.sent_current())
        if status.current_demand and status.present_voltage is not None and status.present_current is not None:
            self.ccs_memory.last_cd_voltage = status.present_voltage
            # what may be flowing: the charger's figure lags, so also what we asked for
            self.ccs_memory.last_cd_current = max(status.present_current, self.sent_current())
            req = self.request
            self.mirror.observe(min(req.target_voltage, req.max_voltage), self.sent_current(),
                                status.present_voltage, status.present_current)
        if status.state in _CCS_NOT_DELIVERING and self.ccs_memory.not_delivering_at is None:
            self.ccs_memory.not_delivering_at = now
        if status.precharge_reached and not previous.precharge_reached:
            self._log("precharge-stall" if self.request.hold_precharge else "precharge-reached",
                      present=status.present_voltage, target=self.request.precharge_voltage)
        welding_over = status.state == "SessionStop" and previous.state == "WeldingDetection"
        if welding_over and not self.ccs_memory.welding_logged:
            self._welding_verdict(status)
        if status.ended and not self.progress.ccs_over:
            self._ccs_ended(now)

    def _welding_verdict(self, status: EvccStatus) -> None:
        """adapter.md §4: a charger voltage that never fell is logged, never turned into a safe shutdown."""
        self.ccs_memory.welding_logged = True
        volts = status.present_voltage
        if volts is None or volts < WELDING_END_V:
            self._log("welding-detection", result="voltage fell", volts=volts)
        elif (last := self.ccs_memory.last_cd_voltage) is not None and abs(volts - last) <= LYING_TOLERANCE_V:
            self._log("welding-detection", result="probably lying", volts=volts, last_current_demand=last)
        else:
            self._log("welding-detection", result="probably welded", volts=volts)

    def _ccs_ended(self, now: float) -> None:
        st = self.ccs_status
        if self._stop_plan(now).restart_ccs:
            self.progress.ccs_restarts += 1
            self._log("ccs-restart", n=self.progress.ccs_restarts, reason=st.stop_reason)
            self.ccs_memory.not_delivering_at = None  # the next CCS session delivers again
            if self.ccs.link_state in ("connected", "connecting"):
                self._emit(CloseLink("tcp"))
            self.ccs = self._new_ccs(now)
            self.ccs_status = self.ccs.status
            self.ccs_memory.safe_shutdown_at = None  # that session's safe shutdown is over
            self.ccs_memory.seen_responses = 0
            self._push_request(now)
            self.ccs.handle_timer(now)
            self._drain_ccs(now)
            return
        self.progress.ccs_over = True
        self._log("ccs-ended", reason=st.stop_reason, result=st.result)
        self._feed_power(now)

    def _leds(self, now: float) -> None:
        wanted: list[str] = []
        if self.progress.ccs_started and self.ccs.matched:
            wanted.append("lifesign")
        if self.ccs.link_state == "connected":
            wanted.append("tcp-connected")
        pattern = _LED_BY_EVCC_STATE.get(self.ccs.session_state)
        if pattern is not None:
            wanted.append(pattern)
        for name in wanted:
            if name not in self.told.leds:
                self.told.leds.add(name)
                self.power.pattern(name, now)
        self._drain_power(now)
