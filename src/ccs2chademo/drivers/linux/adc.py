"""Aux-battery voltages (vcc12, vcc4) from a Linux IIO ADC through sysfs, or from none.

Why sysfs IIO: every ADC with a kernel driver (an ADS1115 on I2C, a SoC's own ADC) shows up as
``/sys/bus/iio/devices/iio:deviceN`` with ``in_voltage<M>_raw`` and a scale in millivolts per
count — per channel (``in_voltage<M>_scale``) or shared (``in_voltage_scale``) — so one small
reader serves them all with no library.  Volts = (raw + offset) × scale / 1000 × divider, the
divider being the board's resistor ratio (×11 for vcc12, ×2 for vcc4 on the original).

Clara mode's inlet pin sensors are NTC thermistors on ADC channels (``inlet_temp1`` /
``inlet_temp2`` with ``ntc``): their samples are °C (:func:`ntc_celsius`), for the clara side.

The device is found by ``iio:deviceN`` or by its ``name`` file, because N depends on probe order.
Scale and offset are re-read on every sample: some drivers let the gain change at run time.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from ...runtime.events import InputChanged
from ..hardware_config import IIO_DEVICE_NAME, AdcChannel, AdcConfig, Ntc

logger = logging.getLogger(__name__)

IIO_ROOT = Path("/sys/bus/iio/devices")


class AdcError(RuntimeError):
    """The ADC device or a channel cannot be found or read, or holds a value that is no number."""


def find_device(device: str, root: Path = IIO_ROOT) -> Path:
    """The sysfs directory of ``iio:deviceN`` or of the device whose ``name`` is ``device``."""
    if IIO_DEVICE_NAME.match(device):
        path = root / device
        if not path.is_dir():
            raise AdcError(f"IIO device {device} not found under {root}")
        return path
    names: list[str] = []
    for path in sorted(root.glob("iio:device*")):
        try:
            name = (path / "name").read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if name == device:
            return path
        names.append(name)
    raise AdcError(f"no IIO device named {device!r} under {root} (found: {', '.join(names) or 'none'})")


def _number(path: Path) -> float:
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError as exc:  # an I2C ADC answers EIO when the bus fails
        raise AdcError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise AdcError(f"{path}: not a number") from exc
    try:
        return float(text)
    except ValueError:
        raise AdcError(f"{path}: {text[:40]!r} is not a number") from None


KELVIN_25C = 298.15
#: An NTC reading this far outside 0 … supply is an open or shorted sensor: reported as hot
#: (the clara side then stops the session), never as cold.
FAULT_C = 200.0


def ntc_celsius(volts: float, ntc: Ntc) -> float:
    """°C of an NTC to ground with a pull-up (β equation, a fact: 1/T = 1/T25 + ln(R/R25)/β).
    An open sensor (≈ supply) or a short (≈ 0 V) gives :data:`FAULT_C`."""
    if not 0.01 * ntc.supply_v < volts < 0.99 * ntc.supply_v:
        return FAULT_C
    ohms = ntc.pullup_ohm * volts / (ntc.supply_v - volts)
    return 1.0 / (1.0 / KELVIN_25C + math.log(ohms / ntc.nominal_ohm) / ntc.beta) - 273.15


class IioAdc:
    """The configured channels of one IIO device."""

    def __init__(self, config: AdcConfig, root: Path = IIO_ROOT) -> None:
        if config.backend != "iio" or config.device is None:
            raise AdcError("IioAdc needs an adc section with backend = \"iio\" and a device")
        self.path = find_device(config.device, root)
        self.channels: dict[str, AdcChannel] = {str(name): ch for name, ch in config.channels.items()}
        for name, channel in self.channels.items():
            raw = self.path / f"in_voltage{channel.index}_raw"
            if not raw.is_file():
                raise AdcError(f"{name}: {raw} does not exist (no channel {channel.index} on this device?)")
            if self._attribute(channel.index, "scale") is None:
                raise AdcError(f"{name}: {self.path} has no in_voltage{channel.index}_scale or in_voltage_scale")

    def _attribute(self, index: int, what: str) -> Path | None:
        for candidate in (f"in_voltage{index}_{what}", f"in_voltage_{what}"):
            path = self.path / candidate
            if path.is_file():
                return path
        return None

    def read(self, name: str) -> float:
        """Volts at the divider's input for channel ``name`` (``vcc12``/``vcc4``)."""
        try:
            channel = self.channels[name]
        except KeyError:
            raise AdcError(f"ADC channel {name!r} is not configured") from None
        raw = _number(self.path / f"in_voltage{channel.index}_raw")
        scale_path = self._attribute(channel.index, "scale")
        if scale_path is None:
            raise AdcError(f"{name}: the scale attribute of channel {channel.index} disappeared")
        offset_path = self._attribute(channel.index, "offset")
        offset = _number(offset_path) if offset_path is not None else 0.0
        return (raw + offset) * _number(scale_path) / 1000.0 * channel.divider

    def read_all(self) -> dict[str, float]:
        return {name: self.read(name) for name in self.channels}

    def sample(self) -> list[InputChanged]:
        """One reading of every channel as events for the power manager (``InputChanged("vcc4", 3.8)``)."""
        events = []
        for name, volts in self.read_all().items():
            ntc = self.channels[name].ntc
            events.append(InputChanged(name, round(volts, 3) if ntc is None else round(ntc_celsius(volts, ntc), 1)))
        return events


class NoAdc:
    """A board without an ADC: no samples (the power manager then has no battery level)."""

    def read_all(self) -> dict[str, float]:
        return {}

    def sample(self) -> list[InputChanged]:
        return []


def open_adc(config: AdcConfig, root: Path = IIO_ROOT) -> IioAdc | NoAdc:
    return IioAdc(config, root) if config.backend == "iio" else NoAdc()
