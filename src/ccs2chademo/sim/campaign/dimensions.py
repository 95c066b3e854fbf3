"""The campaign's dimensions: each a function from a :class:`~.matrix.Matrix` to scenario specs,
registered by name with :func:`dimension` (a new scenario source — the field scenarios — is one
more registered function).

* ``pairings`` — every car × every charger × every SoC window × every seed, per mode;
* ``ccs-faults`` — every charger reply fault at every DIN message, and TCP loss, modem reboot,
  SLAC failure and CP loss at every EV-session state;
* ``chademo-faults`` — the car's CAN silent, each 0x102 fault bit, k dropping, the car stopping,
  a request above the charger's limits at every CHAdeMO state; the car's contactors that never
  close / never open, a weak d2;
* ``adapter-faults`` — the stop button (short, long) at every phase, a welded contactor, a low
  aux battery;
* ``random`` — several faults at random states and times, from a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from ...chademo.interfaces import ChargerState
from ...homeplug.connection import ConnectionState
from ...v2g.evcc import ISO20_ONLY_STATES, EvccState
from ..clara_world import CLARA_FAULTS
from ..faults import FAULT_NAMES as REPLY_FAULTS
from ..faults import FAULT_STATES as REPLY_STATES
from ..vehicle import VehicleState
from ..world import WORLD_FAULTS
from ..zombie_vcu import VARIANTS
from .expected import BATTERY_FULL, expected, pairing_end
from .matrix import Matrix
from .spec import ScenarioSpec

Dimension = Callable[[Matrix], Iterator[ScenarioSpec]]
DIMENSIONS: dict[str, Dimension] = {}

#: The EV session's states in the order of a (DIN/ISO-2) session: the link (modem, SLAC, SDP), then
#: every message state up to SessionStop.
_EVCC = [s for s in EvccState if s.value not in ISO20_ONLY_STATES]
EV_STATES: tuple[str, ...] = tuple(s.value for s in (
    ConnectionState.MODEM, ConnectionState.SLAC, ConnectionState.SDP,
    *_EVCC[_EVCC.index(EvccState.SUPPORTED_APP_PROTOCOL):_EVCC.index(EvccState.SESSION_STOP) + 1]))
#: The adapter's CHAdeMO states a session passes (not the idle and ended ends).
CHADEMO_STATES: tuple[str, ...] = tuple(s.value for s in ChargerState if s not in (ChargerState.IDLE,
                                                                                   ChargerState.ENDED))
CCS_LINK_FAULTS = ("tcp-loss", "modem-reboot", "slac-fail", "cp-loss")
CAR_FAULTS = ("car-can-silent", *(n for n in WORLD_FAULTS if n.startswith("car-fault-")), "car-system-fault",
              "k-drop", "car-stop", "over-request")
CAR_STATIC = ("car-contactors-no-close", "car-contactors-no-open", "weak-d2")
BUTTON_FAULTS = ("stop-button", "long-press")
#: What a random schedule draws from: every fault whose end the adapter decides (``weld`` and the
#: car's contactors never closing must violate an invariant; they have their own cells).
RANDOM_TIMED = (*CCS_LINK_FAULTS, *CAR_FAULTS, *BUTTON_FAULTS, "aux-low")
RANDOM_STATES = (*EV_STATES, *CHADEMO_STATES, *(s.value for s in VehicleState))


def dimension(name: str) -> Callable[[Dimension], Dimension]:
    """Register a dimension under ``name`` (the report's table title)."""

    def register(fn: Dimension) -> Dimension:
        DIMENSIONS[name] = fn
        return fn

    return register


def generate(matrix: Matrix) -> list[ScenarioSpec]:
    """Every spec of the matrix's dimensions, in a stable order (ids are unique)."""
    names = matrix.dimensions if matrix.dimensions is not None else tuple(DIMENSIONS)
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension(s) {', '.join(unknown)}; known: {', '.join(DIMENSIONS)}")
    return [spec for name in names for spec in DIMENSIONS[name](matrix)]


def in_run_order(specs: list[ScenarioSpec]) -> list[ScenarioSpec]:
    """The specs interleaved across dimensions, each advancing in proportion to its size (each
    in its own order): a run cut short has covered every dimension, not the first ones only."""
    queues: dict[str, list[ScenarioSpec]] = {}
    for spec in specs:
        queues.setdefault(spec.dimension, []).append(spec)
    keyed = [((i + 0.5) / len(q), d, i) for d, q in enumerate(queues.values()) for i in range(len(q))]
    lists = list(queues.values())
    return [lists[d][i] for _, d, i in sorted(keyed)]


class _Cells:
    """Hands out (car, charger, SoC window) for the cells of a fault dimension: every car per
    cell (``cross_cars``) or one in turn; charger and window always in turn."""

    def __init__(self, matrix: Matrix, name: str) -> None:
        self.m = matrix
        self.name = name
        self.n = 0

    def specs(self, row: str, column: str, faults: tuple[str, ...],
              only_charging: bool = False) -> Iterator[ScenarioSpec]:
        m = self.m
        cars = m.cars if m.cross_cars else (m.cars[self.n % len(m.cars)],)
        for car in cars:
            for _ in range(len(m.chargers)):
                charger = m.chargers[self.n % len(m.chargers)]
                start, stop = m.soc_windows[self.n % len(m.soc_windows)]
                self.n += 1
                if not only_charging or pairing_end(car, charger, start) == BATTERY_FULL:
                    break
            else:
                continue
            yield ScenarioSpec(f"{self.name}-{self.n:05d}", self.name, row, column, car, charger, start, stop,
                               expected(car, charger, start, faults), faults, seed=self.n)


def _timed(cells: _Cells, names: tuple[str, ...], states: tuple[str, ...]) -> Iterator[ScenarioSpec]:
    """Each fault at each state, after each fault time."""
    for name in names:
        if not cells.m.wants(name):
            continue
        for state in states:
            for delay in cells.m.fault_times:
                yield from cells.specs(name, state, (f"{name}@{state}+{delay:g}",))


@dimension("pairings")
def pairings(m: Matrix) -> Iterator[ScenarioSpec]:
    n = 0
    for mode in m.modes:
        cars = m.cars if mode == "chademo" else VARIANTS
        for car in cars:
            for charger in m.chargers:
                for start, stop in m.soc_windows:
                    for seed in m.seeds:
                        n += 1
                        exp = expected(car, charger, start, (), mode)
                        if mode == "chademo":
                            yield ScenarioSpec(f"pairings-{n:05d}", "pairings", car, charger, car, charger, start,
                                               stop, exp, seed=seed)
                        else:
                            yield ScenarioSpec(f"pairings-{n:05d}", "pairings", f"{mode}:{car}", charger,
                                               m.cars[0], charger, start, stop, exp, seed=seed, mode=mode, vcu=car)


@dimension("ccs-faults")
def ccs_faults(m: Matrix) -> Iterator[ScenarioSpec]:
    cells = _Cells(m, "ccs-faults")
    for name in REPLY_FAULTS:
        if m.wants(name):
            for state in REPLY_STATES:
                yield from cells.specs(name, state.value, (f"{name}@{state.value}",))
    yield from _timed(cells, CCS_LINK_FAULTS, EV_STATES)


@dimension("chademo-faults")
def chademo_faults(m: Matrix) -> Iterator[ScenarioSpec]:
    cells = _Cells(m, "chademo-faults")
    yield from _timed(cells, CAR_FAULTS, CHADEMO_STATES)
    for name in CAR_STATIC:
        if m.wants(name):
            for _ in m.chargers:  # every charger meets it (the cells hand them out in turn)
                yield from cells.specs(name, "session", (name,), only_charging=name == "car-contactors-no-close")


@dimension("adapter-faults")
def adapter_faults(m: Matrix) -> Iterator[ScenarioSpec]:
    cells = _Cells(m, "adapter-faults")
    yield from _timed(cells, BUTTON_FAULTS, (*EV_STATES, *CHADEMO_STATES))
    if m.wants("weld"):
        for _ in m.chargers:
            yield from cells.specs("weld", "session", ("weld",), only_charging=True)
    if m.wants("aux-low"):
        for state in (*EV_STATES, *CHADEMO_STATES):
            yield from cells.specs("aux-low", state, (f"aux-low@{state}",))


@dimension("clara-faults")
def clara_faults(m: Matrix) -> Iterator[ScenarioSpec]:
    """The clara mode's VCU faults at the CCS states of a charge (only when the matrix has the mode)."""
    if "clara" not in m.modes:
        return
    n = 0
    for vcu in VARIANTS:
        for name in CLARA_FAULTS:
            if name == "vcu-voltage-lie" or not m.wants(name):
                continue  # the lie must violate: tests/adapter_e2e/test_clara_mode.py has it
            for state in EV_STATES[EV_STATES.index(EvccState.CHARGE_PARAMETER_DISCOVERY):]:
                charger = m.chargers[n % len(m.chargers)]
                start, stop = m.soc_windows[n % len(m.soc_windows)]
                n += 1
                faults = (f"{name}@{state}+{m.fault_times[n % len(m.fault_times)]:g}",)
                yield ScenarioSpec(f"clara-faults-{n:05d}", "clara-faults", f"{vcu}: {name}", state, m.cars[0],
                                   charger, start, stop, expected(vcu, charger, start, faults, "clara"), faults,
                                   seed=n, mode="clara", vcu=vcu)


@dimension("random")
def random_schedules(m: Matrix) -> Iterator[ScenarioSpec]:
    """One to three faults from a seed: reply faults at DIN messages, the timed faults at any
    state of either side or the car, after a random delay."""
    for seed in range(m.random_first, m.random_first + m.random):
        r = random.Random(seed)
        faults: list[str] = []
        for _ in range(r.randint(1, 3)):
            if r.random() < 0.4:
                faults.append(f"{r.choice(REPLY_FAULTS)}@{r.choice(REPLY_STATES).value}")
            else:
                faults.append(f"{r.choice(RANDOM_TIMED)}@{r.choice(RANDOM_STATES)}+{r.choice((0, 0.1, 0.5, 1, 2, 5))}")
        car, charger = r.choice(m.cars), r.choice(m.chargers)
        start, stop = r.choice(m.soc_windows)
        column = "1 fault" if len(faults) == 1 else f"{len(faults)} faults"
        yield ScenarioSpec(f"random-{seed:06d}", "random", car, column, car, charger, start, stop,
                           expected(car, charger, start, tuple(faults)), tuple(faults), seed=seed)
