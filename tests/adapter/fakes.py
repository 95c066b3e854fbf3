"""Scripted sides for driving a :class:`~ccs2chademo.adapter.bridge.Bridge` without the simulated
world: a CCS side and a car side that do exactly what a test tells them, through the bridge's
two seams (``CcsSide``, ``CarSide``), and record what the bridge asked of them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

from ccs2chademo.adapter.bridge import Bridge
from ccs2chademo.adapter.config import build_config
from ccs2chademo.chademo.interfaces import (
    ChargerState,
    PowerDemand,
    SessionKind,
    StopReason,
    Upstream,
    VehicleView,
)
from ccs2chademo.runtime import Action, CanReceived, Event, Log, SetOutput
from ccs2chademo.v2g.evcc import EvccStatus, EvRequest

#: A 24 kWh Leaf as the car side reports it once ready (0x100/0x101/0x102).
LEAF_24 = VehicleView(
    state=ChargerState.WAIT_CAR_READY, session=SessionKind.DISCOVERY, seen=True, protocol_number=1,
    effective_protocol=1, target_voltage=410, frozen_target_voltage=None, max_battery_voltage=435,
    min_battery_voltage=0, min_charge_current=0, current_request=0, soc=50.0, soc_trusted=True,
    rated_capacity_kwh=24.0, max_charge_time_s=0, measured_voltage=None, dynamic_control=False,
    legacy_dynamic_bit=True, sends_0x110=False, discharge_compatible=False, max_discharge_current=0, k=True,
    ready=True, car_contactors_closed=False, car_reports_contactors_open=True, battery_faults=0,
    system_fault=False, not_in_park=False, stop_reasons=StopReason.NONE, d1=True, d2=False, locked=False,
    charging=False)

#: An Xpeng G3: recognised as a car that refuses a second session.
XPENG = replace(LEAF_24, target_voltage=434, max_battery_voltage=450, protocol_number=2, effective_protocol=2,
                rated_capacity_kwh=66.0, legacy_dynamic_bit=False, sends_0x110=True)


class ScriptedCcs:
    """A CCS side whose progress the test sets (:meth:`reach`); the bridge drains its status at
    once (its timer is due as soon as something changed)."""

    def __init__(self, start_at: float, single_session: bool) -> None:
        self.name = "ccs"
        self.single_session = single_session
        self.link_state = "idle"
        self.session_state = "Idle"
        self.status = EvccStatus("Idle")
        self.request = EvRequest()
        self.responses = 0
        self.matched = False
        self.safe_cp_wait = 2.0
        self.asked: list[EvRequest] = []
        self.started_at: float | None = None
        self._wake: float | None = start_at
        self._out: list[Action] = []

    def get_timer(self) -> float | None:
        return self._wake

    def handle_timer(self, now: float) -> None:
        if self.started_at is None:
            self.started_at = now
        self._wake = None

    def receive(self, event: Event, now: float) -> None:
        pass

    def actions(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    def ask(self, request: EvRequest, now: float) -> None:
        self.request = request
        self.asked.append(request)

    @property
    def session_state_name(self) -> str:
        return self.session_state  # a DIN session: the names are the states

    def reach(self, now: float, session_state: str, link_state: str = "connected", **status: Any) -> None:
        """The EV session got to ``session_state`` with these status fields (a response arrived)."""
        self.session_state, self.link_state = session_state, link_state
        self.status = replace(self.status, state=session_state, **status)
        self.responses += 1
        self._out.append(SetOutput("status", self.status))
        self._wake = now


@dataclass
class ScriptedCar:
    """A car side whose view, demand and judgements the test sets; it steps on the 100 ms grid
    (so the bridge reads its demand every cycle) and records the bridge's calls."""

    v2x: bool = False
    single_session: bool = False
    name: str = "car"
    state: str = "idle"
    demand: PowerDemand = field(default_factory=PowerDemand)
    vehicle: VehicleView = LEAF_24
    is_discovering: bool = False
    is_discovered: bool = False
    evident: bool = False
    is_charging: bool = False
    is_stopping: bool = False
    report: str | None = None
    waiting_open: bool = False
    is_unlocked: bool = True
    started: list[SessionKind] = field(default_factory=list)
    fed: list[Upstream] = field(default_factory=list)
    stops: int = 0
    promoted: bool = False
    permission_granted: bool | None = None
    out: list[Action] = field(default_factory=list)
    _next: float | None = None

    def get_timer(self) -> float | None:
        return self._next

    def handle_timer(self, now: float) -> None:
        self._next = now + 0.1

    def actions(self) -> list[Action]:
        out, self.out = self.out, []
        return out

    def frame(self, event: CanReceived, now: float) -> None:
        pass

    def permission(self, granted: bool, now: float) -> None:
        self.permission_granted = granted

    def start(self, kind: SessionKind, now: float) -> None:
        self.started.append(kind)
        self._next = now + 0.1

    def promote(self, now: float) -> None:
        self.promoted = True

    def feed(self, upstream: Upstream, now: float) -> None:
        self.fed.append(upstream)

    def stop(self, now: float) -> None:
        self.stops += 1

    def cycle_done(self) -> None:
        pass

    def discovering(self) -> bool:
        return self.is_discovering

    def discovered(self) -> bool:
        return self.is_discovered

    def contactors_evident(self) -> bool:
        return self.evident

    def charging(self) -> bool:
        return self.is_charging

    def charging_alone(self) -> bool:
        return False

    def stopping(self) -> bool:
        return self.is_stopping

    def stop_report(self) -> str | None:
        return self.report

    def waiting_contactors_open(self) -> bool:
        return self.waiting_open

    def unlocked(self) -> bool:
        return self.is_unlocked


