from __future__ import annotations

import io
import json
import logging

from ccs2chademo.runtime import SessionLog
from ccs2chademo.runtime.sessionlog import capture


def test_json_lines_and_console_formats() -> None:
    log = SessionLog()
    out = io.StringIO()
    with capture(out):
        log.record(1.2345678, "chademo", "state", {"state": "WaitForCarReady", "raw": b"\x01\x02"})
        log.record(2.0, "ccs", "tx", {"data": b"\x80"})  # DEBUG: filtered at INFO
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {"t": 1.234568, "source": "chademo", "kind": "state",
                                    "state": "WaitForCarReady", "raw": "0102"}
    out = io.StringIO()
    with capture(out, console=True, level=logging.DEBUG):
        log.record(2.0, "ccs", "tx", {"data": b"\x80"})
    assert out.getvalue().strip() == "[    2.000] ccs          tx       data=80"
