"""Run benchmark children as an installed adapter runs: with byte-compiled modules.

``pip install`` byte-compiles a package; an editable install in a sandbox that sets
``PYTHONDONTWRITEBYTECODE`` recompiles every module (≈20 000 generated EXI lines) at each start,
which costs ≈0.3 s and ≈65 MB of peak RSS that no deployed adapter pays.  Benchmarks that
spawn ``ccs2chademo`` call :func:`as_installed` first.
"""

from __future__ import annotations

import compileall
import os
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def as_installed() -> None:
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(SRC, quiet=1)
