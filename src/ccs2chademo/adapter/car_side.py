"""The seam between the bridge and the side that feeds the car.

Why a seam: the bridge's CCS side is a complete CCS *car* toward the charger, and what sits on
the other side is interchangeable.  Today it is a CHAdeMO charger (:class:`.chademo_side.ChademoSide`:
CAN frames, d1/d2, k); next it is a CAN-controlled EV (a VCU or BMS sending target voltage and
current, enable, SoC, its contactors and lock, docs/bridge.md).  The bridge talks to either only
through :class:`CarSide`: what it tells the car side (start a session, the charger's figures,
stop, the charge permission) and what it reads back (the car's demand and what it reported, and
a few judgements only the car side's protocol can make — is the car's contactor evidently
closed, is it stopping, may the cable be unplugged).

Everything here is typed: the bridge never sends a free-string input to the car side, and
never looks at the car side's internal states.
"""

from __future__ import annotations

from typing import Protocol

from ..chademo.interfaces import PowerDemand, SessionKind, Upstream, VehicleView
from ..runtime import Action, CanReceived


class CarSide(Protocol):
    """The side that feeds the car (see the module docstring).  A sans-I/O machine: every call
    takes ``now``; its actions (CAN frames, hardware outputs such as d1/d2, log records) are
    collected with :meth:`actions`."""

    name: str

    # ---------------------------------------------------------------- machine protocol
    def get_timer(self) -> float | None: ...

    def handle_timer(self, now: float) -> None: ...

    def actions(self) -> list[Action]: ...

    # ---------------------------------------------------------------- what the bridge tells it
    def frame(self, event: CanReceived, now: float) -> None:
        """A frame from the car's bus."""

    def permission(self, granted: bool, now: float) -> None:
        """The car's charge permission input (CHAdeMO: k)."""

    def start(self, kind: SessionKind, now: float) -> None:
        """Start a session: ``DISCOVERY`` learns the car (target, SoC) and ends; ``CHARGE`` is the real one."""

    def promote(self, now: float) -> None:
        """Make the running discovery session the real one (single-session flow): the car never
        sees a second session."""

    def feed(self, upstream: Upstream, now: float) -> None:
        """The CCS side's figures and verdicts (available and present voltage/current, precharge
        done, stopped, fault, the estimate)."""

    def stop(self, now: float) -> None:
        """Stop normally (power-off pending)."""

    def cycle_done(self) -> None:
        """The bridge's 100 ms cycle has stepped this side and read its demand (adapter.md §1)."""

    # ---------------------------------------------------------------- what the bridge reads
    @property
    def state(self) -> str:
        """The side's state, for the summary and the live view (never decided on by the bridge)."""

    @property
    def demand(self) -> PowerDemand:
        """What the car asks for now (current, voltage, contactors, d2, stopping, discharge)."""

    @property
    def vehicle(self) -> VehicleView:
        """What the car has reported (target voltage, SoC, limits, its own measurements)."""

    def discovering(self) -> bool:
        """A discovery session is waiting for the car to be ready (the moment to recognise it)."""

    def discovered(self) -> bool:
        """The discovery session has learned what it needs."""

    def contactors_evident(self) -> bool:
        """The car's contactors are *evidently* closed (not merely assumed): the adapter
        contactor may close (adapter.md §2.2)."""

    def charging(self) -> bool:
        """The car is in its charging loop (activity for the power manager)."""

    def charging_alone(self) -> bool:
        """The car charges without the CCS session (basic AC in clara mode): its charging loop is
        activity even with no CCS link."""

    def stopping(self) -> bool:
        """The car side is in its stop sequence (or has ended)."""

    def stop_report(self) -> str | None:
        """Why the real session stopped, once it is stopping (None before, and for a discovery session)."""

    def waiting_contactors_open(self) -> bool:
        """The stop sequence waits for the car to open its contactors (the current is down)."""

    def unlocked(self) -> bool:
        """Nothing holds the connector: the adapter may power off."""
