"""Neutral V2G messages (:mod:`.messages`) to and from EXI via :mod:`ccs2chademo.exi`.

The only module that knows the generated DIN/ISO-2/SAP data classes.  Requests are built with
every field the spec asks for (ccs-ev.md §9 and §16 rule 9: the "optional" ones chargers expect) and
the Unit of every PhysicalValue (mandatory in ISO-2, harmless in DIN); responses are read
field by field with absent optional fields as ``None``.  Every EXI failure, an unknown message,
a request where a response was expected and a value that does not fit becomes a
:class:`CodecError`.

Every message is encoded and decoded as it is: a real adapter's measured values change every
message, so a cache would only hide the real cost (issue 17).  :class:`Codec` is the seam the
machines take (``exi=``, default :data:`EXI`); the simulation passes its own cache there
(``sim/codec_cache.py``), where a CurrentDemand loop repeats the same messages.
"""

from __future__ import annotations

import contextlib
import functools
import math
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any, Final, Protocol, final

from .. import exi
from ..exi import apphand
from ..exi._bits import pick_multiplier
from .messages import ISO_NAMES, AppProtocol, EvMessage, EvseMessage, Kind, Schema


class CodecError(ValueError):
    """A message that cannot be decoded or encoded (bad EXI, unknown message, value out of range)."""


#: DIN through the compiled twin of its generated module where the build made one (exi.codec_module):
#: the same bytes and errors as the pure module, several times faster; the names below that need a
#: DIN class take it from this module, never from ``exi.din`` directly
_DIN: Final[ModuleType] = exi.codec_module("din")
#: the schemas' modules, ISO-2 added by :func:`_load` at its first message (a DIN session never
#: imports it: ≈ 1.9 MB, docs/perf.md)
_MODULES: Final[dict[Schema, ModuleType]] = {Schema.DIN: _DIN}

#: Generated class name (without Req/Res) → neutral kind, for both schemas.
_KIND_OF_NAME: Final[dict[str, Kind]] = {k.value: k for k in Kind} | {v: k for k, v in ISO_NAMES.items()}
_KIND_OF_NAME["SessionStop"] = Kind.SESSION_STOP  # DIN names SessionStopReq's type "SessionStopType"


def _module(schema: Schema | None) -> ModuleType:
    if schema is None:
        raise CodecError("no schema negotiated yet")
    module = _MODULES.get(schema)
    return module if module is not None else _load(schema)


def _load(schema: Schema) -> ModuleType:
    """Import a schema's module at its first message and add its classes to the lookup tables."""
    global _V2G_MESSAGES, _DC_EV_CHARGE_PARAMETER, _DC_EV_POWER_DELIVERY_PARAMETER, _DC_EVSE_STATUS
    global _DC_EVSE_CHARGE_PARAMETER
    module = _MODULES[schema] = exi.codec_module(schema.value)
    _REQUEST_KINDS.update(_kinds(module, "Req"))
    _RESPONSE_KINDS.update(_kinds(module, "Res"))
    _V2G_MESSAGES = (*_V2G_MESSAGES, module.V2G_Message)
    _DC_EV_CHARGE_PARAMETER = (*_DC_EV_CHARGE_PARAMETER, module.DC_EVChargeParameter)
    _DC_EV_POWER_DELIVERY_PARAMETER = (*_DC_EV_POWER_DELIVERY_PARAMETER, module.DC_EVPowerDeliveryParameter)
    _DC_EVSE_STATUS = (*_DC_EVSE_STATUS, module.DC_EVSEStatus)
    _DC_EVSE_CHARGE_PARAMETER = (*_DC_EVSE_CHARGE_PARAMETER, module.DC_EVSEChargeParameter)
    return module


def _enum_name(value: Any) -> str:
    # ``_name_`` is the member's plain attribute; ``.name`` is a property (a Python-level call)
    return str(value._name_).rstrip("_")  # EVSENotification.None_ → "None"


#: enum class → {name: member}, filled on first use: the enum class's ``[name]`` is a Python-level
#: call, and a session looks up the same few names (units, status codes) in every message
_MEMBERS: Final[dict[type, dict[str, Any]]] = {}


def _members(cls: Any) -> dict[str, Any]:
    """The enum class's members by name (``None`` also for ``None_``), made once."""
    members = _MEMBERS.get(cls)
    if members is None:
        members = _MEMBERS[cls] = {member._name_: member for member in cls}
        if "None_" in members:
            members["None"] = members["None_"]
    return members


def _enum(cls: Any, name: str) -> Any:
    member = _members(cls).get(name)
    if member is not None:
        return member
    try:  # the ``UNDEFINED_<n>`` pseudo-members (byte-exact with OpenV2G, see OpenEnum)
        return cls.from_name("None_" if name == "None" else name)
    except KeyError:
        raise CodecError(f"{name!r} is not a {cls.__name__}") from None


