"""The CAN-controlled EV as the bridge's car side: a drop-in for a ccs32clara/Foccci charge
controller driven by a ZombieVerter VCU (issue 13), behind the :class:`~.car_side.CarSide` seam.

Why a second car side and not a new bridge: toward the charger nothing changes — the bridge's
CCS side is the same CCS car — and the bridge's contactor rule (close only within 20 V of the
battery, never once a stop began) is exactly the inlet contactor rule of a DIY conversion.  What
changes is who says what the battery wants: here a VCU on CAN, through the openinverter CAN map
(:mod:`.clara_map`), and parameters written over SDO (:mod:`.sdo`).  Mapped onto the seam:

* the VCU's **target voltage**, **charge current request**, **SoC** and **battery voltage**
  become the :class:`~ccs2chademo.chademo.interfaces.VehicleView` the bridge learns from — the
  battery voltage as a *measured* value, so the CCS precharge aims at it and the contactor closes
  only within 20 V of it — and the :class:`~ccs2chademo.chademo.interfaces.PowerDemand`;
* the "car's contactors" of the seam are the pack side being ready: the VCU's pack contactors
  are closed (it reports the battery voltage), and the side says so once the precharge is done;
  the bridge's ``contactor`` output is then the **inlet contactors**;
* the controller reports the charger's figures in **0x109** and its port, lock and limitation
  state in **0x357** every 100 ms (the ZombieVerter map; any map the VCU writes over SDO).

Rules (ccs32clara / ZombieVerter public sources, our own code): a charge-current write counts as
the CAN watchdog only if ``enable`` arrived since the previous one; 3 s without it stops the
session (``CAN timeout``); ``enable`` = 0 stops it; SoC above 95 % is "battery full".  These hold
from the moment the VCU is discovered — the CCS setup (SLAC … CableCheck) runs for the VCU too,
so a VCU silent there ends the session within the 3 s as well, before its charge session starts
(``discovered`` → ``ended``: nothing was locked or closed yet).

**Stand-alone** (``[clara] demo-control = "stand-alone"``, ccs32clara's DemoControl = 234, and
the ``lightbulb`` mode): no VCU and no watchdog; the demo voltage is both the target and the
"battery" the precharge aims at, the request is the demo current.  In ``lightbulb`` mode the load
relay (output ``load_relay``) closes ``load-relay-delay-ms`` after the precharge ended — about
2 s into CurrentDemand — so the charger's precharge never sees a load; in ``clara`` mode a real
pack sits behind the inlet contactors.

**Inlet temperature** (inputs ``inlet_temp1`` / ``inlet_temp2``, °C): above ``derate-temp`` the
current limit falls linearly from ``max-amps`` to ``derate-min-current`` at
``max-pin-temperature`` (``LimitationReason`` 1 "inlet hot", ``TempLimitedCurrent``; the limit
also caps ``EvseMaxCurrent`` in 0x109, so the VCU clamps its request to it); above
``max-pin-temperature`` the session stops (``StopReason`` 7, "inlet overheat").

**Inlet lock** (output ``lock``; with ``lock-feedback`` the input ``lock_feedback``, True =
locked): the charge session locks the inlet and, with feedback, the inlet contactors close only
once the lock reports closed; no "closed" within ``lock-timeout-ms``, or an "open" while locked,
stops the session (``StopReason`` 9 "lock failure", ours: ccs32clara has none).  At the end the
lock opens when the VCU allows it and the inlet is below 60 V.

**Basic AC** (input ``cp_duty``, the CP PWM duty cycle in %, IEC 61851-1): a duty cycle of an AC
offer gives ``EvseAcCurrentLimit`` (:func:`ac_current_limit`); the VCU then drives its on-board
charger and reports it in ``AcObcState`` (1 lock, 2 charging, 3 pause, 4 complete): the side
locks, presents CP state C while the OBC charges (B otherwise) and never starts CCS.  5 % (3–7 %)
means digital communication: the DC flow.  No ``cp_duty`` input at all is the DC flow as well.

Outputs besides CAN frames and logs: ``lock``, ``load_relay``, ``cp`` (basic AC only).
States: :class:`ClaraState` and :data:`CLARA_SUCCESSORS`; timers: :class:`ClaraTimer`
(docs/machines.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from ..chademo.interfaces import (
    ChargerState,
    PowerDemand,
    SessionKind,
    StopReason,
    Upstream,
    VehicleView,
)
from ..deadline import Timers
from ..runtime import CanFrame, CanReceived, MachineBase, SendCan, SetOutput
from ..runtime.machine import successor_table
from ..runtime.signals import Input, Output
from .clara_map import PARAMETERS, CanMap, FrameError, pack, unpack
from .config import AdapterConfig, ClaraConfig
from .sdo import SdoAbort, SdoServer

#: The output that hands an SDO save to the runtime (value: :class:`ClaraSave`): ``ccs2chademo run``
#: writes it into the configuration file, the simulation records it.  Not a physical signal.
SAVE_OUTPUT = "clara_save"
CYCLE_S = 0.1
WATCHDOG_S = 3.0  # no counted ChargeCurrent for this long: "CAN timeout"
FULL_SOC = 95.0  # SoC above this: battery full
#: The stop waits until the charger's current has been at most this for STOP_HOLD_S before the
#: inlet contactors open: the charger reports 0 A as soon as CurrentDemand ends, while its
#: stage still ramps down (≈0.4 s from 100 A on real stages).
STOP_CURRENT_A = 5.0
STOP_HOLD_S = 1.0
UNLOCK_SAFE_V = 60.0  # the inlet lock opens only below this …
UNLOCK_FALLBACK_S = 5.0  # … or this long after the contactors opened (a charger whose figure never falls)
#: ZombieVerter's AcObcState (ccs32clara ``ACOBCSTT``): 0 idle, 1 lock, 2 charging, 3 pause, 4 complete, 5 error.
OBC_LOCK, OBC_CHARGING, OBC_COMPLETE = 1, 2, 4
#: The sensor inputs the side reads (the bridge hands them over, also the last value of each when
#: the side is created).
SENSOR_INPUTS = frozenset((Input.LOCK_FEEDBACK, Input.INLET_TEMP1, Input.INLET_TEMP2, Input.CP_DUTY))


def ac_current_limit(duty: float) -> float:
    """The AC current an EVSE offers by its CP duty cycle (%), IEC 61851-1:2017 Annex A,
    Table A.8 (a fact): 8–10 % → 6 A; 10–85 % → duty × 0.6 A; 85–96 % → (duty − 64) × 2.5 A;
    96–97 % → 80 A.  Anything else (3–7 %: digital communication, i.e. DC; 0 / 100 %: no PWM;
    the undefined gaps) offers no AC current: 0."""
    if 8.0 <= duty < 10.0:
        return 6.0
    if 10.0 <= duty <= 85.0:
        return round(duty * 0.6, 1)
    if 85.0 < duty <= 96.0:
        return round((duty - 64.0) * 2.5, 1)
    if 96.0 < duty <= 97.0:
        return 80.0
    return 0.0


def digital_communication(duty: float) -> bool:
    """3–7 % (5 % nominal): the EVSE asks for digital communication (ISO 15118 / DIN: the DC flow)."""
    return 3.0 <= duty <= 7.0


@dataclass(frozen=True, slots=True)
class ClaraSave:
    """An SDO save (0x5002.0) to keep: the whole ``[clara]`` table it gives, validated."""

    clara: ClaraConfig

    def __str__(self) -> str:  # the session log's "output" record
        return f"[clara] node {self.clara.node_id}, {len(self.clara.can_map().entries)} map entries"


class ClaraState(StrEnum):
    """The clara car side's states (logged as the side's ``state`` records)."""

    IDLE = "idle"
    WAIT_VCU = "wait_vcu"  # discovery: waiting for the VCU's enable, target and battery voltage
    DISCOVERED = "discovered"
    WAIT_PRECHARGE = "wait_precharge"  # charge session: locked, cable check and precharge run
    CHARGING = "charging"  # precharge done: the inlet contactors may close, the request passes
    AC_CHARGING = "ac_charging"  # basic AC: locked, CP C while the VCU's on-board charger charges
    STOP_WAIT_CURRENT = "stop_wait_current"
    STOP_UNLOCK = "stop_unlock"  # contactors open; the lock opens when allowed and safe
    ENDED = "ended"


_C = ClaraState
CLARA_SUCCESSORS = successor_table({
    _C.IDLE: {_C.WAIT_VCU, _C.WAIT_PRECHARGE, _C.ENDED},
    _C.WAIT_VCU: {_C.DISCOVERED, _C.WAIT_PRECHARGE, _C.AC_CHARGING, _C.ENDED},
    _C.DISCOVERED: {_C.WAIT_PRECHARGE, _C.ENDED},  # ended: the VCU stopped during the CCS setup
    _C.WAIT_PRECHARGE: {_C.CHARGING, _C.STOP_WAIT_CURRENT},
    _C.CHARGING: {_C.STOP_WAIT_CURRENT},
    _C.AC_CHARGING: {_C.STOP_UNLOCK},
    _C.STOP_WAIT_CURRENT: {_C.STOP_UNLOCK},
    _C.STOP_UNLOCK: {_C.ENDED},
    _C.ENDED: set(),
})


class ClaraTimer(StrEnum):
    """What the clara side waits for."""

    CYCLE = "cycle"  # 100 ms: the frames out, the VCU's values judged
    WATCHDOG = "watchdog"  # WATCHDOG_S after the last counted charge-current write
    LOAD_RELAY = "load-relay"  # lightbulb: the load relay closes
    LOCK = "lock"  # lock-timeout-ms after a lock or unlock command: the feedback must have followed


class ClaraStop(IntEnum):
    """Stop reasons, numbered as ccs32clara reports them (the ``StopReason`` value)."""

    NONE = 0
    BUTTON = 1
    MISSING_ENABLE = 2
    CAN_TIMEOUT = 3
    CHARGER_SHUTDOWN = 4
    ACCU_FULL = 5
    CHARGER_EMERGENCY = 6
    INLET_OVERHEAT = 7
    LOCK_FAILURE = 9  # ours: ccs32clara's list ends at 8 (EvseMalfunction)


STOP_TEXT = {
    ClaraStop.BUTTON: "stop requested",
    ClaraStop.MISSING_ENABLE: "enable off",
    ClaraStop.CAN_TIMEOUT: "CAN timeout",
    ClaraStop.CHARGER_SHUTDOWN: "charger shutdown",
    ClaraStop.ACCU_FULL: "battery full",
    ClaraStop.CHARGER_EMERGENCY: "charger emergency",
    ClaraStop.INLET_OVERHEAT: "inlet overheat",
    ClaraStop.LOCK_FAILURE: "lock failure",
}

#: PortState values (0x357) by state.
_PORT_STATE = {_C.IDLE: 0, _C.WAIT_VCU: 1, _C.DISCOVERED: 1, _C.WAIT_PRECHARGE: 2, _C.CHARGING: 4,
               _C.AC_CHARGING: 3, _C.STOP_WAIT_CURRENT: 5, _C.STOP_UNLOCK: 5, _C.ENDED: 6}
#: The nearest CHAdeMO charger state, for the view's ``state`` field (never decided on).
_VIEW_STATE = {_C.IDLE: ChargerState.IDLE, _C.WAIT_VCU: ChargerState.WAIT_CAR_READY,
               _C.DISCOVERED: ChargerState.DISCOVERED, _C.WAIT_PRECHARGE: ChargerState.WAIT_PRECHARGE,
               _C.CHARGING: ChargerState.CHARGING, _C.AC_CHARGING: ChargerState.CHARGING,
               _C.STOP_WAIT_CURRENT: ChargerState.STOP_WAIT_CURRENT,
               _C.STOP_UNLOCK: ChargerState.STOP_UNLOCK, _C.ENDED: ChargerState.ENDED}
_DC_SESSION = frozenset((_C.WAIT_PRECHARGE, _C.CHARGING))
_SESSION = frozenset((*_DC_SESSION, _C.AC_CHARGING))
#: the states in which the VCU's stop rules (CAN timeout, enable off, battery full) end the session:
#: from its discovery on, the CCS setup included
_VCU_RULED = frozenset((_C.DISCOVERED, *_SESSION))
_STOPPING = frozenset((_C.STOP_WAIT_CURRENT, _C.STOP_UNLOCK, _C.ENDED))
_UNLOCKED = frozenset((_C.IDLE, _C.WAIT_VCU, _C.DISCOVERED, _C.ENDED))
#: LockState (ccs32clara ``LOCK``): 1 open, 2 closed, 3 opening, 4 closing
LOCK_OPEN, LOCK_CLOSED, LOCK_OPENING, LOCK_CLOSING = 1, 2, 3, 4


class ClaraSide(MachineBase):
    """A ccs32clara-style charge controller as the bridge's car side (see the module docstring)."""

    def __init__(self, name: str, config: AdapterConfig) -> None:
        super().__init__(name, ClaraState.IDLE.value, CLARA_SUCCESSORS)
        self.config = config
        clara = config.clara
        self.lightbulb = config.mode == "lightbulb"
        #: no VCU: the demo values, no watchdog (the light bulb, or demo-control = "stand-alone")
        self.standalone = self.lightbulb or clara.demo_control == "stand-alone"
        self.sdo = SdoServer(clara.node_id, clara.can_map())
        #: every parameter's present value (inputs from the VCU, values we report)
        self.values: dict[str, float] = dict.fromkeys(PARAMETERS, 0.0)
        if self.standalone:
            self.values.update(TargetVoltage=clara.demo_voltage, BatteryVoltage=clara.demo_voltage,
                               ChargeCurrent=clara.demo_current, enable=1.0, soc=50.0, AllowUnlock=1.0)
        # enable and AllowUnlock default to 1 as in ccs32clara (include/param_prj.h): a VCU that never
        # spoke is a CAN timeout, not "enable off", and its silence does not keep the cable locked for ever
        self.values.update(LockState=LOCK_OPEN, enable=1.0, AllowUnlock=1.0, TempLimitedCurrent=float(config.max_amps))
        self.values.update(clara.sdo_settings())
        self.timers = Timers()
        self.session: SessionKind | None = None
        self.stop_reason = ClaraStop.NONE
        self.upstream = Upstream()
        self.vcu_seen = self.standalone
        self.watchdog_ok = self.standalone
        #: the VCU has fed the watchdog at least once (a watchdog that is not ok then has expired)
        self._fed = False
        self._enable_seen = False
        self._k = False
        self._demand = PowerDemand()
        self._low_current_since: float | None = None
        self._opened_at: float | None = None
        self._load_relay = False
        self._lock_feedback = False  # the lock's switch: True = locked
        self._unlock_asked = False
        self._temps: dict[str, float] = {}
        self._duty: float | None = None  # the CP duty cycle (%), None: never measured
        self._cp_c = False

    @property
    def can_map(self) -> CanMap:
        return self.sdo.can_map

    # ---------------------------------------------------------------- machine protocol
    def get_timer(self) -> float | None:
        return self.timers.next()

    def handle_timer(self, now: float) -> None:
        for purpose in self.timers.expired(now):
            self._on_timer(ClaraTimer(purpose), now)

    def receive(self, event: object, now: float) -> None:
        """Runtime entry point when the side runs on its own (tests): CAN frames only."""
        if isinstance(event, CanReceived):
            self.frame(event, now)

    def _on_timer(self, purpose: ClaraTimer, now: float) -> None:
        if purpose is ClaraTimer.CYCLE:
            self.timers.start(ClaraTimer.CYCLE, now + CYCLE_S)
            self._cycle(now)
        elif purpose is ClaraTimer.WATCHDOG:
            self.watchdog_ok = False
            self._log("clara-watchdog", expired=True, after_s=WATCHDOG_S)
            if self.state in _VCU_RULED:
                self._stop(ClaraStop.CAN_TIMEOUT, now)
        elif purpose is ClaraTimer.LOAD_RELAY and self.state == _C.CHARGING:
            self._set_load_relay(True)
        elif purpose is ClaraTimer.LOCK:
            self._lock_timeout(now)

    def _wake(self, now: float) -> None:
        """The 100 ms cycle runs from the first call that carries a time (the side's creation)."""
        if self.timers.at(ClaraTimer.CYCLE) is None:
            self.timers.start(ClaraTimer.CYCLE, now + CYCLE_S)

    # ---------------------------------------------------------------- the seam: inputs
    def frame(self, event: CanReceived, now: float) -> None:
        self._wake(now)
        frame = event.frame
        if frame.arbitration_id == self.sdo.request_id and not frame.is_extended_id:
            self._sdo(frame.data, now)
            return
        if frame.is_extended_id or frame.arbitration_id not in self.can_map.received_ids():
            return
        try:
            values = unpack(self.can_map, frame.arbitration_id, frame.data)
        except FrameError as exc:
            self._log("clara-frame-rejected", id=f"0x{frame.arbitration_id:03x}", reason=str(exc))
            return
        self.vcu_seen = True
        self._inputs(values, now)

    def _sdo(self, data: bytes, now: float) -> None:
        outcome = self.sdo.handle(data, self.values)
        kept: ClaraConfig | None = None
        if outcome.persist is not None:
            try:  # the map and the settings must make a valid [clara] table, or nothing is kept
                kept = self.config.clara.with_sdo(outcome.persist.settings, outcome.persist.can_map)
            except ValueError as exc:
                self._log("clara-map", index=f"0x{outcome.index:04x}", entries=len(self.can_map.entries),
                          saved=False, refused=str(exc))
                outcome = self.sdo.refuse(outcome, SdoAbort.GENERAL)
        self._emit(SendCan("can", CanFrame(self.sdo.answer_id, outcome.answer)))
        if outcome.abort is not None:
            self._log("clara-sdo-abort", index=f"0x{outcome.index:04x}", subindex=outcome.subindex,
                      code=f"0x{int(outcome.abort):08x}", reason=outcome.abort.name)
        if outcome.new_map is not None:
            self._log("clara-map", index=f"0x{outcome.index:04x}", entries=len(outcome.new_map.entries))
        if kept is not None:
            self._log("clara-map", index=f"0x{outcome.index:04x}", entries=len(self.can_map.entries), saved=True)
            self._emit(SetOutput(SAVE_OUTPUT, ClaraSave(kept)))
        settings = {name: v for name, v in outcome.written.items() if PARAMETERS[name].setting is not None}
        self.values.update(settings)  # used from the next start; kept by a save
        if len(settings) < len(outcome.written):
            self._inputs({name: v for name, v in outcome.written.items() if name not in settings}, now)

    def _inputs(self, values: Mapping[str, float], now: float) -> None:
        """The VCU's inputs in the order they arrived: ``enable`` arms the watchdog, the next
        ``ChargeCurrent`` feeds it."""
        if self.standalone:
            return  # no VCU: the demo values stay
        for name, value in values.items():
            self.values[name] = value
            if name == "enable":
                self._enable_seen = True
            elif name == "ChargeCurrent" and self._enable_seen:
                self._enable_seen = False
                self.watchdog_ok = self._fed = True
                self.timers.start(ClaraTimer.WATCHDOG, now + WATCHDOG_S)
        # the request passes at once: the bridge reads it at its next cycle, not one of ours later
        self._update_demand()

    def sensor(self, name: str, value: object, now: float) -> None:
        """A board input of this mode (:data:`SENSOR_INPUTS`): the lock's feedback switch, an
        inlet temperature (°C), the CP duty cycle (%).  Values of the wrong type are logged and
        dropped (a driver bug must not look like a cold inlet)."""
        self._wake(now)
        if name == Input.LOCK_FEEDBACK and isinstance(value, bool):
            self._on_lock_feedback(value, now)
        elif name in (Input.INLET_TEMP1, Input.INLET_TEMP2) and isinstance(value, int | float) \
                and not isinstance(value, bool):
            self._temps[name] = float(value)
            self.values["temp1" if name == Input.INLET_TEMP1 else "temp2"] = round(float(value))
            self._judge_temperature(now)
        elif name == Input.CP_DUTY and isinstance(value, int | float) and not isinstance(value, bool):
            self._duty = float(value)
            self.values["ControlPilotDuty"] = round(self._duty, 1)
            self.values["EvseAcCurrentLimit"] = ac_current_limit(self._duty)
        else:
            self._log("clara-input-rejected", name=name, value=repr(value))

    def permission(self, granted: bool, now: float) -> None:
        self._wake(now)
        self._k = granted

    def start(self, kind: SessionKind, now: float) -> None:
        self._wake(now)
        self.session = kind
        if kind is SessionKind.DISCOVERY:
            self._enter(_C.WAIT_VCU.value, session=kind.value)
        else:
            self._start_charge(now)

    def promote(self, now: float) -> None:
        self.session = SessionKind.CHARGE
        self._start_charge(now)

    def _start_charge(self, now: float) -> None:
        self.session = SessionKind.CHARGE
        if self._fed and not self.watchdog_ok and not self.standalone:
            # the single-session flow starts the charge session at the SLAC match, whatever the
            # VCU did meanwhile: one that went silent more than 3 s ago ends it at once
            self._stop(ClaraStop.CAN_TIMEOUT, now)
            return
        if self._enter(_C.WAIT_PRECHARGE.value, session=SessionKind.CHARGE.value):
            self._arm_watchdog(now)
            self._set_lock(True, now)
            self._update_demand()
            self._judge_upstream(now)

    def _arm_watchdog(self, now: float) -> None:
        if not self.standalone and self.timers.at(ClaraTimer.WATCHDOG) is None:
            # a session started before the VCU ever fed the watchdog (single-session flow):
            # it has 3 s from now
            self.timers.start(ClaraTimer.WATCHDOG, now + WATCHDOG_S)

    def feed(self, upstream: Upstream, now: float) -> None:
        self.upstream = upstream
        self._judge_upstream(now)

    def _judge_upstream(self, now: float) -> None:
        """The CCS side's verdicts: precharge done (the pack side may be connected), or stopped.
        Also judged when the charge session starts: the single-session flow reports the precharge
        done from the beginning, before the session exists."""
        upstream = self.upstream
        if self.state == _C.WAIT_PRECHARGE and upstream.precharge_done and not (upstream.stopped or upstream.fault):
            self._enter(_C.CHARGING.value, voltage=self.values["BatteryVoltage"])
            if self.lightbulb:
                self.timers.start(ClaraTimer.LOAD_RELAY, now + self.config.clara.load_relay_delay_ms / 1000.0)
            self._update_demand()
        if self.state in _DC_SESSION and (upstream.stopped or upstream.fault):
            self._stop(ClaraStop.CHARGER_EMERGENCY if upstream.fault else ClaraStop.CHARGER_SHUTDOWN, now)

    def stop(self, now: float) -> None:
        if self.state in _STOPPING:
            return
        if self.state in _SESSION:
            self._stop(ClaraStop.BUTTON, now)
        else:
            self._enter(_C.ENDED.value, reason="stop before the charge session")

    def cycle_done(self) -> None:
        """Nothing to remember per cycle: the VCU's values are read when they arrive."""

    # ---------------------------------------------------------------- the 100 ms cycle
    def _cycle(self, now: float) -> None:
        state = self.state
        if state == _C.WAIT_VCU and self._ac_offered() and self._vcu_ready(ac=True):
            self._start_ac(now)
        elif state == _C.WAIT_VCU and self._vcu_ready(ac=False):
            self._enter(_C.DISCOVERED.value, voltage=self.values["BatteryVoltage"])
        elif state in _SESSION and self._overheated():
            self._stop(ClaraStop.INLET_OVERHEAT, now)  # also a session that started hot (no new reading)
        elif state in _VCU_RULED and not self.standalone:
            if self.values["enable"] < 1.0:
                self._stop(ClaraStop.MISSING_ENABLE, now)
            elif self.values["soc"] > FULL_SOC:
                self._stop(ClaraStop.ACCU_FULL, now)
            elif state == _C.AC_CHARGING:
                self._ac_cycle(now)
        elif state == _C.STOP_WAIT_CURRENT:
            self._wait_current(now)
        elif state == _C.STOP_UNLOCK:
            self._try_unlock(now)
        self._update_demand()
        self._send_frames()

    def _vcu_ready(self, ac: bool) -> bool:
        v = self.values
        return self.standalone or (self.watchdog_ok and v["enable"] >= 1.0 and (
            ac or (v["TargetVoltage"] > 0 and v["BatteryVoltage"] > 0)))

    def _stop(self, reason: ClaraStop, now: float) -> None:
        self.stop_reason = reason
        self.values["StopReason"] = int(reason)
        self._log("clara-stop", reason=STOP_TEXT[reason], code=int(reason), state=self.state,
                  soc=self.values["soc"], enable=self.values["enable"])
        ac = self.state == _C.AC_CHARGING
        self.timers.cancel(ClaraTimer.LOAD_RELAY)
        self._low_current_since = None
        if self.state not in _SESSION:
            # before the charge session (the CCS setup, or a single-session start after the VCU
            # fell silent): nothing locked, no contactor closed — the end is at once
            self._enter(_C.ENDED.value, reason=STOP_TEXT[reason])
        elif ac:  # the OBC stops on CP B: nothing of ours carries current, the lock may follow
            self._set_cp(False)
            self._opened_at = now
            self._enter(_C.STOP_UNLOCK.value, reason=STOP_TEXT[reason])
        else:
            self._enter(_C.STOP_WAIT_CURRENT.value, reason=STOP_TEXT[reason])
        self._update_demand()

    def _wait_current(self, now: float) -> None:
        if self.upstream.present_current > STOP_CURRENT_A:
            self._low_current_since = None
            return
        if self._low_current_since is None:
            self._low_current_since = now
        if now - self._low_current_since >= STOP_HOLD_S - 1e-9:
            self._opened_at = now
            self._set_load_relay(False)
            self._enter(_C.STOP_UNLOCK.value, reason="current down")

    # ---------------------------------------------------------------- the inlet lock
    def _try_unlock(self, now: float) -> None:
        if self._unlock_asked:
            return  # waiting for the feedback (or its timeout)
        allowed = self._unlock_allowed()
        low = self.upstream.present_voltage < UNLOCK_SAFE_V
        waited = self._opened_at is not None and now - self._opened_at >= UNLOCK_FALLBACK_S - 1e-9
        if allowed and (low or waited):
            self._unlock_asked = True
            self._set_lock(False, now, voltage=self.upstream.present_voltage, rule="low voltage" if low else "timeout")
            if self.values["LockState"] == LOCK_OPEN:
                self._enter(_C.ENDED.value, reason="unlocked")

    def _unlock_allowed(self) -> bool:
        """The VCU's AllowUnlock bit (no VCU: always); while it is 0 the lock stays closed."""
        return self.standalone or self.values["AllowUnlock"] >= 1.0

    def _set_lock(self, closed: bool, now: float, **why: object) -> None:
        self._log("clara-lock", closed=closed, **why)
        self._emit(SetOutput(Output.LOCK, closed))
        if not self.config.clara.lock_feedback or self._lock_feedback == closed:
            self.values["LockState"] = LOCK_CLOSED if closed else LOCK_OPEN
            return
        self.values["LockState"] = LOCK_CLOSING if closed else LOCK_OPENING
        self.timers.start(ClaraTimer.LOCK, now + self.config.clara.lock_timeout_ms / 1000.0)

    def _on_lock_feedback(self, locked: bool, now: float) -> None:
        self._lock_feedback = locked
        if not self.config.clara.lock_feedback:
            return
        state = self.values["LockState"]
        if state == LOCK_CLOSING and locked:
            self.timers.cancel(ClaraTimer.LOCK)
            self.values["LockState"] = LOCK_CLOSED
            self._log("clara-lock-feedback", locked=True)
        elif state == LOCK_OPENING and not locked:
            self.timers.cancel(ClaraTimer.LOCK)
            self.values["LockState"] = LOCK_OPEN
            self._log("clara-lock-feedback", locked=False)
            if self.state == _C.STOP_UNLOCK:
                self._enter(_C.ENDED.value, reason="unlocked")
        elif state == LOCK_CLOSED and not locked:
            self.values["LockState"] = LOCK_OPEN
            self._log("clara-lock-feedback", locked=False, unexpected=True)
            if self.state in _SESSION:
                self._stop(ClaraStop.LOCK_FAILURE, now)

    def _lock_timeout(self, now: float) -> None:
        closing = self.values["LockState"] == LOCK_CLOSING
        self._log("clara-lock-failed", closing=closing, after_ms=self.config.clara.lock_timeout_ms)
        self.values["LockState"] = 0  # "none": the lock's position is unknown
        if closing and self.state in _SESSION:
            self._stop(ClaraStop.LOCK_FAILURE, now)
        elif self.state == _C.STOP_UNLOCK:  # stuck locked: the cable stays in, nothing else to do
            self._enter(_C.ENDED.value, reason="lock stuck")

    def _locked(self) -> bool:
        return self.values["LockState"] == LOCK_CLOSED

    # ---------------------------------------------------------------- inlet temperature
    def _judge_temperature(self, now: float) -> None:
        """Derating and the over-temperature stop (module docstring)."""
        clara = self.config.clara
        hottest = max(self._temps.values())
        self.values["MaxTemp"] = round(hottest)
        self.values["TempLimitedCurrent"] = limit = temperature_limit(
            hottest, float(self.config.max_amps), clara.derate_temp, clara.max_pin_temperature,
            clara.derate_min_current)
        hot = 1 if limit < self.config.max_amps else 0
        if hot != self.values["LimitationReason"]:
            self.values["LimitationReason"] = hot
            self._log("clara-derating", inlet_hot=bool(hot), temperature=round(hottest, 1), limit=limit)
        if self._overheated() and self.state in _SESSION:
            self._stop(ClaraStop.INLET_OVERHEAT, now)
        self._update_demand()

    def _overheated(self) -> bool:
        return bool(self._temps) and max(self._temps.values()) > self.config.clara.max_pin_temperature

    # ---------------------------------------------------------------- basic AC
    def _ac_offered(self) -> bool:
        return self._duty is not None and ac_current_limit(self._duty) > 0

    def _start_ac(self, now: float) -> None:
        """An AC EVSE (its duty cycle offers current): no CCS; the charge session is the VCU's
        on-board charger behind the inlet lock and CP state C."""
        self.session = SessionKind.CHARGE
        self._enter(_C.AC_CHARGING.value, reason=f"AC offer: {self.values['EvseAcCurrentLimit']:g} A")
        self._arm_watchdog(now)

    def _ac_cycle(self, now: float) -> None:
        obc = int(self.values["AcObcState"])
        if not self._ac_offered():
            self._stop(ClaraStop.CHARGER_SHUTDOWN, now)  # the EVSE withdrew its offer
            return
        if obc == OBC_COMPLETE:
            self._stop(ClaraStop.ACCU_FULL, now)
            return
        if obc in (OBC_LOCK, OBC_CHARGING) and self.values["LockState"] == LOCK_OPEN:
            self._set_lock(True, now)  # a failed lock stops the session (_lock_timeout): never retried
        self._set_cp(obc == OBC_CHARGING and self._locked())

    def _set_cp(self, state_c: bool) -> None:
        if state_c != self._cp_c:
            self._cp_c = state_c
            self._log("clara-cp", cp="C" if state_c else "B")
            self._emit(SetOutput(Output.CP, "C" if state_c else "B"))

    # ---------------------------------------------------------------- outputs
    def _set_load_relay(self, closed: bool) -> None:
        if closed != self._load_relay and self.lightbulb:
            self._load_relay = closed
            self._log("clara-load-relay", closed=closed)
            self._emit(SetOutput(Output.LOAD_RELAY, closed))

    def _update_demand(self) -> None:
        state, v = self.state, self.values
        charging = state == _C.CHARGING
        connected = state in (_C.CHARGING, _C.STOP_WAIT_CURRENT)
        request = max(0, int(min(v["ChargeCurrent"], v["TempLimitedCurrent"]))) if charging else 0
        self._demand = PowerDemand(
            precharge=state == _C.WAIT_PRECHARGE, d2=connected, car_contactors_closed=connected,
            charging=charging, stopping=state in _STOPPING, voltage=max(0, int(v["TargetVoltage"])),
            current=request)
        self.values["EVTargetCurrent"] = request

    def _send_frames(self) -> None:
        """0x109 / 0x357 (or whatever the map sends): the charger's figures and our state."""
        up, v = self.upstream, self.values
        v["EvseVoltage"] = up.present_voltage
        v["EvseCurrent"] = up.present_current
        charger_max = up.dynamic_current if up.dynamic_current is not None else up.available_current
        v["EvseMaxCurrent"] = min(charger_max, v["TempLimitedCurrent"])  # the VCU clamps to it
        v["EvseMaxVoltage"] = up.available_voltage
        v["PortState"] = _PORT_STATE[ClaraState(self.state)]
        v["opmode"] = list(ClaraState).index(ClaraState(self.state))
        for frame_id in self.can_map.sent_ids():
            self._emit(SendCan("can", CanFrame(frame_id, pack(self.can_map, frame_id, v))))

    # ---------------------------------------------------------------- the seam: what the bridge reads
    @property
    def demand(self) -> PowerDemand:
        return self._demand

    @property
    def vehicle(self) -> VehicleView:
        v, state = self.values, ClaraState(self.state)
        battery = round(v["BatteryVoltage"])
        connected = self._demand.car_contactors_closed
        return VehicleView(
            state=_VIEW_STATE[state], session=self.session, seen=self.vcu_seen, protocol_number=0,
            effective_protocol=2, target_voltage=max(0, int(v["TargetVoltage"])), frozen_target_voltage=None,
            # no maximum: the car recognition (CHAdeMO models) never matches a VCU
            max_battery_voltage=0, min_battery_voltage=0, min_charge_current=0,
            current_request=max(0, int(v["ChargeCurrent"])), soc=min(100.0, v["soc"]) if self.vcu_seen else None,
            soc_trusted=self.vcu_seen, rated_capacity_kwh=0.0, max_charge_time_s=0,
            measured_voltage=battery if battery > 0 else None, dynamic_control=True, legacy_dynamic_bit=False,
            sends_0x110=False, discharge_compatible=False, max_discharge_current=0, k=self._k,
            ready=v["enable"] >= 1.0, car_contactors_closed=connected, car_reports_contactors_open=not connected,
            battery_faults=0, system_fault=False, not_in_park=False, stop_reasons=StopReason.NONE, d1=False,
            d2=self._demand.d2, locked=self._locked(), charging=state == _C.CHARGING)

    def discovering(self) -> bool:
        return self.state == _C.WAIT_VCU

    def discovered(self) -> bool:
        return self.state == _C.DISCOVERED

    def contactors_evident(self) -> bool:
        """The pack side is ready: the precharge is done, the VCU reports a battery voltage
        (its pack contactors are closed) and the inlet lock is closed (with feedback: reported)."""
        return self.state == _C.CHARGING and self.values["BatteryVoltage"] > 0 and self._locked()

    def charging(self) -> bool:
        return self.state in (_C.CHARGING, _C.AC_CHARGING)

    def charging_alone(self) -> bool:
        return self.state == _C.AC_CHARGING

    def stopping(self) -> bool:
        return self.state in _STOPPING

    def stop_report(self) -> str | None:
        """Why the session stopped — also a stop during the CCS setup, before the charge session:
        a clara discovery never ends by a stop of its own (the VCU sees one session)."""
        if self.state in _STOPPING and self.stop_reason is not ClaraStop.NONE:
            return STOP_TEXT[self.stop_reason]
        return None

    def waiting_contactors_open(self) -> bool:
        return False  # the side opens the inlet contactors itself once the current is down

    def unlocked(self) -> bool:
        return self.state in _UNLOCKED


def temperature_limit(hottest: float, full: float, derate_temp: float, max_temp: float, floor: float) -> float:
    """The inlet's current limit at ``hottest`` °C: ``full`` up to ``derate_temp``, then falling
    linearly to ``floor`` at ``max_temp`` (and ``floor`` above it: the stop takes over there)."""
    if hottest <= derate_temp:
        return full
    share = min(1.0, (hottest - derate_temp) / (max_temp - derate_temp))
    return round(full - (full - floor) * share, 1)
