"""The simulated world of the clara mode (issue 13): the same charger, power line and adapter
(its :class:`~ccs2chademo.adapter.clara_side.ClaraSide` car side), and on the car's side a DIY
conversion — a ZombieVerter-like VCU (or a generic BMS) on the CAN bus and a 96s NMC pack — or,
in ``lightbulb`` mode, a resistive load behind a load relay.

Why a subclass of :class:`~.world.World`: everything but the car's side is the adapter's world
(real SLAC, SDP, EXI over TCP, the DC bus every 20 ms, the faults and the safety invariants), and
what differs is exactly what the world's hooks make (:meth:`_make_battery`, :meth:`_make_car`)
plus a few judgements about that side (when it has stopped, when the session is over).

The DC bus in clara terms: the adapter contactor is the **inlet contactors**; the "car's
contactors" are the pack contactors, which the VCU closes at start — so the world's existing
invariants are those of this mode (close only within 20 V of the pack, never after a stop began,
never open above 5 A, the CCS target never above the VCU's request).  One more is checked here:
the session ends within 3 s + one cycle of the VCU's last 0x358 (``CAN silence``) — from the VCU's
discovery on, the CCS setup included.  A silent VCU counts as a stop for the other invariants
(no contactor closes after it) only from when the controller can know: its last frame + the 3 s
watchdog (a silence is not a message).

The light bulb is a :class:`~.battery.Battery` with an open-circuit voltage of 0 V and an
internal resistance of ``demo-voltage / demo-current``: its terminal voltage is I·R, so once the
relay is closed the charger settles at the demo voltage with the demo current.  Its invariants
take the demo voltage as the "battery" (the precharge target) and the load relay as the car's
contactors, seen closed from the start: a passive load cannot hold a voltage of its own.
The demo runs until a stop-button press 20 s into CurrentDemand unless faults say otherwise.

**Stand-alone with a pack** (``--vcu none``, ``[clara] demo-control = "stand-alone"``): no VCU;
a 56s LFP pack (≈180–190 V) sits behind the inlet contactors and the controller charges it at the
demo voltage with the demo current; it ends like the light-bulb demo.

**The inlet** (:mod:`.inlet`): two DC pins heat with the current and report their temperatures
to the adapter (``inlet_temp1`` / ``inlet_temp2``, 0.5 °C steps); the lock follows the adapter's
``lock`` output after 0.3 s and reports its position (``lock_feedback``) — the world's
configuration has ``lock-feedback = true``.  The CP duty cycle goes to the adapter as
``cp_duty``: 5 % from a DC charger, the AC EVSE's offer with ``ac_amps`` (:mod:`.ac_evse`): then
the VCU's on-board charger charges the pack while the adapter presents CP state C.

More invariants of this mode: the inlet contactors never closed while the lock is not locked
(``clara-contactor-closed-unlocked``), the lock never opens above 60 V
(``clara-unlocked-under-voltage``), no current above 5 A more than 3 s after a pin passed
``max-pin-temperature`` (``clara-current-while-overheated``), the lock never commanded open while
the VCU's AllowUnlock is 0 (``clara-unlocked-without-allow``; fault ``no-unlock`` withholds it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..adapter.bridge import BridgeView
from ..adapter.clara_side import SAVE_OUTPUT, ClaraSave
from ..adapter.config import ClaraConfig
from ..drivers.pcapng import Sink as PcapSink
from ..runtime import CanFrame, CanReceived, Event, InputChanged, MachineBase, SetOutput
from ..runtime.signals import Input, Output
from ..v2g.secc import ReplyHook
from .ac_evse import DIGITAL_DUTY, AcEvse
from .battery import Battery, BatterySpec
from .inlet import LOCK_MOTION_S, Inlet, InletLock
from .invariants import OPEN_CURRENT_LIMIT_A, SafetySnapshot, Violation
from .world import Scenario, SimCar, World, WorldError, _Trigger
from .zombie_vcu import VARIANTS, VcuState, ZombieVcu

#: Faults of the clara mode's VCU, ``NAME[@STATE][+SECONDS]`` like the world faults.
CLARA_FAULTS: dict[str, str] = {
    "can-silence": "the VCU's CAN dies (default: 60 s into CurrentDemand)",
    "enable-drop": "the VCU withdraws its enable (default: 60 s into CurrentDemand)",
    "vcu-voltage-lie": "the VCU reports the pack 30 V low from the start (a miscalibrated shunt): the "
                       "controller cannot know, the invariants must catch the inlet contactors closing across it",
    "hot-day": "the inlet sits at 50 °C ambient: the controller derates the current, no stop",
    "worn-pin": "the DC+ pin has 4× its contact resistance: it heats, the controller derates",
    "loose-crimp": "the DC+ pin has 60 mΩ: too hot even at the derated minimum, the session stops (inlet overheat)",
    "lock-jam": "the inlet lock never reaches 'locked': the session must not start (lock failure)",
    "no-unlock": "the VCU withholds AllowUnlock from the start and allows it SECONDS after STATE (default 10 s "
                 "into stop_unlock): the lock must stay closed until then",
}
#: Static faults (from the start, no trigger).
_STATIC_FAULTS = frozenset(("vcu-voltage-lie", "hot-day", "worn-pin", "loose-crimp", "lock-jam"))
_INLET_FAULTS = frozenset(("hot-day", "worn-pin", "loose-crimp"))
VOLTAGE_LIE_V = -30.0
#: ``no-unlock`` without ``@STATE``: the driver unlocks the car 10 s after the controller began to wait
NO_UNLOCK_DEFAULT = ("stop_unlock", 10.0)
#: The CAN watchdog of the issue (ccs32clara's rule): 3 s without a counted charge-current write
#: stops the session.  The world's own figure, not the controller's constant: a controller with a
#: longer watchdog must be caught.
VCU_WATCHDOG_S = 3.0
#: How late the session may end after the VCU's last frame: the watchdog, one 100 ms cycle, one
#: physics step.
CAN_SILENCE_LIMIT_S = VCU_WATCHDOG_S + 0.1 + 0.02
CAN_SILENCE_NOT_STOPPED = "clara-can-silence-not-stopped"
CONTACTOR_CLOSED_UNLOCKED = "clara-contactor-closed-unlocked"
UNLOCKED_UNDER_VOLTAGE = "clara-unlocked-under-voltage"
UNLOCKED_WITHOUT_ALLOW = "clara-unlocked-without-allow"
CURRENT_WHILE_OVERHEATED = "clara-current-while-overheated"
UNLOCK_SAFE_V = 60.0
OVERHEAT_REACTION_S = 3.0
OBC_EFFICIENCY = 0.93
#: the controller's states in which a silent VCU must end the session: from its discovery on (the
#: CCS setup runs for it), the charge session itself
_SESSION_STATES = frozenset(("discovered", "wait_precharge", "charging", "ac_charging"))
LIGHTBULB_STOP = "stop-button@CurrentDemand+20"

#: 96s NMC: cell open-circuit voltage by SoC (a typical NMC curve, 3.3 V empty … 4.17 V full).
NMC_CELL_OCV = ((0.0, 3.30), (10.0, 3.55), (30.0, 3.68), (60.0, 3.85), (90.0, 4.05), (100.0, 4.17))
DIY_PACK = BatterySpec(capacity_kwh=30.0, ocv=tuple((soc, round(96 * v, 2)) for soc, v in NMC_CELL_OCV),
                       internal_resistance_ohm=0.12)
#: The VCU's voltage set-point: 4.15 V per cell.
DIY_TARGET_V = round(96 * 4.15, 1)
DIY_BMS_LIMIT_A = 125.0
#: Stand-alone demo pack: 56s LFP (cells 2.9 V empty … 3.45 V full), ≈180–190 V in the middle.
LFP_CELL_OCV = ((0.0, 2.90), (10.0, 3.20), (90.0, 3.35), (100.0, 3.45))
DEMO_PACK = BatterySpec(capacity_kwh=5.0, ocv=tuple((soc, round(56 * v, 2)) for soc, v in LFP_CELL_OCV),
                        internal_resistance_ohm=0.1)


class LightBulbLoad(MachineBase):
    """A passive load as the world sees a car: the light-bulb demo's bulb, whose relay closes when
    the adapter's ``load_relay`` output says so (``InputChanged("load_relay", …)``, routed by the
    world), or (``relay=False``) the stand-alone demo's pack, connected from the start."""

    def __init__(self, name: str, demo_current: int, relay: bool = True) -> None:
        super().__init__(name, "dark" if relay else "connected")
        self.request = demo_current
        self.max_discharge_current = 0
        self._connect_at: float | None = None if relay else 0.0

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, InputChanged) and event.name == "load_relay":
            lit = bool(event.value)
            self._enter("lit" if lit else "dark")
            self._emit(SetOutput("contactors", lit))

    def get_timer(self) -> float | None:
        return self._connect_at

    def handle_timer(self, now: float) -> None:
        """The pack's own contactors close at start (the relay-less variant only)."""
        self._connect_at = None
        self._emit(SetOutput("contactors", True))


