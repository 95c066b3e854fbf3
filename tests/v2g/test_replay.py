"""Our Evcc against the byte-exact responses of real chargers (shared/data/captures)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from ccs2chademo.runtime import ByteLink, Impairment, VirtualRuntime
from ccs2chademo.sim.replay import ReplayCharger, load_recording
from ccs2chademo.v2g.evcc import Evcc, EvccConfig, EvRequest
from ccs2chademo.v2g.messages import DIN_PROTOCOL, Kind

from ..conftest import shared_data


def replay(capture: str, connection: int = 0, end: Literal["silence", "reset"] = "silence"
           ) -> tuple[Evcc, ReplayCharger, dict[str, Any]]:
    recording = load_recording(shared_data("captures", capture), connection)
    target = next((r.target_voltage for r in recording.requests if r.kind is Kind.PRE_CHARGE), 0.0)
    sim = VirtualRuntime(seed=1)
    link = ByteLink(sim, "v2g", Impairment(latency=0.0002))
    evcc = Evcc("evcc", EvccConfig(protocols=(DIN_PROTOCOL,), secc=("fe80::1", 15118)),
                EvRequest(precharge_voltage=target, target_voltage=target, soc=30))
    charger = ReplayCharger(recording, end=end)
    outputs: dict[str, Any] = {}
    sim.add(charger, ports={"tcp": link.server})
    sim.add(evcc, ports={"tcp": link.client}, on_output=lambda name, value, now: outputs.__setitem__(name, value))
    sim.run(until=600.0, stop=lambda: evcc.status.ended)
    assert evcc.status.ended
    assert outputs["cp"] == "B" and outputs["ev_contactor"] is False and not link.connected
    return evcc, charger, outputs


def test_abb_session_setup_ok_is_accepted() -> None:
    evcc, _charger, _ = replay("2022-11-25_v0.2_ABB_until_ChargeParamDiscovery.pcapng")
    assert "ServiceDiscovery" in evcc.states and "ServicePaymentSelection" in evcc.states
    assert len(evcc.session_id) == 8
    # the recording ends before ContractAuthentication is answered: a 2 s timeout, safe shutdown
    assert evcc.status.stop_reason == "timeout:ContractAuthentication"
    assert evcc.status.result == "safe-shutdown"


def test_alpitronic_sequence_error_in_current_demand_is_a_safe_shutdown() -> None:
    evcc, charger, _ = replay("2022-12-20_alpi_currentDemandSequenceErrorShutdown.pcapng")
    assert evcc.status.stop_reason == "FAILED_SequenceError:CurrentDemand"
    assert evcc.status.result == "safe-shutdown"
    assert charger.received[-1].kind is Kind.CURRENT_DEMAND  # no PowerDelivery(OFF) after a FAILED code
    # our PowerDeliveryReq(ON) had ReadyToChargeState true, unlike the recorded one (ccs-ev.md §9 row 9)
    assert [r.power_on for r in charger.received if r.kind is Kind.POWER_DELIVERY] == [True]


def test_supercharger_unknown_session_is_a_safe_shutdown_and_the_4_byte_id_is_kept() -> None:
    evcc, charger, _ = replay("2023-03-02_SuperCharger_CableCheck_error.pcapng")
    assert evcc.session_id == bytes.fromhex("06ef0071")
    assert all(r.session_id == bytes.fromhex("06ef0071") for r in charger.received[2:])
    assert evcc.status.stop_reason == "FAILED_UnknownSession:ServiceDiscovery"
    assert evcc.status.result == "safe-shutdown"


def test_compleo_reset_after_long_ongoing_authorisation() -> None:
    evcc, charger, _ = replay("2022-12-13_compleo_powerdelivery230_no_load.pcapng", 0, end="reset")
    polls = [r for r in charger.received if r.kind is Kind.CONTRACT_AUTHENTICATION]
    answers = [r for r in charger.recording.responses if r.kind is Kind.CONTRACT_AUTHENTICATION]
    assert len(answers) >= 28 and len(polls) == len(answers) + 1  # all Ongoing, then the charger reset
    assert evcc.status.stop_reason == "tcp-reset:ContractAuthentication"


def test_compleo_second_session_reaches_power_delivery() -> None:
    evcc, _charger, _ = replay("2022-12-13_compleo_powerdelivery230_no_load.pcapng", 14)
    assert evcc.status.precharge_reached and evcc.status.cable_check_done
    # Compleo returned Finished with EVSE_NotReady in ChargeParameterDiscovery: continue anyway
    assert evcc.status.charge_parameter_discovery_done
    # the recording has no PowerDeliveryRes: 6 s timeout, then safe shutdown
    assert evcc.status.stop_reason == "timeout:PowerDeliveryOn"


def test_compleo_emergency_shutdown_in_precharge_stops_at_once() -> None:
    evcc, charger, _ = replay("2022-12-13_compleo_with_bulb.pcapng")
    assert evcc.status.stop_reason == "evse-emergency-shutdown:PreCharge"
    assert evcc.status.result == "safe-shutdown"
    assert charger.received[-1].kind is Kind.PRE_CHARGE


def test_compleo_emergency_shutdown_in_current_demand_sends_power_delivery_off_next() -> None:
    evcc, charger, _ = replay("2023-04-19_compleo_pyPlc_lightbulb_failedBadRegulation.pcapng")
    assert evcc.status.stop_reason == "evse-emergency-shutdown:CurrentDemand"
    kinds = [r.kind for r in charger.received]
    first_off = kinds.index(Kind.POWER_DELIVERY, kinds.index(Kind.CURRENT_DEMAND))
    assert kinds[first_off - 1] is Kind.CURRENT_DEMAND and not charger.received[first_off].power_on
    assert "PowerDeliveryOff" in evcc.states


def test_recording_is_served_byte_exact() -> None:
    recording = load_recording(shared_data("captures", "2022-12-20_alpi_currentDemandSequenceErrorShutdown.pcapng"))
    assert recording.responses[0].payload.hex() == "80400040"
    assert replace(recording.responses[0]).kind is Kind.SUPPORTED_APP_PROTOCOL
