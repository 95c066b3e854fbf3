"""Neutral V2G messages (:mod:`.messages`) to and from ISO 15118-20 DC EXI.

The one module that knows the -20 data classes (:mod:`ccs2chademo.exi.iso20_cm`,
:mod:`ccs2chademo.exi.iso20_dc`), as :mod:`.codec` is for DIN/ISO-2: the session machines keep
speaking :class:`EvMessage`/:class:`EvseMessage`, so one machine runs every schema.  What -20
changes besides the names:

* every message is a document root of its own with a ``MessageHeader`` (SessionID and a
  TimeStamp, the caller's clock in whole seconds) instead of a V2G_Message;
* the V2GTP payload type names the message set (:func:`payload_type`: 0x8002 common messages,
  0x8004 DC);
* values are RationalNumbers without units; the EVSE's state is an ``EVSEStatus`` notification
  instead of a DC_EVSEStatusCode.  ``Terminate`` and ``Pause`` become ``EVSE_Shutdown`` (this EV
  does not pause: it stops, as after a DIN EVSE_Shutdown), every other notification no status.
  The charger's side says EVSE_Shutdown as ``Terminate`` (ResponseCode FAILED in a message without
  EVSEStatus), and an EVSE_EmergencyShutdown or EVSE_Malfunction as ResponseCode FAILED with
  ``Terminate`` (-20 has no such status);
* the control mode (``"scheduled"``/``"dynamic"``) picks the ScheduleExchange and DC_ChargeLoop
  variants.  In dynamic mode the charger decides the current: the EV's wish (``target_current``)
  travels as EVMaximumChargeCurrent, its voltage limit (``target_voltage``) as EVMaximumVoltage;
* bidirectional DC (DC_BPT, docs/iso20.md "BPT"): a request with ``max_discharge_current`` set
  takes the BPT member of each substitution group (BPT_DC_CPDReqEnergyTransferMode,
  BPT_Scheduled_/BPT_Dynamic_DC_CLReqControlMode), a response with ``max_discharge_current`` set
  the BPT answers; a scheduled BPT target current below 0 is a discharge.  ServiceDetail of DC_BPT
  adds the BPT parameters (BPTChannel, GeneratorMode, islanding detection).

Nothing is memoised: every call builds its message from its arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import exi
from ..exi import iso20_cm as cm
from ..exi import iso20_dc as dc
from ..exi._bits import pick_multiplier
from .codec import CodecError
from .messages import (
    ISO20_CONTROL_MODES,
    ISO20_DC_BPT_SERVICE,
    ISO20_DC_SERVICE,
    ISO20_NAMES,
    EvMessage,
    EvseMessage,
    Kind,
)
from .v2gtp import PayloadType

DC_SERVICE = ISO20_DC_SERVICE
BPT_SERVICE = ISO20_DC_BPT_SERVICE
#: ISO 15118-20's DC_BPT parameters besides the DC ones (its ServiceDetail parameter table), as the
#: simulated wallbox offers them: BPTChannel 1 = Unified (one channel both ways), GeneratorMode 1 =
#: GridFollowing, GridCodeIslandingDetectionMethod 1 = Active
BPT_PARAMETERS = (("BPTChannel", 1), ("GeneratorMode", 1), ("GridCodeIslandingDetectionMethod", 1))
CONTROL_MODES = ISO20_CONTROL_MODES
_CONTROL_MODE_IDS = {v: k for k, v in CONTROL_MODES.items()}
#: the EV's requested energy and schedule size: what a CHAdeMO car behind the adapter can say
ENERGY_REQUEST_WH = 100_000.0
MAX_SUPPORTING_POINTS = 1024

_DC_KINDS = frozenset({Kind.CHARGE_PARAMETER_DISCOVERY, Kind.CABLE_CHECK, Kind.PRE_CHARGE, Kind.CURRENT_DEMAND,
                       Kind.WELDING_DETECTION})
_KIND_OF_NAME = {ISO20_NAMES.get(k, k.value): k for k in Kind}
_STOPPING_NOTIFICATIONS = frozenset({"Terminate", "Pause"})
_FAILED_STATUSES = frozenset({"EVSE_EmergencyShutdown", "EVSE_Malfunction"})
#: the schema wants at least one service and one parameter set even in a FAILED answer (the EV reads
#: none of it then): what a response without them carries
_PLACEHOLDER_SERVICES = (DC_SERVICE,)
_PLACEHOLDER_PARAMETER_SETS = ((1, "scheduled"),)


def payload_type(kind: Kind) -> int:
    """The V2GTP payload type of ``kind``'s messages."""
    return PayloadType.ISO20_DC if kind in _DC_KINDS else PayloadType.ISO20_COMMON_MESSAGES


