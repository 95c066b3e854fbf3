"""The V2G messages of a DC EIM session in one neutral model, for both DIN 70121 and ISO 15118-2.

The session machines (:mod:`.evcc`, :mod:`.secc`) speak :class:`EvMessage` (requests, the car's
side) and :class:`EvseMessage` (responses, the charger's side) and never see the EXI data
classes: :mod:`.codec` is the one place that maps this model to and from the generated DIN/ISO-2
types.  That keeps codec details (field names, enum numbering, PhysicalValue multipliers) in one
module and lets one machine run either schema.

Message kinds are named after the **DIN** messages without Req/Res (``"CableCheck"``); the ISO-2
names of the two that differ are in :data:`ISO_NAMES`.  Enumerated values travel as their schema
names (``"OK_NewSessionEstablished"``, ``"EVSE_EmergencyShutdown"``) because the DIN and ISO-2
ResponseCode enums number differently beyond index 19.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Schema(StrEnum):
    DIN = "din"
    ISO2 = "iso2"


class Kind(StrEnum):
    SUPPORTED_APP_PROTOCOL = "SupportedAppProtocol"
    SESSION_SETUP = "SessionSetup"
    SERVICE_DISCOVERY = "ServiceDiscovery"
    SERVICE_PAYMENT_SELECTION = "ServicePaymentSelection"
    CONTRACT_AUTHENTICATION = "ContractAuthentication"
    CHARGE_PARAMETER_DISCOVERY = "ChargeParameterDiscovery"
    CABLE_CHECK = "CableCheck"
    PRE_CHARGE = "PreCharge"
    POWER_DELIVERY = "PowerDelivery"
    CURRENT_DEMAND = "CurrentDemand"
    WELDING_DETECTION = "WeldingDetection"
    SESSION_STOP = "SessionStop"


#: ISO 15118-2 names where they differ from DIN (ccs-ev.md §10).
ISO_NAMES = {
    Kind.SERVICE_PAYMENT_SELECTION: "PaymentServiceSelection",
    Kind.CONTRACT_AUTHENTICATION: "Authorization",
}

DIN_NAMESPACE = "urn:din:70121:2012:MsgDef"
ISO2_NAMESPACE = "urn:iso:15118:2:2013:MsgDef"

#: Response codes that accept a message (SessionSetup also accepts OK_NewSessionEstablished).
OK_CODES = frozenset({"OK", "OK_NewSessionEstablished", "OK_OldSessionJoined", "OK_CertificateExpiresSoon"})
SAP_OK_CODES = frozenset({"OK_SuccessfulNegotiation", "OK_SuccessfulNegotiationWithMinorDeviation"})


@dataclass(frozen=True, slots=True)
class AppProtocol:
    """One entry of the SupportedAppProtocolReq offer (ccs-ev.md §8)."""

    namespace: str
    major: int
    minor: int
    schema_id: int
    priority: int

    @property
    def schema(self) -> Schema | None:
        if self.namespace == DIN_NAMESPACE:
            return Schema.DIN
        if self.namespace == ISO2_NAMESPACE:
            return Schema.ISO2
        return None


DIN_PROTOCOL = AppProtocol(DIN_NAMESPACE, 2, 0, 1, 1)
ISO2_PROTOCOL = AppProtocol(ISO2_NAMESPACE, 2, 0, 2, 2)


@dataclass(frozen=True, slots=True)
class EvMessage:
    """A request.  Fields a kind does not carry stay at their defaults and are ignored.

    ``None`` means *absent* for the optional fields (presence changes the EXI stream, exi.md
    §4.5), so "send it as false/0" and "leave it out" stay distinct.
    """

    kind: Kind
    session_id: bytes = b""
    protocols: tuple[AppProtocol, ...] = ()  # SupportedAppProtocol
    evcc_id: bytes = b""  # SessionSetup
    # DC_EVStatus
    ev_ready: bool = False
    cabin_conditioning: bool | None = None  # DIN only
    ress_conditioning: bool | None = None  # DIN only
    error_code: str = "NO_ERROR"
    soc: int = 0
    # ChargeParameterDiscovery
    max_voltage: float | None = None
    max_current: float | None = None
    max_power: float | None = None
    energy_capacity: float | None = None
    energy_request: float | None = None
    full_soc: int | None = None
    bulk_soc: int | None = None
    # PreCharge / CurrentDemand
    target_voltage: float = 0.0
    target_current: float = 0.0
    bulk_charging_complete: bool | None = None
    charging_complete: bool = False
    remaining_full_s: float | None = None
    remaining_bulk_s: float | None = None
    # PowerDelivery: DIN ReadyToChargeState / ISO ChargeProgress Start (True) or Stop (False)
    power_on: bool = False
    sa_schedule_tuple_id: int = 1  # ISO-2 PowerDelivery


@dataclass(frozen=True, slots=True)
class EvseMessage:
    """A response.  Absent optional fields are ``None``."""

    kind: Kind
    response_code: str = "OK"
    session_id: bytes = b""
    schema_id: int | None = None  # SupportedAppProtocol
    evse_id: bytes = b""  # SessionSetup (DIN hexBinary; ISO-2 string carried as bytes)
    processing: str | None = None  # "Finished" | "Ongoing"
    # DC_EVSEStatus
    status_code: str | None = None
    isolation: str | None = None
    notification: str = "None"
    notification_max_delay: int = 0
    # ChargeParameterDiscovery / CurrentDemand limits
    max_voltage: float | None = None
    max_current: float | None = None
    max_power: float | None = None
    min_voltage: float | None = None
    min_current: float | None = None
    current_regulation_tolerance: float | None = None
    peak_current_ripple: float | None = None
    sa_schedule_tuple_id: int | None = None
    # PreCharge / CurrentDemand / WeldingDetection
    present_voltage: float | None = None
    present_current: float | None = None
    current_limit_achieved: bool = False
    voltage_limit_achieved: bool = False
    power_limit_achieved: bool = False