@final
class _SchemaTables:
    """A schema module's entry points, builders and the enumeration members the requests and
    responses name, looked up once.

    ``m.encode_message``, ``m.physical_value``, ``m.UnitSymbol``, ``m.ResponseCode``… are attribute
    reads on a module (a dictionary lookup each) — two dozen per CurrentDemand exchange; here each
    is an attribute of a compiled object, or one lookup by module and two by name."""

    def __init__(self, m: ModuleType) -> None:
        self.module = m
        self.encode_message: Callable[[bytes, Any], bytes] = m.encode_message
        self.physical_value: Callable[[int, Any, int], Any] = m.physical_value
        # the keyword builders (tools/gen_exi.py KEYWORD_BUILDERS)
        self.dc_ev_status: Callable[..., Any] = m.dc_ev_status
        self.dc_evse_status: Callable[..., Any] = m.dc_evse_status
        self.current_demand_req: Callable[..., Any] = m.current_demand_req
        self.current_demand_res: Callable[..., Any] = m.current_demand_res
        #: enumeration name → :func:`_members` of the module's enumeration of that name
        self.enums: dict[str, dict[str, Any]] = {}

    def member(self, enum: str, name: str) -> Any:
        """``_enum(m.<enum>, name)`` without reading the module's attribute each time."""
        members = self.enums.get(enum)
        if members is None:
            members = self.enums[enum] = _members(getattr(self.module, enum))
        member = members.get(name)
        return member if member is not None else _enum(getattr(self.module, enum), name)


_TABLES: Final[dict[ModuleType, _SchemaTables]] = {}


def _tables(m: ModuleType) -> _SchemaTables:
    tables = _TABLES.get(m)
    if tables is None:
        tables = _TABLES[m] = _SchemaTables(m)
    return tables


def _member(m: ModuleType, enum: str, name: str) -> Any:
    """The member ``name`` of the schema's enumeration ``enum`` (:class:`CodecError` if none)."""
    return _tables(m).member(enum, name)


