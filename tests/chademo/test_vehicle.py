"""The simulated car alone (calibrated on the real Leaf log), its battery, profiles and DC source."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from ccs2chademo.chademo.frames import (
    ChargerCapability,
    ChargerStatus,
    VehicleChargeTime,
    VehicleLimits,
    VehicleStatus,
    decode,
)
from ccs2chademo.chademo.interfaces import PowerDemand
from ccs2chademo.runtime import CanFrame, CanReceived, InputChanged, SendCan
from ccs2chademo.sim.battery import Battery, BatterySpec
from ccs2chademo.sim.dc_source import DcSource, DcSourceSpec
from ccs2chademo.sim.profiles import PROFILE_NAMES, ProfileError, load_profile, parse_profile
from ccs2chademo.sim.vehicle import CarElectrical, ChademoVehicle, VehicleState
from tests.chademo.helpers import read_savvycan
from tests.conftest import shared_data

ISSUE_NAMES = {
    "leaf-ze0-24",
    "leaf-aze0-30",
    "leaf-ze1-40",
    "leaf-ze1-62",
    "env200-40",
    "imiev",
    "peugeot-ion",
    "kia-soul",
    "xpeng-g3",
    "lexus-ux300e",
    "outlander-phev",
    "jdemo",
    "zombieverter",
}


def drive(car: ChademoVehicle, until: float,
          answer: Callable[[ChademoVehicle, float], None]) -> list[tuple[float, CanFrame]]:
    """The car woken at t = 0 and run to ``until``; every 100 ms from 0.15 s ``answer(car, now)``
    plays the charger.  Returns the frames the car sent."""
    sent: list[tuple[float, CanFrame]] = []
    car.receive(InputChanged("d1", True), 0.0)
    charger_at = 0.15
    while True:
        timer = car.get_timer()
        assert timer is not None
        now = min(timer, charger_at)
        if now > until:
            return sent
        if now == charger_at:
            answer(car, now)
            charger_at += 0.1
        else:
            car.handle_timer(now)
        sent.extend((now, a.frame) for a in car.actions() if isinstance(a, SendCan))


def run_car(name: str, charger_protocol: int, until: float) -> list[tuple[float, CanFrame]]:
    """The car answered every 100 ms by a charger as the ZE0 log's EVSE."""

    def answer(car: ChademoVehicle, now: float) -> None:
        status = ChargerStatus(protocol_number=charger_protocol, remaining_time_10s=255, remaining_time_min=255)
        car.receive(CanReceived("can", ChargerCapability(1, 500, 15, 435).to_can()), now)
        car.receive(CanReceived("can", status.to_can()), now)

    return drive(ChademoVehicle(load_profile(name)), until, answer)


def first_time(frames: list[tuple[float, CanFrame]], cls: type, predicate: object) -> float:
    for t, f in frames:
        if f.arbitration_id == cls.FRAME_ID and predicate(cls.from_can(f)):  # type: ignore[attr-defined, operator]
            return t
    raise AssertionError("never")


def test_leaf_ze0_start_up_matches_the_real_log() -> None:
    real = [(t, f) for t, f in read_savvycan(shared_data("chademo", "leaf-ze0-v2x-evse-start-stop.csv"))]
    car0 = real[0][0]
    ours = run_car("leaf-ze0-24", 2, 6.0)
    checks = [
        (VehicleLimits, lambda m: m.charged_rate_reference == 100),
        (VehicleStatus, lambda m: m.charged_rate > 3),
        (VehicleChargeTime, lambda m: m.max_charge_time_min == 60),
        (VehicleStatus, lambda m: m.charging_enabled),
    ]
    for cls, predicate in checks:
        expected = first_time(real, cls, predicate) - car0
        got = first_time(ours, cls, predicate) - ours[0][0]
        assert got == pytest.approx(expected, abs=0.15), cls.__name__
    first = VehicleStatus.from_can(next(f for _, f in ours if f.arbitration_id == 0x102))
    assert first.charged_rate == 3 and first.contactors_open and first.legacy_dynamic_control  # status 0xC8
    assert first.to_can().data[5] == 0xC8


def test_leaf_frames_go_out_10ms_apart_in_leaf_order() -> None:
    ours = run_car("leaf-ze1-40", 2, 1.0)
    cycle = [(round(t, 3), f.arbitration_id) for t, f in ours[:8]]
    assert [i for _, i in cycle] == [0x100, 0x101, 0x102, 0x200, 0x110, 0x201, 0x700, 0x202]
    times = [t for t, _ in cycle]
    assert all(b - a == pytest.approx(0.01) for a, b in itertools.pairwise(times))
    assert ours[8][0] - ours[0][0] == pytest.approx(0.1)