def _r(x: float) -> cm.RationalNumber:
    """A RationalNumber: the exponent closest to 0 that is exact, else the finest that fits."""
    try:
        value, exponent = pick_multiplier(float(x), -3, 3, -32768, 32767)
    except exi.ExiError as exc:
        raise CodecError(str(exc)) from None
    return cm.RationalNumber(exponent=exponent, value=value)


def _opt_r(x: float | None) -> cm.RationalNumber | None:
    return None if x is None else _r(x)


def _value(r: cm.RationalNumber | None) -> float | None:
    return None if r is None else round(r.value * 10.0 ** r.exponent, 6)


def _enum(cls: Any, name: str) -> Any:
    try:
        return cls[name]
    except KeyError:
        raise CodecError(f"{name!r} is not a {cls.__name__}") from None


def _encode(message: Any) -> bytes:
    try:
        return bytes(exi.encode(message))
    except exi.ExiError as exc:
        raise CodecError(f"cannot encode {type(message).__name__}: {exc}") from None


def _decode(payload: bytes, schema: str, suffix: str) -> tuple[Kind, Any]:
    try:
        message = exi.decode(bytes(payload), schema)
    except exi.ExiError as exc:
        raise CodecError(f"bad {schema} EXI: {exc}") from None
    name = type(message).__name__
    kind = _KIND_OF_NAME.get(name.removesuffix(suffix))
    if kind is None or not name.endswith(suffix):
        raise CodecError(f"{name} is not a -20 DC {'request' if suffix == 'Req' else 'response'}")
    return kind, message


def _schema(kind: Kind) -> str:
    return "iso20-dc" if kind in _DC_KINDS else "iso20-cm"


def _class(kind: Kind, suffix: str) -> Any:
    cls = getattr(dc if kind in _DC_KINDS else cm, ISO20_NAMES.get(kind, kind.value) + suffix, None)
    if cls is None:
        raise CodecError(f"{kind} is not a -20 message")
    return cls


# ---------------------------------------------------------------------------------------- requests
def _either(plain: Any, bpt: Any, fields: dict[str, Any], side: str, msg: EvMessage | EvseMessage, *,
            required: bool = True, minimum_current: bool = False, **bpt_only: Any) -> Any:
    """The plain member of a substitution group with ``fields``, or — ``msg`` offers a discharge
    (``max_discharge_current`` set) — its BPT member with ``side``'s ("ev"/"evse") discharge
    limits besides; ``required``: the BPT member's minimum discharge power is mandatory (the
    dynamic and ChargeParameterDiscovery modes), ``minimum_current``: its minimum discharge
    current too (ChargeParameterDiscovery)."""
    if msg.max_discharge_current is None:
        return plain(**fields)
    limits = {f"{side}_maximum_discharge_power": _r(msg.max_discharge_power or 0.0),
              f"{side}_maximum_discharge_current": _r(msg.max_discharge_current)}
    if required:
        limits[f"{side}_minimum_discharge_power"] = _r(0)
    if minimum_current:
        limits[f"{side}_minimum_discharge_current"] = _r(0)
    return bpt(**fields, **limits, **bpt_only)


def _v2x_energy(msg: EvMessage, maximum_wh: float) -> dict[str, Any]:
    """EVMinimum/MaximumV2XEnergyRequest of the dynamic modes: both or neither ([V2G20-2681];
    the iso15118 package's SECC refuses a request with only one).  The minimum is the energy down
    to the car's discharge floor (negative above it), the maximum the EV's charge energy request."""
    if msg.v2x_energy_to_floor is None:
        return {}
    return {"ev_minimum_v2_x_energy_request": _r(msg.v2x_energy_to_floor),
            "ev_maximum_v2_x_energy_request": _r(maximum_wh)}


