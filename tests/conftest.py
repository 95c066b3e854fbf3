"""Shared test helpers: where the read-only reference data lives; no stale compiled modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccs2chademo._build import compiled_origins

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
