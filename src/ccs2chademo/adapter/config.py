"""The adapter's configuration: every parameter of adapter.md §12.1, presets (adapter.md §12.2), TOML loading.

Why a validated model: the original firmware takes these values as compile-time or EEPROM
parameters with no checking; a typo in a key or a 16-bit value in an 8-bit field silently changed
behaviour.  Here the file is parsed by :mod:`tomllib`, validated by pydantic (unknown keys and
out-of-range values are errors naming the file and the key) and frozen.

File layout (``examples/adapter.toml``)::

    preset = "sx"          # optional: sx, av1, v2x, v2x-ao, jdemo, jdemo125a
    max-amps = 150         # any key of the parameter table, with its TOML spelling
    "chademo-0.9" = true   # a key with a dot must be quoted in TOML

Precedence, lowest first: built-in defaults → the preset (``--preset`` on the command line if
given, else the file's ``preset`` key) → the values written in the file.  So a file value always
wins over its preset, and ``--preset`` replaces (does not stack on) the file's preset.

``mode`` chooses the side that feeds the car: ``"chademo"`` (the adapter, default),
``"clara"`` (a CAN-controlled EV: a ZombieVerter-like VCU drives the charge over the openinverter
CAN map, issue 13) or ``"lightbulb"`` (the stand-alone demo: a fixed demo voltage and current, no
VCU, the load relay closed in CurrentDemand); the ``[clara]`` table holds that mode's settings
(:class:`ClaraConfig`, docs/clara-mode.md).

The ``[ccs]`` table (:class:`CcsConfig`) is the CCS car side's transport security: TLS ``off``
(default: the SDP request asks for none, exactly as before the table existed), ``prefer`` or
``require``, the V2G root certificates the charger's chain is checked against, the logged escape
hatch ``tls-accept-unverified`` and ``tls-keylog-file`` (docs/tls.md); and ISO 15118-20:
``iso20-priority`` (unset: not offered), ``iso20-without-tls``, ``iso20-control-mode``
(docs/iso20.md).

Sections: the ``[hardware]`` table is the nested :class:`~ccs2chademo.drivers.hardware_config.HardwareConfig`
(what the machines are wired to on one board, used by ``ccs2chademo run``); files without the
table keep loading unchanged and get the simulated devices.  Any other table is an "unknown
section" error, like any unknown key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo

from ..drivers.hardware_config import HardwareConfig
from .clara_map import DEFAULT_MAP, PARAMETERS, CanMap, MapEntry, validate_map

U8 = 255
U16 = 65535
#: ``demo-control`` as ccs32clara's ``DemoControl`` numbers it (include/param_prj.h, DEMOCTRL)
DEMO_CONTROL_CODES = {"can": 0, "stand-alone": 234}


class ConfigError(ValueError):
    """A configuration file or preset cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class ParameterInfo:
    """Documentation of one parameter as the tables show it (adapter.md §12.1)."""

    key: str
    attribute: str
    type: str
    unit: str
    default: Any
    meaning: str
    minimum: int | None
    maximum: int | None


def _param(default: Any, key: str, type_: str, unit: str, meaning: str, lo: int | None = None,
           hi: int | None = None) -> Any:
    """A field with its TOML key as alias and the table columns stored in the schema extras."""
    extra: dict[str, Any] = {"type": type_, "unit": unit}
    return Field(default, alias=key, description=meaning, ge=lo, le=hi, json_schema_extra=extra)


