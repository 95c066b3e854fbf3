"""The V2G messages of a DC EIM session in one neutral model, for DIN 70121, ISO 15118-2 and -20.

The session machines (:mod:`.evcc`, :mod:`.secc`) speak :class:`EvMessage` (requests, the car's
side) and :class:`EvseMessage` (responses, the charger's side) and never see the EXI data
classes: :mod:`.codec` is the one place that maps this model to and from the generated DIN/ISO-2
types.  That keeps codec details (field names, enum numbering, PhysicalValue multipliers) in one
module and lets one machine run either schema (ISO 15118-20: :mod:`.codec20`, the same way; its
DC messages are the DIN kinds, its own setup messages four more kinds).

Message kinds are named after the **DIN** messages without Req/Res (``"CableCheck"``); the ISO-2
names of the two that differ are in :data:`ISO_NAMES`.  Enumerated values travel as their schema
names (``"OK_NewSessionEstablished"``, ``"EVSE_EmergencyShutdown"``) because the DIN and ISO-2
ResponseCode enums number differently beyond index 19.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Schema(StrEnum):
    DIN = "din"
    ISO2 = "iso2"
    ISO20 = "iso20"  #: ISO 15118-20 DC (its own codec module, :mod:`.codec20`)


#: the schemas of :mod:`.codec` (DIN and ISO-2 share one message model and one codec module)
CODEC_SCHEMAS = (Schema.DIN, Schema.ISO2)


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
    # ISO 15118-20 only (its Authorization is CONTRACT_AUTHENTICATION, its DC_ChargeLoop CURRENT_DEMAND)
    AUTHORIZATION_SETUP = "AuthorizationSetup"
    SERVICE_DETAIL = "ServiceDetail"
    SERVICE_SELECTION = "ServiceSelection"
    SCHEDULE_EXCHANGE = "ScheduleExchange"


#: ISO 15118-2 names where they differ from DIN (ccs-ev.md §10).
ISO_NAMES = {
    Kind.SERVICE_PAYMENT_SELECTION: "PaymentServiceSelection",
    Kind.CONTRACT_AUTHENTICATION: "Authorization",
}

#: the kinds only ISO 15118-20 has
ISO20_ONLY_KINDS = frozenset({Kind.AUTHORIZATION_SETUP, Kind.SERVICE_DETAIL, Kind.SERVICE_SELECTION,
                              Kind.SCHEDULE_EXCHANGE})
#: ISO 15118-20 message names where they differ from the kind (its DC messages carry a ``DC_``
#: prefix, its charging loop is DC_ChargeLoop).
ISO20_NAMES = {
    Kind.CONTRACT_AUTHENTICATION: "Authorization",
    Kind.CHARGE_PARAMETER_DISCOVERY: "DC_ChargeParameterDiscovery",
    Kind.CABLE_CHECK: "DC_CableCheck",
    Kind.PRE_CHARGE: "DC_PreCharge",
    Kind.CURRENT_DEMAND: "DC_ChargeLoop",
    Kind.WELDING_DETECTION: "DC_WeldingDetection",
}

#: ISO 15118-20 energy transfer services (its ServiceID table): DC, and bidirectional DC (DC_BPT)
ISO20_DC_SERVICE: Final = 2
ISO20_DC_BPT_SERVICE: Final = 6
#: ISO 15118-20 ServiceDetail parameter "ControlMode": 1 scheduled, 2 dynamic
ISO20_CONTROL_MODES: Final = {1: "scheduled", 2: "dynamic"}

DIN_NAMESPACE = "urn:din:70121:2012:MsgDef"
ISO2_NAMESPACE = "urn:iso:15118:2:2013:MsgDef"
#: the DC namespace of ISO 15118-20 (its SupportedAppProtocol entry names the energy transfer
#: class; the messages themselves use the CommonMessages and DC schemas)
ISO20_DC_NAMESPACE = "urn:iso:std:iso:15118:-20:DC"

#: Response codes that accept a message (SessionSetup also accepts OK_NewSessionEstablished).
#: ISO 15118-20 adds OK_PowerToleranceConfirmed; its WARNING_* codes are not accepted (the EV
#: stops safely rather than go on with a warning it cannot act on).
OK_CODES = frozenset({"OK", "OK_NewSessionEstablished", "OK_OldSessionJoined", "OK_CertificateExpiresSoon",
                      "OK_PowerToleranceConfirmed"})
SAP_OK_CODES = frozenset({"OK_SuccessfulNegotiation", "OK_SuccessfulNegotiationWithMinorDeviation"})

#: EVSEProcessing: the one literal that lets the EV move on ...
PROCESSING_FINISHED = "Finished"
#: ... and every literal that keeps it polling.  ISO 15118-2 adds Ongoing_WaitingForCustomerInteraction
#: (XSD EVSEProcessingType: a charger waiting for an RFID card or an app) to DIN's Ongoing.  Anything
#: else (an undefined index) is neither: the EV stops safely rather than guess.
PROCESSING_ONGOING = frozenset({"Ongoing", "Ongoing_WaitingForCustomerInteraction"})


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
        if self.namespace == ISO20_DC_NAMESPACE:
            return Schema.ISO20
        return None


DIN_PROTOCOL = AppProtocol(DIN_NAMESPACE, 2, 0, 1, 1)
ISO2_PROTOCOL = AppProtocol(ISO2_NAMESPACE, 2, 0, 2, 2)
#: ISO 15118-20 DC, version 1.0; its priority is placed among the others by the EVCC's config
ISO20_DC_PROTOCOL = AppProtocol(ISO20_DC_NAMESPACE, 1, 0, 3, 3)


@dataclass(slots=True, init=False, unsafe_hash=True)
class EvMessage:
    """A request.  Fields a kind does not carry stay at their defaults and are ignored.

    ``None`` means *absent* for the optional fields (presence changes the EXI stream, exi.md
    §4.5), so "send it as false/0" and "leave it out" stay distinct.
    """

    kind: Final[Kind]
    session_id: Final[bytes]
    protocols: Final[tuple[AppProtocol, ...]]
    evcc_id: Final[bytes]
    # DC_EVStatus
    ev_ready: Final[bool]
    cabin_conditioning: Final[bool | None]
    ress_conditioning: Final[bool | None]
    error_code: Final[str]
    soc: Final[int]
    # ChargeParameterDiscovery
    max_voltage: Final[float | None]
    max_current: Final[float | None]
    max_power: Final[float | None]
    energy_capacity: Final[float | None]
    energy_request: Final[float | None]
    full_soc: Final[int | None]
    bulk_soc: Final[int | None]
    # PreCharge / CurrentDemand
    target_voltage: Final[float]
    target_current: Final[float]
    bulk_charging_complete: Final[bool | None]
    charging_complete: Final[bool]
    remaining_full_s: Final[float | None]
    remaining_bulk_s: Final[float | None]
    # PowerDelivery: DIN ReadyToChargeState / ISO ChargeProgress Start (True) or Stop (False)
    power_on: Final[bool]
    sa_schedule_tuple_id: Final[int]
    # ISO 15118-20: EVPresentVoltage (PreCharge, DC_ChargeLoop), the control mode ("scheduled" or
    # "dynamic": ScheduleExchange, DC_ChargeLoop) and the service chosen (ServiceDetail/Selection)
    present_voltage: Final[float | None]
    control_mode: Final[str | None]
    service_id: Final[int]
    parameter_set_id: Final[int]
    # ISO 15118-20 DC_BPT (None: a plain DC request): what may be taken from the battery
    # (ChargeParameterDiscovery, DC_ChargeLoop), the car's discharge floor as MinimumSOC and the
    # energy to it (EVMinimumV2XEnergyRequest: negative above the floor), the PowerDelivery channel
    max_discharge_current: Final[float | None]
    max_discharge_power: Final[float | None]
    min_soc: Final[int | None]
    v2x_energy_to_floor: Final[float | None]
    discharge_channel: Final[bool]

    def __init__(
        self,
        kind: Kind,
        session_id: bytes = b"",
        protocols: tuple[AppProtocol, ...] = (),
        evcc_id: bytes = b"",
        ev_ready: bool = False,
        cabin_conditioning: bool | None = None,
        ress_conditioning: bool | None = None,
        error_code: str = "NO_ERROR",
        soc: int = 0,
        max_voltage: float | None = None,
        max_current: float | None = None,
        max_power: float | None = None,
        energy_capacity: float | None = None,
        energy_request: float | None = None,
        full_soc: int | None = None,
        bulk_soc: int | None = None,
        target_voltage: float = 0.0,
        target_current: float = 0.0,
        bulk_charging_complete: bool | None = None,
        charging_complete: bool = False,
        remaining_full_s: float | None = None,
        remaining_bulk_s: float | None = None,
        power_on: bool = False,
        sa_schedule_tuple_id: int = 1,
        present_voltage: float | None = None,
        control_mode: str | None = None,
        service_id: int = 0,
        parameter_set_id: int = 0,
        max_discharge_current: float | None = None,
        max_discharge_power: float | None = None,
        min_soc: int | None = None,
        v2x_energy_to_floor: float | None = None,
        discharge_channel: bool = False,
    ) -> None:
        self.kind = kind
        self.session_id = session_id
        self.protocols = protocols
        self.evcc_id = evcc_id
        self.ev_ready = ev_ready
        self.cabin_conditioning = cabin_conditioning
        self.ress_conditioning = ress_conditioning
        self.error_code = error_code
        self.soc = soc
        self.max_voltage = max_voltage
        self.max_current = max_current
        self.max_power = max_power
        self.energy_capacity = energy_capacity
        self.energy_request = energy_request
        self.full_soc = full_soc
        self.bulk_soc = bulk_soc
        self.target_voltage = target_voltage
        self.target_current = target_current
        self.bulk_charging_complete = bulk_charging_complete
        self.charging_complete = charging_complete
        self.remaining_full_s = remaining_full_s
        self.remaining_bulk_s = remaining_bulk_s
        self.power_on = power_on
        self.sa_schedule_tuple_id = sa_schedule_tuple_id
        self.present_voltage = present_voltage
        self.control_mode = control_mode
        self.service_id = service_id
        self.parameter_set_id = parameter_set_id
        self.max_discharge_current = max_discharge_current
        self.max_discharge_power = max_discharge_power
        self.min_soc = min_soc
        self.v2x_energy_to_floor = v2x_energy_to_floor
        self.discharge_channel = discharge_channel


@dataclass(slots=True, init=False, unsafe_hash=True)
class EvseMessage:
    """A response.  Absent optional fields are ``None``."""

    kind: Final[Kind]
    response_code: Final[str]
    session_id: Final[bytes]
    schema_id: Final[int | None]
    evse_id: Final[bytes]
    processing: Final[str | None]
    # DC_EVSEStatus
    status_code: Final[str | None]
    isolation: Final[str | None]
    notification: Final[str]
    notification_max_delay: Final[int]
    # ChargeParameterDiscovery / CurrentDemand limits
    max_voltage: Final[float | None]
    max_current: Final[float | None]
    max_power: Final[float | None]
    min_voltage: Final[float | None]
    min_current: Final[float | None]
    current_regulation_tolerance: Final[float | None]
    peak_current_ripple: Final[float | None]
    sa_schedule_tuple_id: Final[int | None]
    # PreCharge / CurrentDemand / WeldingDetection
    present_voltage: Final[float | None]
    present_current: Final[float | None]
    current_limit_achieved: Final[bool]
    voltage_limit_achieved: Final[bool]
    power_limit_achieved: Final[bool]
    # ISO 15118-20: the energy transfer services offered (ServiceDiscovery), the parameter sets of
    # one (ServiceDetail: (ParameterSetID, control mode)), the control mode answered (ScheduleExchange)
    services: Final[tuple[int, ...]]
    parameter_sets: Final[tuple[tuple[int, str], ...]]
    control_mode: Final[str | None]
    # ISO 15118-20 DC_BPT: the service a ServiceDetailRes describes; the charger's discharge limits
    # (ChargeParameterDiscovery, DC_ChargeLoop; None: a plain DC answer) and the discharge power of
    # its schedule (ScheduleExchange, scheduled mode: the DischargingSchedule's first entry, > 0)
    service_id: Final[int]
    max_discharge_current: Final[float | None]
    max_discharge_power: Final[float | None]
    schedule_discharge_power: Final[float | None]

    def __init__(
        self,
        kind: Kind,
        response_code: str = "OK",
        session_id: bytes = b"",
        schema_id: int | None = None,
        evse_id: bytes = b"",
        processing: str | None = None,
        status_code: str | None = None,
        isolation: str | None = None,
        notification: str = "None",
        notification_max_delay: int = 0,
        max_voltage: float | None = None,
        max_current: float | None = None,
        max_power: float | None = None,
        min_voltage: float | None = None,
        min_current: float | None = None,
        current_regulation_tolerance: float | None = None,
        peak_current_ripple: float | None = None,
        sa_schedule_tuple_id: int | None = None,
        present_voltage: float | None = None,
        present_current: float | None = None,
        current_limit_achieved: bool = False,
        voltage_limit_achieved: bool = False,
        power_limit_achieved: bool = False,
        services: tuple[int, ...] = (),
        parameter_sets: tuple[tuple[int, str], ...] = (),
        control_mode: str | None = None,
        service_id: int = 0,
        max_discharge_current: float | None = None,
        max_discharge_power: float | None = None,
        schedule_discharge_power: float | None = None,
    ) -> None:
        self.kind = kind
        self.response_code = response_code
        self.session_id = session_id
        self.schema_id = schema_id
        self.evse_id = evse_id
        self.processing = processing
        self.status_code = status_code
        self.isolation = isolation
        self.notification = notification
        self.notification_max_delay = notification_max_delay
        self.max_voltage = max_voltage
        self.max_current = max_current
        self.max_power = max_power
        self.min_voltage = min_voltage
        self.min_current = min_current
        self.current_regulation_tolerance = current_regulation_tolerance
        self.peak_current_ripple = peak_current_ripple
        self.sa_schedule_tuple_id = sa_schedule_tuple_id
        self.present_voltage = present_voltage
        self.present_current = present_current
        self.current_limit_achieved = current_limit_achieved
        self.voltage_limit_achieved = voltage_limit_achieved
        self.power_limit_achieved = power_limit_achieved
        self.services = services
        self.parameter_sets = parameter_sets
        self.control_mode = control_mode
        self.service_id = service_id
        self.max_discharge_current = max_discharge_current
        self.max_discharge_power = max_discharge_power
        self.schedule_discharge_power = schedule_discharge_power
