"""Replay a real CHAdeMO CAN log against our charger side and compare with the real charger.

A passive logger on a real CHAdeMO session recorded both sides.  We take the car's frames (0x100,
0x101, 0x102, 0x200, 0x201) at their recorded times and feed them to our
:class:`~ccs2chademo.chademo.charger.ChademoCharger`, as if our adapter had been the charger:

* **k** (the charge-permission line, not on the bus) follows the car's charging-enabled bit
  0x102.5.0, as chademo.md §4.1 ties them together;
* **upstream** — what our CCS side would tell the CHAdeMO side — comes from the real charger's
  frames: available voltage/current from its 0x108 (the largest 0x108.3 seen is the static
  maximum, the latest the dynamic one), present voltage/current from its 0x109; precharge (our
  d2 gate) is done once its insulation test is over — its output was driven above the car's
  maximum voltage (0x100.4-5; the test voltage), fell below 60 V, and then either stayed there
  for :data:`INSULATION_SETTLE` s (no second test step: EVgo makes two) or rose to a pack-like
  voltage at or below the car's maximum (the car's contactors closed) — or it was already
  charging when the log starts; a charger malfunction (0x109.5.1) is an upstream fault, and a
  stop it flags (0x109.5.5) after charging an upstream stop;
* **configuration** like the real charger: protocol number (0x109.0), welding detection
  (0x108.0), voltage and current caps (0x108), V2X when it sent 0x208/0x209, and a plain DC
  charger's voltage report (no 0 V until the car's contactors close).

Our 0x108/0x109 (and 0x208/0x209) are compared with the real charger's: the order and timing of
the 0x109.5 status bits, the threshold voltage, the available current (0x108.3) and the present
current (0x109.3, RMS of the difference at the real frames' times).

A log holds one or more sessions (a silence of both sides longer than :data:`SESSION_GAP` ends
one); each is replayed with a fresh charger.  Bad logs raise :class:`ReplayError`: one side
missing, a side silent longer than the CAN timeout inside a session (the logger lost frames — a
replay would invent a timeout), a CHAdeMO ID with a DLC other than 8.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..chademo.charger import CAN_TIMEOUT, CYCLE, ChademoCharger
from ..chademo.frames import ChargerCapability, ChargerStatus, VehicleLimits, VehicleStatus
from ..chademo.interfaces import ChargerConfig, Upstream
from ..runtime import CanFrame, CanReceived, InputChanged, SendCan
from ..runtime.signals import Input
from .reader import CanLog, CanLogError

#: What the car sends that our charger reads (0x110/0x202/0x700 carry nothing it acts on).
CAR_IDS = frozenset((0x100, 0x101, 0x102, 0x200, 0x201))
CHARGER_IDS = frozenset((0x108, 0x109, 0x118, 0x208, 0x209))
CHADEMO_IDS = CAR_IDS | CHARGER_IDS | {0x110, 0x202, 0x700}
#: Both sides silent this long: the session is over (FailedInstaVolt: two attempts 177 s apart).
SESSION_GAP = 5.0
INSULATION_DONE_V = 60  # V: the real charger's output after its insulation test …
INSULATION_SETTLE = 2.5  # s … for this long (EVgo's two test steps are 2 s apart)
PACK_MIN_V = 100  # V: a voltage this high, not above the car's maximum, is the car's pack
STATUS_BITS = {0x01: "charging", 0x02: "charger-malfunction", 0x04: "connector-locked",
               0x08: "battery-incompatible", 0x10: "system-malfunction", 0x20: "stop-control"}
#: Both sides start from the idle byte (stop control only, chademo.md §3.5), so a first frame that
#: already shows the lock (or, in a log that starts mid-session, charging) counts as transitions.
IDLE_STATUS = 0x20
#: Bits that change in the same frame are listed in the order of a normal session.
SESSION_ORDER = ((0x04, True), (0x08, True), (0x01, True), (0x20, False), (0x02, True), (0x10, True),
                 (0x20, True), (0x01, False), (0x08, False), (0x02, False), (0x10, False), (0x04, False))
LAG_REPORTED = 0.5  # s: a status transition later or earlier than this is listed as a difference
TAIL = 0.5  # s our charger runs on after the last recorded frame (less than the CAN timeout)

Timed = tuple[float, CanFrame]


class ReplayError(ValueError):
    """A log that cannot be replayed: missing side, gap, wrong DLC, unreadable."""


@dataclass(frozen=True, slots=True)
class Transition:
    t: float
    bit: int
    on: bool

    @property
    def label(self) -> str:
        return f"{STATUS_BITS[self.bit]} {'on' if self.on else 'off'}"


@dataclass
class Comparison:
    """The figures of one session (or, summed by :meth:`merge`, of a whole log)."""

    car_frames: int = 0
    charger_frames: int = 0
    our_frames: int = 0
    status_bit_order_agrees: bool = True
    max_status_lag_s: float = 0.0
    current_sq_sum: float = 0.0
    current_samples: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def current_rms_diff_a(self) -> float:
        return math.sqrt(self.current_sq_sum / self.current_samples) if self.current_samples else 0.0

    def merge(self, other: Comparison, prefix: str) -> None:
        self.car_frames += other.car_frames
        self.charger_frames += other.charger_frames
        self.our_frames += other.our_frames
        self.status_bit_order_agrees = self.status_bit_order_agrees and other.status_bit_order_agrees
        self.max_status_lag_s = max(self.max_status_lag_s, other.max_status_lag_s)
        self.current_sq_sum += other.current_sq_sum
        self.current_samples += other.current_samples
        self.differences += [prefix + d for d in other.differences]

    def as_json(self) -> dict[str, Any]:
        return {"car_frames": self.car_frames, "charger_frames": self.charger_frames, "our_frames": self.our_frames,
                "status_bit_order_agrees": self.status_bit_order_agrees,
                "max_status_lag_s": round(self.max_status_lag_s, 3),
                "current_rms_diff_a": round(self.current_rms_diff_a, 3), "differences": list(self.differences)}


# ----------------------------------------------------------------------------------- reading


def read_frames(path: Path) -> list[Timed]:
    """The CHAdeMO frames of ``path``, seconds from its first frame; :class:`ReplayError` if bad."""
    frames: list[Timed] = []
    t0: float | None = None
    try:
        for message in CanLog(path):
            t0 = message.timestamp if t0 is None else t0
            fid = message.arbitration_id
            if fid not in CHADEMO_IDS:
                continue  # the car's own bus on the same logger (diy-car-v2x, abb_nissan …)
            t = message.timestamp - t0
            if message.dlc != 8:
                raise ReplayError(f"{path}: 0x{fid:03x} at {t:.3f} s has DLC {message.dlc}; CHAdeMO frames are DLC 8")
            frames.append((t, CanFrame(fid, bytes(message.data[:8]))))
    except CanLogError as exc:
        raise ReplayError(str(exc)) from None
    return frames


def split_sessions(frames: Sequence[Timed], name: str = "log") -> list[list[Timed]]:
    """Sessions separated by silences of both sides longer than :data:`SESSION_GAP`, each checked."""
    sessions: list[list[Timed]] = []
    for t, frame in frames:
        if not sessions or t - sessions[-1][-1][0] > SESSION_GAP:
            sessions.append([])
        sessions[-1].append((t, frame))
    if not sessions:
        raise ReplayError(f"{name}: no CHAdeMO frames (0x100…0x209)")
    for number, session in enumerate(sessions, 1):
        _check(session, f"{name}: session {number} ({session[0][0]:.3f}–{session[-1][0]:.3f} s)")
    return sessions


def _check(session: Sequence[Timed], where: str) -> None:
    for fid, side in ((0x102, "car"), (0x109, "charger")):
        times = [t for t, f in session if f.arbitration_id == fid]
        if not times:
            raise ReplayError(f"{where}: one side missing: no {side} frames (0x{fid:03x})")
    car = [t for t, f in session if f.arbitration_id == 0x102]
    charger = [t for t, f in session if f.arbitration_id == 0x109]
    both = (max(car[0], charger[0]), min(car[-1], charger[-1]))  # while both sides talk
    for fid, times in ((0x102, car), (0x109, charger)):
        inside = [t for t in times if both[0] <= t <= both[1]]
        for a, b in itertools.pairwise(inside):
            if b - a > CAN_TIMEOUT:
                raise ReplayError(f"{where}: gap: no 0x{fid:03x} from {a:.3f} to {b:.3f} s while the other side "
                                  f"kept sending (longer than the {CAN_TIMEOUT:g} s CAN timeout: frames lost)")


# ----------------------------------------------------------------------------------- replaying


def _config(real: Sequence[Timed]) -> ChargerConfig:
    caps = [ChargerCapability.from_can(f) for _, f in real if f.arbitration_id == 0x108]
    status = next(ChargerStatus.from_can(f) for _, f in real if f.arbitration_id == 0x109)
    return ChargerConfig(
        protocol_number=2 if status.protocol_number >= 2 else 1,
        welding_detection=any(c.welding_detection for c in caps),
        max_volts=max([c.available_voltage for c in caps] + [1]),
        max_amps=min(255, max([c.available_current for c in caps] + [0])),
        # 0x109.4, not the mere presence of 0x208/0x209 (the ZE1's charger sends a fixed filler pair)
        v2x=any(ChargerStatus.from_can(f).discharge_compatible for _, f in real if f.arbitration_id == 0x109),
        zero_voltage_until_car_contactors_closed=False)


class _Upstream:
    """The real charger's frames, as our CCS side would have reported them (module docstring)."""

    def __init__(self, real: Sequence[Timed]) -> None:
        self.available_voltage = 0.0
        self.max_current = max([ChargerCapability.from_can(f).available_current
                                for _, f in real if f.arbitration_id == 0x108] + [0])
        self.dynamic: float | None = None
        self.status: ChargerStatus | None = None
        self.car_max = 0  # 0x100.4-5, once the car sent it
        self.testing = False  # the output is above the car's maximum: an insulation test step
        self.fell_at: float | None = None  # when the output fell below INSULATION_DONE_V after a step
        self.precharge_done = False
        self.charged = False

    def car(self, frame: CanFrame) -> None:
        if frame.arbitration_id == 0x100:
            self.car_max = VehicleLimits.from_can(frame).max_battery_voltage

    def _insulation(self, volts: int, t: float) -> None:
        if self.car_max and volts > self.car_max:
            self.testing, self.fell_at = True, None
        elif self.testing and volts < INSULATION_DONE_V:
            self.testing, self.fell_at = False, t
        elif self.fell_at is not None and (t - self.fell_at >= INSULATION_SETTLE or volts >= PACK_MIN_V):
            self.precharge_done = True

    def update(self, frame: CanFrame, t: float) -> Upstream:
        if frame.arbitration_id == 0x108:
            cap = ChargerCapability.from_can(frame)
            self.available_voltage = float(cap.available_voltage)
            self.dynamic = float(cap.available_current)
        elif frame.arbitration_id == 0x109:
            latest = ChargerStatus.from_can(frame)
            if self.status is None and latest.charging:
                self.precharge_done = True  # the log starts in the charging loop
            self._insulation(latest.present_voltage, t)
            self.charged = self.charged or latest.charging
            self.status = latest
        status = self.status
        return Upstream(
            available_voltage=self.available_voltage or 500.0, available_current=float(self.max_current),
            dynamic_current=self.dynamic,
            present_voltage=0.0 if status is None else float(status.present_voltage),
            present_current=0.0 if status is None else float(status.present_current),
            precharge_done=self.precharge_done,
            stopped=status is not None and self.charged and status.stop_control,
            fault=status is not None and status.charger_malfunction)