class MapRow(BaseModel):
    """One ``[[clara.map]]`` row: a parameter in a frame (:class:`~.clara_map.MapEntry`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    param: str
    id: int = Field(ge=0, le=0x7FF)
    start: int = Field(ge=0, le=63)
    length: int = Field(ge=1, le=32)
    gain: float = 1.0
    offset: int = 0

    def entry(self) -> MapEntry:
        return MapEntry(self.param, self.id, self.start, self.length, self.gain, self.offset)

    @classmethod
    def of(cls, entry: MapEntry) -> MapRow:
        return cls(param=entry.param, id=entry.frame_id, start=entry.start, length=entry.length,
                   gain=float(entry.gain), offset=entry.offset)


class ClaraConfig(BaseModel):
    """``[clara]``: the CAN-controlled EV mode and the light-bulb demo (docs/clara-mode.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)

    node_id: int = Field(22, alias="node-id", ge=1, le=63,
                         description="openinverter node id: SDO requests on 0x600+id, answers on 0x580+id")
    demo_voltage: int = Field(200, alias="demo-voltage", ge=150, le=250,
                              description="lightbulb mode: the voltage the charger is asked for (V)")
    demo_current: int = Field(10, alias="demo-current", ge=1, le=20,
                              description="lightbulb mode: the current asked for (A)")
    load_relay_delay_ms: int = Field(2500, alias="load-relay-delay-ms", ge=0, le=60_000,
                                     description="lightbulb mode: the load relay closes this long after the "
                                                 "precharge ended (≈2 s into CurrentDemand)")
    demo_control: Literal["can", "stand-alone"] = Field(
        "can", alias="demo-control",
        description="clara mode: \"stand-alone\" charges a pack at demo-voltage with demo-current without a VCU "
                    "and without the CAN watchdog (ccs32clara's DemoControl = 234)")
    derate_temp: int = Field(60, alias="derate-temp", ge=0, le=150,
                             description="inlet pin temperature (°C) above which the current limit falls")
    max_pin_temperature: int = Field(70, alias="max-pin-temperature", ge=1, le=150,
                                     description="the limit reaches derate-min-current here (°C); above it the "
                                                 "session stops (StopReason 7, inlet overheat)")
    derate_min_current: int = Field(10, alias="derate-min-current", ge=0, le=500,
                                    description="the derated current limit at max-pin-temperature (A)")
    lock_feedback: bool = Field(False, alias="lock-feedback",
                                description="the inlet lock reports its position on the input lock_feedback; "
                                            "without it the lock counts as moved when commanded")
    lock_timeout_ms: int = Field(1500, alias="lock-timeout-ms", ge=100, le=10_000,
                                 description="with lock-feedback: the lock must report closed (or open) this "
                                             "long after the command, else the session stops (lock failure)")
    map: tuple[MapRow, ...] | None = Field(None, strict=False,  # TOML gives a list of tables
                                           description="the CAN map; none = ZombieVerter's")

    @field_validator("map")
    @classmethod
    def _valid_map(cls, rows: tuple[MapRow, ...] | None) -> tuple[MapRow, ...] | None:
        if rows is not None:
            validate_map(row.entry() for row in rows)  # a CanMapError is a ValueError: named by its key
        return rows

    @model_validator(mode="after")
    def _derating_order(self) -> ClaraConfig:
        if self.derate_temp >= self.max_pin_temperature:
            raise ValueError(f"derate-temp ({self.derate_temp} °C) must be below max-pin-temperature "
                             f"({self.max_pin_temperature} °C)")
        return self

    def can_map(self) -> CanMap:
        """The map in effect at start (SDO writes may change it afterwards)."""
        return DEFAULT_MAP if self.map is None else validate_map(row.entry() for row in self.map)

    def sdo_settings(self) -> dict[str, float]:
        """The settings that are openinverter parameters (:data:`.clara_map.PARAMETERS` with a
        ``setting``) as SDO reads them: name → value."""
        table = self.model_dump(by_alias=True)
        return {p.name: float(DEMO_CONTROL_CODES[table[p.setting]] if p.setting == "demo-control"
                              else table[p.setting])
                for p in PARAMETERS.values() if p.setting is not None}

    def with_sdo(self, settings: Mapping[str, float], can_map: CanMap) -> ClaraConfig:
        """This table with the settings and the map an SDO save keeps, validated as a whole (a
        :class:`ConfigError` — e.g. ``max-pin-temperature`` not above ``derate-temp`` — refuses it)."""
        table: dict[str, Any] = self.model_dump(by_alias=True, exclude={"map"})
        names = {code: name for name, code in DEMO_CONTROL_CODES.items()}
        for p in PARAMETERS.values():
            if p.setting is not None and p.name in settings:
                value = int(settings[p.name])
                table[p.setting] = names.get(value, str(value)) if p.setting == "demo-control" else value
        table["map"] = [MapRow.of(entry) for entry in can_map.entries]
        try:
            return ClaraConfig.model_validate(table)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'clara'}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"the SDO save's [clara] is not valid: {problems}") from None


