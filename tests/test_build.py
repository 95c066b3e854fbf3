"""The installation runs the compiled modules the build lists (unless built pure on purpose)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ccs2chademo._build import COMPILED_MODULES, compiled_origins, module_name
from ccs2chademo.v2g.evcc import EvccStatus

SRC = Path(__file__).resolve().parent.parent / "src" / "ccs2chademo"


@pytest.mark.skipif(bool(os.environ.get("CCS2CHADEMO_PURE")), reason="built pure Python (CCS2CHADEMO_PURE)")
def test_every_listed_module_is_compiled() -> None:
    assert set(compiled_origins()) == {module_name(m) for m in COMPILED_MODULES}


def test_measured_status_equals_a_replace() -> None:
    """EvccStatus.measured spells the constructor out for speed: it must keep every other field."""
    status = EvccStatus(
        "CurrentDemand", "din", b"\x01\x02", "C", True, 1.0, 2.0, "EVSE_Ready", 500.0, 200.0, 150000.0, 150.0,
        180.0, True, True, True, True, "why", True, True, True)
    assert len(EvccStatus.__dataclass_fields__) == 21  # a new field must be added to measured() too
    assert status.measured(390.5, 101.0, "EVSE_Shutdown", 99.0) == replace(
        status, present_voltage=390.5, present_current=101.0, evse_status="EVSE_Shutdown", evse_dynamic_current=99.0)


@pytest.mark.skipif(not compiled_origins(), reason="pure-Python build: nothing to compare")
def test_compiled_and_pure_sessions_are_byte_identical(tmp_path: Path) -> None:
    """The same session through the compiled modules and through the pure sources writes the
    same session log, CAN log and pcapng, byte for byte (mypyc must not change behaviour)."""
    pure = tmp_path / "pure-src"
    shutil.copytree(SRC, pure / "ccs2chademo", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    args = [sys.executable, "-m", "ccs2chademo", "simulate", "--soc-start", "20", "--soc-stop", "21", "--json"]
    fixed = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")  # the capture's start time, else the wall clock
    for name, env in (("compiled", fixed), ("pure", dict(fixed, PYTHONPATH=str(pure)))):
        subprocess.run([*args, "--out", str(tmp_path / name)], check=True, capture_output=True, env=env)
    for artefact in ("session.jsonl", "chademo.log", "ccs.pcapng"):
        assert (tmp_path / "compiled" / artefact).read_bytes() == (tmp_path / "pure" / artefact).read_bytes(), artefact
