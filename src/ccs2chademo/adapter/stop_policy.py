"""The adapter's one stop policy: from the two sides' status and the power manager's cause to
what every part does about a stop (adapter.md §4, docs/safety.md).

Why one pure function: a session ends in many ways — the car (k off, a fault flag, CAN loss),
the charger (a normal stop, EVSE shutdown, a non-OK code, a timeout, TCP loss: the EV session's
safe shutdown), the button, a forced off, the adapter refusing to close — and every end must
reach both sides, in the same cycle, without a contactor ever closing again.  When the
reactions lived in four functions of the bridge, "what happens on a CurrentDemand timeout" took
five files to answer.  Here it is one call: build a :class:`StopInputs` and read the
:class:`StopPlan`; the bridge only applies the plan.

What happens when …

================================  =================================================================
the charger stops normally         ``ccs_final`` → ``upstream_stopped`` (CHAdeMO stop sequence), the
(EVSE_Shutdown, battery full)      cause reported to the power manager (``report_ccs``) → power-off
                                   pending → ``request_stop``
the EV session safe-shuts down     as above but ``upstream_fault``; the current toward the car is
(timeout, TCP loss, bad code)      held at the last CurrentDemand figure while the adapter contactor
                                   is closed (``hold_car_current``: the car's stop waits for low
                                   current); ``emergency_open`` once the safe shutdown's CP B wait
                                   is over (2 s) and nothing said the current is down — or earlier,
                                   2 s after the car side began its stop: the car opens its own
                                   contactors 2.5 s after its stop whatever the current
                                   (chademo.md §10), so the adapter's must break it first
a CCS end before                   not a stop: ``restart_ccs`` (new SDP/SLAC) up to
ChargeParameterDiscovery           ``MAX_CCS_RESTARTS`` times, then final
the car stops (k off, 0x102 flag,  ``report_car`` → power-off pending → ``request_stop`` toward CCS
CAN loss, its own error)           (PowerDelivery OFF, CP B, welding detection, SessionStop)
the button / inactivity / the      power-off pending: ``request_stop`` to both sides
adapter refusing to close
a forced off (long press)          ``begun``; the power manager opens the contactor and cuts power
any of these                       ``begun``: no contactor closes, d2 is never given again
================================  =================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: CCS restarts (SDP recovery, then SLAC) allowed before ChargeParameterDiscovery (adapter.md §4, §14 #24).
MAX_CCS_RESTARTS: Final = 3
#: The car gives the charger 2.5 s to bring the current to ≤ 5 A after its stop, then opens its
#: contactors anyway (chademo.md §10); in a CCS safe shutdown nothing confirms the current, so the
#: adapter contactor opens this long after the car side's stop began — one CHAdeMO cycle (the
#: adapter learns of the stop up to 100 ms late), the contactor's opening time and a margin before.
CAR_CURRENT_WAIT_S: Final = 2.0
#: The slack of the runtime's integer-nanosecond clock against a float deadline.
EPS: Final = 1e-9


# Records with an explicit ``__init__`` and ``Final`` fields (as ``EvccStatus``): mypyc builds
# them as native classes, ten times faster than a frozen dataclass — the policy runs several
# times per 100 ms cycle and on every physics step of the simulation.
@dataclass(slots=True, init=False)
class StopInputs:
    """What the stop policy looks at: the CCS side, the car side, the power manager, the contactor."""

    #: the EV session's stop reason (None: it has not stopped)
    ccs_reason: Final[str | None]
    #: the EV session is in (or past) its safe shutdown
    ccs_safe_shutdown: Final[bool]
    #: ChargeParameterDiscovery is done (a CCS end after it is final)
    ccs_parameters_done: Final[bool]
    #: the EV session ended (its TCP connection closed)
    ccs_ended: Final[bool]
    #: the CCS side is over for this session (out of restarts or final)
    ccs_over: Final[bool]
    ccs_restarts: Final[int]
    #: the car side is stopping (the CHAdeMO charger's stop sequence or the car's own stop)
    car_stopping: Final[bool]
    #: the stop reasons of the car side's real (charge) session, when it is stopping
    car_reason: Final[str | None]
    #: the power manager's power-off cause (pending)
    power_cause: Final[str | None]
    #: a forced off (long button hold)
    forced_off: Final[bool]
    #: the adapter contactor is closed
    contactor_closed: Final[bool]
    #: when the EV session's safe shutdown began (None: none), its CP B wait, and the time now
    safe_shutdown_at: Final[float | None]
    safe_cp_wait_s: Final[float]
    #: when the car side's stop began (None: it has not), as the bridge first saw it
    car_stop_at: Final[float | None]
    now: Final[float]

    def __init__(
        self,
        *,
        ccs_reason: str | None = None,
        ccs_safe_shutdown: bool = False,
        ccs_parameters_done: bool = False,
        ccs_ended: bool = False,
        ccs_over: bool = False,
        ccs_restarts: int = 0,
        car_stopping: bool = False,
        car_reason: str | None = None,
        power_cause: str | None = None,
        forced_off: bool = False,
        contactor_closed: bool = False,
        safe_shutdown_at: float | None = None,
        safe_cp_wait_s: float = 2.0,
        car_stop_at: float | None = None,
        now: float = 0.0,
    ) -> None:
        self.ccs_reason = ccs_reason
        self.ccs_safe_shutdown = ccs_safe_shutdown
        self.ccs_parameters_done = ccs_parameters_done
        self.ccs_ended = ccs_ended
        self.ccs_over = ccs_over
        self.ccs_restarts = ccs_restarts
        self.car_stopping = car_stopping
        self.car_reason = car_reason
        self.power_cause = power_cause
        self.forced_off = forced_off
        self.contactor_closed = contactor_closed
        self.safe_shutdown_at = safe_shutdown_at
        self.safe_cp_wait_s = safe_cp_wait_s
        self.car_stop_at = car_stop_at
        self.now = now


@dataclass(slots=True, init=False)
class StopPlan:
    """What every part does about the stop (all False / None: nothing is stopping)."""

    #: a stop of any kind has begun: no contactor may close, d2 is not given
    begun: Final[bool]
    #: a CCS end is final (no restart): past ChargeParameterDiscovery, pending, or over
    ccs_final: Final[bool]
    #: a CCS end that is not final: restart the connection (SDP recovery, then SLAC)
    restart_ccs: Final[bool]
    #: the cause to report to the power manager for the CCS side / the car side (once)
    report_ccs: Final[str | None]
    report_car: Final[str | None]
    #: the CHAdeMO charger's upstream flags: a normal CCS stop / a CCS fault
    upstream_stopped: Final[bool]
    upstream_fault: Final[bool]
    #: the present current toward the car is the last CurrentDemand current (nobody reports it)
    hold_car_current: Final[bool]
    #: open the adapter contactor now, without knowing the current (the safe shutdown's own step)
    emergency_open: Final[bool]
    #: both sides stop normally (EvRequest.stop, the CHAdeMO charger's ``stop`` input)
    request_stop: Final[bool]

    def __init__(
        self,
        *,
        begun: bool = False,
        ccs_final: bool = False,
        restart_ccs: bool = False,
        report_ccs: str | None = None,
        report_car: str | None = None,
        upstream_stopped: bool = False,
        upstream_fault: bool = False,
        hold_car_current: bool = False,
        emergency_open: bool = False,
        request_stop: bool = False,
    ) -> None:
        self.begun = begun
        self.ccs_final = ccs_final
        self.restart_ccs = restart_ccs
        self.report_ccs = report_ccs
        self.report_car = report_car
        self.upstream_stopped = upstream_stopped
        self.upstream_fault = upstream_fault
        self.hold_car_current = hold_car_current
        self.emergency_open = emergency_open
        self.request_stop = request_stop


def _final(s: StopInputs) -> bool:
    """A CCS end is final (no restart) after ChargeParameterDiscovery, on a pending stop, or over."""
    return s.ccs_parameters_done or s.power_cause is not None or s.ccs_over


def stop_begun(s: StopInputs) -> bool:
    """A stop of any kind has begun: no contactor may close any more (:attr:`StopPlan.begun`;
    asked on every physics step of the simulation, so it does not build the whole plan)."""
    if s.power_cause is not None or s.ccs_over or s.forced_off or s.car_stopping:
        return True
    return (s.ccs_reason is not None or s.ccs_safe_shutdown) and _final(s)  # a restart is not a stop


def _emergency_due(s: StopInputs, safe_at: float) -> bool:
    """In a safe shutdown: the CP B wait is over, or the car is about to give up waiting for low current."""
    if s.now >= safe_at + s.safe_cp_wait_s - EPS:
        return True
    return s.car_stop_at is not None and s.now >= s.car_stop_at + CAR_CURRENT_WAIT_S - EPS


def stop_plan(s: StopInputs) -> StopPlan:
    """The stop policy (see the module docstring's table)."""
    pending = s.power_cause is not None
    final = _final(s)
    begun = stop_begun(s)
    report_ccs = None
    if s.ccs_over or (final and s.ccs_reason):
        report_ccs = s.ccs_reason or "ccs-ended"
    safe_at = s.safe_shutdown_at
    return StopPlan(
        begun=begun,
        ccs_final=final,
        restart_ccs=s.ccs_ended and not s.ccs_over and not final and s.ccs_restarts < MAX_CCS_RESTARTS,
        report_ccs=report_ccs,
        report_car=s.car_reason,
        upstream_stopped=final and s.ccs_reason is not None and not s.ccs_safe_shutdown,
        upstream_fault=final and s.ccs_safe_shutdown,
        hold_car_current=s.ccs_safe_shutdown and s.contactor_closed,
        emergency_open=s.contactor_closed and safe_at is not None and _emergency_due(s, safe_at),
        request_stop=pending,
    )
