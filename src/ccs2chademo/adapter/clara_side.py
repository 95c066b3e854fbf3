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
session (``CAN timeout``); ``enable`` = 0 stops it; SoC above 95 % is "battery full".

``lightbulb`` mode is ccs32clara's stand-alone demo: no VCU and no watchdog; the demo voltage is
both the target and the "battery" the precharge aims at, the request is the demo current, and the
load relay (output ``load_relay``) closes ``load-relay-delay-ms`` after the precharge ended —
about 2 s into CurrentDemand — so the charger's precharge never sees a load.

Outputs besides CAN frames and logs: ``lock`` (the inlet lock: closed when the charge session
starts, opened at the end when the VCU allows it and the inlet is below 60 V), ``load_relay``.
States: :class:`ClaraState` and :data:`CLARA_SUCCESSORS`; timers: :class:`ClaraTimer`
(docs/machines.md).
"""

from __future__ import annotations

from collections.abc import Mapping
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
from ..runtime.signals import Output
from .clara_map import PARAMETERS, CanMap, FrameError, pack, unpack
from .config import AdapterConfig
from .sdo import SdoServer

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


class ClaraState(StrEnum):
    """The clara car side's states (logged as the side's ``state`` records)."""

    IDLE = "idle"
    WAIT_VCU = "wait_vcu"  # discovery: waiting for the VCU's enable, target and battery voltage
    DISCOVERED = "discovered"
    WAIT_PRECHARGE = "wait_precharge"  # charge session: locked, cable check and precharge run
    CHARGING = "charging"  # precharge done: the inlet contactors may close, the request passes
    STOP_WAIT_CURRENT = "stop_wait_current"
    STOP_UNLOCK = "stop_unlock"  # contactors open; the lock opens when allowed and safe
    ENDED = "ended"


_C = ClaraState
CLARA_SUCCESSORS = successor_table({
    _C.IDLE: {_C.WAIT_VCU, _C.WAIT_PRECHARGE, _C.ENDED},
    _C.WAIT_VCU: {_C.DISCOVERED, _C.WAIT_PRECHARGE, _C.ENDED},
    _C.DISCOVERED: {_C.WAIT_PRECHARGE, _C.ENDED},
    _C.WAIT_PRECHARGE: {_C.CHARGING, _C.STOP_WAIT_CURRENT},
    _C.CHARGING: {_C.STOP_WAIT_CURRENT},
    _C.STOP_WAIT_CURRENT: {_C.STOP_UNLOCK},
    _C.STOP_UNLOCK: {_C.ENDED},
    _C.ENDED: set(),
})


class ClaraTimer(StrEnum):
    """What the clara side waits for."""

    CYCLE = "cycle"  # 100 ms: the frames out, the VCU's values judged
    WATCHDOG = "watchdog"  # WATCHDOG_S after the last counted charge-current write
    LOAD_RELAY = "load-relay"  # lightbulb: the load relay closes


class ClaraStop(IntEnum):
    """Stop reasons, numbered as ccs32clara reports them (the ``StopReason`` value)."""

    NONE = 0
    BUTTON = 1
    MISSING_ENABLE = 2
    CAN_TIMEOUT = 3
    CHARGER_SHUTDOWN = 4
    ACCU_FULL = 5
    CHARGER_EMERGENCY = 6


STOP_TEXT = {
    ClaraStop.BUTTON: "stop requested",
    ClaraStop.MISSING_ENABLE: "enable off",
    ClaraStop.CAN_TIMEOUT: "CAN timeout",
    ClaraStop.CHARGER_SHUTDOWN: "charger shutdown",
    ClaraStop.ACCU_FULL: "battery full",
    ClaraStop.CHARGER_EMERGENCY: "charger emergency",
}

#: PortState values (0x357) by state.
_PORT_STATE = {_C.IDLE: 0, _C.WAIT_VCU: 1, _C.DISCOVERED: 1, _C.WAIT_PRECHARGE: 2, _C.CHARGING: 4,
               _C.STOP_WAIT_CURRENT: 5, _C.STOP_UNLOCK: 5, _C.ENDED: 6}
#: The nearest CHAdeMO charger state, for the view's ``state`` field (never decided on).
_VIEW_STATE = {_C.IDLE: ChargerState.IDLE, _C.WAIT_VCU: ChargerState.WAIT_CAR_READY,
               _C.DISCOVERED: ChargerState.DISCOVERED, _C.WAIT_PRECHARGE: ChargerState.WAIT_PRECHARGE,
               _C.CHARGING: ChargerState.CHARGING, _C.STOP_WAIT_CURRENT: ChargerState.STOP_WAIT_CURRENT,
               _C.STOP_UNLOCK: ChargerState.STOP_UNLOCK, _C.ENDED: ChargerState.ENDED}
_SESSION = frozenset((_C.WAIT_PRECHARGE, _C.CHARGING))
_STOPPING = frozenset((_C.STOP_WAIT_CURRENT, _C.STOP_UNLOCK, _C.ENDED))
_UNLOCKED = frozenset((_C.IDLE, _C.WAIT_VCU, _C.DISCOVERED, _C.ENDED))
LOCK_OPEN, LOCK_CLOSED = 1, 2


class ClaraSide(MachineBase):
    """A ccs32clara-style charge controller as the bridge's car side (see the module docstring)."""

    def __init__(self, name: str, config: AdapterConfig) -> None:
        super().__init__(name, ClaraState.IDLE.value, CLARA_SUCCESSORS)
        self.config = config
        self.demo = config.mode == "lightbulb"
        clara = config.clara
        self.sdo = SdoServer(clara.node_id, clara.can_map())
        #: every parameter's present value (inputs from the VCU, values we report)
        self.values: dict[str, float] = dict.fromkeys(PARAMETERS, 0.0)
        if self.demo:
            self.values.update(TargetVoltage=clara.demo_voltage, BatteryVoltage=clara.demo_voltage,
                               ChargeCurrent=clara.demo_current, enable=1.0, soc=50.0, AllowUnlock=1.0)
        # enable defaults to 1 as in ccs32clara: a VCU that never spoke is a CAN timeout, not "enable off"
        self.values.update(LockState=LOCK_OPEN, enable=1.0)
        self.timers = Timers()
        self.session: SessionKind | None = None
        self.stop_reason = ClaraStop.NONE
        self.upstream = Upstream()
        self.vcu_seen = self.demo
        self.watchdog_ok = self.demo
        self._enable_seen = False
        self._k = False
        self._demand = PowerDemand()
        self._low_current_since: float | None = None
        self._opened_at: float | None = None
        self._load_relay = False

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
            if self.state in _SESSION:
                self._stop(ClaraStop.CAN_TIMEOUT, now)
        elif purpose is ClaraTimer.LOAD_RELAY and self.state == _C.CHARGING:
            self._set_load_relay(True)

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
        self._emit(SendCan("can", CanFrame(self.sdo.answer_id, outcome.answer)))
        if outcome.abort is not None:
            self._log("clara-sdo-abort", index=f"0x{outcome.index:04x}", subindex=outcome.subindex,
                      code=f"0x{int(outcome.abort):08x}", reason=outcome.abort.name)
        if outcome.new_map is not None:
            self._log("clara-map", index=f"0x{outcome.index:04x}", entries=len(outcome.new_map.entries))
        if outcome.saved:
            self._log("clara-map", index=f"0x{outcome.index:04x}", entries=len(self.can_map.entries), saved=True)
        if outcome.written:
            self._inputs(outcome.written, now)

    def _inputs(self, values: Mapping[str, float], now: float) -> None:
        """The VCU's inputs in the order they arrived: ``enable`` arms the watchdog, the next
        ``ChargeCurrent`` feeds it."""
        if self.demo:
            return  # stand-alone: the demo values stay
        for name, value in values.items():
            self.values[name] = value
            if name == "enable":
                self._enable_seen = True
            elif name == "ChargeCurrent" and self._enable_seen:
                self._enable_seen = False
                self.watchdog_ok = True
                self.timers.start(ClaraTimer.WATCHDOG, now + WATCHDOG_S)
        # the request passes at once: the bridge reads it at its next cycle, not one of ours later
        self._update_demand()

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
        if self._enter(_C.WAIT_PRECHARGE.value, session=SessionKind.CHARGE.value):
            if not self.demo and self.timers.at(ClaraTimer.WATCHDOG) is None:
                # a session started before the VCU ever fed the watchdog (single-session flow):
                # it has 3 s from now
                self.timers.start(ClaraTimer.WATCHDOG, now + WATCHDOG_S)
            self._set_lock(True)
            self._update_demand()
            self._judge_upstream(now)

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
            if self.demo:
                self.timers.start(ClaraTimer.LOAD_RELAY, now + self.config.clara.load_relay_delay_ms / 1000.0)
            self._update_demand()
        if self.state in _SESSION and (upstream.stopped or upstream.fault):
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
        if state == _C.WAIT_VCU and self._vcu_ready():
            self._enter(_C.DISCOVERED.value, voltage=self.values["BatteryVoltage"])
        elif state in _SESSION and not self.demo:
            if self.values["enable"] < 1.0:
                self._stop(ClaraStop.MISSING_ENABLE, now)
            elif self.values["soc"] > FULL_SOC:
                self._stop(ClaraStop.ACCU_FULL, now)
        elif state == _C.STOP_WAIT_CURRENT:
            self._wait_current(now)
        elif state == _C.STOP_UNLOCK:
            self._try_unlock(now)
        self._update_demand()
        self._send_frames()

    def _vcu_ready(self) -> bool:
        v = self.values
        return self.demo or (self.watchdog_ok and v["enable"] >= 1.0 and v["TargetVoltage"] > 0
                             and v["BatteryVoltage"] > 0)

    def _stop(self, reason: ClaraStop, now: float) -> None:
        self.stop_reason = reason
        self.values["StopReason"] = int(reason)
        self._log("clara-stop", reason=STOP_TEXT[reason], code=int(reason), state=self.state,
                  soc=self.values["soc"], enable=self.values["enable"])
        self._enter(_C.STOP_WAIT_CURRENT.value, reason=STOP_TEXT[reason])
        self.timers.cancel(ClaraTimer.LOAD_RELAY)
        self._low_current_since = None
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

    def _try_unlock(self, now: float) -> None:
        allowed = self.demo or self.values["AllowUnlock"] >= 1.0
        low = self.upstream.present_voltage < UNLOCK_SAFE_V
        waited = self._opened_at is not None and now - self._opened_at >= UNLOCK_FALLBACK_S - 1e-9
        if allowed and (low or waited):
            self._set_lock(False, voltage=self.upstream.present_voltage, rule="low voltage" if low else "timeout")
            self._enter(_C.ENDED.value, reason="unlocked")

    def _set_lock(self, closed: bool, **why: object) -> None:
        self.values["LockState"] = LOCK_CLOSED if closed else LOCK_OPEN
        self._log("clara-lock", closed=closed, **why)
        self._emit(SetOutput(Output.LOCK, closed))

    def _set_load_relay(self, closed: bool) -> None:
        if closed != self._load_relay and self.demo:
            self._load_relay = closed
            self._log("clara-load-relay", closed=closed)
            self._emit(SetOutput(Output.LOAD_RELAY, closed))

    def _update_demand(self) -> None:
        state, v = self.state, self.values
        charging = state == _C.CHARGING
        connected = state in (_C.CHARGING, _C.STOP_WAIT_CURRENT)
        request = max(0, int(v["ChargeCurrent"])) if charging else 0
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
        v["EvseMaxCurrent"] = up.dynamic_current if up.dynamic_current is not None else up.available_current
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
            d2=self._demand.d2, locked=v["LockState"] == LOCK_CLOSED, charging=state == _C.CHARGING)

    def discovering(self) -> bool:
        return self.state == _C.WAIT_VCU

    def discovered(self) -> bool:
        return self.state == _C.DISCOVERED

    def contactors_evident(self) -> bool:
        """The pack side is ready: the precharge is done and the VCU reports a battery voltage
        (its pack contactors are closed)."""
        return self.state == _C.CHARGING and self.values["BatteryVoltage"] > 0

    def charging(self) -> bool:
        return self.state == _C.CHARGING

    def stopping(self) -> bool:
        return self.state in _STOPPING

    def stop_report(self) -> str | None:
        if self.session is SessionKind.CHARGE and self.state in _STOPPING and self.stop_reason is not ClaraStop.NONE:
            return STOP_TEXT[self.stop_reason]
        return None

    def waiting_contactors_open(self) -> bool:
        return False  # the side opens the inlet contactors itself once the current is down

    def unlocked(self) -> bool:
        return self.state in _UNLOCKED
