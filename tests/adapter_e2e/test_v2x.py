"""V2X end to end (adapter.md §7): the adapter in V2X mode between the ``sigenstor`` discharger and
a discharge-compatible Leaf — the car's battery is discharged through the adapter, the CHAdeMO
side sends 0x208/0x209 as adapter.md §7 says, and the session ends cleanly with every invariant holding.

The frames are checked on the CAN bus as the car receives them, byte for byte against the adapter.md §7
numbers (chademo.md §9 layout: currents inverted, 0xFF − A)."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ccs2chademo.adapter.config import build_config
from ccs2chademo.chademo.frames import ChargerStatus
from ccs2chademo.cli import cli
from ccs2chademo.runtime import CanFrame
from ccs2chademo.runtime.sessionlog import capture
from ccs2chademo.sim.charger import PERSONALITIES
from ccs2chademo.sim.world import Scenario, Summary, World, summarize

from .helpers import kinds, violations

CHARGER_IDS = (0x108, 0x109, 0x118, 0x208, 0x209)
SIGENSTOR_MAX_A = 40  # the personality's EVSEMaximumCurrentLimit → 0x208.3
SIGENSTOR_MAX_W = 12_500.0


class V2xRun:
    """One session at the discharger, with the session log and every frame on the CHAdeMO bus."""

    def __init__(self, car: str, soc: float, values: dict[str, Any] | None = None, preset: str | None = "v2x",
                 faults: tuple[str, ...] = (), presses: int = 0, charger: str = "sigenstor") -> None:
        config = build_config(values or {}, preset)
        self.frames: list[tuple[float, CanFrame]] = []
        stream = io.StringIO()
        with capture(stream=stream):
            self.world = World(Scenario(car=car, charger=charger, soc_start=soc, config=config, faults=faults,
                                        limit_s=1800.0), on_can=lambda t, f: self.frames.append((t, f)))
            if presses:
                self.world.hw.press(0.0, 0.5)  # held while powering on (adapter.md §10), released
                for i in range(presses):
                    self.world.hw.press(1.0 + 0.5 * i, 0.2)
            self.steps = self._run()
        self.records = [json.loads(line) for line in stream.getvalue().splitlines()]
        self.summary: Summary = summarize(self.world, 0.0)

    def _run(self) -> list[tuple[float, float, bool, bool]]:
        """Run to the end; after the charging loop starts, one physics step (20 ms) at a time,
        recording (t, current, adapter contactor, car contactors) — the stop is judged on these."""
        world, sim = self.world, self.world.sim
        steps: list[tuple[float, float, bool, bool]] = []
        stepping = False
        while world.finished_at is None and sim.now() < world.scenario.limit_s:
            stepping = stepping or world.bridge.chademo_state == "charging"
            sim.run(until=sim.now() + (world.scenario.step_s if stepping else 1.0))
            if stepping:
                steps.append((sim.now(), world.current_a, world.hw.contactor.closed, world.car_contactors))
        world.close()
        return steps

    def record_t(self, kind: str, **match: Any) -> float:
        return next(r["t"] for r in self.records if r["kind"] == kind and all(r.get(k) == v for k, v in match.items()))

    def charger_frames(self, start: float = 0.0, end: float = float("inf")) -> list[tuple[float, CanFrame]]:
        return [(t, f) for t, f in self.frames if f.arbitration_id in CHARGER_IDS and start <= t < end]

    def discharge_window(self) -> tuple[float, float]:
        """From the adapter's "discharging" decision to its stop (both from the session log)."""
        on = self.record_t("v2x-discharging", on=True)
        stop = next(r["t"] for r in self.records if r["kind"] == "stop" and r.get("part") == "chademo" and r["t"] > on)
        return on, stop

    def current_before_opening(self, index: int) -> float:
        """|current| in the last step before contactor ``index`` (2 adapter, 3 car) opened."""
        for before, after in itertools.pairwise(self.steps):
            if before[index] and not after[index]:
                return abs(before[1])
        raise AssertionError("the contactor never opened while the steps were recorded")


@pytest.fixture(scope="module")
def ze1_to_floor() -> V2xRun:
    """Leaf ZE1 40 kWh at 11 %: no 0x200 maximum → 40 A fallback, held to 12.5 kW by the stage."""
    return V2xRun("leaf-ze1-40", 11.0)