def run_session(session: Sequence[Timed]) -> tuple[list[Timed], list[Timed], list[Timed]]:
    """Feed the car's frames into a fresh charger; returns (car frames fed, real charger's, ours)."""
    real = [(t, f) for t, f in session if f.arbitration_id in CHARGER_IDS]
    first_car = next(t for t, f in session if f.arbitration_id == 0x102)
    start = max(first_car, real[0][0] - CYCLE)  # d1 is not on the bus: about one cycle before it answered
    charger = ChademoCharger("replay", _config(real))
    upstream = _Upstream(real)
    ours: list[Timed] = []
    fed: list[Timed] = []

    def collect(now: float) -> None:
        ours.extend((now, a.frame) for a in charger.actions() if isinstance(a, SendCan))

    def advance(until: float) -> None:
        while (due := charger.get_timer()) is not None and due <= until:
            charger.handle_timer(due)
            collect(due)

    charger.receive(InputChanged("start", True), start)
    collect(start)
    k = False
    for t, frame in session:
        if t < start:
            continue
        advance(t)
        fid = frame.arbitration_id
        if fid in CHARGER_IDS:
            charger.receive(InputChanged("upstream", upstream.update(frame, t)), t)
        elif fid in CAR_IDS:
            upstream.car(frame)
            if fid == 0x102:
                enabled = VehicleStatus.from_can(frame).charging_enabled
                if enabled != k:
                    k = enabled
                    charger.receive(InputChanged(Input.K, k), t)
            charger.receive(CanReceived("can", frame), t)
            fed.append((t, frame))
        collect(t)
    advance(session[-1][0] + TAIL)
    return fed, real, ours


