"""The simulated CHAdeMO car and adapter wiring for ``ccs2chademo run`` on a desk (``sim`` car).

On a board the car is real; on a desk (``[hardware.can] interface = "sim"``) this rig stands in
for everything behind the GPIO lines and the CAN bus: the adapter's own hardware
(:class:`~ccs2chademo.sim.hardware.AdapterHardware`: contactor, d1/d2, CP, button, aux battery),
the car machine (:class:`~ccs2chademo.sim.vehicle.ChademoVehicle`, on its own python-can
node of the same bus as the adapter) and the car's battery.

Why the DC values come from the CCS session: in the two-process setup the charger runs in
another process and no DC bus joins them.  What the adapter's contactor would carry is what the
charger reports: while the adapter contactor and the car's contactors are closed in
CurrentDemand, the car sees the charger's present voltage and current, and its battery takes
that current.  k and the button reach the controller through the ``sim`` GPIO's inputs, exactly
where a real opto-coupler and button would; the aux-battery readings go straight in, as the ADC
would deliver them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..adapter.bridge import Bridge
from ..drivers.gpio import Gpio
from ..drivers.sim.gpio import SimGpio
from ..runtime import AsyncRuntime, Event, InputChanged
from ..runtime.core import Port
from ..runtime.machine import MachineBase
from .battery import Battery
from .hardware import AdapterHardware, Contactor, LoopSupply
from .profiles import load_profile
from .vehicle import CarElectrical, ChademoVehicle

Inject = Callable[[InputChanged], None]
STEP_S = 0.02
#: EV-session states in which the charger's output is live (its reported voltage is on the cable).
_LIVE = frozenset(("PreCharge", "ContactorsClosing", "PowerDeliveryOn", "CurrentDemand", "PowerDeliveryOff",
                   "StopWait", "WeldingDetection"))
PRESS_S = 0.3


class SimCarRig(MachineBase):
    """Steps the rig every ``STEP_S`` on the runtime's clock (a timer-only machine)."""

    def __init__(self, car: MachineBase, battery: Battery, gpio: SimGpio, bridge: Bridge, to_car: Inject,
                 to_controller: Inject, stop_after_s: float | None = None, name: str = "rig") -> None:
        """``car`` is the machine behind the CAN bus (named ``car`` in the runtime), ``battery`` its pack."""
        super().__init__(name, "running")
        self.gpio = gpio
        self.bridge = bridge
        self.to_car = to_car
        self.to_controller = to_controller
        self.stop_after_s = stop_after_s
        self.hw = AdapterHardware(controller=self._controller, car=self._car_input, contactor=Contactor())
        self.car = car
        self.battery = battery
        self.car_contactors = False
        self.current_a = 0.0
        self._last: float | None = None
        self._electrical: CarElectrical | None = None
        self._cd_since: float | None = None
        self._pressed = False
        self._next = 0.0

    # -- wiring -----------------------------------------------------------------------------
    def apply(self, name: str, value: Any, now: float) -> None:
        """The adapter's outputs (bridge names) as the hardware sees them."""
        self.hw.apply(name, value, now)

    def car_output(self, name: str, value: Any, now: float) -> None:
        if name == "k":
            self.hw.set_k(bool(value))
        elif name == "contactors":
            self.car_contactors = bool(value)

    def _controller(self, event: InputChanged) -> None:
        if event.name == "k":
            self.gpio.set_input("k", bool(event.value))
        elif event.name == "button":
            self.gpio.set_input("stop_button", bool(event.value))
        else:  # vcc4, vcc12: the ADC's readings
            self.to_controller(event)

    def _car_input(self, event: InputChanged) -> None:
        if event.name == "d2_supply" and isinstance(event.value, LoopSupply):
            event = InputChanged("d2_supply", event.value.amps)
        self.to_car(event)

    # -- machine protocol -------------------------------------------------------------------
    def receive(self, event: Event, now: float) -> None:
        pass

    def get_timer(self) -> float | None:
        return self._next

    def handle_timer(self, now: float) -> None:
        self._next = now + STEP_S
        dt = 0.0 if self._last is None else now - self._last
        self._last = now
        hw, view = self.hw, self.bridge.view()
        in_cd = view.ccs_session_state == "CurrentDemand"
        flowing = hw.contactor.closed and self.car_contactors and in_cd
        self.current_a = current = (view.charger_current_a or 0.0) if flowing else 0.0
        hw.charger_voltage_v = (view.charger_voltage_v or 0.0) if view.ccs_session_state in _LIVE else 0.0
        hw.dc_current_a = current
        hw.step(now)
        self.battery.step(current, dt)
        inlet = hw.inlet_voltage(self.battery.voltage, self.car_contactors)
        electrical = CarElectrical(round(inlet, 1), round(current, 1), round(self.battery.voltage, 1),
                                   round(self.battery.soc, 2))
        if electrical != self._electrical:
            self._electrical = electrical
            self.to_car(InputChanged("electrical", electrical))
        self._scripted_stop(now, in_cd)

    def _scripted_stop(self, now: float, in_cd: bool) -> None:
        if self.stop_after_s is None or self._pressed:
            return
        if in_cd and self._cd_since is None:
            self._cd_since = now
        if self._cd_since is not None and now - self._cd_since >= self.stop_after_s:
            self._pressed = True
            self._log("stop-button", after_s=round(now - self._cd_since, 3))
            self.hw.press(now, PRESS_S)


def car_rig_factory(car: str, soc: float, stop_after_s: float | None = None
                    ) -> Callable[[AsyncRuntime, Bridge, Gpio, Port], SimCarRig]:
    """What ``ccs2chademo run`` hands the runner for a ``sim`` car (``adapter.runner.CarRigFactory``).
    The profile is loaded here, so an unknown one is a startup error before any pin moves."""
    profile = load_profile(car)

    def build(rt: AsyncRuntime, bridge: Bridge, gpio: Gpio, car_port: Port) -> SimCarRig:
        if not isinstance(gpio, SimGpio):
            raise TypeError("the simulated car drives k and the button through the sim GPIO backend")
        rig = SimCarRig(ChademoVehicle(profile, "car"), Battery(profile.battery, soc=soc), gpio, bridge,
                        to_car=lambda ev: rt.inject("car", ev), to_controller=lambda ev: rt.inject(bridge.name, ev),
                        stop_after_s=stop_after_s)
        rt.add(rig.car, {"can": car_port}, on_output=rig.car_output)
        rt.add(rig)
        return rig

    return build