def test_leaf_ze1_at_a_protocol_1_charger() -> None:
    ours = run_car("leaf-ze1-40", 1, 5.0)
    limits = [VehicleLimits.from_can(f) for _, f in ours if f.arbitration_id == 0x100]
    assert limits[0].charged_rate_reference == 240 and limits[-1].charged_rate_reference == 255
    statuses = [VehicleStatus.from_can(f) for _, f in ours if f.arbitration_id == 0x102]
    assert not any(s.contactors_open for s in statuses)  # 5.3 unused with a 0.9 charger
    ours2 = run_car("leaf-ze1-40", 2, 1.0)
    assert VehicleStatus.from_can([f for _, f in ours2 if f.arbitration_id == 0x102][-1]).contactors_open


def test_zombieverter_frames() -> None:
    ours = run_car("zombieverter", 1, 3.0)
    ids = [f.arbitration_id for _, f in ours[:4]]
    assert ids == [0x100, 0x101, 0x102, 0x103]
    starts = [t for t, f in ours if f.arbitration_id == 0x100]
    assert starts[1] - starts[0] == pytest.approx(0.225)
    assert all(VehicleLimits.from_can(f).charged_rate_reference == 200 for _, f in ours if f.arbitration_id == 0x100)
    assert all(decode(f) is not None for _, f in ours)


# ------------------------------------------------------------------------------- profiles


def test_profiles_are_exactly_the_issue_names() -> None:
    assert set(PROFILE_NAMES) == ISSUE_NAMES
    for name in PROFILE_NAMES:
        profile = load_profile(name)
        assert profile.name == name
        assert profile.target_voltage <= profile.max_voltage
        battery = Battery(profile.battery)
        assert battery.ocv() < profile.target_voltage  # the car can actually be charged


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"', "missing"),
        ('base = "leaf-ze1-40"\nname = "x"\nbogus = 1', "unknown keys"),
        ('base = "leaf-ze1-40"\nname = "x"\nprotocol_number = "2"', "expected int"),
        ('base = "leaf-ze1-40"\nname = "x"\ncontactor_flag = "sometimes"', "one of"),
        ('base = "no-such-car"\nname = "x"', "not a packaged profile"),
        ('base = "leaf-ze1-40"\nname = "x"\n[battery]\nocv = [[0, 300]]', "at least two"),
        ('base = "leaf-ze1-40"\nname = "x"\n[battery]\nocv = [[50, 300], [10, 310]]', "increase"),
        ('base = "leaf-ze1-40"\nname = "x"\nframes = ["0x999"]', "not a vehicle frame"),
        ('base = "leaf-ze1-40"\nname = "x"\n[raw_frames]\n0x700 = "0102"', "8 bytes"),
        ('base = "leaf-ze1-40"\nname = "x"\n[timing]\nready_s = true', "expected a number"),
        ("name = [", "<profile>"),
    ],
)
def test_bad_profiles_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        parse_profile(text)