@pytest.fixture(scope="module")
def ze0_to_floor() -> V2xRun:
    """Leaf ZE0 24 kWh (AV1 + v2x) at 36.5 %: 15 A by its 0x200, > 6 min to its 6.7 kWh floor."""
    return V2xRun("leaf-ze0-24", 36.5, values={"v2x": True, "alt-estimated-voltage": 1}, preset=None)


def test_sigenstor_is_listed_as_a_discharger() -> None:
    assert PERSONALITIES["sigenstor"].stage.discharge
    result = CliRunner().invoke(cli, ["simulate", "--list"])
    assert result.exit_code == 0 and "  sigenstor " in result.output


def test_discharge_session_to_the_car_floor(ze1_to_floor: V2xRun) -> None:
    run, world, summary = ze1_to_floor, ze1_to_floor.world, ze1_to_floor.summary
    assert violations(summary) == [] and summary.result == "completed"
    assert world.car.stop_reason == "discharge floor" and "K_OFF" in (summary.stop_reason or "")
    assert world.finished_at is not None and not world.hw.powered
    assert summary.chademo_states[-1] == "ended" and summary.ccs_states[-1] == "End"
    # the battery discharged: SoC fell to the ZE1's 10 % floor, energy counted with sign and separately
    assert summary.soc_end == pytest.approx(10.0, abs=0.05) and summary.soc_end < summary.soc_start
    assert summary.energy_kwh < -0.3 and world.discharged_kwh() == pytest.approx(-summary.energy_kwh, abs=1e-3)
    # the faked request is the 40 A fallback (the ZE1 declares no 0x200 maximum) …
    on, stop = run.discharge_window()
    during = [s for s in world.samples if on + 2.0 < s.t < stop]
    assert during and {s.ccs_target_a for s in during} == {40.0}
    # … and the stage holds 12.5 kW at the battery's present voltage: power limited, below 40 A
    for s in during:
        assert -s.current_a * s.battery_v == pytest.approx(SIGENSTOR_MAX_W, rel=0.01)
        assert -SIGENSTOR_MAX_A < s.current_a < -35.0


