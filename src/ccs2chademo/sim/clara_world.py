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
the charge session ends within 3 s + one cycle of the VCU's last 0x358 (``CAN silence``).

The light bulb is a :class:`~.battery.Battery` with an open-circuit voltage of 0 V and an
internal resistance of ``demo-voltage / demo-current``: its terminal voltage is I·R, so once the
relay is closed the charger settles at the demo voltage with the demo current.  Its invariants
take the demo voltage as the "battery" (the precharge target) and the load relay as the car's
contactors, seen closed from the start: a passive load cannot hold a voltage of its own.
The demo runs until a stop-button press 20 s into CurrentDemand unless faults say otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..adapter.bridge import BridgeView
from ..drivers.pcapng import Sink as PcapSink
from ..runtime import CanFrame, CanReceived, Event, InputChanged, MachineBase, SetOutput
from ..runtime.signals import Output
from ..v2g.secc import ReplyHook
from .battery import Battery, BatterySpec
from .invariants import SafetySnapshot, Violation
from .world import Scenario, SimCar, World, WorldError, _Trigger
from .zombie_vcu import VARIANTS, VcuState, ZombieVcu

#: Faults of the clara mode's VCU, ``NAME[@STATE][+SECONDS]`` like the world faults.
CLARA_FAULTS: dict[str, str] = {
    "can-silence": "the VCU's CAN dies (default: 60 s into CurrentDemand)",
    "enable-drop": "the VCU withdraws its enable (default: 60 s into CurrentDemand)",
    "vcu-voltage-lie": "the VCU reports the pack 30 V low from the start (a miscalibrated shunt): the "
                       "controller cannot know, the invariants must catch the inlet contactors closing across it",
}
VOLTAGE_LIE_V = -30.0
#: How late the charge session may end after the VCU's last frame: the 3 s watchdog, one 100 ms
#: cycle, one physics step.
CAN_SILENCE_LIMIT_S = 3.0 + 0.1 + 0.02
CAN_SILENCE_NOT_STOPPED = "clara-can-silence-not-stopped"
_SESSION_STATES = frozenset(("wait_precharge", "charging"))
LIGHTBULB_STOP = "stop-button@CurrentDemand+20"

#: 96s NMC: cell open-circuit voltage by SoC (a typical NMC curve, 3.3 V empty … 4.17 V full).
NMC_CELL_OCV = ((0.0, 3.30), (10.0, 3.55), (30.0, 3.68), (60.0, 3.85), (90.0, 4.05), (100.0, 4.17))
DIY_PACK = BatterySpec(capacity_kwh=30.0, ocv=tuple((soc, round(96 * v, 2)) for soc, v in NMC_CELL_OCV),
                       internal_resistance_ohm=0.12)
#: The VCU's voltage set-point: 4.15 V per cell.
DIY_TARGET_V = round(96 * 4.15, 1)
DIY_BMS_LIMIT_A = 125.0


