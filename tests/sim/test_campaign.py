"""The reliability campaign (issue 15): the smoke preset passes (part of ``make test``), the
judgement can fail, a matrix file is read strictly, failing scenarios keep their artefacts, and a
Dask cluster gives the same outcomes as the process pool for the same seeds."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccs2chademo.cli import cli
from ccs2chademo.commands.campaign import keep_artefacts
from ccs2chademo.sim.campaign import report
from ccs2chademo.sim.campaign.dimensions import DIMENSIONS, generate
from ccs2chademo.sim.campaign.expected import BATTERY_FULL, CCS_STOP, expected
from ccs2chademo.sim.campaign.matrix import FULL, SMOKE, Matrix, MatrixError, load_matrix
from ccs2chademo.sim.campaign.runner import run_local
from ccs2chademo.sim.campaign.spec import OK, UNEXPECTED_END, UNSAFE, End, Expected, ScenarioSpec, judge
from ccs2chademo.sim.invariants import CONTACTOR_OPENED_UNDER_LOAD, SESSION_END_STATE

#: A few random fault schedules (most end the session early) for the cluster test.
TINY = Matrix(cars=("leaf-ze1-40", "imiev"), chargers=("alpitronic", "abb"), modes=("chademo",),
              soc_windows=((50.0, 51),), random=10, random_first=100, dimensions=("random",))


def test_the_smoke_preset_passes(tmp_path: Path) -> None:
    """≥ 300 scenarios, every one ok; the ``--json`` line is the last and has exactly the
    contract's fields; the report is written."""
    result = CliRunner().invoke(cli, ["campaign", "--preset", "smoke", "--workers", "2", "--out", str(tmp_path),
                                      "--json"])
    failures = []
    if (tmp_path / "report.json").exists():
        failures = [f"{f['verdict']}: {f['why']}\n  {f['command']}"
                    for f in json.loads((tmp_path / "report.json").read_text())["failures"]]
    assert result.exit_code == 0, "\n".join(failures) or result.output
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(line) == ["scenarios", "ok", "unsafe", "violations", "unexpected_end", "wall_s", "workers"]
    assert line["scenarios"] >= 300 and line["ok"] == line["scenarios"] and line["workers"] == 2
    assert (tmp_path / "report.html").read_text().count("<h2>") == len(DIMENSIONS) - 1 + 1  # no clara, failures
    assert len((tmp_path / "outcomes.jsonl").read_text().splitlines()) == line["scenarios"]


def test_the_presets_have_their_sizes() -> None:
    assert len(generate(SMOKE)) >= 300
    specs = generate(FULL)
    assert len(specs) >= 10_000 and len({s.id for s in specs}) == len(specs)
    assert {s.dimension for s in specs} == set(DIMENSIONS)


def test_the_judgement_can_fail() -> None:
    exp = Expected((BATTERY_FULL,))
    assert judge("a", exp, "completed", "ccs: battery-full:CurrentDemand", [], 60.0, 0.1).verdict == OK
    unsafe = judge("b", exp, "completed", "ccs: battery-full:CurrentDemand",
                   [(CONTACTOR_OPENED_UNDER_LOAD, f"{CONTACTOR_OPENED_UNDER_LOAD}: 80 A")], 60.0, 0.1)
    assert unsafe.verdict == UNSAFE and unsafe.unexpected_violations == 1
    assert judge("c", exp, "safe-shutdown", "ccs: failed:CableCheck", [], 20.0, 0.1).verdict == UNEXPECTED_END
    assert judge("d", exp, "incomplete", None, [], 1800.0, 0.1).verdict == UNEXPECTED_END
    weld = Expected((BATTERY_FULL,), frozenset({SESSION_END_STATE}))
    missed = judge("e", weld, "completed", "ccs: battery-full:CurrentDemand", [], 60.0, 0.1)
    assert missed.verdict == UNEXPECTED_END and SESSION_END_STATE in missed.why


def test_expected_ends_add_the_faults_to_the_pairing() -> None:
    exp = expected("kia-soul", "tesla-v2", 50.0, ("tcp-loss@CableCheck+0.5",))
    assert exp.ends[0] == End(("completed", "safe-shutdown"), "chademo: 0x800 (BATTERY_INCOMPATIBLE)")
    assert CCS_STOP in exp.ends
    with pytest.raises(ValueError, match="no expected end"):
        expected("leaf-ze1-40", "alpitronic", 50.0, ("no-such-fault",))


