"""The adapter at an ISO 15118-20 DC charger (personality ``iso20-dc``), end to end in the
simulated world: whole sessions in both control modes, over plain TCP (``iso20-without-tls``, what
the world sets without ``--tls``) and over TLS 1.3, and a charger fault at every -20 state ending
safe — both sides stopped, the adapter off, no invariant violated."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from ccs2chademo.adapter.config import build_config
from ccs2chademo.runtime import logkinds
from ccs2chademo.runtime.sessionlog import capture
from ccs2chademo.sim.faults import FAULT_NAMES, ISO20_FAULT_STATES
from ccs2chademo.sim.pki import make_test_pki
from ccs2chademo.sim.tls_charger import ChargerTls, trusting_config
from ccs2chademo.sim.world import Scenario, World, summarize
from ccs2chademo.v2g.evcc import ISO20_STATE_NAMES, SETUP_SEQUENCE
from ccs2chademo.v2g.messages import ISO20_NAMES

from .helpers import kinds, run, violations

#: what a -20 session shows in ``ccs_states`` (the DC messages by their -20 names)
ISO20_STATES = ["SupportedAppProtocol", "SessionSetup", "AuthorizationSetup", "Authorization", "ServiceDiscovery",
                "DC_ChargeParameterDiscovery", "ScheduleExchange", "DC_CableCheck", "DC_PreCharge",
                "PowerDeliveryOn", "DC_ChargeLoop", "DC_WeldingDetection", "SessionStop", "End"]
#: the -20 states before DC_ChargeParameterDiscovery is done: a fault there costs the allowed CCS restart
BEFORE_PARAMETERS = {"SessionSetup", "AuthorizationSetup", "Authorization", "ServiceDiscovery", "ServiceDetail",
                     "ServiceSelection", "DC_ChargeParameterDiscovery"}


def _validated(records: list[dict[str, object]]) -> None:
    """Every record of the -20 session is registered (docs/session-log.md)."""
    validator = jsonschema.Draft202012Validator(logkinds.json_schema())
    for record in records:
        validator.validate(record)


@pytest.mark.parametrize("mode", ["scheduled", "dynamic"])
def test_a_whole_iso20_session_charges_and_stops_at_battery_full(mode: str) -> None:
    world, summary, records = run(charger="iso20-dc", stop=23, values={"ccs": {"iso20-control-mode": mode}})
    assert violations(summary) == []
    assert summary.result == "completed" and summary.stop_reason == "ccs: battery-full:DC_ChargeLoop", summary
    assert summary.energy_kwh > 0.5
    assert [s for s in summary.ccs_states if s in ISO20_STATES] == ISO20_STATES
    assert [r["schema_id"] for r in kinds(records, "negotiated") if r["source"] == "adapter"] == [3]
    assert [r["control_mode"] for r in kinds(records, "service-selected")] == [mode]
    assert [r["tls"] for r in kinds(records, "iso20-without-tls")] == [None]
    assert world.finished_at is not None and not world.hw.powered
    _validated(records)


def test_an_iso20_session_over_tls13(tmp_path: Path) -> None:
    pki = make_test_pki(tmp_path / "pki")
    scenario = Scenario(charger="iso20-dc", soc_start=20.0, soc_stop=22, config=trusting_config(build_config({}), pki),
                        tls=ChargerTls(pki), limit_s=900.0)
    stream = io.StringIO()
    with capture(stream=stream):
        world = World(scenario)
        world.run()
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    summary = summarize(world, 0.0)
    assert summary.result == "completed" and summary.stop_reason == "ccs: battery-full:DC_ChargeLoop", summary
    assert not summary.invariant_violations
    assert [r["version"] for r in kinds(records, "tls-established") if r["source"] == "adapter"] == ["TLSv1.3"]
    assert not kinds(records, "iso20-without-tls") and not kinds(records, "iso20-not-offered")
    _validated(records)


def test_without_tls_iso20_is_not_offered_and_din_charges() -> None:
    """``iso20-priority`` set but neither TLS 1.3 nor ``iso20-without-tls``: -20 stays out of the
    offer (logged) and the charger's DIN runs; a charger without -20 ignores the offer."""
    _, summary, records = run(charger="iso20-dc", stop=22, values={"ccs": {"iso20-priority": 2}})
    assert summary.result == "completed" and summary.stop_reason == "ccs: battery-full:CurrentDemand"
    assert [r["tls"] for r in kinds(records, "iso20-not-offered")] == [None]
    assert "DC_ChargeLoop" not in summary.ccs_states
    _, summary, _ = run(charger="alpitronic", stop=22, values={"ccs": {"iso20-priority": 1,
                                                                        "iso20-without-tls": True}})
    assert summary.result == "completed" and summary.stop_reason == "ccs: battery-full:CurrentDemand"


@pytest.mark.parametrize("state", [ISO20_NAMES.get(k, k.value) for k in ISO20_FAULT_STATES])
@pytest.mark.parametrize("fault", FAULT_NAMES)
def test_every_charger_fault_at_every_iso20_state_ends_safely(fault: str, state: str) -> None:
    world, summary, _ = run(charger="iso20-dc", faults=(f"{fault}@{state}",), stop=22)
    assert violations(summary) == []
    assert world.injector is not None and world.injector.fired_at_request is not None
    assert world.finished_at is not None and not world.hw.powered
    assert summary.stop_reason is not None
    assert not world.hw.contactor.closed and world.bridge.ccs_status.cp == "B"
    if state in BEFORE_PARAMETERS:  # fired once: the restarted session charges
        assert world.bridge.ccs_restarts == 1
        assert summary.result == "completed", summary.stop_reason
    else:
        assert world.bridge.ccs_restarts == 0


#: the -20 session's states as ``ccs_states`` names them, SupportedAppProtocol … SessionStop
ISO20_SESSION_STATES = ["SupportedAppProtocol", *(ISO20_STATE_NAMES.get(s.value, s.value) for s, _ in SETUP_SEQUENCE),
                        "DC_CableCheck", "WaitForPreCharge", "DC_PreCharge", "ContactorsClosing", "PowerDeliveryOn",
                        "DC_ChargeLoop", "PowerDeliveryOff", "StopWait", "DC_WeldingDetection", "SessionStop"]


@pytest.mark.parametrize("state", ISO20_SESSION_STATES)
@pytest.mark.parametrize("fault", ["tcp-loss", "cp-loss", "stop-button"])
def test_world_faults_at_every_iso20_state_end_safely(fault: str, state: str) -> None:
    """The link, the pilot and the button fail at each -20 state (named as the summary names it)."""
    world, summary, _ = run(charger="iso20-dc", faults=(f"{fault}@{state}",), stop=22)
    assert violations(summary) == []
    assert world.finished_at is not None and not world.hw.powered
    assert summary.stop_reason is not None
    assert not world.hw.contactor.closed
