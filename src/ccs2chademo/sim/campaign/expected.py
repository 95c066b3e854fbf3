"""The end each scenario must reach, derived from its car, charger and faults.

A scenario without faults ends as its pairing does: battery full (the SoC window), or the
documented safe end of a pairing that cannot charge (the same table as the sweep of
tests/adapter_e2e/test_safety.py).  Each fault adds the ends it may cause — a stop named by the
side it hit — to the pairing's own end (the fault's state may never come: a session that ends
first ends as its pairing does).  A fault the adapter cannot see (``weld``; the car's contactors
never closing, with no inlet voltmeter) must instead be caught by the invariants.
"""

from __future__ import annotations

from ..faults import FAULT_NAMES as REPLY_FAULTS
from ..invariants import (
    CONTACTOR_CLOSED_WITH_VOLTAGE_DIFFERENCE,
    INLET_VOLTAGE_BEFORE_CAR_CONTACTORS,
    SESSION_END_STATE,
)
from .spec import End, Expected

ENDING = ("completed", "safe-shutdown")
BATTERY_FULL = End(("completed",), "ccs: battery-full")
CCS_STOP = End(ENDING, "ccs:")
CHADEMO_STOP = End(ENDING, "chademo:")
BUTTON = End(ENDING, "button")
FORCED_OFF = End(("forced-off",))
#: the adapter's own give-up when the CCS side never connects (SLAC failing over and over)
INACTIVITY = End(ENDING, "inactivity")
#: what the clara mode's controller names its stops by (docs/clara-mode.md)
CLARA_STOP = End(ENDING, "clara:")

#: Faults of the CCS link: a stop the CCS side names, or a restart that still completes.
_CCS_LINK = {"tcp-loss", "modem-reboot", "cp-loss", "cp-deaf", *REPLY_FAULTS}
#: Faults of the CHAdeMO car (and its wiring): a stop the CHAdeMO side names.
_CAR = {"car-can-silent", "car-system-fault", "k-drop", "car-stop", "over-request", "car-contactors-no-open",
        "weak-d2", "car-fault-over-voltage", "car-fault-under-voltage", "car-fault-current-deviation",
        "car-fault-high-temperature", "car-fault-voltage-deviation"}


def pairing_end(car: str, charger: str, soc_start: float, mode: str = "chademo") -> End:
    """How a pairing ends on the defaults with no fault (adapter.md §12.2, §14)."""
    if mode != "chademo":
        return CLARA_STOP  # the VCU ends the charge: its target SoC (enable off) or battery full
    if car == "jdemo":
        # a Jdemo kit needs the `jdemo` preset; on the defaults it stops itself, safely
        return End(ENDING, "chademo: 0xc0 (K_OFF|CAR_DISABLED)")
    if (car, charger) == ("kia-soul", "tesla-v2"):
        return End(ENDING, "chademo: 0x800 (BATTERY_INCOMPATIBLE)")  # 420 V target > the charger's 410 V
    if (car, charger) == ("xpeng-g3", "tesla-v2") and soc_start >= 90:
        return End(ENDING, "adapter: battery-above-charger-maximum")
    return BATTERY_FULL


def fault_expected(fault: str) -> Expected:
    """The ends (and violations) one fault ``NAME[@STATE][+SECONDS]`` calls for."""
    name = fault.partition("@")[0]
    if name in _CCS_LINK:
        # a CCS link that goes silent during the precharge may first show as the car's precharge
        # timeout: the CHAdeMO side then names the stop
        return Expected((CCS_STOP, CHADEMO_STOP, BATTERY_FULL))
    if name == "slac-fail":
        return Expected((INACTIVITY, CCS_STOP, BATTERY_FULL))
    if name in _CAR:
        # before its session starts, a car that fails leaves the adapter waiting: it gives up
        return Expected((CHADEMO_STOP, INACTIVITY, BATTERY_FULL))
    if name in ("stop-button", "long-press"):
        return Expected((BUTTON, FORCED_OFF, BATTERY_FULL))
    if name == "aux-low":
        return Expected((BATTERY_FULL,))
    if name == "weld":
        # the contactor cannot open: the session ends with it closed, which the end invariant catches
        return Expected((BATTERY_FULL, CCS_STOP, CHADEMO_STOP), frozenset({SESSION_END_STATE}))
    if name == "car-contactors-no-close":
        # the car reports its contactors closed: without an inlet voltmeter the adapter cannot
        # know, closes onto an open inlet, and the invariants must catch it; where the car's own
        # checks tolerate the 0 A (at 90 %), the adapter's inactivity power-off ends it
        return Expected((CHADEMO_STOP, CCS_STOP, INACTIVITY), frozenset({CONTACTOR_CLOSED_WITH_VOLTAGE_DIFFERENCE,
                                                            INLET_VOLTAGE_BEFORE_CAR_CONTACTORS}))
    if name in ("can-silence", "enable-drop"):
        return Expected((CLARA_STOP, CCS_STOP, BATTERY_FULL))
    if name in ("hot-day", "worn-pin", "no-unlock"):
        # derating, or a lock held until the VCU allows it: the VCU's own end
        return Expected((CLARA_STOP,))
    if name in ("loose-crimp", "lock-jam"):
        # inlet overheat / lock failure, named by the controller; a lock that never locks may also
        # leave the CCS side waiting until the adapter gives up
        return Expected((CLARA_STOP, CCS_STOP, INACTIVITY))
    raise ValueError(f"no expected end known for fault {fault!r}")


def expected(car: str, charger: str, soc_start: float, faults: tuple[str, ...], mode: str = "chademo") -> Expected:
    """The pairing's own end plus what every fault calls for."""
    out = Expected((pairing_end(car, charger, soc_start, mode),))
    for fault in faults:
        out = out + fault_expected(fault)
    return out