def _loop_mode(msg: EvMessage) -> Any:
    if msg.control_mode == "dynamic":
        energy = _r(ENERGY_REQUEST_WH)
        return _either(dc.Dynamic_DC_CLReqControlMode, dc.BPT_Dynamic_DC_CLReqControlMode, dict(
            ev_target_energy_request=energy, ev_maximum_energy_request=energy, ev_minimum_energy_request=_r(0),
            ev_maximum_charge_power=_r(msg.max_power or 0.0), ev_minimum_charge_power=_r(0),
            ev_maximum_charge_current=_r(msg.target_current), ev_maximum_voltage=_r(msg.target_voltage),
            ev_minimum_voltage=_r(0)), "ev", msg, **_v2x_energy(msg, ENERGY_REQUEST_WH))
    return _either(dc.Scheduled_DC_CLReqControlMode, dc.BPT_Scheduled_DC_CLReqControlMode, dict(
        ev_target_current=_r(msg.target_current), ev_target_voltage=_r(msg.target_voltage),
        ev_maximum_charge_power=_opt_r(msg.max_power), ev_maximum_charge_current=_opt_r(msg.max_current),
        ev_maximum_voltage=_opt_r(msg.max_voltage)), "ev", msg, required=False)


def _power_profile(msg: EvMessage, time_anchor: int) -> cm.EVPowerProfile:
    """PowerDelivery(Start)'s EVPowerProfile: the only place where a -20 EV names the schedule
    tuple it took (Scheduled_EVPPTControlMode); one entry, the EV's maximum power until full.
    PowerToleranceAcceptance (optional in the XSD) says what is true — this EV confirms no power
    tolerance — and the iso15118 package's SECC refuses the message without it (docs/iso20.md)."""
    entries = cm.EVPowerProfileEntryList(ev_power_profile_entry=[cm.PowerScheduleEntry(
        duration=int(msg.remaining_full_s or 0), power=_r(msg.max_power or 0.0))])
    if msg.control_mode == "dynamic":
        return cm.EVPowerProfile(time_anchor=time_anchor, dynamic_evppt_control_mode=cm.Dynamic_EVPPTControlMode(),
                                 ev_power_profile_entries=entries)
    return cm.EVPowerProfile(time_anchor=time_anchor, ev_power_profile_entries=entries,
                             scheduled_evppt_control_mode=cm.Scheduled_EVPPTControlMode(
                                 selected_schedule_tuple_id=msg.sa_schedule_tuple_id,
                                 power_tolerance_acceptance=cm.PowerToleranceAcceptance.PowerToleranceNotConfirmed))


def _request_fields(msg: EvMessage, time_stamp: int) -> dict[str, Any]:
    """The body of ``msg`` as keyword arguments of its -20 request class (``time_stamp``: the
    header's, also PowerDelivery's TimeAnchor)."""
    kind = msg.kind
    if kind is Kind.SESSION_SETUP:
        return {"evccid": msg.evcc_id.hex().upper()}
    if kind is Kind.CONTRACT_AUTHENTICATION:
        return {"selected_authorization_service": cm.Authorization.EIM,
                "eim_a_req_authorization_mode": cm.EIM_AReqAuthorizationMode()}
    if kind is Kind.SERVICE_DETAIL:
        return {"service_id": msg.service_id}
    if kind is Kind.SERVICE_SELECTION:
        return {"selected_energy_transfer_service": cm.SelectedService(
            service_id=msg.service_id, parameter_set_id=msg.parameter_set_id)}
    if kind is Kind.CHARGE_PARAMETER_DISCOVERY:
        return {"dc_cpd_req_energy_transfer_mode": _either(
            dc.DC_CPDReqEnergyTransferMode, dc.BPT_DC_CPDReqEnergyTransferMode, dict(
                ev_maximum_charge_power=_r(msg.max_power or 0.0), ev_minimum_charge_power=_r(0),
                ev_maximum_charge_current=_r(msg.max_current or 0.0), ev_minimum_charge_current=_r(0),
                ev_maximum_voltage=_r(msg.max_voltage or 0.0), ev_minimum_voltage=_r(0), target_soc=msg.full_soc),
            "ev", msg, minimum_current=True)}
    if kind is Kind.SCHEDULE_EXCHANGE:
        energy = _r(msg.energy_request or 0.0)
        if msg.control_mode == "dynamic":
            return {"maximum_supporting_points": MAX_SUPPORTING_POINTS,
                    "dynamic_se_req_control_mode": cm.Dynamic_SEReqControlMode(
                        departure_time=0, minimum_soc=msg.min_soc, target_soc=msg.full_soc,
                        ev_target_energy_request=energy, ev_maximum_energy_request=energy,
                        ev_minimum_energy_request=_r(0), **_v2x_energy(msg, msg.energy_request or 0.0))}
        return {"maximum_supporting_points": MAX_SUPPORTING_POINTS,
                "scheduled_se_req_control_mode": cm.Scheduled_SEReqControlMode(ev_target_energy_request=energy)}
    if kind is Kind.PRE_CHARGE:
        return {"ev_processing": cm.Processing.Ongoing, "ev_present_voltage": _r(msg.present_voltage or 0.0),
                "ev_target_voltage": _r(msg.target_voltage)}
    if kind is Kind.POWER_DELIVERY:
        if not msg.power_on:
            return {"ev_processing": cm.Processing.Finished, "charge_progress": cm.ChargeProgress.Stop,
                    "bpt_channel_selection": cm.ChannelSelection.Discharge if msg.discharge_channel else None}
        return {"ev_processing": cm.Processing.Finished, "charge_progress": cm.ChargeProgress.Start,
                "ev_power_profile": _power_profile(msg, time_stamp),
                "bpt_channel_selection": cm.ChannelSelection.Discharge if msg.discharge_channel else None}
    if kind is Kind.CURRENT_DEMAND:
        # ChargingComplete whenever DisplayParameters go out (docs/iso20.md: a peer's model requires it)
        display = dc.DisplayParameters(present_soc=msg.soc, minimum_soc=msg.min_soc,
                                       charging_complete=msg.charging_complete)
        return {"display_parameters": display,
                "meter_info_requested": False, "ev_present_voltage": _r(msg.present_voltage or 0.0),
                "cl_req_control_mode": _loop_mode(msg)}
    if kind is Kind.WELDING_DETECTION:
        return {"ev_processing": cm.Processing.Ongoing}
    if kind is Kind.SESSION_STOP:
        return {"charging_session": cm.ChargingSession.Terminate}
    return {}  # AuthorizationSetup, ServiceDiscovery, CableCheck: the header only


