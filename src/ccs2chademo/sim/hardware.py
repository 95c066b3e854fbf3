"""The adapter's own hardware, simulated (adapter.md §13, §15): contactor, d1/d2, CP, stop button,
LEDs, internal batteries and the power-hold line.

The controller machines see hardware only as ``SetOutput`` values they emit and
``InputChanged`` values they receive; this model sits between those and the simulated car and
charger, with the timing and the faults the real parts have (a contactor takes tens of
milliseconds and can weld; the original d2 driver is too weak for reference-circuit cars; the
internal batteries drain and are charged by an internal DC/DC only while the charger applies
voltage).  It is a plain object the virtual runtime steps (``rt.every(0.01, hw.step)``); the
wiring passes :meth:`AdapterHardware.apply` as the machines' output sink.

Outputs it accepts (``apply(name, value, now)``; other names are not hardware and are ignored):
``power_hold`` (bool), ``led`` (bool), ``contactor`` (bool; None = no command), ``d1`` (bool),
``d2`` (bool), ``cp`` (``"B"`` or ``"C"``).

Inputs it produces, through the sinks given at construction:

* ``controller``: ``button`` (bool), ``vcc4`` / ``vcc12`` (V, on every change of at least one
  ADC step of 10 mV), ``k`` (bool, forwarded from :meth:`set_k`);
* ``car``: ``d1`` (bool), ``d2`` (bool), ``d2_supply`` (:class:`LoopSupply`: what the d1–d2 loop
  can power — a reference-circuit car closes its contactors only with ≥ 2 A);
* ``charger``: ``cp`` (``"B"`` / ``"C"``; an unpowered adapter shows B: only the state-C switch
  is active, the state-B resistor is passive).

Button presses are scripted (:meth:`press`) and take effect at the first step at or after their
time (10 ms resolution with the usual step).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from ..rounding import round_decimals, round_int
from ..runtime import InputChanged
from ..runtime.signals import Input, Output

Sink = Callable[[InputChanged], None]

#: read per event, step or cycle: module constants, not Enum class attribute lookups
_IN_BUTTON: Final = Input.BUTTON
_IN_INLET: Final = Input.INLET
_IN_K: Final = Input.K
_IN_VCC12: Final = Input.VCC12
_IN_VCC4: Final = Input.VCC4
_OUT_ADAPTER_CONTACTOR: Final = Output.ADAPTER_CONTACTOR
_OUT_CP: Final = Output.CP
_OUT_D1: Final = Output.D1
_OUT_D2: Final = Output.D2
_OUT_LED: Final = Output.LED
_OUT_POWER_HOLD: Final = Output.POWER_HOLD

ADC_STEP_V: Final = 0.01
INLET_STEP_V: Final = 0.5  # a 12-bit ADC behind a ≈1000:1 divider resolves ≈0.5 V at the inlet
DCDC_MIN_V: Final = 210.0  # internal DC/DC input range 210–1200 V DC (adapter.md §13)
DCDC_MAX_V: Final = 1200.0
CELL_FULL_V: Final = 4.2


def _nowhere(event: InputChanged) -> None:
    """A sink for a side that is not wired."""


@dataclass(frozen=True, slots=True)
class LoopSupply:
    """What the d1–d2 loop delivers to the car's contactor relay: volts and available amperes."""

    volts: float
    amps: float

    def can_power(self, needed_amps: float, min_volts: float = 9.0) -> bool:
        """Whether a relay needing ``needed_amps`` pulls in (a 12 V coil typically needs ≈75 %)."""
        return self.amps >= needed_amps and self.volts >= min_volts


NO_SUPPLY: Final = LoopSupply(0.0, 0.0)
FULL_SUPPLY: Final = LoopSupply(12.0, 2.0)  # CHAdeMO 1.0: 12 V / 2 A between d1 and d2
WEAK_SUPPLY: Final = LoopSupply(9.4, 1.3)  # the original adapter's semiconductor d2 (adapter.md §13)


