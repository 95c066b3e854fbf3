"""The clara mode end to end (issue 13): the adapter's CCS side against every charger
personality, DIN and ISO 15118-2, with a ZombieVerter-like VCU (SDO map configuration, 0x358 every
100 ms, ±1 A ramp) and a 96s pack on the CAN bus; the stop paths; the light-bulb demo; the CLI."""

from __future__ import annotations

import io
import itertools
import json
import logging
from typing import Any

import pytest
from click.testing import CliRunner

from ccs2chademo.adapter import clara_side
from ccs2chademo.adapter.clara_map import DEFAULT_MAP
from ccs2chademo.adapter.config import build_config
from ccs2chademo.cli import cli
from ccs2chademo.runtime.sessionlog import capture
from ccs2chademo.sim.charger import PERSONALITIES
from ccs2chademo.sim.clara_world import CAN_SILENCE_NOT_STOPPED, UNLOCKED_WITHOUT_ALLOW, ClaraWorld
from ccs2chademo.sim.invariants import CONTACTOR_CLOSED_AFTER_STOP, CONTACTOR_CLOSED_WITH_VOLTAGE_DIFFERENCE
from ccs2chademo.sim.world import Scenario, Summary, build_world, summarize

from ..runtime.test_session_log_format import problems

#: Chargers that charge (the V2X discharger needs the adapter's v2x mode, which a VCU never asks for).
CHARGERS = sorted(name for name, p in PERSONALITIES.items() if not p.stage.discharge and p.matrix)


def run(mode: str = "clara", charger: str = "alpitronic", protocol: str | None = None, soc: float = 20.0,
        stop: int | None = 21, faults: tuple[str, ...] = (), vcu: str = "zombieverter",
        values: dict[str, Any] | None = None, level: int = logging.INFO,
        ) -> tuple[ClaraWorld, Summary, list[dict[str, Any]]]:
    config = build_config({"mode": mode, **(values or {})})
    scenario = Scenario(charger=charger, soc_start=soc, soc_stop=stop, config=config, faults=faults, vcu=vcu,
                        protocol=protocol, limit_s=900.0)
    stream = io.StringIO()
    with capture(stream=stream, level=level):
        world = build_world(scenario)
        world.run()
    assert isinstance(world, ClaraWorld)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r for r in records if r["kind"] == "transition-refused"] == []
    return world, summarize(world, 0.0), records


def kinds(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == kind]


def violations(summary: Summary) -> list[str]:
    return [f"{v['invariant']}: {v['detail']}" for v in summary.invariant_violations]


@pytest.mark.parametrize("protocol", ["din", "iso2"])
@pytest.mark.parametrize("charger", CHARGERS)
def test_zombieverter_session_at_every_charger(charger: str, protocol: str) -> None:
    world, summary, records = run(charger=charger, protocol=protocol)
    assert violations(summary) == []
    assert summary.result == "completed" and summary.stop_reason == "clara: enable off"  # the VCU's target SoC
    assert summary.soc_end >= 21.0 and "CurrentDemand" in summary.ccs_states
    assert "charging" in summary.chademo_states and summary.chademo_states[-1] == "ended"
    assert {r["schema"].lower() for r in kinds(records, "negotiated")} == {protocol}
    assert world.finished_at is not None and not world.hw.powered


@pytest.mark.parametrize("protocol", ["din", "iso2"])
@pytest.mark.parametrize("vcu", ["zombieverter", "bms"])
@pytest.mark.parametrize("soc", [10.0, 90.0, 50.0])
def test_a_session_at_the_compleo_ends_as_the_vcu_ends_it(soc: float, vcu: str, protocol: str) -> None:
    """Campaign finding (docs/reliability.md, clara 5): the generic BMS asks for its full current
    at once; the first CurrentDemandReq carried the ramp accumulated during ContactorsClosing and
    PowerDelivery (≈70 A), the Compleo's under-damped loop overshot it by > 10 A and it answered
    EmergencyShutdown.  The ramp now starts with CurrentDemand."""
    _, summary, records = run(charger="compleo", protocol=protocol, soc=soc, stop=int(soc) + 1, vcu=vcu)
    assert violations(summary) == []
    assert summary.result == "completed" and summary.stop_reason == "clara: enable off"
    assert summary.soc_end > soc + 0.9 and summary.chademo_states[-1] == "ended"  # the VCU rounds its SoC
    statuses = {r.get("status") for r in kinds(records, "response") if r.get("msg") == "CurrentDemand"}
    assert statuses == {"EVSE_Ready"}