class LightBulbLoad(MachineBase):
    """The light-bulb demo's load as the world sees a car: its relay closes when the adapter's
    ``load_relay`` output says so (``InputChanged("load_relay", …)``, routed by the world)."""

    def __init__(self, name: str, demo_current: int) -> None:
        super().__init__(name, "dark")
        self.request = demo_current
        self.max_discharge_current = 0

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, InputChanged) and event.name == "load_relay":
            lit = bool(event.value)
            self._enter("lit" if lit else "dark")
            self._emit(SetOutput("contactors", lit))

    def get_timer(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> None:
        """No timers: the load only follows its relay."""


class ClaraWorld(World):
    """The clara / lightbulb world (see the module docstring)."""

    def __init__(self, scenario: Scenario, pcap: PcapSink | None = None,
                 on_can: Callable[[float, CanFrame], None] | None = None, secc_hook: ReplyHook | None = None) -> None:
        self.demo = scenario.config.mode == "lightbulb"
        if scenario.vcu not in VARIANTS:
            raise WorldError(f"unknown VCU {scenario.vcu!r}; known: {', '.join(VARIANTS)}")
        #: the VCU ends the charge at the target SoC (its enable drops); the CCS side's own
        #: battery-full stop is left to the controller's 95 % rule
        self.target_soc = scenario.soc_stop
        inner = replace(scenario, soc_stop=None)
        if self.demo and not scenario.faults:
            inner = replace(inner, faults=(LIGHTBULB_STOP,))
        self.last_vcu_frame: float | None = None
        self.voltage_error_v = 0.0
        self._silence_reported = False
        super().__init__(inner, pcap=pcap, on_can=on_can, secc_hook=secc_hook)
        self.scenario = scenario
        watch = self.bus.port("clara-watch")
        watch.bind("can", self._watch_can)

    # ------------------------------------------------------------------ the car's side
    def _make_battery(self, scenario: Scenario) -> Battery:
        clara = scenario.config.clara
        if self.demo:
            ohms = clara.demo_voltage / clara.demo_current
            # a load has no SoC: an enormous capacity keeps the scenario's figure where it was
            return Battery(BatterySpec(capacity_kwh=1e6, ocv=((0.0, 0.0), (100.0, 0.0)),
                                       internal_resistance_ohm=ohms), soc=scenario.soc_start)
        return Battery(DIY_PACK, soc=scenario.soc_start)

    def _make_car(self) -> SimCar:
        clara = self.config.clara
        if self.demo:
            return LightBulbLoad("car", clara.demo_current)
        return ZombieVcu("car", node_id=clara.node_id, variant=self.scenario.vcu, target_voltage=DIY_TARGET_V,
                         bms_limit_a=DIY_BMS_LIMIT_A, soc_stop=self.target_soc, voltage_error_v=self.voltage_error_v)

    def _bridge_output(self, name: str, value: Any, now: float) -> None:
        if name == Output.LOAD_RELAY:
            self.sim.inject("car", InputChanged("load_relay", bool(value)))
        super()._bridge_output(name, value, now)

    # ------------------------------------------------------------------ faults
    def _parse_faults(self, faults: tuple[str, ...]) -> tuple[bool, bool, bool]:
        ours = [text for text in faults if text.strip().partition("@")[0].partition("+")[0] in CLARA_FAULTS]
        result = super()._parse_faults(tuple(text for text in faults if text not in ours))
        for text in ours:
            name, _, rest = text.strip().partition("@")
            if name == "vcu-voltage-lie":
                self.voltage_error_v = VOLTAGE_LIE_V
                continue
            state, _, after = rest.partition("+")
            try:
                delay = float(after) if after else 60.0 if not state else 0.0
            except ValueError:
                raise WorldError(f"{text!r}: the delay after '+' is in seconds") from None
            self.triggers.append(_Trigger(name, state or "CurrentDemand", delay))
        return result

    def _fire(self, trigger: _Trigger, now: float) -> None:
        if trigger.name not in CLARA_FAULTS:
            super()._fire(trigger, now)
            return
        trigger.fired = True
        self._mark_stop(now)
        self.sim.log.record(now, "world", "fault", {"fault": trigger.name, "state": trigger.state})
        if trigger.name == "can-silence":
            self.sim.inject("car", InputChanged("can_silent", True))
        else:
            self.sim.inject("car", InputChanged("enable", False))

    # ------------------------------------------------------------------ judgements
    def _watch_can(self, event: Event) -> None:
        if isinstance(event, CanReceived) and event.frame.arbitration_id == 0x358:
            self.last_vcu_frame = self.sim.now()

    def _stop_seen(self, view: BridgeView) -> bool:
        vcu_stopped = self.car.state in (VcuState.STOPPED, VcuState.SILENT)
        return vcu_stopped or view.stop_begun

    def _done(self, view: BridgeView) -> bool:
        return not self.hw.powered or view.soft_resets > 0

    def _snapshot(self, now: float, view: BridgeView) -> SafetySnapshot:
        snap = super()._snapshot(now, view)
        self._check_can_silence(now, view)
        if not self.demo:
            return snap
        demo_v = float(self.config.clara.demo_voltage)
        return replace(snap, car_contactors_closed=True, battery_voltage_v=demo_v,
                       inlet_voltage_v=snap.charger_voltage_v if snap.contactor_closed else demo_v)

    def _check_can_silence(self, now: float, view: BridgeView) -> None:
        """The charge session ends within 3 s + one cycle of the VCU's last frame."""
        last = self.last_vcu_frame
        if self.demo or last is None or self._silence_reported:
            return
        if view.chademo_state in _SESSION_STATES and now - last > CAN_SILENCE_LIMIT_S:
            self._silence_reported = True
            violation = Violation(now, CAN_SILENCE_NOT_STOPPED,
                                  f"the charge session still runs {now - last:.2f} s after the VCU's last frame")
            self.invariants.violations.append(violation)