class Contactor:
    """The adapter's DC− contactor: closes/opens after a delay; can weld.

    ``welded`` contacts stay closed whatever the coil does.  With ``weld_on_break_above_a`` set,
    opening while more than that current flows welds the contacts (adapter.md §14 #12).
    """

    def __init__(self, close_delay_s: float = 0.025, open_delay_s: float = 0.010, welded: bool = False,
                 weld_on_break_above_a: float | None = None) -> None:
        self.close_delay_s = close_delay_s
        self.open_delay_s = open_delay_s
        self.welded = welded
        self.weld_on_break_above_a = weld_on_break_above_a
        self.commanded = False
        self.closed = False
        self._change_at: float | None = None
        self.timeline: list[tuple[float, bool]] = []
        self.operations = 0

    def command(self, closed: bool, now: float) -> None:
        if closed == self.commanded:
            return
        self.commanded = closed
        self._change_at = now + (self.close_delay_s if closed else self.open_delay_s)

    def step(self, now: float, current_a: float = 0.0) -> None:
        if self._change_at is None or now < self._change_at - 1e-12:
            return
        self._change_at = None
        target = self.commanded
        if not target and self.closed:
            limit = self.weld_on_break_above_a
            if limit is not None and abs(current_a) > limit:
                self.welded = True
            if self.welded:
                return
        if target != self.closed:
            self.closed = target
            self.operations += 1
            self.timeline.append((now, target))


@dataclass
class AuxBattery:
    """The two internal cells (vcc4, ADC ×2) and the 12 V rail (vcc12, ADC ×11).

    While the adapter is on the cells drain; the internal DC/DC charges them while the charger
    applies 210–1200 V.  On USB charging the cells are disconnected from the ADC (vcc4 ≈ 0) and
    the rail reads the USB supply (≈4.2 V) — the adapter.md §8 self-charging signature.
    """

    cell_v: float = 3.85
    drain_v_per_h: float = 0.05
    charge_v_per_h: float = 0.3
    usb_charging: bool = False

    def step(self, dt: float, powered: bool, charger_voltage_v: float) -> None:
        if powered and DCDC_MIN_V <= charger_voltage_v <= DCDC_MAX_V:
            self.cell_v = min(CELL_FULL_V, self.cell_v + self.charge_v_per_h * dt / 3600)
        elif powered:
            self.cell_v = max(0.0, self.cell_v - self.drain_v_per_h * dt / 3600)

    def readings(self, powered: bool) -> tuple[float, float]:
        """(vcc4, vcc12) as the ADCs read them."""
        if self.usb_charging:
            return 0.0, 4.2
        return (self.cell_v, 12.0) if powered else (0.0, 0.0)


@dataclass(frozen=True, slots=True)
class HardwareState:
    """What the hardware is physically doing now (for snapshots, views and invariants)."""

    t: float
    powered: bool
    contactor_closed: bool
    contactor_commanded: bool
    welded: bool
    d1: bool
    d2: bool
    cp: str
    led: bool
    vcc4: float
    vcc12: float


@dataclass
class _Press:
    at: float
    duration: float
    started: bool = False
    done: bool = False


