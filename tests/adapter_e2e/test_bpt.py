"""ISO 15118-20 bidirectional DC end to end (docs/iso20.md "BPT"): the adapter in V2X mode at the
``bidi-wallbox`` selects DC_BPT for a discharge-compatible Leaf, the wallbox discharges it, and
the discharge reaches the car through the adapter's existing V2X mapping (0x109.4, 0x208/0x209,
the keep-alive, |current| ≤ 5 A before any contactor opens, the car's floor ending the session)
— with every safety invariant holding, also when the charger, the link or the button fails.

Sessions start near the car's floor (or stop early by the driver at a high SoC) to stay short."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccs2chademo.chademo.frames import ChargerStatus
from ccs2chademo.cli import cli

from .helpers import kinds, run, violations
from .test_v2x import V2xRun, cli_discharge

WALLBOX_W = 11_000.0
WALLBOX_A = 40.0
#: the -20 BPT session's states as ``ccs_states`` names them
BPT_STATES = ["ServiceDiscovery", "ServiceDetail", "ServiceSelection", "DC_ChargeParameterDiscovery",
              "ScheduleExchange", "DC_CableCheck", "DC_PreCharge", "DC_ChargeLoop", "DC_WeldingDetection", "End"]
ZE0 = {"v2x": True, "alt-estimated-voltage": 1}  # the ZE0 needs AV1 (adapter.md §5.1)


def bpt_run(car: str, soc: float, mode: str = "scheduled", faults: tuple[str, ...] = ()) -> V2xRun:
    values = dict(ZE0) if car == "leaf-ze0-24" else {}
    values["ccs"] = {"iso20-control-mode": mode}
    return V2xRun(car, soc, values=values, preset=None if car == "leaf-ze0-24" else "v2x", faults=faults,
                  charger="bidi-wallbox")


def assert_safe_discharge(run: V2xRun) -> None:
    """The invariants held, the session ended with the adapter off, and no contactor opened above 5 A."""
    world, summary = run.world, run.summary
    assert violations(summary) == []
    assert world.finished_at is not None and not world.hw.powered
    assert not world.hw.contactor.closed and world.bridge.ccs_status.cp == "B"
    for index in (2, 3):  # the adapter contactor, the car's
        opened = [abs(before[1]) for before, after in itertools.pairwise(run.steps)
                  if before[index] and not after[index]]
        assert all(amps <= 5.0 for amps in opened), opened


# the discharge-compatible profiles (sim/profiles: leaf-ze1-40 declares no 0x200 maximum, the ZE0 15 A),
# near their floors (ZE1 10 %, ZE0 6.7 kWh of 21) in both control modes
@pytest.mark.parametrize("mode", ["scheduled", "dynamic"])
@pytest.mark.parametrize(("car", "soc", "car_limit"), [("leaf-ze1-40", 10.6, None), ("leaf-ze0-24", 32.5, 15.0)],
                         ids=["ze1", "ze0"])
def test_a_bpt_discharge_to_the_car_floor(car: str, soc: float, car_limit: float | None, mode: str) -> None:
    run = bpt_run(car, soc, mode)
    world, summary = run.world, run.summary
    assert_safe_discharge(run)
    assert summary.result == "completed" and "K_OFF" in (summary.stop_reason or "")
    assert world.car.stop_reason == "discharge floor"
    assert summary.soc_end == pytest.approx(world.car.discharge_floor_soc, abs=0.05)
    assert summary.energy_kwh < -0.1
    assert [s for s in summary.ccs_states if s in BPT_STATES] == BPT_STATES
    selected = kinds(run.records, "service-selected")
    assert [(r["service"], r["control_mode"]) for r in selected] == [(6, mode)]
    # the discharge reached the CHAdeMO side: the adapter's V2X "discharging" state, 0x109.4 throughout
    on, stop = run.discharge_window()
    assert all(f.data[4] & 1 for _, f in run.charger_frames(on, stop) if f.arbitration_id == 0x109)
    during = [s for s in world.samples if on + 2.0 < s.t < stop]
    assert during
    for s in during:  # within the car's 0x200 maximum (ZE1: the 40 A fallback) and the wallbox's 11 kW
        limit = min(car_limit or WALLBOX_A, WALLBOX_W / s.battery_v)
        assert -limit - 0.5 <= s.current_a <= -min(limit, 10.0)
        assert s.ccs_target_a >= 0.0  # no faked discharge request toward a bidirectional charger


@pytest.mark.parametrize(("car", "soc", "mode"), [("leaf-ze1-40", 90.0, "dynamic"), ("leaf-ze0-24", 90.0, "scheduled")],
                         ids=["ze1", "ze0"])
def test_a_bpt_discharge_at_high_soc_ends_by_the_driver(car: str, soc: float, mode: str) -> None:
    """Above the charge limit (``stop-charging-soc``, 80 %) a DC_BPT session goes on: the battery
    is not "full" for a discharge."""
    run = bpt_run(car, soc, mode, faults=("car-stop@charging+25",))
    assert_safe_discharge(run)
    summary = run.summary
    assert summary.result == "completed" and summary.energy_kwh < 0 and summary.soc_end < soc
    assert min(amps for _, amps, _, _ in run.steps) < -10.0  # it really was discharging


@pytest.fixture(scope="module")
def ze0_dynamic() -> V2xRun:
    return bpt_run("leaf-ze0-24", 32.5, "dynamic")


def test_the_discharge_reaches_the_car_as_0x208_0x209_and_the_keepalive(ze0_dynamic: V2xRun) -> None:
    """adapter.md §7 as at a DIN discharger: while discharging 0x208.0 = min(10 A, the car's 15 A),
    0x209 remaining discharge time 5, 0x109.3 0 A with the 1 A keep-alive on entry and every 60 s."""
    run = ze0_dynamic
    on, stop = run.discharge_window()
    frames = run.charger_frames(on + 0.05, stop)
    assert {bytes(f.data[:1]) for _, f in frames if f.arbitration_id == 0x208} == {bytes([0xFF - 10])}
    assert {f.data[1] for _, f in frames if f.arbitration_id == 0x209} == {5}
    reported = [(t, ChargerStatus.from_can(f).present_current) for t, f in run.charger_frames(on, stop)
                if f.arbitration_id == 0x109]
    ones = [t for t, amps in reported if amps == 1]
    assert {amps for _, amps in reported} == {0, 1} and ones[0] - on < 0.15
    assert [round(b - a) for a, b in itertools.pairwise(ones)] == [60] * (len(ones) - 1)


def test_the_car_limit_reaches_the_wallbox(ze0_dynamic: V2xRun) -> None:
    """EVMaximumDischargeCurrent follows the ZE0's 0x200 (0 → 15 A once power flows): the wallbox,
    deciding in dynamic mode, takes 15 A."""
    run, world = ze0_dynamic, ze0_dynamic.world
    on, stop = run.discharge_window()
    during = [s for s in world.samples if on + 2.0 < s.t < stop]
    assert all(s.current_a == pytest.approx(-15.0, abs=0.3) for s in during)
    assert [r["discharge_a"] for r in kinds(run.records, "service-selected")] == [40.0]  # 0 A declared: the fallback


def test_without_v2x_the_bidi_wallbox_charges_on_plain_dc() -> None:
    world, summary, records = run(charger="bidi-wallbox", soc=30.0, stop=31)
    assert violations(summary) == []
    assert summary.result == "completed" and summary.stop_reason == "ccs: battery-full:DC_ChargeLoop"
    assert summary.energy_kwh > 0.1
    assert [r["service"] for r in kinds(records, "service-selected")] == [2]
    assert not world.bridge.ccs_status.bidirectional


@pytest.mark.parametrize("fault", ["failed@ServiceDetail", "timeout@ServiceSelection",
                                   "failed@DC_ChargeParameterDiscovery", "timeout@ScheduleExchange",
                                   "failed@DC_PreCharge", "failed@DC_ChargeLoop", "timeout@DC_ChargeLoop",
                                   "evse-shutdown@DC_ChargeLoop", "tcp-loss@DC_ChargeLoop+20",
                                   "stop-button@DC_ChargeLoop+20", "cp-loss@DC_ChargeLoop+20"])
def test_faults_in_a_bpt_session_end_safe(fault: str) -> None:
    """A charger fault at a BPT state, the link, the pilot or the button while discharging: the
    session ends safe, no contactor opens above 5 A."""
    run = bpt_run("leaf-ze1-40", 10.8, "dynamic", faults=(fault,))
    assert_safe_discharge(run)
    assert run.summary.stop_reason is not None
    assert run.world.injector is None or run.world.injector.fired_at_request is not None


def test_cli_bidi_wallbox(tmp_path: Path) -> None:
    """``simulate --charger bidi-wallbox`` charges; with the v2x preset it discharges; ``ccs-sim``
    speaks -20 DC to it."""
    charge = CliRunner().invoke(cli, ["simulate", "--charger", "bidi-wallbox", "--soc-start", "30", "--soc-stop", "31",
                                      "--json"])
    assert charge.exit_code == 0, charge.output
    assert json.loads(charge.output)["energy_kwh"] > 0
    assert "DC_ChargeLoop" in cli_discharge(tmp_path, "bidi-wallbox")["ccs_states"]
    sim = CliRunner().invoke(cli, ["ccs-sim", "--charger", "bidi-wallbox", "--protocol", "iso20", "--minutes", "0.02",
                                   "--json"])
    assert sim.exit_code == 0, sim.output
    out = json.loads(sim.output)
    assert out["result"] == "completed" and "DC_ChargeLoop" in out["states"]
    listed = CliRunner().invoke(cli, ["simulate", "--list"])
    assert "  bidi-wallbox " in listed.output