class CcsConfig(BaseModel):
    """``[ccs]``: TLS toward the charger (docs/tls.md; ``tls`` takes the values of
    :class:`~ccs2chademo.v2g.tls.TlsMode`) and the ISO 15118-20 offer (docs/iso20.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)

    tls: Literal["off", "prefer", "require"] = Field(
        "off", description="TLS toward the charger: off (SDP asks for none), prefer (asks for TLS, the charger's "
        "answer decides), require (asks for TLS; a charger answering no TLS ends the session)")
    v2g_root_certs: tuple[str, ...] = Field(
        (), alias="v2g-root-certs", strict=False,  # TOML gives a list
        description="PEM files of the V2G root certificates the charger's chain must lead to")
    tls_accept_unverified: bool = Field(
        False, alias="tls-accept-unverified",
        description="accept a charger whose certificate is not verified (a DIY adapter rarely holds the V2G "
                    "roots); every such session logs tls-unverified and a warning")
    tls_keylog_file: str | None = Field(
        None, alias="tls-keylog-file",
        description="append the TLS session secrets to this file (SSLKEYLOGFILE format) so Wireshark can "
                    "decrypt captures of our sessions; none: off")
    iso20_priority: Literal[1, 2, 3] | None = Field(
        None, alias="iso20-priority",
        description="offer ISO 15118-20 DC in SupportedAppProtocol at this place among DIN and ISO 15118-2 "
                    "(1 = first); none: not offered (docs/iso20.md)")
    iso20_without_tls: bool = Field(
        False, alias="iso20-without-tls",
        description="offer ISO 15118-20 also over plain TCP (real -20 chargers require TLS 1.3; the simulation "
                    "uses this without --tls); every such session logs iso20-without-tls")
    iso20_control_mode: Literal["scheduled", "dynamic"] = Field(
        "scheduled", alias="iso20-control-mode",
        description="the ISO 15118-20 control mode asked for: scheduled (the EV sets target current and "
                    "voltage) or dynamic (the charger decides within the EV's limits)")

    @model_validator(mode="after")
    def _trust_chosen(self) -> CcsConfig:
        if self.tls != "off" and not self.v2g_root_certs and not self.tls_accept_unverified:
            raise ValueError(f"tls = {self.tls!r} needs v2g-root-certs (the V2G roots to check the charger "
                             "against) or tls-accept-unverified = true")
        return self


class AdapterConfig(BaseModel):
    """Every tunable of the adapter (adapter.md §12.1); attribute = TOML key in snake_case."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)

    max_amps: int = _param(200, "max-amps", "u8", "A",
                           "cap for 0x108.3, CCS EVMaximumCurrentLimit and the discovery fake", 1, U8)
    stop_charging_soc: int = _param(100, "stop-charging-soc", "u8", "%",
                                    "CCS stops (\"battery full\") when SoC ≥ value; 100 lets the car decide",
                                    1, 100)
    max_volts: int = _param(500, "max-volts", "u16", "V",
                            "cap for 0x108.1–2 and the discovery fake (a Taycan would need 750)", 100, 1000)
    max_discharge_amps_fallback: int = _param(40, "max-discharge-amps-fallback", "u8", "A",
                                              "request faked to CCS while discharging if the car sent no 0x200",
                                              0, U8)
    dynamic_current_fallback: bool = _param(True, "dynamic-current-fallback", "bool", "—",
                                            "treat cars without a dynamic-control flag as dynamic "
                                            "(false = JDEMO behaviour, static 0x108.3)")
    sx: bool | Literal["auto"] = _param("auto", "sx", "bool/auto", "—",
                                        "single-session mode (adapter.md §3); auto: chosen by the car recognised "
                                        "(Xpeng G3, Lexus UX300e), else the two-session flow")
    v2x: bool = _param(False, "v2x", "bool", "—", "discharge mode permanently on (adapter.md §7)")
    always_on: bool = _param(False, "always-on", "bool", "—", "soft reset instead of power-off (adapter.md §8)")
    alt_estimated_voltage: Annotated[int, Field(ge=0, le=1)] | Literal["auto"] = _param(
        "auto", "alt-estimated-voltage", "u8/auto", "—",
        "0 or 1 = AV1 override of the battery estimate for target 410 V (adapter.md §5); auto: the curve of the "
        "car recognised (AV1 for Leaf / e-NV200 24–30 kWh)")
    assume_car_contactors_closed_after_ms: int = _param(
        2000, "assume-car-contactors-closed-after-ms", "u16", "ms",
        "CHAdeMO < 1.0: assume the car's contactors closed this long after d2 "
        "(at most the 4 s state timeout)", 0, 4000)
    fake_idle_amps: int = _param(1, "fake-idle-amps", "u8", "A",
                                 "current reported in the charging loop while the charger delivers 0 A "
                                 "(adapter.md §6.4)",
                                 0, U8)
    voltage_modulation: int = _param(0, "voltage-modulation", "u8", "V",
                                     "± cyclic modulation of an estimated present voltage (adapter.md §5); "
                                     "below the 20 V precharge tolerance", 0, 19)
    precharge_start_delay_ms: int = _param(2000, "precharge-start-delay-ms", "u16", "ms",
                                           "DX: delay after CableCheck before the first PreChargeReq", 0, U16)
    max_undersupply_amps: int = _param(10, "max-undersupply-amps", "u8", "A",
                                       "dynamic control: 0x108.3 = delivered + this (adapter.md §6.3)", 0, U8)
    chademo_wd: bool = _param(True, "chademo-wd", "bool", "—", "0x108.0 welding-detection support")
    chademo_0_9: bool = _param(False, "chademo-0.9", "bool", "—", "claim CHAdeMO 0.9 (protocol number 1)")
    open_adapter_contactor_before_wd: bool = _param(
        False, "open-adapter-contactor-before-wd", "bool", "—",
        "open the adapter contactor as soon as k goes off during a stop (once the charger's current is down; "
        "automatic at a charger whose output stays up)")
    forced_off_hold_s: int = _param(30, "forced-off-hold-s", "u8", "s",
                                    "(ours) holding the stop button this long forces power-off "
                                    "(emergency; the original firmware fixes 10 s)", 2, U8)
    inactivity_off_s: int = _param(180, "inactivity-off-s", "u16", "s",
                                   "(ours) power-off pending after this long without charging activity "
                                   "(0 = never)", 0, U16)
    mode: Literal["chademo", "clara", "lightbulb"] = Field(
        default="chademo", description="the side that feeds the car: chademo (the adapter), clara (a CAN-controlled "
        "EV driven by a VCU), lightbulb (the stand-alone demo)")
    clara: ClaraConfig = Field(default_factory=lambda: ClaraConfig.model_validate({}),
                               description="[clara]: the clara and lightbulb modes")
    ccs: CcsConfig = Field(default_factory=lambda: CcsConfig.model_validate({}),
                           description="[ccs]: TLS toward the charger, the ISO 15118-20 offer")
    hardware: HardwareConfig = Field(default_factory=HardwareConfig,
                                     description="[hardware]: what the machines are wired to (ccs2chademo run)")

    @model_validator(mode="after")
    def _lock_feedback_wired(self) -> AdapterConfig:
        gpio = self.hardware.gpio
        if (self.mode != "chademo" and self.clara.lock_feedback and gpio.backend == "gpiod"
                and gpio.lines.lock_feedback is None):
            raise ValueError("clara.lock-feedback = true needs [hardware.gpio.lines] lock_feedback")
        return self

    # -- introspection ---------------------------------------------------------------------
    @classmethod
    def parameters(cls) -> list[ParameterInfo]:
        """The parameter table in declaration order (what ``config show`` and the docs print).

        Only scalar parameters made by ``_param``; nested section models are not parameters.
        """
        return [_info(name, field) for name, field in cls.model_fields.items()
                if isinstance(field.json_schema_extra, dict) and "type" in field.json_schema_extra]

    def to_toml_dict(self) -> dict[str, Any]:
        """Effective values keyed by their TOML spelling."""
        return self.model_dump(by_alias=True, mode="json")  # paths of [hardware.logging] as strings

    def non_defaults(self) -> dict[str, Any]:
        """TOML key → value for every parameter that differs from its default (logged at boot, adapter.md §11)."""
        return {p.key: getattr(self, p.attribute) for p in self.parameters()
                if getattr(self, p.attribute) != p.default}


