"""The committed generated modules are exactly what tools/gen_exi.py produces from the XSDs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import shared_data

from .grammar_model import gen

OUT = Path(__file__).resolve().parents[2] / "src" / "ccs2chademo" / "exi"


@pytest.mark.parametrize("schema", list(gen().SCHEMAS))
def test_regenerating_gives_identical_files(schema: str) -> None:
    text = gen().Emitter(gen().load_model(schema, shared_data("xsd"))).emit()
    name = gen().module_name(schema)
    assert (OUT / f"{name}.py").read_text() == text, f"run: python tools/gen_exi.py ({name}.py is stale)"


@pytest.mark.parametrize("schema", list(gen().NATIVE))
def test_regenerating_gives_identical_native_twins(schema: str) -> None:
    text = gen().Emitter(gen().load_model(schema, shared_data("xsd")), native=True).emit()
    name = gen().module_name(schema)
    stale = f"run: python tools/gen_exi.py (native/{name}.py is stale)"
    assert (OUT / "native" / f"{name}.py").read_text() == text, stale


@pytest.mark.parametrize("schema", list(gen().NATIVE))
def test_regenerating_gives_identical_data_modules(schema: str) -> None:
    """The enumerations and tables that a schema's pure module and its twin share."""
    pure = gen().Emitter(gen().load_model(schema, shared_data("xsd")))
    pure.emit()
    name = gen().module_name(schema)
    assert (OUT / f"{name}_data.py").read_text() == pure.emit_data(), \
        f"run: python tools/gen_exi.py ({name}_data.py is stale)"


def test_the_package_knows_the_twins_the_generator_writes() -> None:
    from ccs2chademo import exi

    assert exi.NATIVE_SCHEMAS == gen().NATIVE