def test_zombieverter_configures_the_map_over_sdo_then_ramps_its_request() -> None:
    world, summary, records = run(stop=22, level=logging.DEBUG)
    assert problems(records) == []
    assert [r["done"] for r in kinds(records, "vcu-config") if r.get("done")] == [True]
    # the clearing ends with one abort per direction; every entry write is acknowledged
    assert [r["reason"] for r in kinds(records, "clara-sdo-abort")] == ["GENERAL", "GENERAL"]
    assert kinds(records, "clara-map")[-1] == {**kinds(records, "clara-map")[-1], "entries": 17, "saved": True}
    # the save reaches the runtime as the whole [clara] table (recorded here; `run` writes its file)
    (saved,) = world.saved
    assert set(saved.can_map().entries) == set(DEFAULT_MAP.entries) and saved.node_id == 22
    assert [r["entries"] for r in kinds(records, "clara-saved")] == [17]
    requests = [s.request_a for s in world.samples if s.ccs_state == "CurrentDemand"]
    steps = [b - a for a, b in itertools.pairwise(requests)]
    assert max(steps) <= 10.0 + 1e-9  # ≤ 1 A per 100 ms, sampled every second
    assert max(requests) == 125.0  # clamped to the BMS limit
    assert summary.energy_kwh > 0.5


def test_single_session_flow() -> None:
    """``sx = true``: the charge session starts when SLAC matched, without a discovery session."""
    _, summary, records = run(values={"sx": True}, charger="tesla-sc")
    assert violations(summary) == [] and summary.result == "completed"
    assert "discovered" not in summary.chademo_states and "charging" in summary.chademo_states
    assert [r["session"] for r in kinds(records, "chademo-session")] == ["charge"]


def test_generic_bms_variant() -> None:
    _, summary, _ = run(vcu="bms", charger="abb", protocol="iso2")
    assert violations(summary) == [] and summary.result == "completed"


# ---------------------------------------------------------------------------------- stop paths
def _fault_time(records: list[dict[str, Any]], name: str) -> float:
    (fault,) = [r for r in kinds(records, "fault") if r["fault"] == name]
    return float(fault["t"])


@pytest.mark.parametrize("protocol", ["din", "iso2"])
def test_can_silence_ends_the_session_within_3_s_and_a_cycle(protocol: str) -> None:
    world, summary, records = run(faults=("can-silence@CurrentDemand+10",), stop=None, protocol=protocol)
    assert violations(summary) == [] and problems(records) == []
    assert summary.stop_reason == "clara: CAN timeout" and summary.result == "completed"
    (stop,) = kinds(records, "clara-stop")
    assert stop["code"] == 3 and 3.0 - 0.1 <= stop["t"] - _fault_time(records, "can-silence") <= 3.0 + 0.1
    assert not world.hw.contactor.closed


#: Campaign finding (docs/reliability.md, clara 3): a VCU silent before the charge loop.  Every
#: state of the CCS setup (the link, every message up to CableCheck: the controller is in
#: ``discovered``), and the precharge with the contactor closing after the silence (what the world
#: counted as a stop at once): the session ends 3 s after the VCU's last frame, "CAN timeout".
SILENT_BEFORE_THE_LOOP = ("modem+0", "slac+0", "sdp+0", "SupportedAppProtocol+0", "SessionSetup+0",
                          "ServiceDiscovery+0", "ServicePaymentSelection+0", "ContractAuthentication+0",
                          "ChargeParameterDiscovery+0", "CableCheck+0", "CableCheck+2", "WaitForPreCharge+2",
                          "PreCharge+0", "PreCharge+1")


@pytest.mark.parametrize("at", SILENT_BEFORE_THE_LOOP)
def test_can_silence_before_the_charge_loop_ends_the_session_within_3_s(at: str) -> None:
    vcu = "bms" if SILENT_BEFORE_THE_LOOP.index(at) % 2 else "zombieverter"
    world, summary, records = run(faults=(f"can-silence@{at}",), stop=6, soc=5.0, charger="abb", vcu=vcu)
    assert violations(summary) == [] and problems(records) == []
    assert summary.stop_reason == "clara: CAN timeout" and summary.result in ("completed", "safe-shutdown")
    (stop,) = kinds(records, "clara-stop")
    assert world.last_vcu_frame is not None and 3.0 - 1e-6 <= stop["t"] - world.last_vcu_frame <= 3.0 + 0.1
    assert stop["code"] == 3
    side = world.bridge.car_side
    assert isinstance(side, clara_side.ClaraSide) and side.values["StopReason"] == 3 and side.state == "ended"
    assert not world.hw.contactor.closed and not world.lock.locked