class Rig:
    """A bridge on scripted sides, driven through time; every action it emitted is kept."""

    def __init__(self, **config: Any) -> None:
        self.ccs_sides: list[ScriptedCcs] = []
        self.cars: list[ScriptedCar] = []
        self.bridge = Bridge(build_config(config), b"\x02\x00\x00\x00\x00\x01", random.Random(1),
                             ccs_factory=self._ccs, car_factory=self._car)
        self.now = 0.0
        self.out: list[Action] = []

    def _ccs(self, start_at: float, single_session: bool) -> ScriptedCcs:
        self.ccs_sides.append(ScriptedCcs(start_at, single_session))
        return self.ccs_sides[-1]

    def _car(self, v2x: bool, single_session: bool) -> ScriptedCar:
        self.cars.append(ScriptedCar(v2x, single_session))
        return self.cars[-1]

    @property
    def ccs(self) -> ScriptedCcs:
        return self.ccs_sides[-1]

    @property
    def car(self) -> ScriptedCar:
        return self.cars[-1]

    def run(self, until: float) -> None:
        """Every timer of the bridge up to ``until`` (the runtime's job, minus the links)."""
        while (t := self.bridge.get_timer()) is not None and t <= until + 1e-9:
            self.now = t
            self.bridge.handle_timer(t)
            self.out += self.bridge.actions()
        self.now = until

    def drive(self, until: float) -> None:
        """Time passes up to ``until`` (a rig with a talking car side feeds it on the way)."""
        self.run(until)

    def ramp_from_power_delivery(self, present_voltage: float, steps: int = 5) -> tuple[float, list[float]]:
        """PowerDelivery answered, the first CurrentDemandRes 3 s later (a slow charger): the
        EVTargetCurrent the first CurrentDemandReq carries, then the one of each of the next
        ``steps`` 100 ms cycles."""
        done: dict[str, Any] = {
            "charge_parameter_discovery_done": True, "cable_check_done": True, "precharge_reached": True,
            "present_voltage": present_voltage, "evse_max_voltage": 500.0, "evse_max_current": 125.0}
        self.ccs.reach(self.now, "PowerDeliveryOn", **done)
        self.drive(self.now + 3.0)
        first = self.ccs.request.target_current
        self.ccs.reach(self.now, "CurrentDemand", current_demand=True, present_current=0.0, **done)
        targets = []
        for _ in range(steps):
            self.drive(self.now + 0.1)
            targets.append(self.ccs.request.target_current)
        return first, targets

    def outputs(self, name: str) -> list[Any]:
        return [a.value for a in self.out if isinstance(a, SetOutput) and a.name == name]

    def logs(self, kind: str) -> list[dict[str, Any]]:
        return [a.fields for a in self.out if isinstance(a, Log) and a.kind == kind]

    def phases(self) -> list[str]:
        return [f["state"] for f in self.logs("state") if "part" not in f]
