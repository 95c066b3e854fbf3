"""A minimal SavvyCAN CSV reader for the tests (the real reader lives in the log package)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ccs2chademo.chademo.charger import ChademoCharger
from ccs2chademo.chademo.frames import ChargerStatus
from ccs2chademo.chademo.interfaces import ChargerConfig, PowerDemand
from ccs2chademo.runtime import (
    CanFrame,
    CanReceived,
    Event,
    InputChanged,
    Log,
    MachineBase,
    SendCan,
    SetOutput,
    VirtualRuntime,
)
from ccs2chademo.sim.battery import Battery
from ccs2chademo.sim.chademo_world import ChademoWorld
from ccs2chademo.sim.dc_source import DcSource
from ccs2chademo.sim.profiles import VehicleProfile, load_profile
from tests.recording import Recorder


def read_savvycan(path: Path) -> list[tuple[float, CanFrame]]:
    """``(seconds from the first row, frame)`` per row; bytes beyond LEN are dropped."""
    rows: list[tuple[float, CanFrame]] = []
    t0: int | None = None
    with path.open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            cells = line.rstrip().rstrip(",").split(",")
            stamp = int(cells[0])
            t0 = stamp if t0 is None else t0
            length = int(cells[5])
            data = bytes(int(cell, 16) for cell in cells[6 : 6 + length])
            rows.append(((stamp - t0) / 1e6, CanFrame(int(cells[1], 16), data)))
    return rows


def profile_with(name: str, **changes: Any) -> VehicleProfile:
    """A packaged profile with some fields replaced (``battery__initial_soc=10`` for nested)."""
    profile = load_profile(name)
    nested: dict[str, dict[str, Any]] = {}
    flat: dict[str, Any] = {}
    for key, value in changes.items():
        if "__" in key:
            group, field = key.split("__", 1)
            nested.setdefault(group, {})[field] = value
        else:
            flat[key] = value
    for group, fields in nested.items():
        flat[group] = dataclasses.replace(getattr(profile, group), **fields)
    return dataclasses.replace(profile, **flat)


def world(
    name: str | VehicleProfile, config: ChargerConfig | None = None, seed: int = 0, **kwargs: Any
) -> tuple[ChademoWorld, Recorder]:
    log = Recorder()
    sim = VirtualRuntime(seed=seed, log=log)
    profile = load_profile(name) if isinstance(name, str) else name
    return ChademoWorld(sim, profile, config, **kwargs), log


class ChargerHarness:
    """Drives one :class:`ChademoCharger` by hand (no runtime): events in time order, its timer
    fired when due, and a DC source stepped every 100 ms when one is given."""

    def __init__(self, config: ChargerConfig | None = None, source: DcSource | None = None) -> None:
        self.charger = ChademoCharger("chademo", config)
        self.source = source
        self.load: Battery | None = None  # tie the source to this pack (car contactors closed)
        self.demand = PowerDemand()
        self.sent: list[tuple[float, CanFrame]] = []
        self.outputs: list[tuple[float, str, Any]] = []
        self.logs: list[tuple[float, Log]] = []
        self.next_physics = 0.05
        self.now = 0.0

    def _collect(self, now: float) -> None:
        for action in self.charger.actions():
            if isinstance(action, SendCan):
                self.sent.append((now, action.frame))
            elif isinstance(action, SetOutput):
                self.outputs.append((now, action.name, action.value))
                if action.name == "demand":
                    self.demand = action.value
            elif isinstance(action, Log):
                self.logs.append((now, action))

    def feed(self, now: float, event: Event) -> None:
        self.advance(now)
        self.charger.receive(event, now)
        self._collect(now)

    def advance(self, until: float) -> None:
        while True:
            timer = self.charger.get_timer()
            physics = self.next_physics if self.source is not None else None
            due = min((t for t in (timer, physics) if t is not None), default=None)
            if due is None or due > until:
                self.now = max(self.now, until)
                return
            self.now = due
            if physics is not None and physics <= due:
                assert self.source is not None
                self.next_physics += 0.1
                self.source.step(due, 0.1, self.demand, self.load)
                self.charger.receive(InputChanged("upstream", self.source.upstream()), due)
                self._collect(due)
            else:
                self.charger.handle_timer(due)
                self._collect(due)

    def times(self, name: str, value: Any) -> list[float]:
        return [t for t, n, v in self.outputs if n == name and v == value]

    def statuses(self) -> list[tuple[float, ChargerStatus]]:
        return [(t, ChargerStatus.from_can(f)) for t, f in self.sent if f.arbitration_id == 0x109]

    def log_kinds(self, kind: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, entry.fields) for t, entry in self.logs if entry.kind == kind]


def run_until_charging(w: ChademoWorld, then: float = 0.0) -> None:
    """Start a session and run until the charger is in its charging loop, then ``then`` s more."""
    w.start()
    w.sim.run(until=w.sim.now() + 40.0, stop=lambda: w.charger.state == "charging")
    assert w.charger.state == "charging", w.charger.state
    if then:
        w.sim.run(until=w.sim.now() + then)


class BusSpy(MachineBase):
    """A passive logger on the CAN bus (like the loggers that recorded the real logs)."""

    def __init__(self) -> None:
        super().__init__("spy", "listening")
        self.frames: list[tuple[float, CanFrame]] = []

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, CanReceived):
            self.frames.append((now, event.frame))

    def handle_timer(self, now: float) -> None:
        pass

    def get_timer(self) -> None:
        return None

    def status_bytes(self) -> list[int]:
        """0x109 byte 5 with consecutive repeats collapsed (the chademo.md §3.5 sequences)."""
        out: list[int] = []
        for _, frame in self.frames:
            if frame.arbitration_id == 0x109 and (not out or out[-1] != frame.data[5]):
                out.append(frame.data[5])
        return out


def spy_on(w: ChademoWorld) -> BusSpy:
    spy = BusSpy()
    w.sim.add(spy, {"can": w.bus.port("spy")})
    return spy
