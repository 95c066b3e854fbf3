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
    "rounding.py",
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
    "chademo/frames.py",
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

#: how ``setup.py`` compiles them: one ``mypycify`` call per entry, each a tuple of compilation groups
#: (one C extension per group; all extensions compile in parallel).  A group's extension creates every
#: literal of its modules when the first of them is imported, so ISO-2's twin is a group of its own:
#: in DIN's it cost a DIN-only ``run`` ≈ 0.7 MB of RSS.  Groups of one call reach each other through
#: mypyc's exported tables (C calls: ISO-2's twin calls the runtime ``_bits`` that way); calls between
#: two ``mypycify`` calls go through Python.  The core is a call of its own all the same: compiled in
#: one call with the twins' groups it ran the whole session ≈ 8 % slower, and it reaches the twins
#: only through generic code (``exi.codec_module``) anyway (docs/perf.md).
BUILDS = (
    (CORE_MODULES,),
    (("exi/native/_bits.py", "exi/native/din.py"), ("exi/native/iso2.py",)),
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
