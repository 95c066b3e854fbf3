"""The ``[hardware]`` configuration section: which device backs each signal, and how.

Why a separate model: the adapter's *behaviour* parameters (``adapter/config.py``) are the same
on a desk and in a car, while this section says what the machines are wired to on one board.
Every device accepts ``sim`` (or ``none`` for the ADC) so a desk without a board runs the very
same ``run`` command with simulated parts.  Unknown keys are errors (``extra="forbid"``) because
a misspelt ``active_low`` on the d2 line is a safety problem, not a detail.

The GPIO roles and polarities follow adapter.md §13; logical values are what the machines see
(``True`` = d1 on, contactor closed, k on, button pressed, …), ``active_low`` maps them to levels.
The clara mode (docs/clara-mode.md) adds its own roles — inlet contactor, inlet lock, load relay,
the lock's feedback switch and the CP PWM input — which a board wires by name like the others;
which roles a ``gpiod`` board must wire depends on the mode (the validation context
``{"mode": …}`` that :func:`ccs2chademo.adapter.config.build_config` passes down).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

#: Output roles (adapter.md §13) in the order the safe sequence drives them; see drivers/safety.py.
OUTPUT_ROLES: tuple[str, ...] = (
    "contactor",
    "d2",
    "d1",
    "cp_state_c",
    "led_external",
    "led_internal",
    "power_hold",
)
#: Input roles: ``k`` (vehicle charge permission), ``stop_button`` (both buttons on one input).
INPUT_ROLES: tuple[str, ...] = ("k", "stop_button")
#: Clara mode's outputs: a second inlet contactor line (it follows ``contactor``: DC+ and DC− on
#: their own drivers), the inlet lock (True = locked), the light-bulb demo's load relay.  Not
#: wired by default (a desk's sim GPIO wires the adapter's roles), so only a clara board's
#: ``[hardware.gpio.lines]`` brings them in.
CLARA_OUTPUT_ROLES: tuple[str, ...] = ("inlet_contactor", "lock", "load_relay")
#: Clara mode's inputs: the lock's feedback switch (True = locked) and the CP line's PWM, whose
#: edge timestamps give the duty cycle (:mod:`ccs2chademo.drivers.cp_pwm`, basic AC).
CLARA_INPUT_ROLES: tuple[str, ...] = ("lock_feedback", "cp_pwm")
ALL_OUTPUT_ROLES = OUTPUT_ROLES + CLARA_OUTPUT_ROLES
ALL_INPUT_ROLES = INPUT_ROLES + CLARA_INPUT_ROLES

#: Logical safe value of every output: contactor open, d1/d2 off, CP state B (not C), LEDs off,
#: power hold *held* (releasing it powers the adapter off; it is dropped last on shutdown).
SAFE_OUTPUTS: dict[str, bool] = {
    "contactor": False,
    "d2": False,
    "d1": False,
    "cp_state_c": False,
    "led_external": False,
    "led_internal": False,
    "power_hold": True,
    "inlet_contactor": False,
    "lock": False,  # at start-up (nothing runs); the shutdown leaves the lock where it is (drivers/safety.py)
    "load_relay": False,
}

#: Roles a ``gpiod`` board must wire: without them the adapter cannot charge safely.
REQUIRED_ROLES: tuple[str, ...] = ("contactor", "d1", "d2", "cp_state_c", "k")
#: … and in clara / lightbulb mode: the CP state C switch and the lock (the inlet contactors are
#: ``contactor`` or ``inlet_contactor``, at least one of them).
CLARA_REQUIRED_ROLES: tuple[str, ...] = ("cp_state_c", "lock")

_IFNAME = re.compile(r"^[^\s/:]{1,15}$")  # Linux IFNAMSIZ-1, no slash, colon or whitespace
IIO_DEVICE_NAME = re.compile(r"^iio:device\d+$")

Bias = Literal["as-is", "disabled", "pull-up", "pull-down"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LineSpec(_Strict):
    """One GPIO line: by name (``"GPIO17"``, a device-tree line name) or by offset on its chip."""

    line: str | int = Field(description="line name as the chip reports it, or the offset on the chip")
    chip: str | None = Field(default=None, min_length=1, description="chip for this line (default: the section's chip)")
    active_low: bool = Field(default=False, description="logical on = electrical low")
    bias: Bias = Field(default="as-is", description="internal bias; inputs on the original use pull-up")
    debounce_ms: float = Field(default=0.0, ge=0.0, le=1000.0, description="input debounce period, ms")

    @field_validator("line", mode="before")
    @classmethod
    def _line_id(cls, value: Any) -> str | int:
        # One clear message instead of pydantic's per-branch union errors.
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("a line name must not be empty")
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value <= 511:
                raise ValueError(f"line offset {value} is out of range 0..511")
            return value
        raise ValueError(f"line must be a line name (string) or an offset (integer), not {value!r}")


class GpioLines(_Strict):
    """Role → line.  A role left out is not wired on this board (its outputs are dropped)."""

    power_hold: LineSpec | None = None
    cp_state_c: LineSpec | None = None
    d1: LineSpec | None = None
    d2: LineSpec | None = None
    contactor: LineSpec | None = None
    led_external: LineSpec | None = None
    led_internal: LineSpec | None = None
    k: LineSpec | None = None
    stop_button: LineSpec | None = None
    inlet_contactor: LineSpec | None = None
    lock: LineSpec | None = None
    load_relay: LineSpec | None = None
    lock_feedback: LineSpec | None = None
    cp_pwm: LineSpec | None = None

    def wired(self) -> dict[str, LineSpec]:
        return {role: spec for role in (*ALL_OUTPUT_ROLES, *ALL_INPUT_ROLES)
                if (spec := getattr(self, role)) is not None}


class GpioConfig(_Strict):
    backend: Literal["gpiod", "sim"] = "sim"
    chip: str = Field(default="gpiochip0", min_length=1, description="default chip: a name under /dev or a path")
    consumer: str = Field(default="ccs2chademo", min_length=1, max_length=31, description="label the kernel shows")
    lines: GpioLines = Field(default_factory=GpioLines)

    @model_validator(mode="after")
    def _check_lines(self, info: ValidationInfo) -> GpioConfig:
        seen: dict[tuple[str, str | int], str] = {}
        for role, spec in self.lines.wired().items():
            if spec.debounce_ms and role not in ALL_INPUT_ROLES:
                raise ValueError(f"lines.{role}: debounce_ms applies to inputs only")
            key = (spec.chip or self.chip, spec.line)
            if key in seen:
                raise ValueError(f"lines.{role}: line {spec.line!r} on {key[0]} is already used by {seen[key]}")
            seen[key] = role
        mode = (info.context or {}).get("mode", "chademo") if isinstance(info.context, dict) else "chademo"
        if self.backend == "gpiod":
            required = REQUIRED_ROLES if mode == "chademo" else CLARA_REQUIRED_ROLES
            missing = [role for role in required if getattr(self.lines, role) is None]
            if mode != "chademo" and self.lines.contactor is None and self.lines.inlet_contactor is None:
                missing.append("contactor or inlet_contactor")
            if missing:
                raise ValueError(f"backend gpiod needs lines for {', '.join(missing)}"
                                 + ("" if mode == "chademo" else f" (mode {mode})"))
        return self


class CanConfig(_Strict):
    """python-can bus parameters; ``interface = "sim"`` uses the simulated CAN bus."""

    interface: str = Field(default="sim", description="sim, or a python-can interface (socketcan, virtual, …)")
    channel: str = Field(default="can0", min_length=1)
    bitrate: int = Field(default=500_000, gt=0, le=1_000_000, description="bit/s; CHAdeMO uses 500 kbit/s")
    options: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="extra keyword arguments for the python-can bus")

    @field_validator("interface")
    @classmethod
    def _known_interface(cls, value: str) -> str:
        if value == "sim":
            return value
        from can.interfaces import VALID_INTERFACES  # python-can also lists installed plugins

        if value not in VALID_INTERFACES:
            known = ", ".join(sorted(VALID_INTERFACES))
            raise ValueError(f"unknown python-can interface {value!r}; one of: sim, {known}")
        return value

    @field_validator("options", mode="before")
    @classmethod
    def _scalar_options(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(item, str | int | float | bool):
                    raise ValueError(f"option {key!r}: values are strings, numbers or booleans, not {item!r}")
        return value


class PlcConfig(_Strict):
    """The HomePlug modem's Ethernet interface (qcaspi's ``eth1``, a USB/Ethernet plug), or sim."""

    interface: str = Field(default="sim", description="network interface of the PLC modem, or sim")

    @field_validator("interface")
    @classmethod
    def _ifname(cls, value: str) -> str:
        if value != "sim" and not _IFNAME.match(value):
            raise ValueError(f"{value!r} is not a Linux interface name (1–15 characters, no '/', ':' or space)")
        return value


class Ntc(_Strict):
    """An NTC thermistor from the channel's input to ground with a pull-up to ``supply_v``
    (clara mode's inlet pin sensors).  Defaults: 10 kΩ at 25 °C, β = 3900 (ccs32clara's
    TempSensorNomRes / TempSensorBeta defaults), 10 kΩ pull-up to 3.3 V."""

    nominal_ohm: float = Field(default=10_000.0, gt=0.0, description="resistance at 25 °C")
    beta: float = Field(default=3900.0, gt=0.0, description="β of the thermistor, K")
    pullup_ohm: float = Field(default=10_000.0, gt=0.0)
    supply_v: float = Field(default=3.3, gt=0.0)


class AdcChannel(_Strict):
    """``in_voltage<index>_raw`` of the IIO device; volts = (raw + offset) × scale / 1000 × divider.
    An ``ntc`` channel reports °C instead (:func:`ccs2chademo.drivers.linux.adc.ntc_celsius`)."""

    index: int = Field(ge=0, le=255)
    divider: float = Field(default=1.0, gt=0.0, description="resistor divider factor (×11 for vcc12, ×2 for vcc4)")
    ntc: Ntc | None = Field(default=None, description="the channel reads an NTC thermistor (inlet_temp1/2)")


class AdcConfig(_Strict):
    backend: Literal["iio", "none"] = "none"
    device: str | None = Field(default=None, description="iio:deviceN, or the device's name (its sysfs 'name' file)")
    channels: dict[Literal["vcc12", "vcc4", "inlet", "inlet_temp1", "inlet_temp2"], AdcChannel] = Field(
        default_factory=dict)
    period_s: float = Field(default=2.0, gt=0.0, le=60.0, description="how often the aux battery is sampled")

    @model_validator(mode="after")
    def _iio_needs_device(self) -> AdcConfig:
        if self.backend == "iio":
            if not self.device:
                raise ValueError("backend iio needs device (iio:deviceN or the device's name)")
            if not self.channels:
                raise ValueError("backend iio needs at least one channel (vcc12, vcc4)")
        for name, channel in self.channels.items():
            if name.startswith("inlet_temp") != (channel.ntc is not None):
                raise ValueError(f"channels.{name}: " + ("an inlet temperature needs ntc = {…}" if channel.ntc is None
                                                         else "ntc applies to inlet_temp1 / inlet_temp2 only"))
        return self

    @field_validator("device")
    @classmethod
    def _device(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or "/" in value):
            raise ValueError(f"{value!r}: give iio:deviceN or the device's name, not a path")
        return value


class LoggingConfig(_Strict):
    """Where a long run on hardware keeps its logs, and how big they may grow."""

    session_log: Path | None = Field(default=None, description="JSON-lines session log (rotated)")
    pcapng: Path | None = Field(default=None, description="pcapng of every CCS frame (rotated)")
    can_log: Path | None = Field(default=None, description="CAN log in a python-can format (.log, .asc, .blf)")
    rotate_bytes: int = Field(default=10 * 1024 * 1024, ge=64 * 1024, description="rotate a log at this size")
    rotate_count: int = Field(default=5, ge=1, le=1000, description="rotated files kept")

    @field_validator("pcapng")
    @classmethod
    def _pcapng_suffix(cls, value: Path | None) -> Path | None:
        if value is not None and value.suffix != ".pcapng":
            raise ValueError(f"{value}: the CCS capture is written as .pcapng")
        return value

    @field_validator("can_log")
    @classmethod
    def _can_suffix(cls, value: Path | None) -> Path | None:
        if value is not None and value.suffix not in {".log", ".asc", ".blf"}:
            raise ValueError(f"{value}: CAN logs are .log (candump), .asc or .blf")
        return value


class HardwareConfig(_Strict):
    """The whole ``[hardware]`` section; every device defaults to its simulated stand-in."""

    gpio: GpioConfig = Field(default_factory=GpioConfig)
    can: CanConfig = Field(default_factory=CanConfig)
    plc: PlcConfig = Field(default_factory=PlcConfig)
    adc: AdcConfig = Field(default_factory=AdcConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    def simulated(self) -> list[str]:
        """Names of the devices that run simulated (for the startup log line)."""
        flags = {"gpio": self.gpio.backend == "sim", "can": self.can.interface == "sim",
                 "plc": self.plc.interface == "sim"}
        return [name for name, on in flags.items() if on]
