"""The car's battery voltage, from the first CHAdeMO frame to the adapter contactor closing.

Why one object: the adapter has no car-side voltmeter (adapter.md §13), so one number — the
battery voltage it *believes* — decides the CCS precharge target, the 0x109 present voltage the
car sees during discovery and the single-session flow, the CCS voltage limits, and whether the
adapter contactor may close (within 20 V, adapter.md §12.3).  Each use used to live in its own
function of the bridge; here is the whole life of that number:

1. **learned** (:meth:`learn`): the car's 0x102 target (until d2 freezes it), its SoC, a 0x103
   measurement (ZombieVerter), and an inlet voltmeter's reading (:meth:`inlet`);
2. **recognised** (:meth:`recognise`): the car model's curve, :mod:`.recognition`;
3. **fixed** once (:meth:`fix`): the estimate on that curve, :mod:`.estimator`;
4. **used**: the precharge voltage and CCS limits (:meth:`precharge_voltage`,
   :meth:`max_voltage`, :meth:`target_voltage`), 0x109 (:meth:`report`), the contactor's 20 V
   check (:meth:`agrees`, :meth:`above`).

It logs what it decides (``battery-voltage``, ``car-recognised``, ``target-frozen``) into
:attr:`logs`, which the bridge passes on right after each call.
"""

from __future__ import annotations

from typing import Any, Final

from ..chademo.interfaces import VehicleView
from ..runtime import Log
from .config import AdapterConfig
from .estimator import BatteryVoltage, BatteryVoltageSource, Curve, curve_for
from .mapping import TargetVoltage, ev_maximum_voltage_limit
from .recognition import CarReport, Recognition, resolve

#: adapter.md §12.3 precharge "reached" delta: the most the adapter contactor may ever close across (no
#: car-side voltmeter: against the battery value; with an inlet voltmeter: against its reading).
CLOSE_TOLERANCE_V: Final = 20.0
#: An inlet reading this far from the value in use replaces it (and is logged).
INLET_RETARGET_MIN_V: Final = 1.0


