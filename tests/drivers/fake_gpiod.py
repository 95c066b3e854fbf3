"""TEST DOUBLE for the ``gpiod`` v2 module: this machine has no /dev/gpiochip and no gpio-sim.

It models only the parts of libgpiod v2 our driver uses, the way the kernel behaves:
``request_lines(path, config=, consumer=)`` by line name or offset, ``LineSettings`` with
``active_low`` applied between logical values and electrical levels, ``output_value`` as the
level at request time, both-edge events on inputs (logical edges), and a real file descriptor
(a pipe) that becomes readable when edges are queued, so ``loop.add_reader`` works for real.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import types
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any


class Direction(enum.Enum):
    AS_IS = 1
    INPUT = 2
    OUTPUT = 3


class Value(enum.Enum):
    INACTIVE = 0
    ACTIVE = 1

    def __bool__(self) -> bool:
        return self is Value.ACTIVE


class Bias(enum.Enum):
    AS_IS = 1
    UNKNOWN = 2
    DISABLED = 3
    PULL_UP = 4
    PULL_DOWN = 5


class Edge(enum.Enum):
    NONE = 1
    RISING = 2
    FALLING = 3
    BOTH = 4


@dataclass
class LineSettings:
    direction: Direction = Direction.AS_IS
    edge_detection: Edge = Edge.NONE
    bias: Bias = Bias.AS_IS
    active_low: bool = False
    debounce_period: timedelta = field(default_factory=timedelta)
    output_value: Value = Value.INACTIVE


class EdgeEvent:
    class Type(enum.Enum):
        RISING_EDGE = 1
        FALLING_EDGE = 2

    def __init__(self, event_type: EdgeEvent.Type, line_offset: int, timestamp_ns: int = 0) -> None:
        self.event_type = event_type
        self.line_offset = line_offset
        self.timestamp_ns = timestamp_ns  # the kernel's CLOCK_MONOTONIC stamp of the edge


class FakeChip:
    """A chip with named lines; ``levels`` are the electrical levels on its pins."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.levels = [0] * len(names)
        self.busy: set[int] = set()
        self.requests: list[FakeRequest] = []

    def offset(self, line: str | int) -> int:
        if isinstance(line, int):
            if line >= len(self.names):
                raise ValueError("line offset of out range")
            return line
        if line in self.names:
            return self.names.index(line)
        raise OSError(errno.ENOENT, "No such file or directory")

    def pull(self, offset: int, level: int, t_ns: int = 0) -> None:
        """The outside world drives an input pin to ``level`` (at ``t_ns``, the edge's timestamp)."""
        for request in self.requests:
            request._pin_changed(offset, level, t_ns)
        self.levels[offset] = level


class FakeRequest:
    def __init__(self, chip: FakeChip, config: dict[Any, LineSettings], consumer: str | None) -> None:
        self.chip = chip
        self.consumer = consumer
        self.lines = list(config)
        self.offsets = [chip.offset(line) for line in self.lines]
        if len(set(self.offsets)) != len(self.offsets):
            raise ValueError("line must be configured exactly once")
        if chip.busy & set(self.offsets):
            raise OSError(errno.EBUSY, "Device or resource busy")
        self.settings = {off: config[line] for line, off in zip(self.lines, self.offsets, strict=True)}
        self.released = False
        self._events: list[EdgeEvent] = []
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        for off, s in self.settings.items():
            if s.direction is Direction.OUTPUT:
                chip.levels[off] = int(bool(s.output_value) != s.active_low)
        chip.busy |= set(self.offsets)
        chip.requests.append(self)
        #: Every set_value in order: (offset, electrical level).
        self.writes: list[tuple[int, int]] = []

    @property
    def fd(self) -> int:
        self._check()
        return self._r

    def _check(self) -> None:
        if self.released:
            raise ValueError("request released")

    def _off(self, line: str | int) -> int:
        off = self.chip.offset(line)
        if off not in self.settings:
            raise ValueError(f"line {line!r} not requested")
        return off

    def get_value(self, line: str | int) -> Value:
        self._check()
        off = self._off(line)
        return Value.ACTIVE if bool(self.chip.levels[off]) != self.settings[off].active_low else Value.INACTIVE

    def set_value(self, line: str | int, value: Value) -> None:
        self._check()
        off = self._off(line)
        if self.settings[off].direction is not Direction.OUTPUT:
            raise OSError(errno.EPERM, "Operation not permitted")
        level = int(bool(value) != self.settings[off].active_low)
        self.chip.levels[off] = level
        self.writes.append((off, level))

    def _pin_changed(self, off: int, level: int, t_ns: int = 0) -> None:
        s = self.settings.get(off)
        if s is None or s.edge_detection is not Edge.BOTH or self.chip.levels[off] == level or self.released:
            return
        logical = bool(level) != s.active_low
        kind = EdgeEvent.Type.RISING_EDGE if logical else EdgeEvent.Type.FALLING_EDGE
        self._events.append(EdgeEvent(kind, off, t_ns))
        os.write(self._w, b"e")

    def read_edge_events(self, max_events: int | None = None) -> list[EdgeEvent]:
        self._check()
        with contextlib.suppress(BlockingIOError):
            os.read(self._r, 4096)
        events, self._events = self._events, []
        return events

    def release(self) -> None:
        self._check()
        self.released = True
        self.chip.busy -= set(self.offsets)
        os.close(self._r)
        os.close(self._w)


def make_module(chips: dict[str, FakeChip]) -> types.ModuleType:
    """A module object shaped like ``gpiod`` serving ``chips`` by device path."""
    mod = types.ModuleType("fake_gpiod")
    mod.line = types.SimpleNamespace(Direction=Direction, Value=Value, Bias=Bias, Edge=Edge)  # type: ignore[attr-defined]
    mod.LineSettings = LineSettings  # type: ignore[attr-defined]
    mod.EdgeEvent = EdgeEvent  # type: ignore[attr-defined]

    def request_lines(path: str, config: dict[Any, LineSettings], consumer: str | None = None) -> FakeRequest:
        if path not in chips:
            raise OSError(errno.ENOENT, f"No such file or directory: {path!r}")
        return FakeRequest(chips[path], config, consumer)

    mod.request_lines = request_lines  # type: ignore[attr-defined]
    return mod