def test_a_matrix_file_is_read_strictly(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('cars = ["imiev"]\nchargers = ["abb"]\nmodes = ["chademo"]\nsoc_windows = [[40, 41]]\n'
                    'seeds = [3, 4]\ndimensions = ["pairings"]\n')
    specs = generate(load_matrix(path))
    assert [(s.car, s.charger, s.soc_start, s.soc_stop, s.seed) for s in specs] == [
        ("imiev", "abb", 40.0, 41, 3), ("imiev", "abb", 40.0, 41, 4)]
    assert specs[0].command() == ("ccs2chademo simulate --car imiev --charger abb --soc-start 40 --soc-stop 41 "
                                  "--seed 3 --json")
    for text, message in (('carz = ["imiev"]\n', "unknown key"), ('cars = ["beetle"]\n', "unknown car"),
                          ("soc_windows = [[60, 50]]\n", "SoC window"), ("cars = [\n", "m.toml")):
        path.write_text(text)
        with pytest.raises(MatrixError, match=message):
            load_matrix(path)


def test_a_failing_scenario_keeps_its_artefacts_and_command(tmp_path: Path) -> None:
    """A scenario judged against an end it cannot reach: the report links its rerun's session
    log, pcapng, CAN log and plot, and prints the command that reproduces it."""
    spec = ScenarioSpec("x-00001", "x", "stop-button", "wait_car_ready", "leaf-ze1-40", "alpitronic", 50.0, 51,
                        Expected((End(("forced-off",)),)), ("stop-button@wait_car_ready+0",))
    outcomes = run_local([spec], 1)
    assert outcomes[0].verdict == UNEXPECTED_END and outcomes[0].stop_reason == "button"
    artefacts = keep_artefacts([spec], outcomes, tmp_path, 1)
    assert artefacts == {"x-00001": {"folder": "failures/x-00001", "reproduced": True}}
    for name in report.ARTEFACTS:
        assert (tmp_path / "failures" / "x-00001" / name).stat().st_size > 0, name
    report.write(tmp_path, [spec], outcomes, report.summary(outcomes, 1.0, 1), artefacts, "t")
    page = (tmp_path / "report.html").read_text()
    assert "href='#x-00001'" not in page and 'href="#x-00001"' in page  # the failing cell links to it
    assert "failures/x-00001/session.png" in page and spec.command() in page
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["failures"][0]["command"] == spec.command()
    assert data["dimensions"]["x"]["cells"]["stop-button"]["wait_car_ready"]["failures"] == ["x-00001"]


def test_a_dask_cluster_gives_the_process_pools_outcomes() -> None:
    distributed = pytest.importorskip("distributed", reason="the [cluster] extra (dask[distributed]) is not installed")
    specs = generate(TINY)
    assert len(specs) == 10
    local = run_local(specs, 2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        from ccs2chademo.sim.campaign.runner import run_dask

        on_dask, workers = run_dask(specs, cluster.scheduler_address)
    assert workers == 2
    assert [o.comparable() for o in on_dask] == [o.comparable() for o in local]


def test_an_interrupted_campaign_reports_what_ran(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text('cars = ["leaf-ze1-40", "imiev"]\nmodes = ["chademo"]\n'
                                     'soc_windows = [[50, 51]]\nseeds = [0]\ndimensions = ["pairings"]\n')
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "ccs2chademo", "campaign", "--matrix", str(tmp_path / "m.toml"),
                             "--workers", "1", "--out", str(out), "--json"], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        lines = (out / "outcomes.jsonl").read_text() if (out / "outcomes.jsonl").exists() else ""
        if lines.count("\n") >= 2:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    stdout, _ = proc.communicate(timeout=120)
    line = json.loads(stdout.strip().splitlines()[-1])
    assert 2 <= line["scenarios"] < 14 and line["ok"] == line["scenarios"]
    assert len(json.loads((out / "report.json").read_text())["outcomes"]) == line["scenarios"]
