"""What a campaign crosses: the ``smoke`` and ``full`` presets, or a TOML file (``--matrix``).

Every key is optional; a file starts from the ``full`` preset and replaces what it names::

    cars = ["leaf-ze1-40", "imiev"]        # car profiles (default: all)
    chargers = ["alpitronic", "abb"]       # charger personalities (default: all that charge)
    modes = ["chademo", "clara"]           # the adapter's mode (clara: the VCU variants stand in for cars)
    faults = ["tcp-loss", "k-drop"]        # fault names the fault dimensions use (default: all)
    fault_times = [0.0, 0.5, 2.0]          # seconds after the state is reached
    soc_windows = [[50, 51], [10, 11]]     # [start, stop] SoC %, short windows keep sessions short
    seeds = [0, 1]                         # the pairing dimension runs every seed
    random = 1000                          # random fault schedules …
    random_first = 0                       # … from this seed on
    cross_cars = true                      # fault dimensions: every car (false: one car per cell, in turn)
    dimensions = ["pairings", "ccs-faults"]  # which dimensions (default: all registered)

The fault dimensions cross fault × state × time with every car (or one car per cell in turn);
the charger and the SoC window go round in turn, so every charger and window meets every kind
of fault without multiplying the count.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from ...v2g.messages import Schema
from ..charger import PERSONALITIES
from ..faults import FAULT_NAMES as REPLY_FAULTS
from ..profiles import PROFILE_NAMES
from ..world import WORLD_FAULTS

ALL_FAULTS = (*REPLY_FAULTS, *WORLD_FAULTS)
#: every charger that charges — and speaks no ISO 15118-20: the expected outcomes are DIN's (state
#: names, stop reasons); the -20 charger has its own scenarios (tests/adapter_e2e/test_iso20.py)
CHARGERS = tuple(name for name, p in PERSONALITIES.items()
                 if not p.stage.discharge and Schema.ISO20 not in p.secc.schemas)
MODES = ("chademo", "clara")


class MatrixError(ValueError):
    """A matrix file that does not say what to run."""


@dataclass(frozen=True)
class Matrix:
    cars: tuple[str, ...] = PROFILE_NAMES
    chargers: tuple[str, ...] = CHARGERS
    modes: tuple[str, ...] = MODES
    faults: tuple[str, ...] | None = None  # None: every fault
    fault_times: tuple[float, ...] = (0.0, 0.5, 2.0)
    soc_windows: tuple[tuple[float, int], ...] = ((50.0, 51), (10.0, 11), (30.0, 31), (70.0, 71), (90.0, 91),
                                                  (5.0, 6))
    seeds: tuple[int, ...] = (0, 1)
    random: int = 1000
    random_first: int = 0
    cross_cars: bool = True
    dimensions: tuple[str, ...] | None = None  # None: every registered dimension

    def wants(self, fault: str) -> bool:
        return self.faults is None or fault in self.faults


FULL = Matrix()
#: ≥ 300 scenarios for ``make test``: every fault at every state once, one car per cell in turn,
#: the CHAdeMO mode only; the faults that leave the session running to its end (the costly ones)
#: are left to ``full``.
SMOKE = Matrix(
    cars=("leaf-ze1-40", "imiev", "zombieverter", "kia-soul", "lexus-ux300e", "leaf-ze0-24"),
    modes=("chademo",), soc_windows=((50.0, 51), (80.0, 81)), fault_times=(0.5,), seeds=(0,),
    random=20, random_first=0, cross_cars=False,
    faults=tuple(n for n in ALL_FAULTS if n not in ("aux-low", "over-request", "car-contactors-no-open")),
)
PRESETS = {"smoke": SMOKE, "full": FULL}


def load_matrix(path: Path, base: Matrix = FULL) -> Matrix:
    """A matrix file over ``base``; unknown keys, cars, chargers or modes are a clear error."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MatrixError(f"{path}: {exc}") from None
    known = {f.name for f in fields(Matrix)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise MatrixError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    try:
        for key, value in data.items():
            if key in ("random", "random_first"):
                values[key] = int(value)
            elif key == "cross_cars":
                values[key] = bool(value)
            elif key == "soc_windows":
                values[key] = tuple((float(a), int(b)) for a, b in value)
            elif key == "fault_times":
                values[key] = tuple(float(v) for v in value)
            elif key == "seeds":
                values[key] = tuple(int(v) for v in value)
            else:
                values[key] = tuple(str(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise MatrixError(f"{path}: {exc}") from None
    matrix = replace(base, **values)
    _check(matrix, path)
    return matrix


def _check(m: Matrix, path: Path) -> None:
    for what, have, known in (("car", m.cars, PROFILE_NAMES), ("charger", m.chargers, tuple(PERSONALITIES)),
                              ("mode", m.modes, MODES)):
        bad = [x for x in have if x not in known]
        if bad:
            raise MatrixError(f"{path}: unknown {what}(s) {', '.join(bad)}; known: {', '.join(known)}")
    if not m.cars or not m.chargers or not m.soc_windows or not m.fault_times or not m.seeds:
        raise MatrixError(f"{path}: cars, chargers, soc_windows, fault_times and seeds must not be empty")
    for start, stop in m.soc_windows:
        if not 0 <= start < stop <= 100:
            raise MatrixError(f"{path}: SoC window [{start:g}, {stop}] is not 0 ≤ start < stop ≤ 100")