def _info(name: str, field: FieldInfo) -> ParameterInfo:
    extra = field.json_schema_extra
    assert isinstance(extra, dict) and field.alias is not None  # guaranteed by parameters()
    lo = hi = None
    for meta in field.metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    return ParameterInfo(key=field.alias, attribute=name, type=str(extra["type"]), unit=str(extra["unit"]),
                         default=field.default, meaning=field.description or "", minimum=lo, maximum=hi)


#: Presets of adapter.md §12.2 by name (lower case); values use the TOML keys.
PRESETS: dict[str, dict[str, Any]] = {
    "sx": {"sx": True},
    "av1": {"alt-estimated-voltage": 1},
    "v2x": {"v2x": True},
    "v2x-ao": {"v2x": True, "always-on": True},
    "jdemo": {"dynamic-current-fallback": False},
    "jdemo125a": {"dynamic-current-fallback": False, "max-amps": 125},
}

#: What each preset is for (``config show`` and the docs).
PRESET_PURPOSE: dict[str, str] = {
    "sx": "Xpeng G3, Lexus UX300e",
    "av1": "Leaf / e-NV200 20–30 kWh",
    "v2x": "dischargers / home V2X",
    "v2x-ao": "permanently installed V2X",
    "jdemo": "Jdemo conversion kits (RAV4 EV, Roadster)",
    "jdemo125a": "Jdemo kits that need a 125 A cap (optional)",
}


