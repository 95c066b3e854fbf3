"""The CHAdeMO car side of the bridge: :class:`~ccs2chademo.chademo.charger.ChademoCharger` behind the
:class:`~.car_side.CarSide` seam.

The charger machine keeps its own protocol (chademo.md: typed inputs, ``SetOutput`` d1/d2/demand);
this wrapper passes the seam's calls on, keeps the car's latest demand, and answers the judgements
that need CHAdeMO knowledge — which states mean "stopping" or "unlocked", and when the car's
contactors are *evidently* closed under CHAdeMO 0.9 rules.
"""

from __future__ import annotations

from typing import Final

from ..chademo.charger import ChademoCharger
from ..chademo.interfaces import ChargerConfig, ChargerState, PowerDemand, SessionKind, Upstream, VehicleView
from ..runtime import Action, CanReceived, SetOutput
from .config import AdapterConfig

_UNLOCKED: Final = frozenset((ChargerState.IDLE, ChargerState.DISCOVERED, ChargerState.ENDED))
_STOPPING: Final = frozenset((ChargerState.STOP_WAIT_CURRENT, ChargerState.STOP_WAIT_CONTACTORS_OPEN,
                       ChargerState.STOP_WAIT_D1, ChargerState.STOP_UNLOCK, ChargerState.ENDED))


def charger_config(cfg: AdapterConfig, v2x: bool, single_session: bool) -> ChargerConfig:
    """The CHAdeMO charger side's parameters from the adapter configuration (adapter.md §12.1)."""
    return ChargerConfig(
        protocol_number=1 if cfg.chademo_0_9 else 2,
        welding_detection=cfg.chademo_wd,
        max_volts=cfg.max_volts,
        max_amps=cfg.max_amps,
        max_undersupply_amps=cfg.max_undersupply_amps,
        dynamic_current_fallback=cfg.dynamic_current_fallback,
        fake_idle_amps=cfg.fake_idle_amps,
        v2x=v2x,
        assume_car_contactors_closed_after_ms=cfg.assume_car_contactors_closed_after_ms,
        max_discharge_amps_fallback=cfg.max_discharge_amps_fallback,
        # SX shows the battery estimate until CurrentDemand (adapter.md §3); DX forces 0 V (adapter.md §2 step 7)
        zero_voltage_until_car_contactors_closed=not single_session,
    )


class ChademoSide:
    """A CHAdeMO charger as the bridge's car side (see the module docstring)."""

    def __init__(self, name: str, config: AdapterConfig, v2x: bool, single_session: bool) -> None:
        self.name = name
        self.config = config
        self.v2x = v2x
        self.charger = ChademoCharger(name, charger_config(config, v2x, single_session))
        self._demand = PowerDemand()
        #: the car's current request in the cycle d2 was first seen (the 0.9 evidence rule)
        self._request_at_d2: int | None = None

    # ---------------------------------------------------------------- machine protocol
    def get_timer(self) -> float | None:
        return self.charger.get_timer()

    def handle_timer(self, now: float) -> None:
        self.charger.handle_timer(now)

    def actions(self) -> list[Action]:
        """The charger's actions; its ``demand`` output is kept here (:attr:`demand`), not passed on."""
        out: list[Action] = []
        for action in self.charger.actions():
            if isinstance(action, SetOutput) and action.name == "demand":
                self._demand = action.value
            else:
                out.append(action)
        return out

    # ---------------------------------------------------------------- inputs
    def frame(self, event: CanReceived, now: float) -> None:
        self.charger.receive(event, now)

    def permission(self, granted: bool, now: float) -> None:
        self.charger.permission(granted, now)

    def start(self, kind: SessionKind, now: float) -> None:
        self.charger.start(kind, now)

    def promote(self, now: float) -> None:
        self.charger.promote(charger_config(self.config, self.v2x, True), now)

    def feed(self, upstream: Upstream, now: float) -> None:
        self.charger.feed(upstream, now)

    def stop(self, now: float) -> None:
        self.charger.stop(now)

    # ---------------------------------------------------------------- what the bridge reads
    @property
    def state(self) -> str:
        return str(self.charger.state)

    @property
    def demand(self) -> PowerDemand:
        return self._demand

    @property
    def vehicle(self) -> VehicleView:
        return self.charger.vehicle

    def discovering(self) -> bool:
        charger = self.charger
        return charger.session is SessionKind.DISCOVERY and charger.state is ChargerState.WAIT_CAR_READY

    def discovered(self) -> bool:
        return self.charger.state is ChargerState.DISCOVERED

    def cycle_done(self) -> None:
        """After each bridge cycle's CHAdeMO step: remember the car's request when d2 is first
        seen (before the car can have raised it for the power now flowing)."""
        if self._request_at_d2 is None and self._demand.d2:
            self._request_at_d2 = self.charger.vehicle.current_request

    def contactors_evident(self) -> bool:
        """adapter.md §2.2 / §14 #11: the car's contactors are *evidently* closed.

        CHAdeMO ≥ 1.0 cars say so (0x102.5.3 cleared).  Under 0.9 rules the charger side only
        assumes it 2 s after d2; a car whose d2 loop is too weak (i-MiEV on the original d2
        driver) never closes, and closing the adapter contactor then puts the charger's voltage
        on an open inlet.  So for 0.9 the adapter also waits for the request to rise above what
        the car asked for at d2 (an i-MiEV's idle 1 A does not count).
        """
        if not self._demand.car_contactors_closed:
            return False
        if self.charger.effective_protocol >= 2:
            return True
        at_d2 = self._request_at_d2
        return at_d2 is not None and self.charger.vehicle.current_request > at_d2

    def charging(self) -> bool:
        return self.charger.state is ChargerState.CHARGING

    def charging_alone(self) -> bool:
        return False  # a CHAdeMO car charges only from the CCS charger

    def stopping(self) -> bool:
        return self.charger.state in _STOPPING

    def stop_report(self) -> str | None:
        charger = self.charger
        if charger.session is SessionKind.CHARGE and charger.state in _STOPPING:
            return charger.stop_reasons.describe()
        return None

    def waiting_contactors_open(self) -> bool:
        return self.charger.state is ChargerState.STOP_WAIT_CONTACTORS_OPEN

    def unlocked(self) -> bool:
        return self.charger.state in _UNLOCKED
