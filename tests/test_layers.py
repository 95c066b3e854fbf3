"""The layer contract of pyproject.toml ``[tool.importlinter]`` (docs/architecture.md, "Layers").

import-linter reads the sources of the installed ``ccs2chademo`` (the one this test imports), so
a new import that reaches upwards — the product importing ``sim``, a protocol importing a driver
— fails ``make test`` with the offending import chain in the output.
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import ccs2chademo

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    contracts: list[dict[str, object]] = config["contracts"]
    return contracts


def test_every_import_keeps_the_layer_contracts(tmp_path: Path) -> None:
    # its own process (import-linter puts the working directory on sys.path), in an empty directory
    code = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(PYPROJECT)!r}, no_cache=True, no_logo=True))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_top_level_module_is_in_a_layer() -> None:
    """A new package or top-level module must be placed, or the contract would not cover it."""
    (layers,) = (c["layers"] for c in _contracts() if c["type"] == "layers")
    assert isinstance(layers, list)
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    present = {m.name for m in pkgutil.iter_modules(ccs2chademo.__path__) if "__mypyc" not in m.name}
    assert present - placed == set(), "add these to a layer in pyproject.toml [tool.importlinter]"
    assert placed - present == set(), "these layers name no module"