def test_a_single_session_start_after_the_vcu_fell_silent_ends_at_once() -> None:
    """``sx = true`` starts the charge session at the SLAC match; a VCU silent since the SLAC
    began has missed its watchdog long before: the session ends there (not 3 s later)."""
    world, summary, records = run(faults=("can-silence@slac+0",), values={"sx": True}, stop=6, soc=5.0,
                                  charger="abb", vcu="bms")
    assert violations(summary) == [] and summary.stop_reason == "clara: CAN timeout"
    (session,) = kinds(records, "chademo-session")
    (stop,) = kinds(records, "clara-stop")
    assert stop["t"] == session["t"] and stop["state"] == "idle"
    assert "wait_precharge" not in summary.chademo_states and not world.hw.contactor.closed


def test_a_silent_vcu_is_a_stop_from_the_watchdog_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The world counts a silent VCU as a stop only from its last frame + 3 s (the controller
    cannot know earlier): a contactor that closes after that is still caught — here a controller
    with a 10 s watchdog closes 4 s into the silence."""
    monkeypatch.setattr(clara_side, "WATCHDOG_S", 10.0)
    _, summary, _ = run(faults=("can-silence@WaitForPreCharge+0",), stop=6, soc=5.0, charger="abb", vcu="bms")
    assert {v["invariant"] for v in summary.invariant_violations} == {CAN_SILENCE_NOT_STOPPED,
                                                                      CONTACTOR_CLOSED_AFTER_STOP}


def test_enable_drop_stops_the_session() -> None:
    _, summary, records = run(faults=("enable-drop@CurrentDemand+8",), stop=None, charger="compleo")
    assert violations(summary) == [] and summary.stop_reason == "clara: enable off"
    assert kinds(records, "clara-stop")[0]["t"] - _fault_time(records, "enable-drop") <= 0.25


@pytest.mark.parametrize("vcu", ["zombieverter", "bms"])
@pytest.mark.parametrize("delay", ["0", "0.5", "2"])
@pytest.mark.parametrize("charger", ["tesla-sc", "abb"])
def test_enable_drop_early_in_current_demand_is_no_target_violation(charger: str, delay: str, vcu: str) -> None:
    """Campaign finding (docs/reliability.md, clara 4): the VCU zeroes its request right after a
    frame that asked for more; the controller's next CurrentDemandReq still carries that frame's
    step, the one after drops — the invariant judged the step in flight as "not ramping down"."""
    world, summary, records = run(faults=(f"enable-drop@CurrentDemand+{delay}",), stop=None, soc=5.0,
                                  charger=charger, vcu=vcu)
    assert violations(summary) == [] and summary.stop_reason == "clara: enable off"
    fault = _fault_time(records, "enable-drop")
    late = [s.ccs_target_a for s in world.samples if s.t > fault + 1.5 and s.ccs_target_a is not None]
    assert all(target == 0.0 for target in late)  # the CCS target followed the 0 A request


def test_soc_above_95_percent_is_battery_full() -> None:
    _, summary, _ = run(soc=94.6, stop=None, charger="tesla-sc", protocol="iso2")
    assert violations(summary) == [] and summary.stop_reason == "clara: battery full"
    assert 95.0 < summary.soc_end < 96.0


@pytest.mark.parametrize(("fault", "result", "code"), [
    # the seam says "stopped" (normal) or "fault" (our safe shutdown), not which EVSE status: 4 or 6
    ("emergency-shutdown@CurrentDemand", "completed", 4), ("evse-shutdown@CurrentDemand", "completed", 4),
    ("malfunction@CurrentDemand", "completed", 4), ("timeout@CurrentDemand", "safe-shutdown", 6),
    ("tcp-loss@CurrentDemand+10", "safe-shutdown", 6), ("stop-button@CurrentDemand+10", "completed", 1),
])
def test_charger_faults_and_the_stop_button_end_safe(fault: str, result: str, code: int) -> None:
    world, summary, _ = run(faults=(fault,), stop=None)
    assert violations(summary) == [] and summary.result == result
    side = world.bridge.car_side
    assert isinstance(side, clara_side.ClaraSide)
    assert side.values["StopReason"] == code and side.state == "ended"  # readable over SDO (uid 2017)
    assert not world.hw.contactor.closed


def test_a_vcu_reporting_a_wrong_pack_voltage_is_caught_by_the_invariants() -> None:
    """The controller trusts the VCU's battery voltage for the precharge; 30 V off, the inlet
    contactors close across 30 V — the world's close-voltage invariant must say so."""
    _, summary, _ = run(faults=("vcu-voltage-lie",))
    assert [v["invariant"] for v in summary.invariant_violations] == [CONTACTOR_CLOSED_WITH_VOLTAGE_DIFFERENCE]