def test_discharge_frames_on_the_bus(ze0_to_floor: V2xRun) -> None:
    """0x109.4 with 0x208/0x209 in every cycle of the real session only; adapter.md §7 contents."""
    run = ze0_to_floor
    charge = run.record_t("chademo-session", session="charge")
    discovery = run.charger_frames(end=charge)
    assert discovery and {f.arbitration_id for _, f in discovery} == {0x108, 0x109, 0x118}
    assert not any(ChargerStatus.from_can(f).discharge_compatible for _, f in discovery if f.arbitration_id == 0x109)
    frames = run.charger_frames(start=charge)
    ids = [f.arbitration_id for _, f in frames]
    assert len(ids) > 1000 and ids == list(CHARGER_IDS) * (len(ids) // 5)  # every cycle, in this order
    assert all(f.data[4] & 1 for _, f in frames if f.arbitration_id == 0x109)
    on, stop = run.discharge_window()
    by_id: dict[tuple[int, str], set[bytes]] = {}
    for t, f in frames:
        phase = "before" if t < on else "discharging" if t < stop else "after"
        by_id.setdefault((f.arbitration_id, phase), set()).add(bytes(f.data))
    # 0x208: present discharge current (0xFF − A), 500 V, 0xFF − 40 A available, 250 V threshold
    assert by_id[(0x208, "before")] == {bytes([0xFF, 0xF4, 0x01, 0xFF - SIGENSTOR_MAX_A, 0, 0, 0xFA, 0x00])}
    # while discharging: min(10 A, the car's 15 A) — one value, every cycle until the stop
    assert by_id[(0x208, "discharging")] == {bytes([0xFF - 10, 0xF4, 0x01, 0xFF - SIGENSTOR_MAX_A, 0, 0, 0xFA, 0])}
    # 0x209: sequence number 2; remaining discharge time 0, then 5 while discharging
    assert {d[:3] for d in by_id[(0x209, "before")]} == {bytes([2, 0, 0])}
    assert {d[:3] for d in by_id[(0x209, "discharging")]} == {bytes([2, 5, 0])}
    # remaining charging time counts down only while output current > 0: frozen while discharging
    remaining = {ChargerStatus.from_can(f).remaining_time_s for t, f in frames if f.arbitration_id == 0x109
                 and on <= t < stop}
    assert len(remaining) == 1 and remaining.pop() >= 5
    # the car's 0x200 maximum ramps 0 → 15 A (raw FF → F0) once power flows, as the real ZE0 did
    ramp = [f.data[0] for t, f in run.frames if f.arbitration_id == 0x200 and t >= charge]
    assert ramp[0] == 0xFF and 0xF0 in ramp and sorted(set(ramp), reverse=True) == [*range(0xFF, 0xF0, -2), 0xF0]


def test_leaf_zero_current_keepalive(ze0_to_floor: V2xRun) -> None:
    """adapter.md §7: 1 A in 0x109.3 on entry and every 60 s, so the ZE0 (stops after ≈6 min at 0 A) keeps
    discharging to its floor; 0x109.3 is 0 otherwise (a negative current is no output)."""
    run, world = ze0_to_floor, ze0_to_floor.world
    assert violations(run.summary) == [] and run.summary.result == "completed"
    assert world.car.stop_reason == "discharge floor" and not kinds(run.records, "car-zero-current-timeout")
    on, stop = run.discharge_window()
    assert stop - on > 7 * 60
    reported = [(t, ChargerStatus.from_can(f).present_current) for t, f in run.charger_frames(on, stop)
                if f.arbitration_id == 0x109]
    ones = [t for t, amps in reported if amps == 1]
    assert {amps for _, amps in reported} == {0, 1} and ones[0] - on < 0.15
    gaps = [b - a for a, b in itertools.pairwise(ones)]
    assert len(gaps) >= 6 and all(g == pytest.approx(60.0, abs=0.11) for g in gaps)


def test_car_limited_discharge(ze0_to_floor: V2xRun) -> None:
    """The request faked toward CCS is the car's 0x200 maximum (15 A); the current follows it."""
    run, world = ze0_to_floor, ze0_to_floor.world
    on, stop = run.discharge_window()
    during = [s for s in world.samples if on + 2.0 < s.t < stop]
    assert {s.ccs_target_a for s in during} == {15.0}
    assert all(s.current_a == pytest.approx(-15.0, abs=0.2) for s in during)
    assert run.summary.soc_end == pytest.approx(world.car.discharge_floor_soc, abs=0.05)
    assert world.car.discharge_floor_soc == pytest.approx(6.7 / 21.0 * 100.0)  # 0x200.6 = 67 (kWh × 10)


@pytest.mark.parametrize("early_open", [False, True], ids=["default", "open-before-wd"])
def test_stop_button_during_discharge(early_open: bool) -> None:
    """A short press while discharging: both sides stop; the current is under 5 A before the car's
    contactors open and before the adapter contactor opens (the invariants check the same) — also
    when the adapter contactor opens at k-off, before the car's welding check (adapter.md §2.1)."""
    run = V2xRun("leaf-ze1-40", 30.0, values={"open-adapter-contactor-before-wd": early_open},
                 faults=("stop-button@charging+30",))
    world, summary = run.world, run.summary
    assert violations(summary) == [] and summary.result == "completed"
    assert summary.stop_reason == "button" and world.car.stop_reason == "charger stop"
    assert min(amps for _, amps, _, _ in run.steps) < -35.0  # it really was discharging
    assert run.current_before_opening(3) <= 5.0  # the car's contactors
    assert run.current_before_opening(2) <= 5.0  # the adapter contactor
    assert 29.0 < summary.soc_end < summary.soc_start


def test_special_mode_1_discharges() -> None:
    """adapter.md §10 mode 1 (one press at power-on) instead of the v2x preset: the same discharge."""
    run = V2xRun("leaf-ze1-40", 10.5, preset=None, presses=1)
    assert run.world.bridge.modes == frozenset({"v2x"}) and not run.world.config.v2x
    assert violations(run.summary) == [] and run.summary.result == "completed"
    assert run.world.car.stop_reason == "discharge floor" and run.summary.energy_kwh < 0


def cli_discharge(tmp_path: Path, charger: str) -> dict[str, Any]:
    """``simulate --charger CHARGER --config`` (preset v2x) from 10.4 %: a completed discharge; the summary."""
    config = tmp_path / "v2x.toml"
    config.write_text('preset = "v2x"\n')
    result = CliRunner().invoke(cli, ["simulate", "--charger", charger, "--config", str(config),
                                      "--soc-start", "10.4", "--json"])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = json.loads(result.output)
    assert summary["result"] == "completed" and summary["invariant_violations"] == []
    assert summary["soc_end"] < 10.4 and summary["energy_kwh"] < 0
    return summary


def test_cli_v2x_session(tmp_path: Path) -> None:
    cli_discharge(tmp_path, "sigenstor")