def encode_request(msg: EvMessage, time_stamp: int) -> bytes:
    """``msg`` as -20 EXI (send it with :func:`payload_type`)."""
    if msg.kind is Kind.SUPPORTED_APP_PROTOCOL:
        raise CodecError("the SupportedAppProtocol handshake is not a -20 message")
    header = cm.MessageHeader(session_id=msg.session_id, time_stamp=time_stamp)
    return _encode(_class(msg.kind, "Req")(header=header, **_request_fields(msg, time_stamp)))


def decode_request(payload: bytes, payload_type_: int) -> EvMessage:
    """A -20 request (the charger's side); the payload type says which schema it is in."""
    schema = "iso20-dc" if payload_type_ == PayloadType.ISO20_DC else "iso20-cm"
    kind, m = _decode(payload, schema, "Req")
    base: dict[str, Any] = {"session_id": m.header.session_id}
    if kind is Kind.SESSION_SETUP:
        base["evcc_id"] = m.evccid.encode()
    elif kind is Kind.SERVICE_DETAIL:
        base["service_id"] = m.service_id
    elif kind is Kind.SERVICE_SELECTION:
        chosen = m.selected_energy_transfer_service
        base.update(service_id=chosen.service_id, parameter_set_id=chosen.parameter_set_id)
    elif kind is Kind.CHARGE_PARAMETER_DISCOVERY:
        mode = m.dc_cpd_req_energy_transfer_mode
        base.update(max_voltage=_value(mode.ev_maximum_voltage), max_current=_value(mode.ev_maximum_charge_current),
                    max_power=_value(mode.ev_maximum_charge_power), **_discharge_limits(mode, "ev"))
    elif kind is Kind.SCHEDULE_EXCHANGE:
        dynamic = m.dynamic_se_req_control_mode
        base["control_mode"] = "dynamic" if dynamic is not None else "scheduled"
        if dynamic is not None:
            base.update(min_soc=dynamic.minimum_soc, v2x_energy_to_floor=_value(dynamic.ev_minimum_v2_x_energy_request))
    elif kind is Kind.PRE_CHARGE:
        base.update(target_voltage=_value(m.ev_target_voltage), present_voltage=_value(m.ev_present_voltage))
    elif kind is Kind.POWER_DELIVERY:
        base.update(power_on=m.charge_progress == cm.ChargeProgress.Start,
                    discharge_channel=m.bpt_channel_selection == cm.ChannelSelection.Discharge)
    elif kind is Kind.CURRENT_DEMAND:
        mode = m.cl_req_control_mode
        display = m.display_parameters
        base.update(present_voltage=_value(m.ev_present_voltage),
                    soc=display.present_soc or 0 if display is not None else 0,
                    min_soc=display.minimum_soc if display is not None else None, **_discharge_limits(mode, "ev"))
        if isinstance(mode, dc.BPT_Dynamic_DC_CLReqControlMode):
            base["v2x_energy_to_floor"] = _value(mode.ev_minimum_v2_x_energy_request)
        if isinstance(mode, (dc.Dynamic_DC_CLReqControlMode, dc.BPT_Dynamic_DC_CLReqControlMode)):
            base.update(control_mode="dynamic", target_current=_value(mode.ev_maximum_charge_current),
                        target_voltage=_value(mode.ev_maximum_voltage), max_power=_value(mode.ev_maximum_charge_power))
        elif isinstance(mode, (dc.Scheduled_DC_CLReqControlMode, dc.BPT_Scheduled_DC_CLReqControlMode)):
            base.update(control_mode="scheduled", target_current=_value(mode.ev_target_current),
                        target_voltage=_value(mode.ev_target_voltage), max_voltage=_value(mode.ev_maximum_voltage),
                        max_current=_value(mode.ev_maximum_charge_current))
        else:
            raise CodecError(f"{type(mode).__name__}: not a DC control mode of this charger")
    return EvMessage(kind, **base)


