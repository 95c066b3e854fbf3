"""A complete CHAdeMO world in virtual time: charger machine, DC source, car machine and battery.

The two machines talk over a :class:`~ccs2chademo.runtime.CanBus`; everything electrical lives
here, stepped every ``step_s``: the d1/d2/k lines, the car's contactors tying the DC source to
the battery, and what each side measures (the charger's :class:`Upstream`, the car's
:class:`CarElectrical`).  Tests and the benchmark build sessions with it; the adapter simulation
replaces the DC source by the CCS side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..chademo.charger import ChademoCharger
from ..chademo.interfaces import ChargerConfig, ChargerState, PowerDemand, SessionKind, Upstream
from ..runtime import CanBus, Impairment, InputChanged, VirtualRuntime
from .battery import Battery
from .dc_source import DcSource, DcSourceSpec
from .profiles import VehicleProfile
from .vehicle import CarElectrical, ChademoVehicle, VehicleState

#: What the original adapter's d2 driver delivers (adapter.md §13); CHAdeMO 1.0 requires 2 A.
ORIGINAL_D2_SUPPLY_A = 1.3


@dataclass(frozen=True, slots=True)
class LineEvent:
    """A change of a hardware line or output, for timeline assertions."""

    t: float
    source: str
    name: str
    value: Any


class ChademoWorld:
    """Charger + DC source + car (``profile``) + battery, wired on one CAN bus."""

    def __init__(
        self,
        sim: VirtualRuntime,
        profile: VehicleProfile,
        config: ChargerConfig | None = None,
        source: DcSourceSpec | None = None,
        *,
        d2_supply_a: float = 2.0,
        step_s: float = 0.1,
        impairment: Impairment | None = None,
    ) -> None:
        self.sim = sim
        self.step_s = step_s
        self.bus = CanBus(sim, "chademo-can", impairment)
        self.charger = ChademoCharger("chademo", config)
        self.car = ChademoVehicle(profile, "car")
        self.battery = Battery(profile.battery)
        self.source = DcSource(source)
        self.demand = PowerDemand()
        self.car_contactors = False
        self.lines: list[LineEvent] = []
        self._upstream: Upstream | None = None
        self._electrical: CarElectrical | None = None
        sim.add(self.charger, {"can": self.bus.port("charger")}, on_output=self._charger_output)
        sim.add(self.car, {"can": self.bus.port("car")}, on_output=self._car_output)
        sim.inject("car", InputChanged("d2_supply", d2_supply_a))
        sim.every(step_s, self._physics, start=sim.now() + step_s / 2)

    # -- control ----------------------------------------------------------------------------
    def start(self, kind: SessionKind = SessionKind.CHARGE) -> None:
        self.sim.inject("chademo", InputChanged("start", kind))

    def to_car(self, name: str, value: Any) -> None:
        self.sim.inject("car", InputChanged(name, value))

    def to_charger(self, name: str, value: Any) -> None:
        self.sim.inject("chademo", InputChanged(name, value))

    def finished(self) -> bool:
        """The charger ended (or finished discovery) and the car has gone quiet."""
        done = self.charger.state in (ChargerState.ENDED, ChargerState.DISCOVERED)
        return done and self.car.state is VehicleState.OFF

    def run(self, until: float) -> float:
        """Run until both sides are finished or ``until``; returns the virtual time reached."""
        return self.sim.run(until=until, stop=self.finished)

    def line_times(self, name: str, value: Any) -> list[float]:
        return [e.t for e in self.lines if e.name == name and e.value == value]

    # -- wiring -----------------------------------------------------------------------------
    def _charger_output(self, name: str, value: Any, now: float) -> None:
        if name in ("d1", "d2"):
            self.lines.append(LineEvent(now, "charger", name, value))
            self.sim.inject("car", InputChanged(name, value))
        elif name == "demand":
            self.demand = value

    def _car_output(self, name: str, value: Any, now: float) -> None:
        self.lines.append(LineEvent(now, "car", name, value))
        if name == "k":
            self.sim.inject("chademo", InputChanged("k", value))
        elif name == "contactors":
            self.car_contactors = bool(value)

    def _physics(self, now: float) -> None:
        battery = self.battery
        connected = self.car_contactors
        self.source.step(now, self.step_s, self.demand, battery if connected else None)
        if not connected:
            battery.step(0.0, self.step_s)
        upstream = self.source.upstream()
        if upstream != self._upstream:
            self._upstream = upstream
            self.sim.inject("chademo", InputChanged("upstream", upstream))
        inlet_v = battery.voltage if connected else self.source.voltage
        inlet_i = self.source.current if connected else 0.0
        electrical = CarElectrical(
            round(inlet_v, 1), round(inlet_i, 1), round(battery.voltage, 1), round(battery.soc, 2)
        )
        if electrical != self._electrical:
            self._electrical = electrical
            self.sim.inject("car", InputChanged("electrical", electrical))
