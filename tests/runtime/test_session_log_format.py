"""The session log is a public format (docs/session-log.md): every kind registered, the shipped
JSON Schema and the doc generated from the registry, every record of a representative set of
simulated sessions valid, and the header first in every session log file."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
from collections.abc import Callable, Iterable
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from ccs2chademo.adapter.config import build_config
from ccs2chademo.cli import cli
from ccs2chademo.runtime import VirtualRuntime, logkinds
from ccs2chademo.runtime.logfile import HEADER_LINE
from ccs2chademo.runtime.sessionlog import capture
from ccs2chademo.sim.chademo_world import ChademoWorld
from ccs2chademo.sim.ev_session import build_session
from ccs2chademo.sim.faults import Fault
from ccs2chademo.sim.profiles import load_profile
from ccs2chademo.sim.world import Scenario, World
from ccs2chademo.v2g.messages import Schema

ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((files("ccs2chademo.runtime") / "session-log.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def problems(records: Iterable[dict[str, Any]]) -> list[str]:
    """Every distinct record shape (kind, source, field names and JSON types) checked against the
    schema and the registry; the schema constrains nothing but those, so one record per shape is
    enough."""
    validator = _validator()
    seen: set[tuple[Any, ...]] = set()
    out: list[str] = []
    for record in records:
        types = tuple(sorted((k, type(v).__name__) for k, v in record.items()))
        shape = (record.get("kind"), record.get("source"), types)
        if shape in seen:
            continue
        seen.add(shape)
        if record.get("kind") not in logkinds.BY_NAME:
            out.append(f"unregistered kind {record.get('kind')!r}: {record}")
            continue
        out += [f"{record['kind']} from {record.get('source')}: {e.message}: {record}"
                for e in validator.iter_errors(record)]
    return out


# -------------------------------------------------------------------------- the registry and its files
def test_the_registry_is_consistent() -> None:
    assert logkinds.check() == []


def test_the_shipped_schema_and_the_doc_are_generated_from_the_registry() -> None:
    gen = _tool("gen_session_log")
    for path, text in gen.expected().items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is out of date: run tools/gen_session_log.py"


def test_the_doc_lists_every_kind_and_every_rename() -> None:
    doc = (ROOT / "docs" / "session-log.md").read_text(encoding="utf-8")
    for kind in logkinds.KINDS:
        assert f"#### `{kind.name}`" in doc
        for fld in kind.fields:
            assert f"| `{fld.name}` |" in doc
    for rename in logkinds.RENAMES:
        assert f"| `{rename.old}` | `{rename.new}` |" in doc


def test_the_renamed_kinds_are_no_longer_emitted() -> None:
    """The old names appear nowhere in the sources as a logged kind."""
    src = ROOT / "src" / "ccs2chademo"
    text = "\n".join(p.read_text(encoding="utf-8") for p in src.rglob("*.py") if p.name != "logkinds.py")
    for rename in logkinds.RENAMES:
        assert f'_log("{rename.old}"' not in text and f'Log("{rename.old}"' not in text, rename.old


def test_the_check_fails_on_what_it_should() -> None:
    """The validation used below can fail: unknown kinds, old names, missing or unknown fields, types."""
    good = {"t": 1.0, "source": "car", "kind": "car-stop", "reason": "driver stop", "request": 10}
    assert problems([good, logkinds.header_record(), {"t": None, "source": "x", "kind": "log", "message": "hi"}]) == []
    bad = [
        {**good, "kind": "car_stop"},
        {**good, "kind": "nonsense"},
        {k: v for k, v in good.items() if k != "reason"},
        {**good, "extra": 1},
        {**good, "request": "ten"},
        {**good, "t": None},
        {k: v for k, v in good.items() if k != "source"},
    ]
    assert len(problems(bad)) == len(bad)


# -------------------------------------------------------------------------- every record of the scenarios
def _adapter(car: str = "leaf-ze1-40", charger: str = "alpitronic", preset: str | None = None,
             faults: tuple[str, ...] = (), soc: float = 20.0, stop: int | None = None,
             values: dict[str, Any] | None = None) -> Callable[[], None]:
    def go() -> None:
        scenario = Scenario(car=car, charger=charger, soc_start=soc,
                            soc_stop=stop if stop is not None else int(soc) + 1,
                            config=build_config(values or {}, preset), faults=faults, limit_s=1800.0)
        World(scenario).run()
    return go


def _ccs(charger: str = "alpitronic", schema: str = "din", fault: str | None = None) -> Callable[[], None]:
    def go() -> None:
        build_session(charger, Schema(schema), Fault.parse(fault) if fault else None, 0.05, 0).run(603.0)
    return go


def _chademo_only(car: str) -> Callable[[], None]:
    def go() -> None:
        world = ChademoWorld(VirtualRuntime(seed=0), load_profile(car))
        world.start()
        world.run(600.0)
    return go


#: name → (run, log level); the adapter worlds at DEBUG for a few (frames), INFO otherwise.
SCENARIOS: dict[str, tuple[Callable[[], None], int]] = {
    "default": (_adapter(), logging.DEBUG),
    "kia-soul-underdeliver": (_adapter(car="kia-soul", charger="underdeliver"), logging.INFO),
    "stale-voltage": (_adapter(charger="stale-voltage"), logging.INFO),
    "leaf-ze0-24-tesla-v2": (_adapter(car="leaf-ze0-24", charger="tesla-v2", preset="av1"), logging.INFO),
    "lexus-compleo": (_adapter(car="lexus-ux300e", charger="compleo", preset="sx"), logging.INFO),
    "jdemo-tesla-sc": (_adapter(car="jdemo", charger="tesla-sc", preset="jdemo"), logging.INFO),
    "imiev-abb": (_adapter(car="imiev", charger="abb"), logging.INFO),
    "v2x-sigenstor": (_adapter(charger="sigenstor", preset="v2x", soc=11.0), logging.DEBUG),
    "v2x-ao": (_adapter(preset="v2x-ao"), logging.INFO),
    "tcp-loss": (_adapter(faults=("tcp-loss@CurrentDemand+10",), stop=25), logging.DEBUG),
    "stop-button": (_adapter(faults=("stop-button@CurrentDemand+5",), stop=25), logging.INFO),
    "long-press": (_adapter(faults=("long-press@CurrentDemand+5",), values={"forced-off-hold-s": 2}, stop=25),
                   logging.INFO),
    "car-stop": (_adapter(faults=("car-stop@CurrentDemand+5",), stop=25), logging.INFO),
    "evse-shutdown": (_adapter(faults=("failed@ServiceDiscovery", "evse-shutdown@CurrentDemand"), stop=25),
                      logging.INFO),
    "weld": (_adapter(faults=("weld",)), logging.INFO),
    "weak-d2": (_adapter(car="imiev", faults=("weak-d2",)), logging.INFO),
    "session-setup-faults": (_adapter(faults=("failed@SessionSetup", "timeout@SessionSetup")), logging.INFO),
    "emergency-shutdown": (_adapter(faults=("emergency-shutdown@CurrentDemand",), stop=22), logging.INFO),
    "ccs-sim-din": (_ccs(), logging.DEBUG),
    "ccs-sim-iso2": (_ccs("abb", "iso2"), logging.DEBUG),
    "ccs-sim-timeout": (_ccs("compleo", fault="timeout@CableCheck"), logging.DEBUG),
    "ccs-sim-malfunction": (_ccs("tesla-sc", fault="malfunction"), logging.DEBUG),
    "chademo-only": (_chademo_only("kia-soul"), logging.INFO),
}


def _records(name: str) -> list[dict[str, Any]]:
    run, level = SCENARIOS[name]
    stream = io.StringIO()
    with capture(stream=stream, level=level):
        run()
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_record_of_the_scenarios_is_registered_and_valid(name: str) -> None:
    records = _records(name)
    assert records, "the scenario logged nothing"
    assert problems(records) == []


def test_the_scenarios_cover_the_log() -> None:
    """The scenarios reach the kinds that matter (so the test above checks what it says)."""
    kinds = {r["kind"] for name in ("default", "v2x-sigenstor", "tcp-loss") for r in _records(name)}
    assert {"tx", "rx", "state", "sample", "fault", "output", "v2x-discharging", "car-stop", "slac-ok",
            "response", "stop", "power-off"} <= kinds


# -------------------------------------------------------------------------- the header in every file
def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_simulate_and_ccs_sim_files_start_with_the_header_and_are_valid(tmp_path: Path) -> None:
    runner = CliRunner()
    sim = runner.invoke(cli, ["simulate", "--soc-start", "20", "--soc-stop", "21", "--out", str(tmp_path / "a")])
    assert sim.exit_code == 0, sim.output
    ccs = runner.invoke(cli, ["ccs-sim", "--minutes", "0.05", "--out", str(tmp_path / "b")])
    assert ccs.exit_code == 0, ccs.output
    for path in (tmp_path / "a" / "session.jsonl", tmp_path / "b" / "session.jsonl"):
        assert path.read_text(encoding="utf-8").splitlines()[0] == HEADER_LINE
        records = _lines(path)
        assert [r for r in records if r["kind"] == "session-log"] == [logkinds.header_record()]
        assert problems(records) == []
    plot = runner.invoke(cli, ["plot", str(tmp_path / "a" / "session.jsonl"), "-o", str(tmp_path / "a.png")])
    assert plot.exit_code == 0, plot.output


def test_the_header_is_versioned() -> None:
    assert json.loads(HEADER_LINE) == {"t": 0, "source": "ccs2chademo", "kind": "session-log",
                                       "format": "ccs2chademo-session-log", "version": logkinds.FORMAT_VERSION}


# -------------------------------------------------------------------------- tools/logdiff.py
def test_logdiff_accepts_exactly_the_renames_and_the_header() -> None:
    logdiff = _tool("logdiff")
    records = _records("v2x-sigenstor")
    new = [logkinds.header_record(), *[r for i, r in enumerate(records) if i < 500 or r["kind"] not in ("tx", "rx")],
           {"t": 5.0, "source": "adapter", "kind": "input-rejected", "part": "power", "name": "x",
            "reason": "unknown input"},
           {"t": 5.5, "source": "adapter", "kind": "input-rejected", "part": "power", "name": "vcc4",
            "reason": "invalid value", "value": "'a'"}]
    back = {r.new: r.old for r in logkinds.RENAMES if not r.adds}
    old = [{**r, "kind": back.get(r["kind"], r["kind"])} for r in new[1:-2]]
    old += [{"t": 5.0, "source": "adapter", "kind": "input-unknown", "part": "power", "name": "x"},
            {"t": 5.5, "source": "adapter", "kind": "input-invalid", "part": "power", "name": "vcc4", "value": "'a'"}]
    assert old != new[1:], "the scenario logs renamed kinds"
    same, report = logdiff.compare(old, new)
    assert same, "\n".join(report)
    assert any(line.startswith("renamed: v2x_discharging → v2x-discharging") for line in report)
    changed = [dict(r) for r in old]
    changed[100] = {**changed[100], "t": changed[100]["t"] + 1e-6}
    assert not logdiff.compare(changed, new)[0]
    assert not logdiff.compare(old[:-1], new)[0]
    assert not logdiff.compare(old, [{**r, "kind": back.get(r["kind"], r["kind"])} for r in new])[0]  # unrenamed
