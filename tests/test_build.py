"""The installation runs the compiled modules the build lists (unless built pure on purpose)."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from ccs2chademo._build import COMPILED_MODULES, compiled_origins, module_name
from ccs2chademo.v2g.evcc import EvccStatus


@pytest.mark.skipif(bool(os.environ.get("CCS2CHADEMO_PURE")), reason="built pure Python (CCS2CHADEMO_PURE)")
def test_every_listed_module_is_compiled() -> None:
    assert set(compiled_origins()) == {module_name(m) for m in COMPILED_MODULES}


def test_measured_status_equals_a_replace() -> None:
    """EvccStatus.measured spells the constructor out for speed: it must keep every other field."""
    status = EvccStatus(
        "CurrentDemand", "din", b"\x01\x02", "C", True, 1.0, 2.0, "EVSE_Ready", 500.0, 200.0, 150000.0, 150.0,
        180.0, True, True, True, True, "why", True, True)
    assert len(EvccStatus.__dataclass_fields__) == 20  # a new field must be added to measured() too
    assert status.measured(390.5, 101.0, "EVSE_Shutdown", 99.0) == replace(
        status, present_voltage=390.5, present_current=101.0, evse_status="EVSE_Shutdown", evse_dynamic_current=99.0)