def test_the_can_silence_invariant_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A controller that waits 10 s instead of 3 s is caught."""
    monkeypatch.setattr(clara_side, "WATCHDOG_S", 10.0)
    _, summary, _ = run(faults=("can-silence@CurrentDemand+5",), stop=None)
    assert [v["invariant"] for v in summary.invariant_violations] == [CAN_SILENCE_NOT_STOPPED]


def test_a_withheld_allow_unlock_keeps_the_lock_closed_until_the_vcu_allows_it() -> None:
    """``no-unlock``: AllowUnlock = 0 from the start; the controller stops, opens the inlet
    contactors, and keeps the lock closed in ``stop_unlock`` until the VCU allows it (30 s later)."""
    world, summary, records = run(faults=("no-unlock@stop_unlock+30",), charger="tesla-sc")
    assert violations(summary) == [] and summary.stop_reason == "clara: enable off"
    waiting = next(r["t"] for r in kinds(records, "state") if r["state"] == "stop_unlock")
    allowed = _fault_time(records, "no-unlock")
    assert allowed == pytest.approx(waiting + 30.0, abs=0.05)
    lock = kinds(records, "clara-lock")
    assert [r["closed"] for r in lock] == [True, False]
    assert 0.0 <= lock[1]["t"] - allowed <= 0.2 + 1e-9  # the next 0x358 and the controller's cycle
    assert [r["locked"] for r in kinds(records, "inlet-lock")] == [True, False]
    assert not world.lock.locked and not world.hw.contactor.closed
    assert world.bridge.car_side is not None and world.bridge.car_side.state == "ended"


def test_the_allow_unlock_invariant_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A controller that ignores AllowUnlock opens the lock while the VCU withholds it: caught."""
    monkeypatch.setattr(clara_side.ClaraSide, "_unlock_allowed", lambda self: True)
    _, summary, _ = run(faults=("no-unlock@stop_unlock+30",), charger="tesla-sc")
    assert [v["invariant"] for v in summary.invariant_violations] == [UNLOCKED_WITHOUT_ALLOW]


# ---------------------------------------------------------------------------------- the light-bulb demo
@pytest.mark.parametrize(("charger", "protocol"), [("alpitronic", "din"), ("abb", "iso2"), ("compleo", None)])
def test_lightbulb_demo(charger: str, protocol: str | None) -> None:
    world, summary, records = run("lightbulb", charger=charger, protocol=protocol,
                                  values={"clara": {"demo-voltage": 230}})
    assert violations(summary) == [] and summary.result == "completed" and summary.stop_reason == "button"
    assert problems(records) == []
    states = kinds(records, "state")
    cd_start = next(r["t"] for r in states if r["state"] == "CurrentDemand")
    precharged = next(r["t"] for r in states if r["state"] == "charging" and r.get("part") == "chademo")
    (relay_on, relay_off) = kinds(records, "clara-load-relay")
    # load-relay-delay-ms after the precharge ended: ≈2 s into CurrentDemand, later than its start
    # even at the slowest PowerDelivery (Compleo, 0.9 s)
    assert relay_on["closed"] and relay_on["t"] - precharged == pytest.approx(2.5, abs=0.11)
    assert relay_on["t"] > cd_start
    lit = [s for s in world.samples if relay_on["t"] + 2 < s.t < relay_off["t"] - 1]
    assert lit and all(abs(s.charger_v - 230) < 10 and abs(s.current_a - 10) < 1 for s in lit)
    assert summary.energy_kwh > 0.0 and not relay_off["closed"]


# ---------------------------------------------------------------------------------- the CLI
@pytest.mark.parametrize("args", [["--mode", "clara", "--soc-stop", "21"], ["--mode", "lightbulb"],
                                  ["--mode", "clara", "--vcu", "bms", "--protocol", "iso2", "--soc-stop", "21"]])
def test_cli_simulate_json(args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["simulate", "--json", *args])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert {"result", "stop_reason", "soc_start", "soc_end", "energy_kwh", "virtual_s", "wall_s",
            "invariant_violations", "ccs_states", "mode", "downstream_states"} <= set(summary)
    assert summary["mode"] == args[1] and summary["result"] == "completed" and summary["invariant_violations"] == []
    assert "charging" in summary["downstream_states"]


def test_cli_default_mode_keeps_the_chademo_summary() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--json", "--soc-stop", "21"])
    assert result.exit_code == 0 and "mode" not in json.loads(result.output)
