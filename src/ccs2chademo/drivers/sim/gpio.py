"""The ``sim`` GPIO backend: the same role interface as gpiod, with nothing attached.

Why it exists: a desk without a board runs ``ccs2chademo run`` with ``backend = "sim"``, the
simulated car drives ``k`` and the button through :meth:`SimGpio.set_input`, and tests read
the output *timeline* (every change with its time, logical value and electrical level) to
check orders such as "contactor open before d2 off, power hold last".  With ``trace`` set
every change is also appended to a JSON-lines file at once, so another process (a test that
kills this one with SIGTERM) can read what happened up to the last instant.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..gpio import PWM_ROLE, Gpio, GpioError
from ..hardware_config import ALL_INPUT_ROLES, ALL_OUTPUT_ROLES, INPUT_ROLES, OUTPUT_ROLES, SAFE_OUTPUTS, GpioConfig


@dataclass(frozen=True, slots=True)
class OutputChange:
    t: float
    role: str
    value: bool  # logical
    level: int  # electrical: value XOR active_low


class SimGpio(Gpio):
    """All roles (or the configured ones, with their polarities) on an imaginary chip."""

    def __init__(self, config: GpioConfig | None = None, clock: Callable[[], float] = time.monotonic,
                 trace: Path | None = None) -> None:
        wired = config.lines.wired() if config is not None else {}
        if wired:
            outputs = [r for r in wired if r in ALL_OUTPUT_ROLES]
            inputs = [r for r in wired if r in ALL_INPUT_ROLES]
        else:  # no lines given: a desk setup wires every role of the adapter, all active-high
            outputs, inputs = list(OUTPUT_ROLES), list(INPUT_ROLES)
        super().__init__(outputs, inputs)
        self._active_low = {role: spec.active_low for role, spec in wired.items()}
        self._clock = clock
        self.timeline: list[OutputChange] = []
        self._inputs = {role: False for role in self.wired_inputs}
        self._trace: IO[str] | None = trace.open("a", encoding="utf-8") if trace is not None else None
        for role in ALL_OUTPUT_ROLES:  # like a line request: every output starts at its safe value
            if role in self.wired_outputs:
                self.set_output(role, SAFE_OUTPUTS[role])

    def level(self, role: str) -> int:
        """Electrical level of an output now (0/1)."""
        if role not in self.outputs:
            raise GpioError(f"output {role!r} is not wired")
        return int(self.outputs[role] != self._active_low.get(role, False))

    def set_input(self, role: str, value: bool) -> None:
        """Drive an input (logical: True = k on / button pressed) as the simulated world sees it."""
        if role not in self.wired_inputs:
            raise GpioError(f"input {role!r} is not wired")
        self._inputs[role] = value
        if self._on_input is not None:
            self._report(role, value)

    def pwm_edge(self, rising: bool, t_ns: int) -> None:
        """An edge of the CP PWM input (``cp_pwm``) at ``t_ns``, as gpiod timestamps it."""
        if PWM_ROLE not in self.wired_inputs:
            raise GpioError("input 'cp_pwm' is not wired")
        self._inputs[PWM_ROLE] = rising
        if self._on_input is not None:
            self._pwm_edge(rising, t_ns)

    def _write(self, role: str, value: bool) -> None:
        if self.outputs.get(role) == value:
            return
        level = int(value != self._active_low.get(role, False))
        change = OutputChange(self._clock(), role, value, level)
        self.timeline.append(change)
        if self._trace is not None:
            self._trace.write(json.dumps({"t": change.t, "role": role, "value": value, "level": level}) + "\n")
            self._trace.flush()

    def _read(self, role: str) -> bool:
        return self._inputs[role]

    def close(self) -> None:
        super().close()
        if self._trace is not None:
            self._trace.close()
            self._trace = None
