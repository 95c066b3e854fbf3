"""The capture list of data/README section 1.1: file name → V2G messages the README counts."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import shared_data

#: Every capture and its V2G message count (README section 1.1 "Packets / V2G messages", second number).
V2G_COUNTS = {
    "2022-10-26_WP4_networkEstablishedButHiddenCommunication.pcapng": 0,
    "2022-11-17_Dehner_Alpitronic_until_SdpRequest.pcapng": 0,
    "2022-11-25_v0.2_ABB_until_ChargeParamDiscovery.pcapng": 9,
    "2022-11-25_v0.2_alpi_SDP_ok_TCP_fail.pcapng": 0,
    "2022-12-13_compleo_powerdelivery230_no_load.pcapng": 162,
    "2022-12-13_compleo_with_bulb.pcapng": 98,
    "2022-12-20_alpi_currentDemandSequenceErrorShutdown.pcapng": 135,
    "2023-03-02_SuperCharger_CableCheck_error.pcapng": 212,
    "2023-04-19_compleo_pyPlc_lightbulb_failedBadRegulation.pcapng": 284,
    "2023-05-03_TaycanLeftside_slacFail.pcapng": 0,
    "2023-05-03_TaycanRightside_slacFail.pcapng": 0,
    "2023-05-24_pyPlc_with_Ioniq93prcSoc.pcapng": 138,
    "2024-04-20_ModelY_pyPLC_stop_in_precharge.pcapng": 274,
    "2024-06-18_Griffigroen_pyPLC_polestar2_discharging_with_additional_prechargeCircuit.pcapng": 186,
    "2025-07-22_pyPLC_with_tesla_model_x_plaid_until_charging_loop.pcapng": 447,
}

#: Packets per capture (README section 1.1, first number).
PACKET_COUNTS = {
    "2022-10-26_WP4_networkEstablishedButHiddenCommunication.pcapng": 33,
    "2022-11-17_Dehner_Alpitronic_until_SdpRequest.pcapng": 29,
    "2022-11-25_v0.2_ABB_until_ChargeParamDiscovery.pcapng": 488,
    "2022-11-25_v0.2_alpi_SDP_ok_TCP_fail.pcapng": 212,
    "2022-12-13_compleo_powerdelivery230_no_load.pcapng": 2518,
    "2022-12-13_compleo_with_bulb.pcapng": 880,
    "2022-12-20_alpi_currentDemandSequenceErrorShutdown.pcapng": 3286,
    "2023-03-02_SuperCharger_CableCheck_error.pcapng": 3398,
    "2023-04-19_compleo_pyPlc_lightbulb_failedBadRegulation.pcapng": 3549,
    "2023-05-03_TaycanLeftside_slacFail.pcapng": 28,
    "2023-05-03_TaycanRightside_slacFail.pcapng": 54,
    "2023-05-24_pyPlc_with_Ioniq93prcSoc.pcapng": 730,
    "2024-04-20_ModelY_pyPLC_stop_in_precharge.pcapng": 589,
    "2024-06-18_Griffigroen_pyPLC_polestar2_discharging_with_additional_prechargeCircuit.pcapng": 1223,
    "2025-07-22_pyPLC_with_tesla_model_x_plaid_until_charging_loop.pcapng": 2601,
}

#: Captures with a format-A companion (``<stem>.decoded.txt``).
FORMAT_A = [
    "2022-12-20_alpi_currentDemandSequenceErrorShutdown.pcapng",
    "2023-03-02_SuperCharger_CableCheck_error.pcapng",
]

#: Captures with a format-B companion (``<file>.decoded.txt``) → entries that are TCP retransmissions.
FORMAT_B = {
    "2023-04-19_compleo_pyPlc_lightbulb_failedBadRegulation.pcapng": 0,
    "2023-05-24_pyPlc_with_Ioniq93prcSoc.pcapng": 3,
    "2024-04-20_ModelY_pyPLC_stop_in_precharge.pcapng": 0,
    "2024-06-18_Griffigroen_pyPLC_polestar2_discharging_with_additional_prechargeCircuit.pcapng": 0,
}

#: Captures with a ``.values.txt``.
WITH_VALUES = [
    "2024-04-20_ModelY_pyPLC_stop_in_precharge.pcapng",
    "2024-06-18_Griffigroen_pyPLC_polestar2_discharging_with_additional_prechargeCircuit.pcapng",
]


def capture(name: str) -> Path:
    return shared_data("captures", name)


def decoded_a(name: str) -> Path:
    return shared_data("captures", name.removesuffix(".pcapng") + ".decoded.txt")


def decoded_b(name: str) -> Path:
    return shared_data("captures", name + ".decoded.txt")


def values(name: str) -> Path:
    return shared_data("captures", name + ".values.txt")
