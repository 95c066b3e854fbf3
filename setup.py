"""Build hook: compile the simulation's hot path with mypyc (pure Python stays the reference).

Everything is configured in ``pyproject.toml``; this file only adds the compiled extension
modules.  Why mypyc: the code is already ``mypy --strict`` clean, so the same sources compile to
C extensions with no second language to maintain, and a 30-minute session simulates ≈2× faster
(docs/perf.md).  ``CCS2CHADEMO_PURE=1`` at install time builds a pure-Python package (use it on
a machine without a C compiler); so does a build where mypyc is missing or its type check fails,
with a warning (``CCS2CHADEMO_COMPILE=require``, which the Makefile sets, makes that an error).
The behaviour is identical either way; the test suite runs on the compiled build.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

from setuptools import setup

SRC = Path(__file__).resolve().parent / "src"
# the list lives in the package (the tests check it too); read it without importing the package
BUILD = runpy.run_path(str(SRC / "ccs2chademo" / "_build.py"))
COMPILED = BUILD["COMPILED_MODULES"]
# the mypycify calls, each a tuple of compilation groups (one C extension per group, all compiled at
# the same time: ``parallel`` below); _build.py says why they are split so
BUILDS = BUILD["BUILDS"]


def remove_stale_extensions() -> None:
    """A pure build must not leave in-place extensions of an earlier compiled build behind."""
    for path in COMPILED:
        for stale in (SRC / "ccs2chademo" / path).parent.glob(Path(path).stem + ".*.so"):
            stale.unlink()
    for stale in SRC.glob("*__mypyc.*.so"):
        stale.unlink()


def pure(reason: str) -> list[object]:
    if os.environ.get("CCS2CHADEMO_COMPILE") == "require":
        sys.exit(f"ccs2chademo: {reason}, and CCS2CHADEMO_COMPILE=require")
    print(f"ccs2chademo: {reason}: building pure Python", file=sys.stderr)
    remove_stale_extensions()
    return []


def ext_modules() -> list[object]:
    if os.environ.get("CCS2CHADEMO_PURE"):
        remove_stale_extensions()
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:  # pragma: no cover - build requirements normally provide it
        return pure("mypyc is not installed")
    def paths(modules: tuple[str, ...]) -> list[str]:
        return [str(SRC / "ccs2chademo" / m) for m in modules]

    # debug_level "0": no debug information (mypyc's default is -g1).  Its line tables doubled the
    # C compile of the core group (≈ 30 MB of C), the longest step of a first ``make demo``; perf and
    # callgrind still name the compiled functions from the symbol table.
    try:
        return [ext for groups in BUILDS
                for ext in mypycify(paths(sum(groups, ())), opt_level="3", debug_level="0",
                                    separate=False if len(groups) == 1 else [(paths(g), None) for g in groups])]
    except SystemExit as exc:  # mypyc reports type errors (e.g. dependencies missing) by exiting
        return pure(f"mypyc failed ({exc})")


setup(ext_modules=ext_modules(), options={"build_ext": {"parallel": max(2, os.cpu_count() or 1)}})
