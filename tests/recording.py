"""A session log for tests: keeps every record for assertions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ccs2chademo.runtime import SessionLog


class Recorder(SessionLog):
    """A session log that keeps every record (``t, source, kind, fields``) for assertions."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[float, str, str, dict[str, Any]]] = []

    def record(self, t: float, source: str, kind: str, fields: Mapping[str, Any] | None = None) -> None:
        self.records.append((t, source, kind, dict(fields or {})))

    def kinds(self, source: str, kind: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, f) for t, s, k, f in self.records if s == source and k == kind]

    def states(self, source: str) -> list[tuple[float, str]]:
        return [(t, str(f["state"])) for t, f in self.kinds(source, "state")]

    def entered(self, source: str, state: str) -> float:
        """Time ``source`` first entered ``state`` (fails the test if never)."""
        for t, s in self.states(source):
            if s == state:
                return t
        raise AssertionError(f"{source} never entered {state}: {self.states(source)}")
