"""Shared test helpers: where the read-only reference data lives; no stale compiled modules."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from ccs2chademo._build import compiled_origins

# Hypothesis' default 200 ms deadline per example measures the machine, not the code: on the
# 2-core CI box beside `-n 2` workers and real-time veth tests a cheap example sometimes takes
# longer, and the test failed with DeadlineExceeded although nothing was wrong.  Speed has its
# benchmarks (bench/); the examples run without a per-example deadline.
settings.register_profile("ccs2chademo", deadline=None)
settings.load_profile("ccs2chademo")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """Path into ``../shared/data``; fails clearly when the reference data is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"reference data missing: {path} (the repo expects ../shared/data beside it)")
    return path


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to test extensions built from older sources (an editable install compiles in place).

    The per-module extensions are shims; the code lives in one shared ``*__mypyc`` library, so
    that is the build time that counts."""
    origins = compiled_origins()
    libraries = [p.stat().st_mtime for so in origins.values() for p in so.parents[0].glob("*__mypyc*.so")]
    libraries += [p.stat().st_mtime for p in (REPO / "src").glob("*__mypyc*.so")]
    built = max(libraries, default=0.0)
    stale = [name for name in origins
             if (REPO / "src" / Path(*name.split("."))).with_suffix(".py").stat().st_mtime > built]
    if stale:
        raise pytest.UsageError(f"compiled modules older than their sources: {', '.join(stale)} — "
                                "run `make test` (it rebuilds them)")


class _RefusedTransitions(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


@pytest.fixture(autouse=True)
def no_refused_transitions(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every machine moves only along its successor table (docs/machines.md): a refused
    transition anywhere in a test is a bug in the table or the machine, and fails the test.
    Tests that provoke one on purpose carry ``@pytest.mark.refused_transitions``."""
    handler = _RefusedTransitions()
    machine_log = logging.getLogger("ccs2chademo.runtime.machine")
    machine_log.addHandler(handler)
    try:
        yield
    finally:
        machine_log.removeHandler(handler)
    if handler.seen and request.node.get_closest_marker("refused_transitions") is None:
        pytest.fail("refused state transitions: " + "; ".join(handler.seen[:5]))
