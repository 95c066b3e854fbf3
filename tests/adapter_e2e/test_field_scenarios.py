"""Field scenarios (issue 14): every reported charger/car problem of the ccs32clara-chademo tracker
as a simulated session whose outcome is asserted (``sim/field.py``, ``docs/field-issues.md``), the
regressions of the fixes they turned up, and the ``scenario`` CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccs2chademo.adapter import bridge
from ccs2chademo.cli import cli
from ccs2chademo.sim.charger import PERSONALITIES
from ccs2chademo.sim.field import SCENARIOS, field_scenario, run_field
from ccs2chademo.v2g.messages import EvMessage, EvseMessage, Kind
from ccs2chademo.v2g.secc import Reply

from .test_cli import SUMMARY_KEYS


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_field_scenario(name: str) -> None:
    run = run_field(SCENARIOS[name])
    assert run.failures == [], f"{name}: expected {run.scenario.expected}"


def test_every_reported_thread_has_a_scenario_or_a_row() -> None:
    """The issue's list: each thread is a scenario, or a row of docs/field-issues.md saying why not."""
    listed = {7, 11, 13, 12, 17, 18, 20, 25, 33, 35, 42, 44, 46, 37, 50, 54, 55, 89, 91, 9, 43, 66}
    covered = {n for s in SCENARIOS.values() for n in s.threads}
    table = (Path(__file__).parents[2] / "docs" / "field-issues.md").read_text(encoding="utf-8")
    for n in listed:
        assert f"firmware#{n}" in table, f"firmware#{n} has no row"
    assert listed - covered <= {55}, f"no scenario for {sorted(listed - covered)}"


# -- the checks can fail ----------------------------------------------------------------------------
def test_the_plugit_personality_refuses_a_current_demand_without_the_limits() -> None:
    hook = PERSONALITIES["plugit-hube-s"].hook
    assert hook is not None
    ok = Reply(EvseMessage(Kind.CURRENT_DEMAND, response_code="OK"))
    bare = EvMessage(Kind.CURRENT_DEMAND, target_current=10.0, target_voltage=400.0)
    full = EvMessage(Kind.CURRENT_DEMAND, target_current=10.0, target_voltage=400.0, max_voltage=411.0,
                     max_current=200.0)
    assert hook(bare, ok).message is not None and hook(bare, ok).message.response_code == "FAILED"
    assert hook(full, ok) is ok


def test_a_scenario_whose_expectation_is_wrong_is_not_ok() -> None:
    """The fw25 checks on a session whose PowerDelivery did not fail."""
    wrong = replace(SCENARIOS["fw25-power-delivery-failed"], faults=())
    failures = run_field(wrong).failures
    assert any("no failed PowerDeliveryRes" in f for f in failures)
    assert any("result 'completed'" in f for f in failures)


# -- the fixes the scenarios turned up (docs/field-issues.md "fixes") -----------------------------------
#: undoing a fix means patching the bridge, which the compiled build does not allow (its classes are
#: native): these run on the pure sources (``make test-pure``, CCS2CHADEMO_PURE=1)
pure_only = pytest.mark.skipif(not bridge.__file__ or not bridge.__file__.endswith(".py"),
                               reason="patches the bridge: needs the pure-Python build")


@pure_only
def test_fw12_without_the_early_open_the_leaf_stores_a_trouble_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """At a charger whose output never falls, keeping the adapter contactor closed until the car's
    contactors open holds the inlet up through the Leaf's welding check: P101B (firmware#12)."""
    monkeypatch.setattr(bridge.Bridge, "_charger_output_up", lambda self: False)
    run = run_field(SCENARIOS["fw12-hyc150-leaf-dtc"])
    assert any("the car stored ['P101B']" in f for f in run.failures)


@pure_only
def test_fw12_the_early_open_waits_for_the_current(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening at k-off as soon as CCS reached WeldingDetection broke ≈19 A (the charger still ramps
    down): the early open waits ``CURRENT_DOWN_S``."""
    monkeypatch.setattr(bridge, "CURRENT_DOWN_S", 0.0)
    run = run_field(SCENARIOS["fw12-hyc150-leaf-dtc"])
    assert [v["invariant"] for v in run.summary.invariant_violations] == ["contactor-opened-under-load"]


@pytest.mark.parametrize("charger", ["alpitronic", "compleo", "tritium-rtm"])
def test_open_adapter_contactor_before_wd_waits_for_the_current(charger: str) -> None:
    """The option's early open had the same flaw (it opened at WeldingDetection): it now waits too."""
    option = replace(SCENARIOS["fw12-hyc150-leaf-dtc"], charger=charger,
                     values={"open-adapter-contactor-before-wd": True})
    run = run_field(option)
    assert run.failures == []
    assert next(r for r in run.kinds("contactor") if not r["closed"])["car_contactors_closed"] is True


# -- the CLI ----------------------------------------------------------------------------------------
def test_cli_scenario_list() -> None:
    result = CliRunner().invoke(cli, ["scenario", "list"])
    assert result.exit_code == 0, result.output
    for name in SCENARIOS:
        assert name in result.output
    assert "firmware#54" in result.output and "expected:" in result.output


def test_cli_scenario_run_json_and_outputs(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["scenario", "run", "fw25-power-delivery-failed", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert set(summary) == SUMMARY_KEYS | {"scenario", "expected", "ok", "failures"}
    assert summary["scenario"] == "fw25-power-delivery-failed" and summary["ok"] is True
    assert summary["expected"] == field_scenario("fw25-power-delivery-failed").expected
    assert summary["result"] == "safe-shutdown" and summary["failures"] == []
    assert {"session.jsonl", "ccs.pcapng", "chademo.log", "session.png"} <= {p.name for p in out.iterdir()}
    header = json.loads((out / "session.jsonl").read_text().splitlines()[0])
    assert header["kind"] == "session-log"


def test_cli_scenario_run_text_and_unknown_name() -> None:
    result = CliRunner().invoke(cli, ["scenario", "run", "fw37-lexus-ux300e"])
    assert result.exit_code == 0, result.output
    assert "fw37-lexus-ux300e: ok" in result.output
    result = CliRunner().invoke(cli, ["scenario", "run", "fw0-nothing"])
    assert result.exit_code != 0 and "unknown field scenario 'fw0-nothing'" in result.output


def test_cli_scenario_run_exit_status_when_not_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SCENARIOS, "fw25-power-delivery-failed",
                        replace(SCENARIOS["fw25-power-delivery-failed"], faults=()))
    result = CliRunner().invoke(cli, ["scenario", "run", "fw25-power-delivery-failed", "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.output)
    assert summary["ok"] is False and summary["failures"]