def test_profile_from_a_file_and_unknown_names(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('base = "leaf-ze1-40"\nname = "mine"\ndescription = "m"\n[battery]\ninitial_soc = 12.0\n')
    profile = load_profile(str(path))
    assert profile.battery.initial_soc == 12.0 and profile.battery.capacity_kwh == 37.0  # merged
    with pytest.raises(ProfileError, match="unknown profile"):
        load_profile("leaf")
    with pytest.raises(ProfileError):
        load_profile(str(tmp_path / "missing.toml"))


# ------------------------------------------------------------------------------- battery


def test_battery_ocv_and_integration() -> None:
    spec = load_profile("leaf-ze1-40").battery
    battery = Battery(spec, soc=50.0)
    assert battery.ocv() == 356.0 and battery.ocv(65.0) == pytest.approx(363.0)
    assert battery.ocv(-5) == 324 and battery.ocv(120) == 403
    assert battery.terminal_voltage(100.0) == pytest.approx(356.0 + 10.0)  # 0.1 Ω
    for _ in range(3600):
        battery.step(100.0, 1.0)  # 1 h at 100 A ≈ 37 kWh: about full
    assert battery.soc == pytest.approx(100.0)
    assert battery.energy_in_kwh > 30
    with pytest.raises(ValueError):
        BatterySpec(capacity_kwh=0, ocv=((0, 1), (1, 2)))
    with pytest.raises(ValueError):
        BatterySpec(capacity_kwh=1, ocv=((0, 1), (1, 2)), initial_soc=101)


# ------------------------------------------------------------------------------- DC source


def test_dc_source_insulation_test_then_precharge_done() -> None:
    source = DcSource(DcSourceSpec(insulation_delay_s=0.5, insulation_hold_s=1.0))
    demand = PowerDemand(precharge=True)
    peak = 0.0
    t = 0.0
    while not source.precharge_done:
        t += 0.1
        source.step(t, 0.1, demand, None)
        peak = max(peak, source.voltage)
        assert t < 10
    assert peak == 500.0 and source.voltage < 20.0
    assert 2.0 < t < 4.0


def test_dc_source_current_follows_demand_with_lag_and_limits() -> None:
    spec = DcSourceSpec(lag_s=0.2, current_up_a_per_s=1000.0)
    source = DcSource(spec)
    pack = Battery(BatterySpec(capacity_kwh=40, ocv=((0, 350), (100, 400))))
    history = []
    for n in range(30):
        demand = PowerDemand(charging=True, current=50 if n < 20 else 10)
        source.step(n * 0.1, 0.1, demand, pack)
        history.append(source.current)
    assert history[1] == 0.0 and history[2] == 50.0  # two frames of lag
    assert max(history) <= 50.0
    source.dynamic_limit = 5.0
    source.step(3.0, 0.1, PowerDemand(charging=True, current=50), pack)
    source.step(3.1, 0.1, PowerDemand(charging=True, current=50), pack)
    source.step(3.2, 0.1, PowerDemand(charging=True, current=50), pack)
    assert source.current == 5.0 and source.upstream().dynamic_current == 5.0
    assert source.voltage == pytest.approx(pack.terminal_voltage(5.0))


# ------------------------------------------------------------------------------- V2X


def drive_discharge(inlet_current: float, soc: float = 50.0, v2x: bool = True, until: float = 40.0) -> ChademoVehicle:
    """A Leaf ZE0 through start-up into the charging loop with a charger that advertises discharge
    (0x109.4, when ``v2x``); once the loop runs, ``inlet_current`` flows (negative = out)."""

    def answer(car: ChademoVehicle, now: float) -> None:
        if car.k and not car.d2:
            car.receive(InputChanged("d2", True), now)
        loop = car.contactors and car.request > 0
        car.receive(InputChanged("electrical", CarElectrical(370.0 if car.contactors else 0.0,
                                                             inlet_current if loop else 0.0, 370.0, soc)), now)
        status = ChargerStatus(present_voltage=370 if car.contactors else 0, discharge_compatible=v2x,
                               charging=loop, connector_locked=True, stop_control=not loop,
                               remaining_time_10s=255, remaining_time_min=60)
        car.receive(CanReceived("can", ChargerCapability(1, 500, 15, 435).to_can()), now)
        car.receive(CanReceived("can", status.to_can()), now)

    car = ChademoVehicle(load_profile("leaf-ze0-24"))
    drive(car, until, answer)
    return car


def test_v2x_car_discharges_within_its_limit() -> None:
    car = drive_discharge(-15.0)
    assert car.state is VehicleState.CHARGING and car.faults == frozenset()
    assert car.max_discharge_current == 15  # 0x200.0 ramped 0 → 15 A once power flowed
    assert car.discharge_floor_soc == pytest.approx(6.7 / 21.0 * 100.0)  # 0x200.6 = 67 → 6.7 kWh


def test_v2x_car_faults_on_over_discharge() -> None:
    """V2H guideline: ≥ 10 A above the car's 0x200 maximum for ≥ 5 s → fault."""
    assert drive_discharge(-24.0).faults == frozenset()
    car = drive_discharge(-26.0)
    assert car.faults == {"fault_current_deviation"} and car.state is not VehicleState.CHARGING


def test_v2x_car_stops_at_its_discharge_floor() -> None:
    car = drive_discharge(-15.0, soc=31.0)
    assert car.stop_reason == "discharge floor" and car.faults == frozenset()


def test_current_out_without_v2x_is_an_under_delivery() -> None:
    """Without 0x109.4 the same current is what it is for a charging car: far under the request."""
    car = drive_discharge(-15.0, v2x=False)
    assert car.faults == {"fault_current_deviation"} and car.max_discharge_current == 0
