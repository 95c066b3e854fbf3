"""The simulated DIY conversion behind ``ccs2chademo run`` in clara mode on a desk (``sim`` CAN):
the two-process proof (``charger-sim`` and ``run`` on a veth pair) with a VCU instead of a
CHAdeMO car.

Why a rig like :class:`~.car_rig.SimCarRig`: the charger runs in another process and no DC bus
joins them, so the pack takes the current the charger reports while the inlet contactors are
closed in CurrentDemand.  On top of that rig: the ZombieVerter-like VCU (:class:`~.zombie_vcu.ZombieVcu`,
its SDO map configuration included) on the adapter's python-can ``virtual`` channel, the 96s pack,
the inlet lock whose feedback switch reaches the controller through the sim GPIO's
``lock_feedback`` input (where the real switch would be wired), the inlet pins' temperatures and
the CP duty cycle of a DC charger (5 %), as the board's ADC and CP input would deliver them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..adapter.bridge import Bridge
from ..adapter.config import AdapterConfig
from ..drivers.gpio import Gpio
from ..drivers.sim.gpio import SimGpio
from ..runtime import AsyncRuntime, InputChanged
from ..runtime.core import Port
from ..runtime.signals import Input, Output
from .ac_evse import DIGITAL_DUTY
from .battery import Battery
from .car_rig import SimCarRig
from .clara_world import DIY_BMS_LIMIT_A, DIY_PACK, DIY_TARGET_V
from .inlet import LOCK_MOTION_S, Inlet, InletLock
from .zombie_vcu import ZombieVcu


class ClaraRig(SimCarRig):
    """The car rig with a VCU, the inlet lock and the inlet's sensors (module docstring)."""

    def __init__(self, vcu: ZombieVcu, battery: Battery, gpio: SimGpio, bridge: Bridge,
                 to_car: Callable[[InputChanged], None], to_controller: Callable[[InputChanged], None],
                 stop_after_s: float | None = None) -> None:
        super().__init__(vcu, battery, gpio, bridge, to_car, to_controller, stop_after_s)
        self.lock = InletLock()
        self.inlet = Inlet()
        self._lock_at: float | None = None
        self._duty_told = False

    def apply(self, name: str, value: Any, now: float) -> None:
        super().apply(name, value, now)
        if name == Output.LOCK and self.lock.command(bool(value)):
            self._lock_at = now + LOCK_MOTION_S

    def handle_timer(self, now: float) -> None:
        dt = 0.0 if self._last is None else now - self._last
        super().handle_timer(now)
        if not self._duty_told:
            self._duty_told = True
            self.to_controller(InputChanged(Input.CP_DUTY, DIGITAL_DUTY))
        if self._lock_at is not None and now >= self._lock_at:
            self._lock_at = None
            if self.lock.arrive():
                self._lock_feedback(self.lock.locked)
        self.inlet.step(self.current_a, dt)
        for reading in self.inlet.readings():
            self.to_controller(reading)

    def _lock_feedback(self, locked: bool) -> None:
        if Input.LOCK_FEEDBACK in self.gpio.wired_inputs:
            self.gpio.set_input(Input.LOCK_FEEDBACK, locked)  # the real switch's place
        else:
            self.to_controller(InputChanged(Input.LOCK_FEEDBACK, locked))


def clara_rig_factory(config: AdapterConfig, soc: float, stop_after_s: float | None = None
                      ) -> Callable[[AsyncRuntime, Bridge, Gpio, Port], ClaraRig]:
    """What ``ccs2chademo run`` hands the runner for a ``sim`` CAN bus in clara mode."""

    def build(rt: AsyncRuntime, bridge: Bridge, gpio: Gpio, car_port: Port) -> ClaraRig:
        if not isinstance(gpio, SimGpio):
            raise TypeError("the simulated conversion drives the lock's feedback through the sim GPIO backend")
        vcu = ZombieVcu("car", node_id=config.clara.node_id, target_voltage=DIY_TARGET_V,
                        bms_limit_a=DIY_BMS_LIMIT_A)
        rig = ClaraRig(vcu, Battery(DIY_PACK, soc=soc), gpio, bridge, to_car=lambda ev: rt.inject("car", ev),
                       to_controller=lambda ev: rt.inject(bridge.name, ev), stop_after_s=stop_after_s)
        rt.add(vcu, {"can": car_port}, on_output=rig.car_output)
        rt.add(rig)
        return rig

    return build