# ----------------------------------------------------------------------------------- comparing


def transitions(frames: Iterable[Timed]) -> list[Transition]:
    """Every change of a 0x109.5 status bit, from :data:`IDLE_STATUS` on."""
    last = IDLE_STATUS
    out: list[Transition] = []
    for t, frame in frames:
        if frame.arbitration_id != 0x109:
            continue
        byte = frame.data[5] & 0x3F
        changed = byte ^ last
        out.extend(Transition(t, bit, on) for bit, on in SESSION_ORDER if changed & bit and bool(byte & bit) == on)
        last = byte
    return out


def _latest(frames: Sequence[Timed], fid: int) -> list[Timed]:
    return [(t, f) for t, f in frames if f.arbitration_id == fid]


class _Track:
    """One side's frames of one ID, looked up by time."""

    def __init__(self, frames: Sequence[Timed]) -> None:
        self.frames = frames
        self.times = [t for t, _ in frames]

    def at(self, t: float) -> CanFrame | None:
        """The last frame sent at or before ``t``."""
        i = bisect.bisect_right(self.times, t + 1e-9) - 1
        return self.frames[i][1] if i >= 0 else None


def compare(fed: Sequence[Timed], real: Sequence[Timed], ours: Sequence[Timed]) -> Comparison:
    result = Comparison(car_frames=len(fed), charger_frames=len(real), our_frames=len(ours))
    _compare_status(real, ours, result)
    ours_109 = _Track(_latest(ours, 0x109))
    for t, frame in _latest(real, 0x109):
        mine = ours_109.at(t)
        if mine is not None:
            result.current_sq_sum += (mine.data[3] - frame.data[3]) ** 2
            result.current_samples += 1
    _compare_108(real, ours, result)
    for fid in (0x208, 0x209):
        _compare_bytes(fid, real, ours, result)
    return result