def preset_values(name: str) -> dict[str, Any]:
    """The settings of a preset; names are case-insensitive (``SX`` = ``sx``)."""
    try:
        return dict(PRESETS[name.lower()])
    except KeyError:
        raise ConfigError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})") from None


def build_config(values: Mapping[str, Any], preset: str | None = None, source: str = "<values>") -> AdapterConfig:
    """Validate ``values`` (TOML keys) on top of ``preset``; errors name ``source`` and the key."""
    merged = preset_values(preset) if preset else {}
    merged.update(values)
    try:
        # the mode decides which GPIO roles a board must wire (drivers/hardware_config.py)
        return AdapterConfig.model_validate(merged, context={"mode": merged.get("mode", "chademo")})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source, merged)) from None


def load_config(path: str | Path | None = None, preset: str | None = None) -> AdapterConfig:
    """Read a TOML file (or none: defaults) and apply the precedence described in the module doc."""
    if path is None:
        return build_config({}, preset)
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # tomllib decodes the bytes itself (found by fuzzing, issue 15)
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 at byte {exc.start}") from None
    file_preset = data.pop("preset", None)
    if file_preset is not None and not isinstance(file_preset, str):
        raise ConfigError(f"{path}: preset: expected a preset name string, got {file_preset!r}")
    return build_config(data, preset or file_preset, source=str(path))


def _unknown(key: str, value: Any) -> str:
    if not isinstance(value, dict):
        return f"unknown key {key!r}"
    keys = {p.key for p in AdapterConfig.parameters()}
    dotted = [f"{key}.{sub}" for sub in value if f"{key}.{sub}" in keys]
    if dotted:  # TOML reads a bare `chademo-0.9 = …` as a table `chademo-0` with key `9`
        return f"unknown section [{key}]: write the key in quotes, \"{dotted[0]}\" = …"
    return f"unknown section [{key}]"


#: Parameters that also take "auto" (chosen by the car recognised, adapter/recognition.py).
_AUTO_KEYS = frozenset(("sx", "alt-estimated-voltage"))


def _describe(exc: ValidationError, source: str, values: Mapping[str, Any]) -> str:
    lines = []
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) == 2 and loc[0] in _AUTO_KEYS:
            # a value of a `… | "auto"` parameter: one line naming the key, not one per union member
            if str(loc[1]).startswith("literal["):
                continue
            lines.append(f"{source}: {loc[0]}: {err['msg']}, or \"auto\" (got {err.get('input')!r})")
            continue
        key = ".".join(str(part) for part in loc) or "(file)"
        if err["type"] == "extra_forbidden":
            hint = "see `ccs2chademo config show` for the valid keys"
            lines.append(f"{source}: {_unknown(key, values.get(key))} ({hint})")
        else:
            lines.append(f"{source}: {key}: {err['msg']} (got {err.get('input')!r})")
    return "\n".join(lines)
