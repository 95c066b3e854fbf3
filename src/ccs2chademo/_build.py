"""Which modules the build compiles with mypyc, and whether this installation runs them compiled.

The list is read by ``setup.py`` (without importing the package) and by the tests, which refuse
to run against compiled modules older than their sources.  These are the modules that run once
per simulated event: the runtime engine and links, the adapter's machines, the simulated world,
and the EXI codec's compiled twins.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

#: the modules that run once per simulated event, one compilation group
CORE_MODULES = (
    "runtime/core.py",
    "runtime/events.py",
    "runtime/links.py",
    "runtime/machine.py",
    "runtime/virtual.py",
    "runtime/sessionlog.py",
    "deadline.py",
    "adapter/bridge.py",
    "adapter/car_voltage.py",
    "adapter/ccs_side.py",
    "adapter/chademo_side.py",
    "adapter/estimator.py",
    "adapter/leds.py",
    "adapter/mapping.py",
    "adapter/power.py",
    "adapter/stop_policy.py",
    "chademo/charger.py",
    "chademo/interfaces.py",
    "homeplug/connection.py",
    "v2g/codec.py",
    "v2g/evcc.py",
    "v2g/messages.py",
    "v2g/secc.py",
    "v2g/v2gtp.py",
    "sim/battery.py",
    "sim/charger.py",
    "sim/hardware.py",
    "sim/invariants.py",
    "sim/plc.py",
    "sim/profiles.py",
    "sim/readings.py",
    "sim/vehicle.py",
    "sim/world.py",
)

#: the generated EXI codec's twins written for compilation (``exi/native/``, tools/gen_exi.py
#: ``NATIVE``) with their runtime, each twin in a compilation group of its own (below)
EXI_MODULES = (
    "exi/native/_bits.py",
    "exi/native/din.py",
    "exi/native/iso2.py",
)

#: the compilation groups, one C extension each, built in parallel.  A group's extension creates
#: every literal of its modules when the first of them is imported, so ISO-2's twin has its own:
#: in DIN's group it cost a DIN-only ``run`` ≈ 4 MB of RSS.  The runtime ``_bits`` sits with DIN's
#: twin (direct calls); ISO-2's twin calls it through mypyc's exported tables (docs/perf.md).
GROUPS = (
    CORE_MODULES,
    ("exi/native/_bits.py", "exi/native/din.py"),
    ("exi/native/iso2.py",),
)

COMPILED_MODULES = CORE_MODULES + EXI_MODULES


def module_name(path: str) -> str:
    return "ccs2chademo." + path.removesuffix(".py").replace("/", ".")


def compiled_origins() -> dict[str, Path]:
    """The listed modules that will be imported from an extension, with the extension's path."""
    found: dict[str, Path] = {}
    for path in COMPILED_MODULES:
        spec = importlib.util.find_spec(module_name(path))
        if spec is not None and spec.origin is not None and not spec.origin.endswith(".py"):
            found[module_name(path)] = Path(spec.origin)
    return found
