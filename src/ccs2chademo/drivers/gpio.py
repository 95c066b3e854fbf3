"""Role-level GPIO: what the machines' ``SetOutput``/``InputChanged`` mean on a board.

Machines speak *roles* with *logical* values (``SetOutput("d2", True)`` = d2 on, whatever the
wiring), so a board's polarities live in the configuration only.  A backend maps a role to a
line; this base class holds what every backend shares: the role vocabulary, refusing values that
are not booleans (a machine bug must be loud, not a half-driven relay), dropping roles this board
does not wire, and reporting each input *change* once.

One input is not a level: ``cp_pwm`` (clara mode, basic AC) is the CP line's PWM, whose edge
timestamps a :class:`~.cp_pwm.DutyMeter` turns into ``InputChanged("cp_duty", percent)``; a
backend hands its edges to :meth:`Gpio._pwm_edge` and polls :meth:`Gpio.poll_pwm` for a steady line.

Backends: :class:`ccs2chademo.drivers.linux.gpio.GpiodGpio` (libgpiod v2) and
:class:`ccs2chademo.drivers.sim.gpio.SimGpio` (records the outputs, lets a test drive inputs).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..runtime.events import InputChanged
from .cp_pwm import DutyMeter
from .hardware_config import ALL_INPUT_ROLES, ALL_OUTPUT_ROLES, GpioConfig

logger = logging.getLogger(__name__)

InputSink = Callable[[InputChanged], None]
#: The PWM input role and the input it reports.
PWM_ROLE = "cp_pwm"
DUTY_INPUT = "cp_duty"


class GpioError(RuntimeError):
    """A GPIO request or access failed, or a role/value is not acceptable."""


class Gpio(ABC):
    """Outputs and inputs by role; subclasses provide ``_write``, ``_read`` and the watching."""

    def __init__(self, outputs: Iterable[str], inputs: Iterable[str]) -> None:
        self.wired_outputs = frozenset(outputs)
        self.wired_inputs = frozenset(inputs)
        unknown = (self.wired_outputs - set(ALL_OUTPUT_ROLES)) | (self.wired_inputs - set(ALL_INPUT_ROLES))
        if unknown:
            raise GpioError(f"unknown GPIO roles: {', '.join(sorted(unknown))}")
        #: Last logical value driven per wired output.
        self.outputs: dict[str, bool] = {}
        self._reported: dict[str, bool] = {}
        self._on_input: InputSink | None = None
        self._duty = DutyMeter() if PWM_ROLE in self.wired_inputs else None
        #: Set by :meth:`close`; later writes are dropped, so nothing re-closes a contactor after
        #: the safe shutdown (a machine still emitting during teardown).
        self.closed = False

    # -- outputs ----------------------------------------------------------------------------
    @staticmethod
    def owns(name: str) -> bool:
        """True for a GPIO output role (other ``SetOutput`` names belong to other consumers)."""
        return name in ALL_OUTPUT_ROLES

    def set_output(self, role: str, value: Any) -> None:
        if role not in ALL_OUTPUT_ROLES:
            raise GpioError(f"{role!r} is not a GPIO output role ({', '.join(ALL_OUTPUT_ROLES)})")
        if not isinstance(value, bool):
            raise GpioError(f"output {role}: expected True/False, got {value!r}")
        if role not in self.wired_outputs:
            logger.debug("output %s=%s dropped: not wired on this board", role, value)
            return
        if self.closed:
            logger.warning("output %s=%s dropped: GPIO already closed (after the safe shutdown)", role, value)
            return
        self._write(role, value)
        self.outputs[role] = value

    def output_sink(self, name: str, value: Any, now: float) -> None:
        """An :data:`~ccs2chademo.runtime.core.OutputSink`: drives GPIO roles, ignores other names."""
        if self.owns(name):
            self.set_output(name, value)

    # -- inputs -----------------------------------------------------------------------------
    def read_input(self, role: str) -> bool:
        if role not in self.wired_inputs:
            raise GpioError(f"input {role!r} is not wired (wired: {', '.join(sorted(self.wired_inputs)) or 'none'})")
        if self.closed:
            raise GpioError(f"input {role}: GPIO already closed")
        return self._read(role)

    def start(self, on_input: InputSink, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Report every wired input's current value, then each change, as ``InputChanged``.

        A backend with its own event source (gpiod's fd) extends this to start watching ``loop``."""
        self._on_input = on_input
        self._reported.clear()
        for role in sorted(self.wired_inputs - {PWM_ROLE}):  # the PWM reports duty cycles, not levels
            self._report(role, self._read(role))

    def _pwm_edge(self, rising: bool, t_ns: int) -> None:
        assert self._duty is not None  # only called for a wired cp_pwm
        self._tell_duty(self._duty.edge(rising, t_ns))

    def poll_pwm(self, t_ns: int) -> None:
        """A steady CP line (no edges for a while) is 0 or 100 %: backends call this periodically."""
        if self._duty is not None and not self.closed:
            self._tell_duty(self._duty.idle(t_ns, self._read(PWM_ROLE)))

    def _tell_duty(self, duty: float | None) -> None:
        if duty is not None and self._on_input is not None:
            self._on_input(InputChanged(DUTY_INPUT, duty))

    def _report(self, role: str, value: bool) -> None:
        if self._reported.get(role) == value:
            return  # an edge that does not change the last reported level (missed edge, bounce)
        self._reported[role] = value
        if self._on_input is not None:
            self._on_input(InputChanged(role, value))

    # -- backend ----------------------------------------------------------------------------
    @abstractmethod
    def _write(self, role: str, value: bool) -> None: ...

    @abstractmethod
    def _read(self, role: str) -> bool: ...

    def close(self) -> None:
        """Stop watching inputs and release the lines (outputs keep their last level)."""
        self._on_input = None
        self.closed = True


def open_gpio(config: GpioConfig, trace: Path | None = None) -> Gpio:
    """The backend the config names; ``trace`` (sim only) appends every output change to a file."""
    if config.backend == "gpiod":
        from .linux.gpio import GpiodGpio  # imports gpiod lazily, so sim setups never need it

        return GpiodGpio(config)
    from .sim.gpio import SimGpio

    return SimGpio(config, trace=trace)
