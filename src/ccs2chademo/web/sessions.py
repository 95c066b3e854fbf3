"""Past sessions, read from the session logs on disk (the rotated ``run`` log, a simulation's
``session.jsonl``), and the files the page offers for download.

A session log file starts with the format header at every file open (``runtime/logfile.py``):
after a rollover inside a run the records go on with growing session time, while a new run
starts again near 0.  So the files are read oldest first (``session.jsonl.N`` … ``.1``, then
``session.jsonl``) and a header starts a new session only when the time goes back.

Bounded work: a line longer than :data:`MAX_LINE` is skipped (counted as bad), a file is read only
again when its size or mtime changed, and a plot keeps at most :data:`PLOT_POINTS` points.

Downloads are looked up by name in a table the server builds from the configuration
(:class:`FileTable`); a name from a request is never joined to a path, so ``../`` has nothing to
reach.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_LINE = 64 * 1024
#: The logs are read again at most this often (seconds).
REREAD_S = 2.0
PLOT_POINTS = 600
_HEADER = "session-log"


@dataclass
class Part:
    """A byte range of one log file that belongs to a session."""

    path: Path
    start: int
    end: int


@dataclass
class Session:
    id: str
    parts: list[Part] = field(default_factory=list)
    t_first: float | None = None
    t_last: float | None = None
    stop_reason: str | None = None
    soc_start: float | None = None
    soc_end: float | None = None
    energy_wh: float = 0.0
    records: int = 0
    bad_lines: int = 0
    ccs_states: list[str] = field(default_factory=list)
    downstream_states: list[str] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)
    _last_sample: tuple[float, float, float] | None = None

    def summary(self) -> dict[str, Any]:
        duration = None if self.t_first is None or self.t_last is None else round(self.t_last - self.t_first, 1)
        return {"id": self.id, "files": sorted({p.path.name for p in self.parts}), "duration_s": duration,
                "stop_reason": self.stop_reason, "soc_start": self.soc_start, "soc_end": self.soc_end,
                "energy_kwh": round(self.energy_wh / 1000.0, 3), "records": self.records, "bad_lines": self.bad_lines,
                "ccs_states": self.ccs_states, "downstream_states": self.downstream_states}

    def plot(self) -> list[dict[str, Any]]:
        step = max(1, -(-len(self.points) // PLOT_POINTS))
        return self.points[::step]

    def note(self, rec: dict[str, Any]) -> None:
        """Fold one record into the summary."""
        self.records += 1
        t = rec.get("t")
        if isinstance(t, int | float):
            self.t_first = t if self.t_first is None else self.t_first
            self.t_last = t
        kind = rec.get("kind")
        if kind == "sample":
            self._sample(rec)
        elif kind == "state" and rec.get("source") == "adapter":
            states = {"ccs": self.ccs_states, "chademo": self.downstream_states}.get(str(rec.get("part")))
            if states is not None and (not states or states[-1] != rec.get("state")) and len(states) < 64:
                states.append(str(rec.get("state")))
        elif kind in ("power-off-pending", "stop") and self.stop_reason is None and rec.get("cause"):
            self.stop_reason = str(rec["cause"])
        elif (kind == "battery-voltage" and isinstance(rec.get("volts"), int | float) and isinstance(t, int | float)
              and not any(p["soc"] is not None for p in self.points[-1:])):  # a run log has no samples
            self.points.append({"t": t, "voltage": rec["volts"], "current": None, "soc": None})

    def _sample(self, rec: dict[str, Any]) -> None:
        t, v, a, soc = rec.get("t"), rec.get("charger_v"), rec.get("current_a"), rec.get("soc")
        if not all(isinstance(x, int | float) for x in (t, v, a, soc)):
            return
        assert isinstance(t, int | float) and isinstance(v, int | float) and isinstance(a, int | float)
        assert isinstance(soc, int | float)
        self.soc_start = soc if self.soc_start is None else self.soc_start
        self.soc_end = soc
        if self._last_sample is not None:
            t0, v0, a0 = self._last_sample
            self.energy_wh += v0 * a0 * (t - t0) / 3600.0
        self._last_sample = (t, v, a)
        if len(self.points) >= 20 * PLOT_POINTS:
            self.points = self.points[::2]
        self.points.append({"t": t, "voltage": v, "current": a, "soc": soc})


def rotated(base: Path) -> list[Path]:
    """``base`` and its rotations, oldest first (``logging.handlers.RotatingFileHandler`` names)."""
    numbered = []
    for path in base.parent.glob(base.name + ".*"):
        suffix = path.name[len(base.name) + 1:]
        if suffix.isdigit():
            numbered.append((int(suffix), path))
    return [p for _, p in sorted(numbered, reverse=True)] + ([base] if base.exists() else [])


def _stat(path: Path) -> Any:
    try:
        return path.stat()
    except OSError:
        return None


class SessionIndex:
    """Sessions of a set of session-log bases, re-read when a file changes."""

    def __init__(self, bases: list[Path]) -> None:
        self.bases = bases
        self._key: tuple[Any, ...] | None = None
        self._read_at = 0.0
        self._sessions: list[Session] = []

    def sessions(self) -> list[Session]:
        now = time.monotonic()
        if self._key is not None and now - self._read_at < REREAD_S:
            return self._sessions  # a running adapter writes its log all the time
        self._read_at = now
        files = [p for base in self.bases for p in rotated(base)]
        key = tuple((str(p), st.st_size, st.st_mtime_ns) for p in files if (st := _stat(p)) is not None)
        if key != self._key:
            sessions = [s for base in self.bases for s in _read_sessions(rotated(base))]
            seen: dict[str, int] = {}
            for s in sessions:  # two runs of a deterministic simulation start alike
                seen[s.id] = seen.get(s.id, 0) + 1
                if seen[s.id] > 1:
                    s.id = f"{s.id}-{seen[s.id]}"
            self._sessions, self._key = sessions, key
        return self._sessions


def _read_sessions(files: list[Path]) -> list[Session]:
    reader = _Reader()
    for path in files:
        try:
            fh = path.open("rb")
        except OSError:
            continue
        with fh:
            offset = 0
            for raw in iter(functools.partial(fh.readline, MAX_LINE + 1), b""):
                start, offset = offset, offset + len(raw)
                if len(raw) > MAX_LINE:
                    while raw and not raw.endswith(b"\n"):  # the rest of an overlong line
                        raw = fh.readline(MAX_LINE + 1)
                        offset += len(raw)
                    reader.bad()
                    continue
                reader.line(path, start, offset, raw)
    return reader.sessions


class _Reader:
    """Splits records into sessions (see the module doc)."""

    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self.current: Session | None = None
        self.header: tuple[Path, int] | None = None  # a header seen, its session not yet known
        self.digest: Any = None

    def bad(self) -> None:
        if self.current is not None:
            self.current.bad_lines += 1

    def line(self, path: Path, start: int, end: int, raw: bytes) -> None:
        try:
            rec = json.loads(raw)
        except ValueError:
            self.bad()
            return
        if not isinstance(rec, dict):
            self.bad()
            return
        if rec.get("kind") == _HEADER:
            self.header = (path, start)
            return
        t = rec.get("t")
        current = self.current
        restarted = (self.header is not None and current is not None and isinstance(t, int | float)
                     and current.t_last is not None and t < current.t_last)
        if current is None or restarted:
            current = self.current = Session("")
            self.sessions.append(current)
            self.digest = hashlib.sha1()
        if self.header is not None:  # the header line belongs to the session it opens or continues
            current.parts.append(Part(self.header[0], self.header[1], self.header[1]))
            self.header = None
        if not current.parts or current.parts[-1].path != path:
            current.parts.append(Part(path, start, start))
        current.parts[-1].end = end
        if current.records < 8:  # the id: the session's first records, stable across rotations
            self.digest.update(raw)
            current.id = self.digest.hexdigest()[:12]
        current.note(rec)


def _kind(name: str) -> str:
    if ".jsonl" in name:
        return "session log"
    if name.endswith(".pcapng"):
        return "pcapng"
    return "CAN log"


class FileTable:
    """The log files offered for download: each configured base path with its rotations, by name.

    Only regular files (not symlinks) that sit beside a configured base and carry its name are
    listed; a request names a file of this table, and :meth:`path` answers only for those."""

    def __init__(self, bases: list[Path]) -> None:
        self.bases = bases

    def files(self) -> dict[str, Path]:
        table: dict[str, Path] = {}
        for base in self.bases:
            stem, suffix = base.name.split(".")[0], "".join(base.suffixes)
            try:
                candidates = sorted(base.parent.iterdir())
            except OSError:
                continue
            for path in candidates:
                name = path.name
                ours = (name == base.name or (name.startswith(base.name + ".") and name[len(base.name) + 1:].isdigit())
                        or (name.startswith(stem + ".") and name.endswith(suffix) and name[len(stem) + 1:-len(suffix)]
                            .isdigit())
                        or (name.startswith(stem + "_") and name.endswith(suffix) and "_#" in name))
                if ours and path.is_file() and not path.is_symlink():
                    table.setdefault(name, path)
        return table

    def listing(self) -> list[dict[str, Any]]:
        out = []
        for name, path in self.files().items():
            try:
                size = path.stat().st_size
            except OSError:
                continue
            out.append({"name": name, "kind": _kind(name), "size": size})
        return out

    def path(self, name: str) -> Path | None:
        return self.files().get(name)