def _discharge_limits(mode: Any, side: str) -> dict[str, float | None]:
    """The discharge limits of a BPT energy transfer or control mode (``side``: "ev" or "evse"),
    as ``max_discharge_current``/``max_discharge_power``; nothing for a plain DC one."""
    if not type(mode).__name__.startswith("BPT_"):
        return {}
    return {"max_discharge_current": _value(getattr(mode, f"{side}_maximum_discharge_current")),
            "max_discharge_power": _value(getattr(mode, f"{side}_maximum_discharge_power"))}


# --------------------------------------------------------------------------------------- responses
def _evse_status(msg: EvseMessage) -> cm.EVSEStatus | None:
    if msg.status_code in ("EVSE_Shutdown", "EVSE_EmergencyShutdown", "EVSE_Malfunction"):
        return cm.EVSEStatus(notification_max_delay=0, evse_notification=cm.EvseNotification.Terminate)
    return None


def _service_parameters(msg: EvseMessage) -> cm.ServiceParameterList:
    """The DC service's parameter sets: connector, control mode, measurement method; the DC_BPT
    service's add :data:`BPT_PARAMETERS`."""
    extra = BPT_PARAMETERS if msg.service_id == BPT_SERVICE else ()
    return cm.ServiceParameterList(parameter_set=[cm.ParameterSet(parameter_set_id=set_id, parameter=[
        cm.Parameter(name="Connector", int_value=2),
        cm.Parameter(name="ControlMode", int_value=_CONTROL_MODE_IDS[mode]),
        cm.Parameter(name="MeasurementMethod", int_value=1),
        *(cm.Parameter(name=name, int_value=value) for name, value in extra),
    ]) for set_id, mode in msg.parameter_sets or _PLACEHOLDER_PARAMETER_SETS])


def _schedule(msg: EvseMessage, time_stamp: int) -> dict[str, Any]:
    if msg.control_mode == "dynamic":
        return {"dynamic_se_res_control_mode": cm.Dynamic_SEResControlMode()}
    def schedule(power: float) -> cm.ChargingSchedule:  # one 24 h entry
        entries = cm.PowerScheduleEntryList(power_schedule_entry=[cm.PowerScheduleEntry(duration=86_400,
                                                                                         power=_r(power))])
        return cm.ChargingSchedule(power_schedule=cm.PowerSchedule(time_anchor=time_stamp,
                                                                   power_schedule_entries=entries))

    # the discharging schedule's power is written negative (power into the EV is positive, as
    # EVSEPresentCurrent's sign); the EV reads its magnitude
    discharge = msg.schedule_discharge_power
    return {"scheduled_se_res_control_mode": cm.Scheduled_SEResControlMode(schedule_tuple=[cm.ScheduleTuple(
        schedule_tuple_id=msg.sa_schedule_tuple_id or 1, charging_schedule=schedule(msg.max_power or 0.0),
        discharging_schedule=None if discharge is None else schedule(-discharge))])}


