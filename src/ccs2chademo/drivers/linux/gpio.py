"""GPIO through libgpiod v2 (the ``gpiod`` Python package, ``pip install ccs2chademo[hw]``).

Why these choices:

* One line request per chip, made with every output's *safe* value as its initial value, so the
  kernel drives the safe level the moment the line becomes an output — there is no instant in
  which d2 (active-low on the original) or the contactor could glitch on.
* Active-low is handed to the kernel (``LineSettings.active_low``): the values we read and write,
  and the edges we receive, are then logical, and one polarity flag in the config is the only
  place a board's wiring shows.
* Inputs use both-edge detection with the configured bias and debounce (the kernel debounces in
  software where the chip has no hardware debounce); the request's fd goes to
  ``loop.add_reader`` so edges arrive in the event loop without a thread.
* The CP PWM input (clara mode) gets both edges with their kernel timestamps (CLOCK_MONOTONIC,
  gpiod's default), handed to the duty-cycle meter; a timer every ``IDLE_S`` polls for a steady line.
* ``gpiod`` is imported lazily: the package, the simulation and the tests run without it.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from types import ModuleType
from typing import Any

from ..cp_pwm import IDLE_S
from ..gpio import PWM_ROLE, Gpio, GpioError, InputSink
from ..hardware_config import ALL_INPUT_ROLES, SAFE_OUTPUTS, GpioConfig, LineSpec

logger = logging.getLogger(__name__)

_BIAS = {"as-is": "AS_IS", "disabled": "DISABLED", "pull-up": "PULL_UP", "pull-down": "PULL_DOWN"}


def load_gpiod() -> ModuleType:
    try:
        return importlib.import_module("gpiod")
    except ImportError as exc:
        raise GpioError("GPIO backend 'gpiod' needs the gpiod package (pip install 'ccs2chademo[hw]')") from exc


def chip_path(chip: str) -> str:
    """``gpiochip0`` → ``/dev/gpiochip0``; a path is kept as given."""
    return chip if chip.startswith("/") else f"/dev/{chip}"


def line_settings(gpiod: ModuleType, role: str, spec: LineSpec) -> Any:
    """The ``gpiod.LineSettings`` for one role: outputs start at their safe value."""
    bias = getattr(gpiod.line.Bias, _BIAS[spec.bias])
    if role in ALL_INPUT_ROLES:
        return gpiod.LineSettings(
            direction=gpiod.line.Direction.INPUT,
            edge_detection=gpiod.line.Edge.BOTH,
            bias=bias,
            active_low=spec.active_low,
            debounce_period=timedelta(milliseconds=spec.debounce_ms),
        )
    value = gpiod.line.Value.ACTIVE if SAFE_OUTPUTS[role] else gpiod.line.Value.INACTIVE
    return gpiod.LineSettings(
        direction=gpiod.line.Direction.OUTPUT, bias=bias, active_low=spec.active_low, output_value=value)


@dataclass(frozen=True, slots=True)
class _Line:
    request: Any  # gpiod.LineRequest
    line: str | int  # the id the request knows the line by


class GpiodGpio(Gpio):
    """The configured roles on one or more GPIO chips."""

    def __init__(self, config: GpioConfig, gpiod: ModuleType | None = None) -> None:
        wired = config.lines.wired()
        super().__init__([r for r in wired if r not in ALL_INPUT_ROLES], [r for r in wired if r in ALL_INPUT_ROLES])
        self._gpiod = gpiod or load_gpiod()
        self._lines: dict[str, _Line] = {}
        self._roles_by_offset: dict[tuple[int, int], str] = {}  # (id(request), offset) → input role
        self._requests: list[Any] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        by_chip: dict[str, dict[str, LineSpec]] = {}
        for role, spec in wired.items():
            by_chip.setdefault(chip_path(spec.chip or config.chip), {})[role] = spec
        try:
            for path, roles in by_chip.items():
                self._request(path, roles, config.consumer)
        except GpioError:
            self.close()
            raise
        for role in self.wired_outputs:  # the request set them; record what the lines now hold
            self.outputs[role] = SAFE_OUTPUTS[role]

    def _request(self, path: str, roles: dict[str, LineSpec], consumer: str) -> None:
        settings = {spec.line: line_settings(self._gpiod, role, spec) for role, spec in roles.items()}
        try:
            request = self._gpiod.request_lines(path, config=settings, consumer=consumer)
        except (OSError, ValueError) as exc:
            names = ", ".join(f"{role}={spec.line!r}" for role, spec in roles.items())
            raise GpioError(f"cannot request GPIO lines on {path} ({names}): {exc}") from exc
        self._requests.append(request)
        offsets = dict(zip(request.lines, request.offsets, strict=True))
        for role, spec in roles.items():
            self._lines[role] = _Line(request, spec.line)
            if role in ALL_INPUT_ROLES:
                self._roles_by_offset[(id(request), offsets[spec.line])] = role

    def _write(self, role: str, value: bool) -> None:
        line = self._lines[role]
        level = self._gpiod.line.Value.ACTIVE if value else self._gpiod.line.Value.INACTIVE
        try:
            line.request.set_value(line.line, level)
        except (OSError, ValueError) as exc:
            raise GpioError(f"cannot set {role} ({line.line!r}): {exc}") from exc

    def _read(self, role: str) -> bool:
        line = self._lines[role]
        try:
            return bool(line.request.get_value(line.line) == self._gpiod.line.Value.ACTIVE)
        except (OSError, ValueError) as exc:
            raise GpioError(f"cannot read {role} ({line.line!r}): {exc}") from exc

    def start(self, on_input: InputSink, loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().start(on_input, loop)
        self._loop = loop or asyncio.get_running_loop()
        for request in self._requests:
            if any(key[0] == id(request) for key in self._roles_by_offset):
                self._loop.add_reader(request.fd, self._edges, request)
        if PWM_ROLE in self.wired_inputs:
            self._poll_pwm()

    def _poll_pwm(self) -> None:
        if self._loop is None or self.closed:
            return
        self.poll_pwm(time.monotonic_ns())
        self._loop.call_later(IDLE_S, self._poll_pwm)

    def _edges(self, request: Any) -> None:
        rising = self._gpiod.EdgeEvent.Type.RISING_EDGE
        for event in request.read_edge_events():
            role = self._roles_by_offset.get((id(request), event.line_offset))
            if role == PWM_ROLE:
                self._pwm_edge(event.event_type == rising, event.timestamp_ns)
            elif role is not None:
                self._report(role, event.event_type == rising)  # edges are logical (active-low applied)

    def close(self) -> None:
        super().close()
        for request in self._requests:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(request.fd)
            try:
                request.release()
            except (OSError, ValueError) as exc:  # releasing is best effort at shutdown
                logger.warning("releasing GPIO request failed: %s", exc)
        self._requests.clear()
        self._loop = None