def _pv(m: ModuleType, x: float, unit: str) -> Any:
    """A PhysicalValue with the multiplier closest to 0 that represents ``x`` exactly.

    The common cases (a value with up to 3 decimals that fits a short; a whole number that fits one
    at multiplier 1, 2 or 3, as a power in W) are found here with one rounding: ``x`` in thousandths,
    then the coarsest multiplier that keeps it whole.  Anything
    else goes to the codec's general :func:`pick_multiplier`, which makes the same choice, only
    slower (``tests/v2g/test_codec.py`` compares the two) — this runs up to seven times per
    CurrentDemand message, so it is written with what mypyc compiles to plain C: ``math.isnan``,
    ``math.isinf`` and ``math.floor`` of a float (``math.isfinite`` and ``round`` are calls of
    Python functions).  ``floor(scaled + 0.5)`` differs from ``round(scaled)`` only within a
    rounding error of a half, far from any whole number, where the exactness test fails either way.
    """
    tables = _tables(m)
    symbol = tables.member("UnitSymbol", unit)
    build = tables.physical_value
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        raise CodecError(f"physical value {x} is not a number")
    scaled = x * 1000.0
    thousandths = math.floor(scaled + 0.5)
    size = scaled if scaled >= 0.0 else -scaled
    error = thousandths - scaled
    if (error if error >= 0.0 else -error) <= 1e-9 * (size if size > 1.0 else 1.0):
        # the coarsest of the multipliers 0, -1, -2, -3 (10^(3 + multiplier) thousandths) that divides
        # one assignment per name: compiled, ``a, b = x, y`` builds and unpacks a tuple
        if thousandths % 10 != 0:
            multiplier = -3
            value = thousandths
        elif thousandths % 100 != 0:
            multiplier = -2
            value = thousandths // 10
        elif thousandths % 1000 != 0:
            multiplier = -1
            value = thousandths // 100
        else:
            multiplier = 0
            value = thousandths // 1000
        if -32768 <= value <= 32767:
            return build(multiplier, symbol, value)
        if multiplier == 0:  # a whole number beyond a short (a power in W): the multipliers 1, 2, 3 in turn
            if value % 10 == 0 and -32768 <= value // 10 <= 32767:
                return build(1, symbol, value // 10)
            if value % 100 == 0 and -32768 <= value // 100 <= 32767:
                return build(2, symbol, value // 100)
            if value % 1000 == 0 and -32768 <= value // 1000 <= 32767:
                return build(3, symbol, value // 1000)
    value, multiplier = _general_pick(x)
    return build(multiplier, symbol, value)


@functools.lru_cache(maxsize=256)
def _general_pick(x: float) -> tuple[int, int]:
    """(value, multiplier) of a PhysicalValue for values outside the fast path (e.g. 100 kW)."""
    try:
        return pick_multiplier(x, -3, 3, -32768, 32767)
    except exi.ExiError as exc:
        raise CodecError(str(exc)) from None


def _opt_pv(m: ModuleType, x: float | None, unit: str) -> Any:
    return None if x is None else _pv(m, x, unit)


def _value(pv: Any) -> float:
    """Value × 10^Multiplier as the float nearest the decimal it denotes (0.3, not 3 × 0.1 = 0.30000000000000004).

    ``value / 10.0**-multiplier`` is one correctly rounded division, so it *is* that nearest float
    (the same result as rounding ``value × 0.1`` to 6 decimals, the general case, without the
    ``round``; ``tests/v2g/test_codec.py`` checks every short value at every multiplier).  The
    divisors are spelt out: compiled, the typed locals and literal divisors are plain C.
    """
    multiplier: int = pv.multiplier
    value: int = pv.value
    if multiplier == 0:
        return float(value)
    if multiplier == -1:
        return value / 10.0
    if multiplier == -2:
        return value / 100.0
    if multiplier == -3:
        return value / 1000.0
    if 1 <= multiplier <= 3:  # a whole number (value × 10^multiplier in ints is exact, so is its float)
        return float(value * (10 if multiplier == 1 else 100 if multiplier == 2 else 1000))
    return round(float(value * 10.0**multiplier), 6)


def _opt_value(pv: Any) -> float | None:
    """:func:`_value` of an optional PhysicalValue (None: absent)."""
    return None if pv is None else _value(pv)


def _document(m: ModuleType, session_id: bytes, body: Any) -> bytes:
    try:  # the module's own entry point: ``exi.encode`` would look the module up again by name
        return bytes(_tables(m).encode_message(session_id, body))
    except exi.ExiError as exc:
        raise CodecError(f"cannot encode {type(body).__name__}: {exc}") from None


def _decode(payload: bytes, schema: Schema | None, suffix: str) -> tuple[Kind, Any, bytes]:
    module = apphand if schema is None else _module(schema)
    try:
        # a ``bytes`` message with the one header these schemas use goes straight to the module:
        # ``exi.decode_with`` (interpreted) checks exactly that first, and diagnoses anything else
        if type(payload) is bytes and len(payload) > 0 and payload[0] == 0x80:
            doc = module.decode_document(payload)
        else:
            doc = exi.decode_with(module, payload)
    except exi.ExiError as exc:
        raise CodecError(f"bad {'apphand' if schema is None else schema.value} EXI: {exc}") from None
    if schema is None:
        wanted = apphand.SupportedAppProtocolReq if suffix == "Req" else apphand.SupportedAppProtocolRes
        if not isinstance(doc, wanted):
            raise CodecError(f"expected SupportedAppProtocol{suffix}, got {type(doc).__name__}")
        return Kind.SUPPORTED_APP_PROTOCOL, doc, b""
    if not isinstance(doc, _V2G_MESSAGES):
        raise CodecError(f"expected a V2G_Message, got {type(doc).__name__}")
    body = doc.body.body_element
    kind = (_REQUEST_KINDS if suffix == "Req" else _RESPONSE_KINDS).get(type(body))
    if kind is not None:
        return kind, body, bytes(doc.header.session_id)
    return _body_kind(type(body).__name__, suffix), body, bytes(doc.header.session_id)


def _body_kind(cls: str, suffix: str) -> Kind:
    """The neutral kind of a body element by its generated class name (or the error saying why not;
    an empty Body is ``NoneType``)."""
    if not (cls.endswith(suffix) or (suffix == "Req" and cls == "SessionStop")):
        raise CodecError(f"expected a {suffix} message, got {cls}")
    base = cls[: -len(suffix)] if cls.endswith(suffix) else cls
    kind = _KIND_OF_NAME.get(base)
    if kind is None:
        raise CodecError(f"{cls} is not part of a DC EIM session")
    return kind


def _kinds(module: ModuleType, suffix: str) -> dict[type, Kind]:
    """Generated body class → kind for every class of ``module`` :func:`_body_kind` accepts (looked
    up per message)."""
    table: dict[type, Kind] = {}
    for cls in vars(module).values():
        if isinstance(cls, type) and getattr(cls, "SCHEMA", None) == module.SCHEMA:
            with contextlib.suppress(CodecError):  # not a body element of this direction
                table[cls] = _body_kind(cls.__name__, suffix)
    return table


# the classes of every loaded schema that a message is checked against (_load adds ISO-2's)
_V2G_MESSAGES: tuple[Any, ...] = (_DIN.V2G_Message,)
_REQUEST_KINDS = _kinds(_DIN, "Req")
_DC_EV_CHARGE_PARAMETER: tuple[Any, ...] = (_DIN.DC_EVChargeParameter,)
_DC_EV_POWER_DELIVERY_PARAMETER: tuple[Any, ...] = (_DIN.DC_EVPowerDeliveryParameter,)
_RESPONSE_KINDS = _kinds(_DIN, "Res")


# ------------------------------------------------------------------------------ requests (EV)


def _ev_status(m: ModuleType, msg: EvMessage) -> Any:
    # ``dc_ev_status``, ``dc_evse_status``, ``current_demand_req``, ``current_demand_res``: the generated
    # modules' builders of the records of every CurrentDemand exchange (tools/gen_exi.py KEYWORD_BUILDERS)
    error = _member(m, "DC_EVErrorCode", msg.error_code)
    build = _tables(m).dc_ev_status
    if m is _DIN:
        return build(ev_ready=msg.ev_ready, ev_error_code=error, evresssoc=msg.soc,
                     ev_cabin_conditioning=msg.cabin_conditioning, evress_conditioning=msg.ress_conditioning)
    return build(ev_ready=msg.ev_ready, ev_error_code=error, evresssoc=msg.soc)


def _request_body(m: ModuleType, msg: EvMessage) -> Any:
    kind = msg.kind
    iso = m is not _DIN
    if kind is Kind.SESSION_SETUP:
        return m.SessionSetupReq(evccid=msg.evcc_id)
    if kind is Kind.SERVICE_DISCOVERY:
        return m.ServiceDiscoveryReq()
    if kind is Kind.SERVICE_PAYMENT_SELECTION:
        cls = m.PaymentServiceSelectionReq if iso else m.ServicePaymentSelectionReq
        return cls(selected_payment_option=m.PaymentOption.ExternalPayment,
                   selected_service_list=m.SelectedServiceList(selected_service=[m.SelectedService(service_id=1)]))
    if kind is Kind.CONTRACT_AUTHENTICATION:
        return m.AuthorizationReq() if iso else m.ContractAuthenticationReq()
    if kind is Kind.CHARGE_PARAMETER_DISCOVERY:
        param = m.DC_EVChargeParameter(
            dc_ev_status=_ev_status(m, msg), ev_maximum_current_limit=_pv(m, msg.max_current or 0.0, "A"),
            ev_maximum_power_limit=_opt_pv(m, msg.max_power, "W"),
            ev_maximum_voltage_limit=_pv(m, msg.max_voltage or 0.0, "V"),
            ev_energy_capacity=_opt_pv(m, msg.energy_capacity, "Wh"),
            ev_energy_request=_opt_pv(m, msg.energy_request, "Wh"), full_soc=msg.full_soc, bulk_soc=msg.bulk_soc)
        if iso:
            return m.ChargeParameterDiscoveryReq(requested_energy_transfer_mode=m.EnergyTransferMode.DC_extended,
                                                 ev_charge_parameter=param)
        return m.ChargeParameterDiscoveryReq(
            ev_requested_energy_transfer_type=m.EVRequestedEnergyTransfer.DC_extended, ev_charge_parameter=param)
    if kind is Kind.CABLE_CHECK:
        return m.CableCheckReq(dc_ev_status=_ev_status(m, msg))
    if kind is Kind.PRE_CHARGE:
        return m.PreChargeReq(dc_ev_status=_ev_status(m, msg), ev_target_voltage=_pv(m, msg.target_voltage, "V"),
                              ev_target_current=_pv(m, msg.target_current, "A"))
    if kind is Kind.POWER_DELIVERY:
        param = m.DC_EVPowerDeliveryParameter(dc_ev_status=_ev_status(m, msg),
                                              bulk_charging_complete=msg.bulk_charging_complete,
                                              charging_complete=msg.charging_complete)
        if iso:
            progress = m.ChargeProgress.Start if msg.power_on else m.ChargeProgress.Stop
            return m.PowerDeliveryReq(charge_progress=progress, sa_schedule_tuple_id=msg.sa_schedule_tuple_id,
                                      ev_power_delivery_parameter=param)
        # rule 10: ReadyToChargeState is a DIN boolean, never the ISO enum value
        return m.PowerDeliveryReq(ready_to_charge_state=bool(msg.power_on), ev_power_delivery_parameter=param)
    if kind is Kind.CURRENT_DEMAND:
        return _tables(m).current_demand_req(
            dc_ev_status=_ev_status(m, msg), ev_target_current=_pv(m, msg.target_current, "A"),
            ev_maximum_voltage_limit=_opt_pv(m, msg.max_voltage, "V"),
            ev_maximum_current_limit=_opt_pv(m, msg.max_current, "A"),
            ev_maximum_power_limit=_opt_pv(m, msg.max_power, "W"),
            bulk_charging_complete=msg.bulk_charging_complete, charging_complete=msg.charging_complete,
            remaining_time_to_full_so_c=_opt_pv(m, msg.remaining_full_s, "s"),
            remaining_time_to_bulk_so_c=_opt_pv(m, msg.remaining_bulk_s, "s"),
            ev_target_voltage=_pv(m, msg.target_voltage, "V"))
    if kind is Kind.WELDING_DETECTION:
        return m.WeldingDetectionReq(dc_ev_status=_ev_status(m, msg))
    if kind is Kind.SESSION_STOP:
        return m.SessionStopReq(charging_session=m.ChargingSession.Terminate) if iso else m.SessionStop()
    raise CodecError(f"no request body for {kind}")


def encode_request(msg: EvMessage, schema: Schema | None) -> bytes:
    """EXI of a request; ``schema`` is None for the SupportedAppProtocol handshake."""
    if msg.kind is Kind.SUPPORTED_APP_PROTOCOL:
        offer = apphand.SupportedAppProtocolReq(app_protocol=[
            apphand.AppProtocol(protocol_namespace=p.namespace, version_number_major=p.major,
                                version_number_minor=p.minor, schema_id=p.schema_id, priority=p.priority)
            for p in msg.protocols])
        try:
            return bytes(exi.encode(offer))
        except exi.ExiError as exc:
            raise CodecError(f"cannot encode the app protocol offer: {exc}") from None
    m = _module(schema)
    return _document(m, msg.session_id, _request_body(m, msg))


#: generated class → its field names: ``getattr(obj, name, None)`` on a field the class lacks
#: raises and catches an AttributeError inside (≈0.5 µs), and the responses are read by such probes
_FIELDS: Final[dict[type, frozenset[str]]] = {}


def _field(obj: Any, name: str) -> Any:
    """``obj.name`` if ``obj``'s generated class declares that field, else None (None has none)."""
    cls = type(obj)
    names = _FIELDS.get(cls)
    if names is None:
        # the generated module's field table (META) names them, for the pure dataclasses and the
        # compiled twin's classes alike
        meta = getattr(sys.modules.get(cls.__module__), "META", {}).get(cls)
        names = _FIELDS[cls] = frozenset(f[0] for f in meta) if meta is not None else frozenset()
    return getattr(obj, name) if name in names else None


def _dc_ev_status_of(body: Any) -> Any:
    """The DC_EVStatus of a request: in the body, or in its charge or power delivery parameter
    (those looked up only for a body without one: most bodies have it)."""
    status = _field(body, "dc_ev_status")
    if status is not None:
        return status
    for holder in ("ev_charge_parameter", "ev_power_delivery_parameter"):
        status = _field(_field(body, holder), "dc_ev_status")
        if status is not None:
            return status
    return None


#: the fields a request kind does not carry keep these defaults (:class:`EvMessage`'s own)
_EV_DEFAULTS: Final = EvMessage(Kind.SESSION_SETUP)


def decode_request(payload: bytes, schema: Schema | None) -> EvMessage:
    """A request as the SECC sees it (any combination of optional fields).

    The message is made with one call that names every field it may carry (the defaults, from
    :data:`_EV_DEFAULTS`, for those its kind lacks): compiled, that is a direct call of the
    constructor, where ``EvMessage(kind, **fields)`` matched a dict against its 33 parameters.
    """
    kind, body, session_id = _decode(payload, schema, "Req")
    if kind is Kind.SUPPORTED_APP_PROTOCOL:
        return EvMessage(kind, protocols=tuple(
            AppProtocol(p.protocol_namespace, p.version_number_major, p.version_number_minor, p.schema_id, p.priority)
            for p in body.app_protocol))
    d = _EV_DEFAULTS
    ev_ready, error_code, soc = d.ev_ready, d.error_code, d.soc
    cabin_conditioning, ress_conditioning = d.cabin_conditioning, d.ress_conditioning
    status = _dc_ev_status_of(body)
    if status is not None:
        ev_ready, error_code, soc = status.ev_ready, _enum_name(status.ev_error_code), status.evresssoc
        cabin_conditioning = _field(status, "ev_cabin_conditioning")
        ress_conditioning = _field(status, "evress_conditioning")
    evcc_id, power_on, sa_schedule_tuple_id = d.evcc_id, d.power_on, d.sa_schedule_tuple_id
    max_voltage, max_current, max_power = d.max_voltage, d.max_current, d.max_power
    energy_capacity, energy_request, full_soc, bulk_soc = d.energy_capacity, d.energy_request, d.full_soc, d.bulk_soc
    target_voltage, target_current = d.target_voltage, d.target_current
    bulk_charging_complete, charging_complete = d.bulk_charging_complete, d.charging_complete
    remaining_full_s, remaining_bulk_s = d.remaining_full_s, d.remaining_bulk_s
    if kind is Kind.SESSION_SETUP:
        evcc_id = bytes(body.evccid)
    elif kind is Kind.CHARGE_PARAMETER_DISCOVERY:
        param = body.ev_charge_parameter
        if not isinstance(param, _DC_EV_CHARGE_PARAMETER):
            raise CodecError(f"ChargeParameterDiscoveryReq with {type(param).__name__}: not DC")
        max_voltage = _opt_value(param.ev_maximum_voltage_limit)
        max_current = _opt_value(param.ev_maximum_current_limit)
        max_power = _opt_value(param.ev_maximum_power_limit)
        energy_capacity = _opt_value(param.ev_energy_capacity)
        energy_request = _opt_value(param.ev_energy_request)
        full_soc, bulk_soc = param.full_soc, param.bulk_soc
    elif kind is Kind.PRE_CHARGE:
        target_voltage, target_current = _value(body.ev_target_voltage), _value(body.ev_target_current)
    elif kind is Kind.POWER_DELIVERY:
        if schema is Schema.ISO2:
            power_on = body.charge_progress == _module(schema).ChargeProgress.Start
            sa_schedule_tuple_id = body.sa_schedule_tuple_id
        else:
            power_on = bool(body.ready_to_charge_state)
        param = body.ev_power_delivery_parameter
        if isinstance(param, _DC_EV_POWER_DELIVERY_PARAMETER):
            bulk_charging_complete, charging_complete = param.bulk_charging_complete, param.charging_complete
    elif kind is Kind.CURRENT_DEMAND:
        target_voltage, target_current = _value(body.ev_target_voltage), _value(body.ev_target_current)
        max_voltage = _opt_value(body.ev_maximum_voltage_limit)
        max_current = _opt_value(body.ev_maximum_current_limit)
        max_power = _opt_value(body.ev_maximum_power_limit)
        bulk_charging_complete, charging_complete = body.bulk_charging_complete, body.charging_complete
        remaining_full_s = _opt_value(body.remaining_time_to_full_so_c)
        remaining_bulk_s = _opt_value(body.remaining_time_to_bulk_so_c)
    return EvMessage(
        kind, session_id=session_id, evcc_id=evcc_id, ev_ready=ev_ready, cabin_conditioning=cabin_conditioning,
        ress_conditioning=ress_conditioning, error_code=error_code, soc=soc, max_voltage=max_voltage,
        max_current=max_current, max_power=max_power, energy_capacity=energy_capacity, energy_request=energy_request,
        full_soc=full_soc, bulk_soc=bulk_soc, target_voltage=target_voltage, target_current=target_current,
        bulk_charging_complete=bulk_charging_complete, charging_complete=charging_complete,
        remaining_full_s=remaining_full_s, remaining_bulk_s=remaining_bulk_s, power_on=power_on,
        sa_schedule_tuple_id=sa_schedule_tuple_id)


# ----------------------------------------------------------------------------- responses (EVSE)


def _evse_status(m: ModuleType, msg: EvseMessage) -> Any:
    return _tables(m).dc_evse_status(
        evse_isolation_status=None if msg.isolation is None else _member(m, "IsolationLevel", msg.isolation),
        evse_status_code=_member(m, "DC_EVSEStatusCode", msg.status_code or "EVSE_Ready"),
        notification_max_delay=msg.notification_max_delay,
        evse_notification=_member(m, "EVSENotification", msg.notification))


def _schedules(m: ModuleType, msg: EvseMessage) -> Any:
    p_max = (_pv(m, msg.max_power or 0.0, "W") if m is not _DIN else int(min(32767, (msg.max_power or 0.0) / 10)))
    entry = m.PMaxScheduleEntry(time_interval=m.RelativeTimeInterval(start=0, duration=86400), p_max=p_max)
    schedule = m.PMaxSchedule(p_max_schedule_entry=[entry]) if m is not _DIN else m.PMaxSchedule(
        p_max_schedule_id=1, p_max_schedule_entry=[entry])
    return m.SAScheduleList(sa_schedule_tuple=[m.SAScheduleTuple(
        sa_schedule_tuple_id=msg.sa_schedule_tuple_id or 1, p_max_schedule=schedule)])


def _response_body(m: ModuleType, msg: EvseMessage) -> Any:
    kind = msg.kind
    iso = m is not _DIN
    code = _member(m, "ResponseCode", msg.response_code)
    if kind is Kind.SESSION_SETUP:
        return m.SessionSetupRes(response_code=code, evseid=msg.evse_id.decode("latin-1") if iso else msg.evse_id)
    if kind is Kind.SERVICE_DISCOVERY:
        if iso:
            return m.ServiceDiscoveryRes(
                response_code=code,
                payment_option_list=m.PaymentOptionList(payment_option=[m.PaymentOption.ExternalPayment]),
                charge_service=m.ChargeService(
                    service_id=1, service_category=m.ServiceCategory.EVCharging, free_service=False,
                    supported_energy_transfer_mode=m.SupportedEnergyTransferMode(
                        energy_transfer_mode=[m.EnergyTransferMode.DC_extended])))
        return m.ServiceDiscoveryRes(
            response_code=code, payment_options=m.PaymentOptions(payment_option=[m.PaymentOption.ExternalPayment]),
            charge_service=m.ServiceCharge(
                service_tag=m.ServiceTag(service_id=1, service_category=m.ServiceCategory.EVCharging),
                free_service=False, energy_transfer_type=m.EVSESupportedEnergyTransfer.DC_extended))
    if kind is Kind.SERVICE_PAYMENT_SELECTION:
        return (m.PaymentServiceSelectionRes if iso else m.ServicePaymentSelectionRes)(response_code=code)
    processing = _member(m, "EVSEProcessing", msg.processing or "Finished")
    if kind is Kind.CONTRACT_AUTHENTICATION:
        return (m.AuthorizationRes if iso else m.ContractAuthenticationRes)(response_code=code,
                                                                            evse_processing=processing)
    status = _evse_status(m, msg)
    if kind is Kind.CHARGE_PARAMETER_DISCOVERY:
        param = m.DC_EVSEChargeParameter(
            dc_evse_status=status, evse_maximum_current_limit=_pv(m, msg.max_current or 0.0, "A"),
            evse_maximum_power_limit=_pv(m, msg.max_power or 0.0, "W") if iso else _opt_pv(m, msg.max_power, "W"),
            evse_maximum_voltage_limit=_pv(m, msg.max_voltage or 0.0, "V"),
            evse_minimum_current_limit=_pv(m, msg.min_current or 0.0, "A"),
            evse_minimum_voltage_limit=_pv(m, msg.min_voltage or 0.0, "V"),
            evse_current_regulation_tolerance=_opt_pv(m, msg.current_regulation_tolerance, "A"),
            evse_peak_current_ripple=_pv(m, msg.peak_current_ripple or 0.0, "A"))
        return m.ChargeParameterDiscoveryRes(response_code=code, evse_processing=processing,
                                             sa_schedules=_schedules(m, msg), evse_charge_parameter=param)
    if kind is Kind.CABLE_CHECK:
        return m.CableCheckRes(response_code=code, dc_evse_status=status, evse_processing=processing)
    voltage = _pv(m, msg.present_voltage or 0.0, "V")
    if kind is Kind.PRE_CHARGE:
        return m.PreChargeRes(response_code=code, dc_evse_status=status, evse_present_voltage=voltage)
    if kind is Kind.POWER_DELIVERY:
        return m.PowerDeliveryRes(response_code=code, evse_status=status)
    if kind is Kind.CURRENT_DEMAND:
        fields: dict[str, Any] = {
            "response_code": code, "dc_evse_status": status, "evse_present_voltage": voltage,
            "evse_present_current": _pv(m, msg.present_current or 0.0, "A"),
            "evse_current_limit_achieved": msg.current_limit_achieved,
            "evse_voltage_limit_achieved": msg.voltage_limit_achieved,
            "evse_power_limit_achieved": msg.power_limit_achieved,
            "evse_maximum_voltage_limit": _opt_pv(m, msg.max_voltage, "V"),
            "evse_maximum_current_limit": _opt_pv(m, msg.max_current, "A"),
            "evse_maximum_power_limit": _opt_pv(m, msg.max_power, "W")}
        if iso:
            fields.update(evseid=msg.evse_id.decode("latin-1") or "ZZ00000",
                          sa_schedule_tuple_id=msg.sa_schedule_tuple_id or 1)
        return _tables(m).current_demand_res(**fields)
    if kind is Kind.WELDING_DETECTION:
        return m.WeldingDetectionRes(response_code=code, dc_evse_status=status, evse_present_voltage=voltage)
    if kind is Kind.SESSION_STOP:
        return m.SessionStopRes(response_code=code)
    raise CodecError(f"no response body for {kind}")


def encode_response(msg: EvseMessage, schema: Schema | None) -> bytes:
    """EXI of a response; ``schema`` is None for the SupportedAppProtocol handshake."""
    if msg.kind is Kind.SUPPORTED_APP_PROTOCOL:
        try:
            return bytes(exi.encode(apphand.SupportedAppProtocolRes(
                response_code=apphand.ResponseCode[msg.response_code], schema_id=msg.schema_id)))
        except (KeyError, exi.ExiError) as exc:
            raise CodecError(f"cannot encode SupportedAppProtocolRes: {exc}") from None
    m = _module(schema)
    return _document(m, msg.session_id, _response_body(m, msg))


_DC_EVSE_STATUS: tuple[Any, ...] = (_DIN.DC_EVSEStatus,)
_DC_EVSE_CHARGE_PARAMETER: tuple[Any, ...] = (_DIN.DC_EVSEChargeParameter,)


def _dc_evse_status_of(body: Any) -> Any:
    """The DC_EVSEStatus of a response: in the body (DIN and ISO-2 name it differently in some) or
    in its charge parameter (looked up only for a body without one)."""
    status = _dc_evse_status_in(body)
    return status if status is not None else _dc_evse_status_in(_field(body, "evse_charge_parameter"))


def _dc_evse_status_in(holder: Any) -> Any:
    for name in ("dc_evse_status", "evse_status"):
        status = _field(holder, name)
        if isinstance(status, _DC_EVSE_STATUS):
            return status
    return None


#: the fields a response kind does not carry keep these defaults (:class:`EvseMessage`'s own)
_EVSE_DEFAULTS: Final = EvseMessage(Kind.SESSION_SETUP)


def decode_response(payload: bytes, schema: Schema | None) -> EvseMessage:
    """A response as the EV sees it; ``schema`` is None for the handshake.  Made with one call
    that names every field, as :func:`decode_request`."""
    kind, body, session_id = _decode(payload, schema, "Res")
    if kind is Kind.SUPPORTED_APP_PROTOCOL:
        return EvseMessage(kind, response_code=_enum_name(body.response_code), schema_id=body.schema_id)
    d = _EVSE_DEFAULTS
    processing = _field(body, "evse_processing")
    status_code, isolation = d.status_code, d.isolation
    notification, notification_max_delay = d.notification, d.notification_max_delay
    status = _dc_evse_status_of(body)
    if status is not None:
        status_code = _enum_name(status.evse_status_code)
        isolation = None if status.evse_isolation_status is None else _enum_name(status.evse_isolation_status)
        notification = _enum_name(status.evse_notification)
        notification_max_delay = status.notification_max_delay
    evse_id, sa_schedule_tuple_id = d.evse_id, d.sa_schedule_tuple_id
    max_voltage, max_current, max_power = d.max_voltage, d.max_current, d.max_power
    min_voltage, min_current = d.min_voltage, d.min_current
    current_regulation_tolerance, peak_current_ripple = d.current_regulation_tolerance, d.peak_current_ripple
    present_voltage, present_current = d.present_voltage, d.present_current
    current_limit_achieved, voltage_limit_achieved = d.current_limit_achieved, d.voltage_limit_achieved
    power_limit_achieved = d.power_limit_achieved
    if kind is Kind.SESSION_SETUP:
        raw_id = body.evseid  # DIN: hexBinary, ISO-2: a string
        evse_id = raw_id.encode("utf-8") if isinstance(raw_id, str) else bytes(raw_id)
    elif kind is Kind.CHARGE_PARAMETER_DISCOVERY:
        param = body.evse_charge_parameter
        if isinstance(param, _DC_EVSE_CHARGE_PARAMETER):
            max_voltage = _opt_value(param.evse_maximum_voltage_limit)
            max_current = _opt_value(param.evse_maximum_current_limit)
            max_power = _opt_value(param.evse_maximum_power_limit)
            min_voltage = _value(param.evse_minimum_voltage_limit)
            min_current = _value(param.evse_minimum_current_limit)
            current_regulation_tolerance = _opt_value(param.evse_current_regulation_tolerance)
            peak_current_ripple = _value(param.evse_peak_current_ripple)
        tuples = _field(body.sa_schedules, "sa_schedule_tuple")
        if tuples:
            sa_schedule_tuple_id = tuples[0].sa_schedule_tuple_id
    elif kind is Kind.CURRENT_DEMAND:
        present_voltage, present_current = _value(body.evse_present_voltage), _value(body.evse_present_current)
        current_limit_achieved = body.evse_current_limit_achieved
        voltage_limit_achieved = body.evse_voltage_limit_achieved
        power_limit_achieved = body.evse_power_limit_achieved
        max_voltage = _opt_value(body.evse_maximum_voltage_limit)
        max_current = _opt_value(body.evse_maximum_current_limit)
        max_power = _opt_value(body.evse_maximum_power_limit)
    elif kind in (Kind.PRE_CHARGE, Kind.WELDING_DETECTION):
        present_voltage = _value(body.evse_present_voltage)
    return EvseMessage(
        kind, response_code=_enum_name(body.response_code), session_id=session_id, evse_id=evse_id,
        processing=None if processing is None else _enum_name(processing), status_code=status_code,
        isolation=isolation, notification=notification, notification_max_delay=notification_max_delay,
        max_voltage=max_voltage, max_current=max_current, max_power=max_power, min_voltage=min_voltage,
        min_current=min_current, current_regulation_tolerance=current_regulation_tolerance,
        peak_current_ripple=peak_current_ripple, sa_schedule_tuple_id=sa_schedule_tuple_id,
        present_voltage=present_voltage, present_current=present_current,
        current_limit_achieved=current_limit_achieved, voltage_limit_achieved=voltage_limit_achieved,
        power_limit_achieved=power_limit_achieved)


class Codec(Protocol):
    """The four EXI operations a V2G machine needs (``exi=`` of :class:`~.evcc.Evcc` and
    :class:`~.secc.Secc`); ``schema`` is None for the SupportedAppProtocol handshake."""

    def encode_request(self, msg: EvMessage, schema: Schema | None, /) -> bytes: ...

    def decode_request(self, payload: bytes, schema: Schema | None, /) -> EvMessage: ...

    def encode_response(self, msg: EvseMessage, schema: Schema | None, /) -> bytes: ...

    def decode_response(self, payload: bytes, schema: Schema | None, /) -> EvseMessage: ...


class ExiCodec:
    """The product's codec: this module's functions, every call computed."""

    def encode_request(self, msg: EvMessage, schema: Schema | None, /) -> bytes:
        return encode_request(msg, schema)

    def decode_request(self, payload: bytes, schema: Schema | None, /) -> EvMessage:
        return decode_request(payload, schema)

    def encode_response(self, msg: EvseMessage, schema: Schema | None, /) -> bytes:
        return encode_response(msg, schema)

    def decode_response(self, payload: bytes, schema: Schema | None, /) -> EvseMessage:
        return decode_response(payload, schema)


#: the default codec of every machine
EXI: Codec = ExiCodec()