def _loop_res_mode(msg: EvseMessage) -> Any:
    if msg.control_mode == "dynamic":
        return _either(dc.Dynamic_DC_CLResControlMode, dc.BPT_Dynamic_DC_CLResControlMode, dict(
            evse_maximum_charge_power=_r(msg.max_power or 0.0), evse_minimum_charge_power=_r(0),
            evse_maximum_charge_current=_r(msg.max_current or 0.0), evse_maximum_voltage=_r(msg.max_voltage or 0.0)),
            "evse", msg, evse_minimum_voltage=_r(msg.min_voltage or 0.0))
    return _either(dc.Scheduled_DC_CLResControlMode, dc.BPT_Scheduled_DC_CLResControlMode, dict(
        evse_maximum_charge_power=_opt_r(msg.max_power), evse_maximum_charge_current=_opt_r(msg.max_current),
        evse_maximum_voltage=_opt_r(msg.max_voltage)), "evse", msg, required=False)


_Fields = Callable[[EvseMessage, int], dict[str, Any]]


def _processing(msg: EvseMessage, time_stamp: int) -> dict[str, Any]:
    return {"evse_processing": _enum(cm.Processing, msg.processing or "Finished")}



_RESPONSE_FIELDS: dict[Kind, _Fields] = {
    Kind.SESSION_SETUP: lambda msg, t: {"evseid": msg.evse_id.decode("ascii", "replace")},
    Kind.AUTHORIZATION_SETUP: lambda msg, t: {
        "authorization_services": [cm.Authorization.EIM], "certificate_installation_service": False,
        "eim_as_res_authorization_mode": cm.EIM_ASResAuthorizationMode()},
    Kind.CONTRACT_AUTHENTICATION: _processing,
    Kind.SERVICE_DISCOVERY: lambda msg, t: {
        "service_renegotiation_supported": False, "energy_transfer_service_list": cm.ServiceList(
            service=[cm.Service(service_id=s, free_service=True) for s in msg.services or _PLACEHOLDER_SERVICES])},
    Kind.SERVICE_DETAIL: lambda msg, t: {"service_id": msg.service_id or DC_SERVICE,
                                         "service_parameter_list": _service_parameters(msg)},
    Kind.CHARGE_PARAMETER_DISCOVERY: lambda msg, t: {"dc_cpd_res_energy_transfer_mode": _either(
        dc.DC_CPDResEnergyTransferMode, dc.BPT_DC_CPDResEnergyTransferMode, dict(
            evse_maximum_charge_power=_r(msg.max_power or 0.0), evse_minimum_charge_power=_r(0),
            evse_maximum_charge_current=_r(msg.max_current or 0.0),
            evse_minimum_charge_current=_r(msg.min_current or 0.0), evse_maximum_voltage=_r(msg.max_voltage or 0.0),
            evse_minimum_voltage=_r(msg.min_voltage or 0.0)), "evse", msg, minimum_current=True)},
    Kind.SCHEDULE_EXCHANGE: lambda msg, t: _processing(msg, t) | _schedule(msg, t),
    Kind.CABLE_CHECK: _processing,
    Kind.PRE_CHARGE: lambda msg, t: {"evse_present_voltage": _r(msg.present_voltage or 0.0)},
    Kind.POWER_DELIVERY: lambda msg, t: {"evse_status": _evse_status(msg)},
    Kind.CURRENT_DEMAND: lambda msg, t: {
        "evse_status": _evse_status(msg), "evse_present_current": _r(msg.present_current or 0.0),
        "evse_present_voltage": _r(msg.present_voltage or 0.0),
        "evse_power_limit_achieved": msg.power_limit_achieved,
        "evse_current_limit_achieved": msg.current_limit_achieved,
        "evse_voltage_limit_achieved": msg.voltage_limit_achieved, "cl_res_control_mode": _loop_res_mode(msg)},
    Kind.WELDING_DETECTION: lambda msg, t: {"evse_present_voltage": _r(msg.present_voltage or 0.0)},
}