class ClaraWorld(World):
    """The clara / lightbulb world (see the module docstring)."""

    def __init__(self, scenario: Scenario, pcap: PcapSink | None = None,
                 on_can: Callable[[float, CanFrame], None] | None = None, secc_hook: ReplyHook | None = None) -> None:
        self.demo = scenario.config.mode == "lightbulb"
        if scenario.vcu not in (*VARIANTS, "none"):
            raise WorldError(f"unknown VCU {scenario.vcu!r}; known: {', '.join(VARIANTS)}, none")
        clara = scenario.config.clara
        #: no VCU: the light bulb, or the stand-alone demo with a pack (--vcu none)
        self.standalone = self.demo or scenario.vcu == "none" or clara.demo_control == "stand-alone"
        # the simulated lock has a feedback switch; --vcu none is the stand-alone demo
        clara = clara.model_copy(update={"lock_feedback": True, "demo_control": "stand-alone" if self.standalone
                                         else clara.demo_control})
        scenario = replace(scenario, config=scenario.config.model_copy(update={"clara": clara}))
        self.inlet = Inlet()
        self.lock = InletLock()
        self.ac = AcEvse(scenario.ac_amps) if scenario.ac_amps is not None else None
        if self.ac is not None:
            try:
                self.ac.duty  # noqa: B018 — the offer must have a duty cycle
            except ValueError as exc:
                raise WorldError(str(exc)) from None
        self._side_t = 0.0
        self._overheated_at: float | None = None
        self._reported: set[str] = set()
        #: the VCU ends the charge at the target SoC (its enable drops); the CCS side's own
        #: battery-full stop is left to the controller's 95 % rule
        self.target_soc = scenario.soc_stop
        inner = replace(scenario, soc_stop=None)
        if self.standalone and not scenario.faults:
            inner = replace(inner, faults=(LIGHTBULB_STOP,))
        self.last_vcu_frame: float | None = None
        #: when the controller can know that the VCU fell silent (its last frame + the watchdog)
        self.silence_known_at: float | None = None
        #: the [clara] tables the controller handed over on SDO saves (`run` writes them to its file)
        self.saved: list[ClaraConfig] = []
        self.voltage_error_v = 0.0
        self.allow_unlock = True
        super().__init__(inner, pcap=pcap, on_can=on_can, secc_hook=secc_hook)
        self.scenario = scenario
        watch = self.bus.port("clara-watch")
        watch.bind("can", self._watch_can)
        duty = self.ac.duty if self.ac is not None else DIGITAL_DUTY
        self.sim.inject("adapter", InputChanged(Input.CP_DUTY, duty))

    # ------------------------------------------------------------------ the car's side
    def _make_battery(self, scenario: Scenario) -> Battery:
        clara = scenario.config.clara
        if self.demo:
            ohms = clara.demo_voltage / clara.demo_current
            # a load has no SoC: an enormous capacity keeps the scenario's figure where it was
            return Battery(BatterySpec(capacity_kwh=1e6, ocv=((0.0, 0.0), (100.0, 0.0)),
                                       internal_resistance_ohm=ohms), soc=scenario.soc_start)
        return Battery(DEMO_PACK if self.standalone else DIY_PACK, soc=scenario.soc_start)

    def _make_car(self) -> SimCar:
        clara = self.config.clara
        if self.standalone:
            return LightBulbLoad("car", clara.demo_current, relay=self.demo)
        return ZombieVcu("car", node_id=clara.node_id, variant=self.scenario.vcu, target_voltage=DIY_TARGET_V,
                         bms_limit_a=DIY_BMS_LIMIT_A, soc_stop=self.target_soc, voltage_error_v=self.voltage_error_v,
                         allow_unlock=self.allow_unlock)

    def _bridge_output(self, name: str, value: Any, now: float) -> None:
        if name == SAVE_OUTPUT and isinstance(value, ClaraSave):  # an SDO save: recorded, no file here
            self.saved.append(value.clara)
            self.sim.log.record(now, "world", "clara-saved", {"entries": len(value.clara.can_map().entries),
                                                               "written": False})
        elif name == Output.LOAD_RELAY:
            self.sim.inject("car", InputChanged("load_relay", bool(value)))
        elif name == Output.LOCK and self.lock.command(bool(value)):
            if not value and isinstance(self.car, ZombieVcu) and not self.car.allow_unlock:
                self._violation(now, UNLOCKED_WITHOUT_ALLOW, "the inlet lock was commanded open while the VCU's "
                                                             "AllowUnlock was 0")
            self.sim.call_at(now + LOCK_MOTION_S, self._lock_arrives)
        elif name == Output.CP and self.ac is not None:
            self.ac.control_pilot(str(value))
        super()._bridge_output(name, value, now)

    def _lock_arrives(self, _: object) -> None:
        if not self.lock.arrive():
            return
        now = self.sim.now()
        # the CCS inlet is on the charger's side of the inlet contactors: the charger's voltage
        if not self.lock.locked and self.stage.voltage > UNLOCK_SAFE_V:
            self._violation(now, UNLOCKED_UNDER_VOLTAGE, f"the inlet lock opened at {self.stage.voltage:.0f} V")
        self.sim.log.record(now, "world", "inlet-lock", {"locked": self.lock.locked})
        self.sim.inject("adapter", InputChanged(Input.LOCK_FEEDBACK, self.lock.locked))

    # ------------------------------------------------------------------ faults
    def _parse_faults(self, faults: tuple[str, ...]) -> tuple[bool, bool, bool]:
        ours = [text for text in faults if text.strip().partition("@")[0].partition("+")[0] in CLARA_FAULTS]
        result = super()._parse_faults(tuple(text for text in faults if text not in ours))
        for text in ours:
            name, _, rest = text.strip().partition("@")
            if name in _STATIC_FAULTS:
                self._static_fault(name)
                continue
            state, _, after = rest.partition("+")
            try:
                delay = float(after) if after else 60.0 if not state else 0.0
            except ValueError:
                raise WorldError(f"{text!r}: the delay after '+' is in seconds") from None
            if name == "no-unlock":
                self.allow_unlock = False
                if not rest:
                    state, delay = NO_UNLOCK_DEFAULT
            self.triggers.append(_Trigger(name, state or "CurrentDemand", delay))
        return result

    def _static_fault(self, name: str) -> None:
        if name == "vcu-voltage-lie":
            self.voltage_error_v = VOLTAGE_LIE_V
        elif name in _INLET_FAULTS:
            self.inlet = Inlet.with_fault(name)
        elif name == "lock-jam":
            self.lock.jammed = True

    def _fire(self, trigger: _Trigger, now: float) -> None:
        if trigger.name not in CLARA_FAULTS:
            super()._fire(trigger, now)
            return
        trigger.fired = True
        if trigger.name == "can-silence":
            # a silence is a stop only once the controller can know it: no frame for the watchdog time
            self.silence_known_at = (self.last_vcu_frame if self.last_vcu_frame is not None else now) + VCU_WATCHDOG_S
        elif trigger.name != "no-unlock":  # the driver's unlock is no stop
            self._mark_stop(now)
        self.sim.log.record(now, "world", "fault", {"fault": trigger.name, "state": trigger.state})
        if trigger.name == "can-silence":
            self.sim.inject("car", InputChanged("can_silent", True))
        elif trigger.name == "no-unlock":
            self.sim.inject("car", InputChanged("allow_unlock", True))
        else:
            self.sim.inject("car", InputChanged("enable", False))

    # ------------------------------------------------------------------ judgements
    def _watch_can(self, event: Event) -> None:
        """The VCU's frames the controller can have heard (not those before its car side runs)."""
        if (isinstance(event, CanReceived) and event.frame.arbitration_id == 0x358
                and self.bridge.view().sides_enabled):
            self.last_vcu_frame = self.sim.now()

    def _stop_seen(self, view: BridgeView) -> bool:
        silence = self.silence_known_at
        silent = silence is not None and self.sim.now() >= silence - 1e-9
        return self.car.state == VcuState.STOPPED or silent or view.stop_begun

    def _done(self, view: BridgeView) -> bool:
        return not self.hw.powered or view.soft_resets > 0

    def _snapshot(self, now: float, view: BridgeView) -> SafetySnapshot:
        snap = super()._snapshot(now, view)
        self._side_step(now)
        self._check_can_silence(now, view)
        if not self.demo:
            return snap
        demo_v = float(self.config.clara.demo_voltage)
        return replace(snap, car_contactors_closed=True, battery_voltage_v=demo_v,
                       inlet_voltage_v=snap.charger_voltage_v if snap.contactor_closed else demo_v)

    def _check_can_silence(self, now: float, view: BridgeView) -> None:
        """The session ends within 3 s + one cycle of the VCU's last frame (from its discovery on)."""
        last = self.last_vcu_frame
        if self.standalone or last is None:
            return
        if view.chademo_state in _SESSION_STATES and now - last > CAN_SILENCE_LIMIT_S:
            self._violation(now, CAN_SILENCE_NOT_STOPPED,
                            f"the session still runs {now - last:.2f} s after the VCU's last frame")

    # ------------------------------------------------------------------ the inlet and basic AC, every physics step
    def _side_step(self, now: float) -> None:
        """Pins heat, sensors report, the AC charge flows; this mode's invariants (module docstring).
        Called with every snapshot: once per physics step (a repeated ``now`` does nothing)."""
        dt = now - self._side_t
        if dt <= 0.0:
            return
        self._side_t = now
        self.inlet.step(self.current_a, dt)
        for reading in self.inlet.readings():
            self.sim.inject("adapter", reading)
        if self.ac is not None and isinstance(self.car, ZombieVcu):
            power = self.ac.power_w(self.car.obc_amps)
            if power > 0.0:
                self.battery.step(power * OBC_EFFICIENCY / self.battery.voltage, dt)
        self._check_inlet(now)

    def _check_inlet(self, now: float) -> None:
        if self.hw.contactor.closed and not self.lock.locked:
            self._violation(now, CONTACTOR_CLOSED_UNLOCKED, "the inlet contactors are closed, the lock is not locked")
        if self._overheated_at is None and self.inlet.hottest_c > self.config.clara.max_pin_temperature:
            self._overheated_at = now
        if (self._overheated_at is not None and now - self._overheated_at > OVERHEAT_REACTION_S
                and self.current_a > OPEN_CURRENT_LIMIT_A):
            self._violation(now, CURRENT_WHILE_OVERHEATED,
                            f"{self.current_a:.0f} A {now - self._overheated_at:.1f} s after a pin passed "
                            f"{self.config.clara.max_pin_temperature} °C")

    def _violation(self, now: float, invariant: str, detail: str) -> None:
        """This mode's invariants, each reported once per session."""
        if invariant not in self._reported:
            self._reported.add(invariant)
            self.invariants.violations.append(Violation(now, invariant, detail))
