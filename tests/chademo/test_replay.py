"""Open-loop replay: the car frames of the real Leaf ZE0 log drive ChademoCharger.

The log (chademo.md §12.2) is a complete session with an open V2X EVSE.  Its car frames are fed
with their timestamps; k follows 0x102.5.0 (the logger did not record the j line); a DC source
whose insulation test ends at ≈16 s (as the real EVSE's did) supplies the upstream, tied to a
375 V pack while the car reports its contactors closed.  The charger must go through ready,
lock, d2, contactors closed, charging and the stop as the real charger did, in spec times.
"""

from __future__ import annotations

import itertools

import pytest

from ccs2chademo.chademo.frames import VehicleStatus
from ccs2chademo.chademo.interfaces import ChargerConfig, StopReason
from ccs2chademo.runtime import CanFrame, CanReceived, InputChanged
from ccs2chademo.sim.battery import Battery, BatterySpec
from ccs2chademo.sim.dc_source import DcSource, DcSourceSpec
from tests.chademo.helpers import ChargerHarness, read_savvycan
from tests.conftest import shared_data

CAR_IDS = {0x100, 0x101, 0x102, 0x110, 0x200, 0x201, 0x202, 0x700}
# the real EVSE's insulation test ran ≈15–16 s; ours starts 10 s after the lock to match
EVSE_LIKE = DcSourceSpec(max_current=15, insulation_delay_s=10.0)


class Replay(ChargerHarness):
    """The harness plus the replay rules: k follows 0x102.5.0, the pack is tied on while the car
    reports its contactors closed after d2."""

    def __init__(self, config: ChargerConfig) -> None:
        super().__init__(config, DcSource(EVSE_LIKE))
        self.pack = Battery(BatterySpec(capacity_kwh=1000.0, ocv=((0.0, 375.0), (100.0, 375.0)), initial_soc=50))
        self.k = False

    def run(self, frames: list[tuple[float, CanFrame]]) -> None:
        self.feed(0.0, InputChanged("start", True))
        for t, frame in frames:
            if frame.arbitration_id == 0x102:
                self.advance(t)
                status = VehicleStatus.from_can(frame)
                if status.charging_enabled != self.k:
                    self.k = status.charging_enabled
                    self.feed(t, InputChanged("k", self.k))
                self.load = self.pack if self.charger.vehicle.d2 and not status.contactors_open else None
            self.feed(t, CanReceived("can", frame))
        self.advance(frames[-1][0] + 2.0)


@pytest.fixture(scope="module")
def car_frames() -> list[tuple[float, CanFrame]]:
    rows = read_savvycan(shared_data("chademo", "leaf-ze0-v2x-evse-start-stop.csv"))
    return [(t, f) for t, f in rows if f.arbitration_id in CAR_IDS]


@pytest.fixture(scope="module")
def replay(car_frames: list[tuple[float, CanFrame]]) -> Replay:
    r = Replay(ChargerConfig(v2x=True, zero_voltage_until_car_contactors_closed=False))
    r.run(car_frames)
    return r


def first(frames: list[tuple[float, CanFrame]], predicate: object) -> float:
    for t, f in frames:
        if f.arbitration_id == 0x102 and predicate(VehicleStatus.from_can(f)):  # type: ignore[operator]
            return t
    raise AssertionError("never")


def test_charger_answers_only_after_the_first_0x102_in_order(replay: Replay, car_frames: list) -> None:
    first_102 = first(car_frames, lambda s: True)
    assert replay.sent[0][0] - first_102 <= 0.15  # real: 0.07 s
    ids = [f.arbitration_id for _, f in replay.sent]
    assert ids[:5] == [0x108, 0x109, 0x118, 0x208, 0x209]
    assert all(ids[i : i + 5] == ids[:5] for i in range(0, len(ids), 5))
    cycle_starts = [t for t, f in replay.sent if f.arbitration_id == 0x108]
    gaps = [b - a for a, b in itertools.pairwise(cycle_starts)]
    assert min(gaps) == pytest.approx(0.1, abs=1e-6) and max(gaps) == pytest.approx(0.1, abs=1e-6)


def test_start_sequence_as_the_real_charger(replay: Replay, car_frames: list) -> None:
    ready = first(car_frames, lambda s: s.charging_enabled)  # 3.92 s in the log
    closed = first(car_frames, lambda s: s.charging_enabled and not s.contactors_open)  # 17.34 s
    request = first(car_frames, lambda s: s.current_request > 0)  # 19.04 s
    statuses = replay.statuses()
    lock = next(t for t, s in statuses if s.connector_locked)
    assert 0 < lock - ready <= 0.2
    d2 = replay.times("d2", True)[0]
    assert d2 - ready <= 20.0 and 0 < closed - d2 <= 4.0
    charging = next(t for t, s in statuses if s.charging)
    assert 0 < charging - request <= 0.5  # real EVSE: 0.52 s
    at_start = next(s for t, s in statuses if t == charging)
    assert not at_start.stop_control, "5.0 set and 5.5 cleared in the same frame"
    assert at_start.discharge_compatible  # V2X mode: 0x109.4 with 0x208/0x209


def test_status_byte_sequence_and_stop(replay: Replay, car_frames: list) -> None:
    sequence: list[int] = []
    for _, status in replay.statuses():
        if not sequence or sequence[-1] != status.status_byte:
            sequence.append(status.status_byte)
    assert sequence == [0x20, 0x24, 0x05, 0x25, 0x24, 0x20]  # chademo.md §3.5 normal session
    assert replay.charger.stop_reasons == StopReason.K_OFF | StopReason.CAR_DISABLED
    disabled = first(car_frames, lambda s: s.contactors_open is False and not s.charging_enabled)  # 46.96 s
    welded_check_done = first([(t, f) for t, f in car_frames if t > disabled], lambda s: s.contactors_open)  # 49.87 s
    statuses = replay.statuses()
    stop = next(t for t, s in statuses if s.stop_control and s.charging)
    assert 0 < stop - disabled <= 0.2
    unlock = next(t for t, s in statuses if t > stop and not s.connector_locked)
    d2_off = replay.times("d2", False)[0]
    d1_off = replay.times("d1", False)[0]
    assert 0 < d2_off - welded_check_done <= 0.2
    assert d1_off - d2_off == pytest.approx(0.5, abs=0.01)
    assert unlock - welded_check_done == pytest.approx(0.7, abs=0.2)  # real: 0.69 s
    assert replay.charger.state == "ended"


def test_voltage_bleed_after_k_off(replay: Replay) -> None:
    """Reported voltage × 0.83 per 100 ms once current ≤ 5 A with k off; 0 V after 5.3 = 1."""
    statuses = replay.statuses()
    cleared = next(i for i, (t, s) in enumerate(statuses) if i and statuses[i - 1][1].charging and not s.charging)
    volts = [s.present_voltage for _, s in statuses[cleared - 1 : cleared + 12]]
    for a, b in itertools.pairwise(volts[1:]):
        assert b == int(a * 0.83)
    assert volts[0] >= 370 and volts[10] <= 0.25 * volts[0]
    tail = [s.present_voltage for _, s in statuses if not s.connector_locked]
    assert tail[-1] == 0


def test_current_never_above_request_and_available(replay: Replay, car_frames: list) -> None:
    for _, status in replay.statuses():
        assert status.present_current <= 15
    assert max(s.present_current for _, s in replay.statuses()) >= 12  # it did charge
