"""tools/equivalence.py compare: two recordings of the same behaviour pass, one changed byte fails
(synthetic recordings, no simulation)."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ccs2chademo.drivers.pcapng import PcapngWriter
from ccs2chademo.runtime.logkinds import header_record

ROOT = Path(__file__).resolve().parent.parent


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location("equivalence", ROOT / "tools" / "equivalence.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _record(root: Path, wall_s: float) -> Path:
    """A recording of two runs, as ``record`` lays it out."""
    for run in ("default", "kia-soul@abb"):
        out = root / run
        out.mkdir(parents=True)
        summary = {"result": "completed", "soc_end": 21.0, "wall_s": wall_s, "ccs_states": ["slac", "End"]}
        (out / "summary.json").write_text(json.dumps(summary) + "\n")
        records = [header_record(), {"t": 0.1, "source": "adapter", "kind": "state", "state": "running"}]
        (out / "session.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        pcap = io.BytesIO()
        PcapngWriter(pcap).write(0.5, bytes(range(60)))
        (out / "ccs.pcapng").write_bytes(pcap.getvalue())
        (out / "chademo.log").write_text("(0.260200) can0 100#06000000B301F000 R\n"
                                         "(0.270200) can0 101#0000000000F40100 R\n")
    return root


def test_same_behaviour_is_equivalent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _record(tmp_path / "old", 1.5), _record(tmp_path / "new", 2.5)  # wall time is not behaviour
    assert _tool().main(["compare", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "2 compared" in out and "EQUIVALENT" in out and "NOT" not in out


def test_one_changed_byte_in_the_can_log_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _record(tmp_path / "old", 1.5), _record(tmp_path / "new", 1.5)
    log = new / "kia-soul@abb" / "chademo.log"
    log.write_bytes(log.read_bytes().replace(b"F40100", b"F40101"))
    assert _tool().main(["compare", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "identical CAN (chademo.log)" in out and "1/2  DIFFERENT" in out
    assert "kia-soul@abb" in out and "first difference at line 2" in out and "NOT EQUIVALENT" in out