@dataclass
class AdapterHardware:
    """The adapter hardware model; see the module doc for the names it takes and produces."""

    controller: Sink = _nowhere
    car: Sink = _nowhere
    charger: Sink = _nowhere
    contactor: Contactor = field(default_factory=Contactor)
    battery: AuxBattery = field(default_factory=AuxBattery)
    weak_d2: bool = False
    inlet_meter: bool = False  # an inlet voltmeter on the car side of the contactor ([hardware] adc "inlet")
    d1_delay_s: float = 0.005  # small relay
    charger_voltage_v: float = 0.0  # set by the world each step
    dc_current_a: float = 0.0  # current through the DC path, set by the world

    def __post_init__(self) -> None:
        self.powered = True
        self.d1 = False
        self.d2 = False
        self.cp = "B"
        self.led = False
        self.button = False
        self.led_timeline: list[tuple[float, bool]] = []
        self.power_off_at: float | None = None
        self._d1_command = False
        self._d1_change_at: float | None = None
        self._presses: list[_Press] = []
        self._last_step: float | None = None
        self._reported: dict[str, float] = {}
        self._supply = NO_SUPPLY

    # -- the machines' outputs ---------------------------------------------------------------
    def apply(self, name: str, value: Any, now: float) -> None:
        """Output sink for the controller machines (``on_output`` of the runtime)."""
        if not self.powered:
            return
        if name == _OUT_POWER_HOLD:
            if not value:
                self._power_off(now)
        elif name == _OUT_LED:
            self._set_led(bool(value), now)
        elif name == _OUT_ADAPTER_CONTACTOR:
            if value is not None:
                self.contactor.command(bool(value), now)
        elif name == _OUT_D1:
            if bool(value) != self._d1_command:
                self._d1_command = bool(value)
                self._d1_change_at = now + self.d1_delay_s
        elif name == _OUT_D2:
            self._set_d2(bool(value))
        elif name == _OUT_CP:
            if value not in ("B", "C"):
                raise ValueError(f"CP state must be 'B' or 'C', not {value!r}")
            if value != self.cp:
                self.cp = value
                self.charger(InputChanged("cp", value))

    # -- scripting ---------------------------------------------------------------------------
    def press(self, at: float, duration: float) -> None:
        """Script a button press: pressed at ``at`` for ``duration`` seconds."""
        self._presses.append(_Press(at, duration))
        self._presses.sort(key=lambda p: p.at)

    def set_k(self, on: bool) -> None:
        """The car's k switch as the adapter's j opto-coupler sees it."""
        self.controller(InputChanged(_IN_K, on))

    @property
    def loop_supply(self) -> LoopSupply:
        return self._supply

    # -- physics -----------------------------------------------------------------------------
    def step(self, now: float) -> None:
        dt = 0.0 if self._last_step is None else now - self._last_step
        self._last_step = now
        self.contactor.step(now, self.dc_current_a)
        if not self.powered:
            return
        if self._d1_change_at is not None and now >= self._d1_change_at - 1e-12:
            self._d1_change_at = None
            if self._d1_command != self.d1:
                self.d1 = self._d1_command
                self.car(InputChanged("d1", self.d1))
                self._update_supply()
        self._step_button(now)
        self.battery.step(dt, self.powered, self.charger_voltage_v)
        vcc4, vcc12 = self.battery.readings(self.powered)
        for name, volts in ((_IN_VCC4, vcc4), (_IN_VCC12, vcc12)):
            quantised = round_decimals(round_int(volts / ADC_STEP_V) * ADC_STEP_V, 2)
            if self._reported.get(name) != quantised:
                self._reported[name] = quantised
                self.controller(InputChanged(name, quantised))

    def measure_inlet(self, volts: float) -> None:
        """The optional inlet voltmeter (ADC channel ``inlet``): reported to the controller on
        every change of at least one ADC step, like vcc4/vcc12."""
        if not self.inlet_meter or not self.powered:
            return
        quantised = round_decimals(round_int(volts / INLET_STEP_V) * INLET_STEP_V, 1)
        if self._reported.get("inlet") != quantised:
            self._reported["inlet"] = quantised
            self.controller(InputChanged(_IN_INLET, quantised))

    def _step_button(self, now: float) -> None:
        for press in self._presses:
            if not press.started and now >= press.at - 1e-12:
                press.started = True
                self._set_button(True)
            if press.started and not press.done and now >= press.at + press.duration - 1e-12:
                press.done = True
                self._set_button(False)

    def _set_button(self, pressed: bool) -> None:
        if pressed != self.button:
            self.button = pressed
            self.controller(InputChanged(_IN_BUTTON, pressed))

    def _set_led(self, on: bool, now: float) -> None:
        if on != self.led:
            self.led = on
            self.led_timeline.append((now, on))

    def _set_d2(self, on: bool) -> None:
        if on != self.d2:
            self.d2 = on
            self.car(InputChanged("d2", on))
            self._update_supply()

    def _update_supply(self) -> None:
        supply = (WEAK_SUPPLY if self.weak_d2 else FULL_SUPPLY) if self.d1 and self.d2 else NO_SUPPLY
        if supply != self._supply:
            self._supply = supply
            self.car(InputChanged("d2_supply", supply))

    def _power_off(self, now: float) -> None:
        """Power hold dropped: coils and drivers lose power at once."""
        self.power_off_at = now
        self._set_led(False, now)
        self.contactor.command(False, now)
        self._d1_command, self._d1_change_at = False, None
        if self.d1:
            self.d1 = False
            self.car(InputChanged("d1", False))
        self._set_d2(False)
        self._update_supply()
        if self.cp != "B":  # the state-C switch opens; the passive state-B resistor stays
            self.cp = "B"
            self.charger(InputChanged("cp", "B"))
        self.powered = False

    def inlet_voltage(self, battery_v: float, car_contactors_closed: bool) -> float:
        """Voltage at the car inlet: DC+ is wired through, DC− only via the adapter contactor (adapter.md §13).

        Contactor closed: the charger output (which the car's battery pins once its contactors are
        closed — the world's charger model sees that as load).  Open: the battery if the car's
        contactors are closed, else nothing.
        """
        if self.contactor.closed:
            return self.charger_voltage_v
        return battery_v if car_contactors_closed else 0.0

    def state(self, now: float) -> HardwareState:
        vcc4, vcc12 = self.battery.readings(self.powered)
        return HardwareState(t=now, powered=self.powered, contactor_closed=self.contactor.closed,
                             contactor_commanded=self.contactor.commanded, welded=self.contactor.welded,
                             d1=self.d1, d2=self.d2, cp=self.cp, led=self.led, vcc4=vcc4, vcc12=vcc12)