class CarVoltage:
    """What the adapter knows about the car's battery voltage (see the module docstring)."""

    def __init__(self, config: AdapterConfig) -> None:
        self.config = config
        alt = 0 if config.alt_estimated_voltage == "auto" else config.alt_estimated_voltage
        self.source = BatteryVoltageSource(alt, config.voltage_modulation)
        self.car_target: int | None = None  # 0x102.1-2, frozen at d2
        self.car_soc: float | None = None  # 0x102.6 once trusted
        self.recognition: Recognition | None = None
        self.target = TargetVoltage()
        self.inlet_v: float | None = None
        self.logs: list[Log] = []

    def new_session(self) -> None:
        """An always-on soft reset that keeps the discovery results: the target follows the car
        again and the inlet reading is forgotten; the estimate and recognition stay."""
        self.target = TargetVoltage()
        self.inlet_v = None

    def take_logs(self) -> list[Log]:
        out, self.logs = self.logs, []
        return out

    def _log(self, kind: str, **fields: Any) -> None:
        self.logs.append(Log(kind, fields))

    # ------------------------------------------------------------------ learned
    @property
    def value(self) -> BatteryVoltage | None:
        """The voltage in use: measured (0x103, inlet) if any, else the fixed estimate, else None."""
        return self.source.value

    @property
    def known(self) -> bool:
        return self.source.value is not None

    def learn(self, view: VehicleView) -> None:
        """The car's latest frames: target (until frozen), trusted SoC, a 0x103 measurement."""
        if view.seen and view.target_voltage > 0 and not self.target.frozen:
            self.car_target = view.target_voltage  # frozen at d2: an Xpeng raises it afterwards (adapter.md §6.1)
        if view.seen and view.soc is not None and view.soc_trusted:
            self.car_soc = view.soc
        if view.measured_voltage:
            if self.source.value is None or not self.source.value.measured:
                self._log("battery-voltage", source="0x103", volts=view.measured_voltage)
            self.source.measured(float(view.measured_voltage))

    def follow_target(self, d2: bool) -> bool:
        """The CCS target voltage follows the car's until d2, then stays (True when it froze now)."""
        if self.target.frozen:
            return False
        if self.car_target is not None:
            self.target.update(self.car_target)
        if d2:
            self.target.freeze()
            self._log("target-frozen", target=self.car_target)
            return True
        return False

    def inlet(self, volts: float) -> None:
        """An inlet voltmeter's reading (hardware ADC), V."""
        self.inlet_v = volts

    # ------------------------------------------------------------------ recognised, fixed
    def recognise(self, view: VehicleView) -> Recognition | None:
        """Recognise the car from what it reported so far (:mod:`.recognition`); logged when the
        outcome changes.  None until it has sent its target and maximum voltage."""
        target = view.frozen_target_voltage or view.target_voltage  # an Xpeng raises it after d2 (adapter.md §6.1)
        report = CarReport(target_voltage=target, max_battery_voltage=view.max_battery_voltage,
                           protocol_number=view.protocol_number, rated_capacity_kwh=view.rated_capacity_kwh,
                           legacy_dynamic_bit=view.legacy_dynamic_bit, sends_0x110=view.sends_0x110)
        if report.target_voltage <= 0 or report.max_battery_voltage <= 0:
            return None
        found = resolve(report, self.config.sx, self.config.alt_estimated_voltage)
        if found != self.recognition:
            self.recognition = found
            self._log("car-recognised", rule=found.rule, flow=found.flow.value, configured=list(found.configured),
                      curve_max=round(float(found.curve.max_v), 2), curve_nom=round(float(found.curve.nom_v), 2),
                      target=report.target_voltage, max=report.max_battery_voltage, capacity=report.rated_capacity_kwh)
        return found

    @property
    def rule(self) -> str | None:
        return None if self.recognition is None else self.recognition.rule

    def curve(self) -> Curve:
        """The estimate curve: the recognised car's, else the adapter.md §5 curve of the configured AV."""
        if self.recognition is not None:
            return self.recognition.curve
        return curve_for(self.car_target or 0, self.source.alt_estimated_voltage)

    def fix(self, view: VehicleView | None) -> None:
        """Fix the estimate once target and SoC are known (re-recognising on the latest frames:
        0x101's capacity may arrive late)."""
        if self.car_target is None or self.car_soc is None:
            return
        if view is not None:
            self.recognise(view)
        volts = self.source.fix_estimate(self.car_target, self.car_soc, self.curve())
        value = self.source.value
        assert value is not None
        self._log("battery-voltage", source="0x103" if value.measured else "estimate", volts=round(value.volts, 1),
                  estimate=round(volts, 1), target=self.car_target, soc=self.car_soc, rule=self.rule)

    # ------------------------------------------------------------------ used
    def precharge_voltage(self) -> float:
        """PreChargeReq EVTargetVoltage (0 until known)."""
        value = self.source.value
        return round(value.volts, 1) if value is not None else 0.0

    def max_voltage(self, car_voltage_now: int) -> float:
        """EVMaximumVoltageLimit: the target (frozen at d2) + 1 V — or the car's 0x102 voltage
        field once frozen, if higher (adapter.md §6.1)."""
        frozen = car_voltage_now if self.target.frozen and car_voltage_now else None
        return ev_maximum_voltage_limit(self.car_target if frozen is None else max(frozen, self.car_target or 0))

    def target_voltage(self, max_voltage: float) -> float:
        return self.target.value(max_voltage)

    def report(self, cycle: int) -> float:
        """0x109 present voltage where it is only the battery value (discovery, single session,
        a mirroring charger): with the configured modulation; before the estimate is fixed, the
        curve's value for the latest target and SoC."""
        reported = self.source.reported(cycle)
        if reported is not None:
            return reported
        if self.car_target is not None and self.car_soc is not None:
            return self.curve().voltage(self.car_soc)
        return 0.0

    def car_side(self, car_contactors_closed: bool) -> float | None:
        """What the car side of the adapter contactor is at: the inlet voltmeter (if fitted) once
        the car's contactors are closed, else the battery value the precharge aimed at."""
        if self.inlet_v is not None and car_contactors_closed:
            return self.inlet_v
        value = self.source.value
        return None if value is None else value.volts

    def retarget_to_inlet(self, car_contactors_closed: bool) -> None:
        """With an inlet voltmeter and the car's contactors closed, its reading becomes the value
        the precharge aims at (logged when it moves it by 1 V or more)."""
        if self.inlet_v is None or not car_contactors_closed:
            return
        value = self.source.value
        if value is None or abs(value.volts - self.inlet_v) >= INLET_RETARGET_MIN_V:
            self._log("battery-voltage", source="inlet", volts=round(self.inlet_v, 1),
                      estimate=None if value is None else round(value.volts, 1))
            self.source.measured(self.inlet_v)

    def above(self, charger_max_v: float | None, car_contactors_closed: bool) -> bool:
        """The car side is above what the charger can deliver: its precharge would stall at its
        maximum, which may still look "within 20 V" of a low estimate."""
        car = self.car_side(car_contactors_closed)
        return car is not None and charger_max_v is not None and car > charger_max_v

    def agrees(self, present_v: float | None, car_contactors_closed: bool) -> bool:
        """The charger's present voltage is within 20 V of the car side (adapter.md §12.3)."""
        car = self.car_side(car_contactors_closed)
        return present_v is not None and car is not None and abs(present_v - car) < CLOSE_TOLERANCE_V