def encode_response(msg: EvseMessage, time_stamp: int) -> bytes:
    """``msg`` as -20 EXI (the charger's side)."""
    header = cm.MessageHeader(session_id=msg.session_id, time_stamp=time_stamp)
    build = _RESPONSE_FIELDS.get(msg.kind)  # none: header and ResponseCode only (ServiceSelection, …)
    fields = {} if build is None else build(msg, time_stamp)
    code = msg.response_code
    # a stop the message cannot say as a notification (DC_CableCheckRes, … carry no EVSEStatus) and
    # every emergency: FAILED, the one way a -20 charger refuses there
    if code.startswith("OK") and (msg.status_code in _FAILED_STATUSES or (
            msg.status_code == "EVSE_Shutdown" and "evse_status" not in fields)):
        code = "FAILED"
    return _encode(_class(msg.kind, "Res")(header=header, response_code=_enum(cm.ResponseCode, code), **fields))


def _control_mode(parameter_set: cm.ParameterSet) -> str:
    """A ServiceDetail parameter set's control mode ("unknown" when it names none we know)."""
    ids = [p.int_value for p in parameter_set.parameter if p.name == "ControlMode" and p.int_value is not None]
    return CONTROL_MODES.get(ids[0], "unknown") if ids else "unknown"


def _status_of(m: Any) -> tuple[str | None, str]:
    """(DC_EVSEStatusCode equivalent, notification name) of a response's optional EVSEStatus."""
    status = getattr(m, "evse_status", None)
    if status is None:
        return None, "None"
    name = status.evse_notification.name
    return ("EVSE_Shutdown" if name in _STOPPING_NOTIFICATIONS else None), name


def decode_response(payload: bytes, kind: Kind) -> EvseMessage:
    """A -20 response to a ``kind`` request (the EV's side: the expected kind names the schema)."""
    got, m = _decode(payload, _schema(kind), "Res")
    status, notification = _status_of(m)
    processing = getattr(m, "evse_processing", None)  # Finished is 0: compare with None, not truth
    fields: dict[str, Any] = {"response_code": m.response_code.name, "session_id": m.header.session_id,
                              "status_code": status, "notification": notification,
                              "processing": None if processing is None else processing.name}
    if got is Kind.SESSION_SETUP:
        fields["evse_id"] = m.evseid.encode()
    elif got is Kind.SERVICE_DISCOVERY:
        fields["services"] = tuple(s.service_id for s in m.energy_transfer_service_list.service)
    elif got is Kind.SERVICE_DETAIL:
        fields["service_id"] = m.service_id
        fields["parameter_sets"] = tuple(
            (ps.parameter_set_id, _control_mode(ps)) for ps in m.service_parameter_list.parameter_set)
    elif got is Kind.CHARGE_PARAMETER_DISCOVERY:
        mode = m.dc_cpd_res_energy_transfer_mode
        fields.update(processing="Finished", max_voltage=_value(mode.evse_maximum_voltage),
                      max_current=_value(mode.evse_maximum_charge_current),
                      max_power=_value(mode.evse_maximum_charge_power),
                      min_voltage=_value(mode.evse_minimum_voltage),
                      min_current=_value(mode.evse_minimum_charge_current), **_discharge_limits(mode, "evse"))
    elif got is Kind.SCHEDULE_EXCHANGE:
        scheduled = m.scheduled_se_res_control_mode
        fields["control_mode"] = "dynamic" if m.dynamic_se_res_control_mode is not None else (
            "scheduled" if scheduled is not None else None)
        if scheduled is not None and scheduled.schedule_tuple:
            chosen = scheduled.schedule_tuple[0]
            fields["sa_schedule_tuple_id"] = chosen.schedule_tuple_id
            if chosen.discharging_schedule is not None:
                entries = chosen.discharging_schedule.power_schedule.power_schedule_entries.power_schedule_entry
                fields["schedule_discharge_power"] = abs(_value(entries[0].power) or 0.0)
    elif got in (Kind.PRE_CHARGE, Kind.WELDING_DETECTION):
        fields["present_voltage"] = _value(m.evse_present_voltage)
    elif got is Kind.CURRENT_DEMAND:
        mode = m.cl_res_control_mode
        fields.update(present_voltage=_value(m.evse_present_voltage), present_current=_value(m.evse_present_current),
                      current_limit_achieved=m.evse_current_limit_achieved,
                      voltage_limit_achieved=m.evse_voltage_limit_achieved,
                      power_limit_achieved=m.evse_power_limit_achieved,
                      max_voltage=_value(getattr(mode, "evse_maximum_voltage", None)),
                      max_current=_value(getattr(mode, "evse_maximum_charge_current", None)),
                      max_power=_value(getattr(mode, "evse_maximum_charge_power", None)),
                      **_discharge_limits(mode, "evse"))
    return EvseMessage(got, **fields)
