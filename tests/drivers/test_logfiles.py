"""The rotated JSON-lines session log: bounded files, whole lines in each, newest first."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ccs2chademo.drivers.hardware_config import LoggingConfig
from ccs2chademo.drivers.logfiles import rotating_session_log, session_log_from_config
from ccs2chademo.runtime.logfile import HEADER_LINE
from ccs2chademo.runtime.sessionlog import LOGGER_NAME, SessionLog


def test_rotates_between_records_and_keeps_count_files(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "session.jsonl"  # the directory is created
    log = SessionLog()
    with rotating_session_log(path, max_bytes=2000, backup_count=3):
        for i in range(400):
            log.record(i * 0.1, "chademo", "field", {"name": "102.RequestCurrent", "old": i, "new": i + 1})
    files = sorted(tmp_path.joinpath("logs").iterdir())
    assert [f.name for f in files] == ["session.jsonl", "session.jsonl.1", "session.jsonl.2", "session.jsonl.3"]
    seen: list[int] = []
    for f in [*reversed(files[1:]), path]:  # oldest kept file first
        lines = f.read_text().splitlines()
        assert lines[0] == HEADER_LINE  # every file can be read on its own
        seen += [json.loads(line)["old"] for line in lines[1:]]
    assert all(f.stat().st_size <= 2000 for f in files)
    assert seen == list(range(seen[0], 400))  # contiguous, newest at the end, whole lines only
    assert seen[0] > 0  # the oldest records were rotated away


def test_the_handler_is_detached_afterwards(tmp_path: Path) -> None:
    session = logging.getLogger(LOGGER_NAME)
    before = list(session.handlers), session.level
    path = tmp_path / "s.jsonl"
    with rotating_session_log(path, 10_000, 2, level=logging.DEBUG):
        SessionLog().record(1.0, "slac", "tx", {"link": "plc", "data": b"\x01"})  # DEBUG kind
    SessionLog().record(2.0, "slac", "state", {"state": "Done"})
    assert (list(session.handlers), session.level) == before
    assert [json.loads(line)["kind"] for line in path.read_text().splitlines()] == ["session-log", "tx"]


def test_from_config(tmp_path: Path) -> None:
    with session_log_from_config(LoggingConfig()) as handler:
        assert handler is None
    cfg = LoggingConfig(session_log=tmp_path / "a.jsonl", rotate_bytes=65536, rotate_count=2)
    with session_log_from_config(cfg) as handler:
        assert handler is not None and handler.maxBytes == 65536 and handler.backupCount == 2
        SessionLog().record(0.5, "bridge", "state", {"state": "Precharge"})
    header, line = (tmp_path / "a.jsonl").read_text().splitlines()
    assert header == HEADER_LINE
    assert json.loads(line) == {"t": 0.5, "source": "bridge", "kind": "state", "state": "Precharge"}