def _compare_status(real: Sequence[Timed], ours: Sequence[Timed], result: Comparison) -> None:
    theirs, mine = transitions(real), transitions(ours)
    result.status_bit_order_agrees = [(x.bit, x.on) for x in mine] == [(x.bit, x.on) for x in theirs]
    pending = list(mine)
    for event in theirs:
        match = next((m for m in pending if (m.bit, m.on) == (event.bit, event.on)), None)
        if match is None:
            result.differences.append(f"theirs only: {event.label} at {event.t:.2f} s")
            continue
        pending.remove(match)
        lag = match.t - event.t
        result.max_status_lag_s = max(result.max_status_lag_s, abs(lag))
        if abs(lag) > LAG_REPORTED:
            result.differences.append(f"{event.label}: ours {lag:+.2f} s ({match.t:.2f} vs {event.t:.2f} s)")
    result.differences += [f"ours only: {m.label} at {m.t:.2f} s" for m in pending]


def _compare_108(real: Sequence[Timed], ours: Sequence[Timed], result: Comparison) -> None:
    theirs = [(t, ChargerCapability.from_can(f)) for t, f in _latest(real, 0x108)]
    mine_frames = _Track(_latest(ours, 0x108))
    thresholds_real = _distinct(c.threshold_voltage for _, c in theirs)
    thresholds_ours = _distinct(ChargerCapability.from_can(f).threshold_voltage for _, f in mine_frames.frames)
    if thresholds_real != thresholds_ours:
        result.differences.append(f"threshold voltage 0x108.4-5: ours {thresholds_ours} V, theirs {thresholds_real} V")
    differing = 0
    worst = 0
    compared = 0
    for t, cap in theirs:
        mine = mine_frames.at(t)
        if mine is None:
            continue
        compared += 1
        delta = ChargerCapability.from_can(mine).available_current - cap.available_current
        if delta:
            differing += 1
            worst = max(worst, abs(delta), key=abs)
    if differing:
        result.differences.append(f"available current 0x108.3 differs in {differing} of {compared} frames "
                                  f"(largest |ours − theirs| {worst} A)")


def _compare_bytes(fid: int, real: Sequence[Timed], ours: Sequence[Timed], result: Comparison) -> None:
    theirs, mine_frames = _latest(real, fid), _Track(_latest(ours, fid))
    if not theirs and not mine_frames.frames:
        return
    if not theirs or not mine_frames.frames:
        result.differences.append(f"0x{fid:03x}: sent by {'theirs' if theirs else 'ours'} only")
        return
    first: str | None = None
    differing = compared = 0
    for t, frame in theirs:
        mine = mine_frames.at(t)
        if mine is None:
            continue
        compared += 1
        if mine.data != frame.data:
            differing += 1
            first = first or f"first at {t:.2f} s: ours {mine.data.hex(' ')}, theirs {frame.data.hex(' ')}"
    if differing:
        result.differences.append(f"0x{fid:03x} differs in {differing} of {compared} frames ({first})")


def _distinct(values: Iterable[int]) -> list[int]:
    out: list[int] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out


def replay_log(path: Path) -> Comparison:
    """Replay every session of the log at ``path``; :class:`ReplayError` if it cannot be replayed."""
    sessions = split_sessions(read_frames(path), str(path))
    total = Comparison()
    for number, session in enumerate(sessions, 1):
        total.merge(compare(*run_session(session)), f"session {number}: " if len(sessions) > 1 else "")
    return total
