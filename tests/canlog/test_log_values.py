"""The example values the data README section 2.1 (and chademo.md §3, §9, §12) gives for each log,
decoded through chademo.dbc: one test per log file."""

from __future__ import annotations

import itertools
import statistics

import pytest

from .realdata import Decoded, decoded


def _one(d: Decoded, name: str, signal: str) -> object:
    values = set(d.values(name, signal))
    assert len(values) == 1, (name, signal, values)
    return values.pop()


def _charger(d: Decoded, welding: int, volts: int, amps: int | list[int], protocol: int) -> None:
    assert _one(d, "ChargerCapability", "welding_detection") == welding
    assert _one(d, "ChargerCapability", "available_voltage") == volts
    assert _one(d, "ChargerStatus", "protocol_number") == protocol
    if isinstance(amps, int):
        assert _one(d, "ChargerCapability", "available_current") == amps
    else:
        assert d.changes("ChargerCapability", "available_current") == amps


def _car(d: Decoded, protocol: int | list[int], target: int, maximum: int, reference: int | list[int]) -> None:
    protocols = d.changes("VehicleStatus", "protocol_number")
    assert protocols == (protocol if isinstance(protocol, list) else [protocol])
    assert _one(d, "VehicleStatus", "target_voltage") == target
    assert _one(d, "VehicleLimits", "max_battery_voltage") == maximum
    references = d.changes("VehicleLimits", "charged_rate_reference")
    assert references == (reference if isinstance(reference, list) else [reference])


def test_leaf_ze0_v2x_evse_start_stop() -> None:
    d = decoded("leaf-ze0-v2x-evse-start-stop.csv")
    _car(d, 2, 410, 435, [240, 100])
    _charger(d, 1, 500, [15, 0, 15], 2)
    assert d.changes("VehicleStatus", "charged_rate") == [3, 1, 73]  # SoC settling (chademo.md §3.3)
    assert _one(d, "VehicleStatus", "legacy_dynamic_control") == 1  # status 0xC8/0xC9/0xC1
    assert _one(d, "VehicleStatus", "discharge_compatible") == 1
    assert d.changes("VehicleChargeTime", "rated_capacity") == pytest.approx([0, 24.0, 22.2])  # 0 → 240 → 222
    k = next(f.t for f in d.of("VehicleStatus") if f.signals["charging_enabled"])
    closed = next(f.t for f in d.of("VehicleStatus") if not f.signals["contactors_open"])
    assert k == pytest.approx(3.9, abs=0.05) and closed == pytest.approx(17.3, abs=0.05)
    # +2 A per 100 ms ramp to 14 A, reset to 0 when the EVSE drops 0x108.3 to 0, ramp again
    assert d.changes("VehicleStatus", "current_request") == [0, *range(2, 13, 2), 0, *range(2, 15, 2), 0]
    assert d.status_109() == [0x20, 0x24, 0x05, 0x25, 0x24, 0x20]
    stop = next(f.t for f in d.of("ChargerStatus") if f.signals["stop_control"] and f.t > 20)
    after = [f.signals["present_voltage"] for f in d.of("ChargerStatus") if f.t >= stop]
    assert after[0] >= 370 and min(after) <= 8  # voltage decay 375 → 8 V after the stop
    # chademo.md §9 example: 0x208 FF F4 01 F0 00 00 FA 00 = present 0 A, 500 V, 15 A, 250 V
    power_flow = [f.signals for f in d.of("ChargerDischargeLimits") if f.data == bytes.fromhex("fff401f00000fa00")]
    assert power_flow and power_flow[0] == {"present_discharge_current": 0, "available_input_voltage": 500,
                                            "available_input_current": 15, "lower_threshold_voltage": 250}
    assert set(d.values("ChargerDischargeSequence", "remaining_discharge_time")) == {0, 5}
    assert max(d.values("VehicleDischargeLimits", "max_discharge_current")) == 15  # ramps 0 → 15 A
    assert set(d.values("VehicleDischargeLimits", "min_discharge_voltage")) == {250}


def test_leaf_ze1_62kwh_charging() -> None:
    d = decoded("leaf-ze1-62kwh-charging.csv")
    _car(d, 2, 410, 435, 255)  # 255 after seeing a protocol-1 charger
    _charger(d, 0, 500, 135, 1)
    assert d.changes("VehicleStatus", "charged_rate") == [143, 145]  # 56.1 → 56.9 %
    requests = d.values("VehicleStatus", "current_request")
    assert requests[0] == 115 and requests[-1] == 104 and max(requests) == 115 and min(requests) == 104
    assert _one(d, "ChargerStatus", "present_current") == 100
    assert set(d.values("ChargerStatus", "present_voltage")) == {379, 380, 381}
    assert d.changes("ChargerStatus", "remaining_time_10s") == [215, 214, 213, 212, 211]
    assert _one(d, "VehicleChargeTime", "max_charge_time_10s") == 228
    assert d.status_109() == [0x05]
    assert _one(d, "VehicleStatus", "fault_current_deviation") == 0  # no deviation fault
    assert _one(d, "VehicleExtended", "dynamic_control") == 1  # 0x110 = 01
    assert _one(d, "VehicleLimits", "min_charge_current") == 6
    assert {f.data for f in d.of("ChargerDischargeLimits")} == {bytes.fromhex("ffaa00ff0000aa00")}
    assert _one(d, "ChargerDischargeSequence", "sequence_control_number") == 1
    assert _one(d, "VehicleDischargeSequence", "sequence_control_number") == 2
    assert _one(d, "VehicleMaker", "automaker_code") == 1  # Leaf 0x700 01 02 00 00 06 …


def test_diy_car_177v_session() -> None:
    d = decoded("diy-car-177v-session.txt")
    _car(d, 1, 177, 190, 80)
    _charger(d, 0, 505, 125, 1)
    assert _one(d, "ChargerCapability", "threshold_voltage") == 190
    assert _one(d, "VehicleStatus", "charged_rate") == 40
    assert max(d.values("ChargerStatus", "present_voltage")) == 479  # brief insulation test
    assert d.status_109() == [0x20, 0x24, 0x05, 0x25, 0x24, 0x20]
    requests = d.changes("VehicleStatus", "current_request")
    assert requests[:91] == list(range(91))  # +1 A per logged frame up to 90 A
    assert requests[91:94] == [87, 84, 81] and requests[-1] == 0  # −3 A per frame down to 0
    assert d.changes("ChargerStatus", "remaining_time_min") == [0, 9, 0]
    charging = [f.signals["present_voltage"] for f in d.of("ChargerStatus")
                if f.signals["present_current"] >= 85]
    assert min(charging) >= 166 and max(charging) <= 171


def test_diy_car_v2x_charger_fail() -> None:
    d = decoded("diy-car-v2x-charger-fail.csv")
    _car(d, 1, 430, 440, 200)
    _charger(d, 0, 500, 135, 1)
    assert _one(d, "ChargerStatus", "discharge_compatible") == 1
    assert _one(d, "VehicleStatus", "charged_rate") == 51
    assert d.status_109() == [0x20, 0x24, 0x26, 0x36]  # malfunction, then system malfunction
    assert set(d.values("VehicleStatus", "current_request")) == {0, 1, 2}
    chademo = [f.t for f in d.frames if f.name is not None]
    assert chademo[-1] - chademo[0] == pytest.approx(14.6, abs=0.1)


def test_zombieverter_failchad() -> None:
    d = decoded("zombieverter/FAILCHAD.csv")
    _car(d, 1, 393, 395, 7)
    assert {f.name for f in d.frames} == {"VehicleLimits", "VehicleChargeTime", "VehicleStatus"}
    assert all(not f.is_extended_id for f in d.frames)  # Extended=true rows carry 11-bit IDs
    assert {f.data[5] for f in d.of("VehicleStatus")} == {0}
    times = [f.t for f in d.of("VehicleStatus")]
    assert statistics.median(b - a for a, b in itertools.pairwise(times)) == pytest.approx(0.225, abs=0.002)


def test_zombieverter_failcan2() -> None:
    d = decoded("zombieverter/Failcan2.csv")
    _car(d, 1, 393, 400, 18)
    _charger(d, 1, 475, 125, 1)
    assert _one(d, "ChargerCapability", "threshold_voltage") == 400
    assert d.changes("VehicleStatus", "current_request")[:4] == [5, 4, 3, 4]  # 5 → 3 → 15 A
    assert max(d.values("VehicleStatus", "current_request")) == 15
    assert set(d.values("ChargerStatus", "present_current")) <= {0, 3, 4}
    assert d.status_109() == [0x20, 0x24, 0x26, 0x22]
    fault = next(f.t for f in d.of("ChargerStatus") if f.signals["charger_malfunction"])
    assert fault == pytest.approx(6.8, abs=0.05)
    enable_drop = [f.t for f in d.of("VehicleStatus") if not f.signals["charging_enabled"] and f.t > 1]
    assert enable_drop[0] == pytest.approx(7.2, abs=0.05)


def test_zombieverter_failed_instavolt() -> None:
    d = decoded("zombieverter/FailedInstaVolt.csv")
    _car(d, 1, 393, 400, 18)
    _charger(d, 0, 950, 78, 2)
    assert _one(d, "ChargerCapability", "threshold_voltage") == 475
    assert d.status_109() == [0x20, 0x24, 0x20, 0x24, 0x20]  # two attempts, no error bit
    assert max(d.values("ChargerStatus", "present_voltage")) == 350
    assert 4 <= max(d.values("VehicleStatus", "current_request")) <= 17
    locks = [f.t for f, g in zip(d.of("ChargerStatus"), d.of("ChargerStatus")[1:], strict=False)
             if not f.signals["connector_locked"] and g.signals["connector_locked"]]
    assert locks[1] - locks[0] == pytest.approx(177, abs=1)


def test_zombieverter_geniepoint_fail() -> None:
    d = decoded("zombieverter/GeniePointFail.csv")
    _car(d, [1, 2], 393, 400, 18)
    _charger(d, 1, 500, [111, 112, 120, 119, 116, 114, 112, 110, 109], 2)
    assert max(d.values("ChargerStatus", "present_voltage")) == 499
    assert d.status_109() == [0x20, 0x24, 0x05, 0x27, 0x26, 0x22]
    charging = next(f.t for f in d.of("ChargerStatus") if f.signals["charging"])
    assert charging == pytest.approx(8.94, abs=0.02)


def test_zombieverter_abb_nissan() -> None:
    d = decoded("zombieverter/abb_nissan.csv")
    _car(d, 1, 400, 410, 200)
    _charger(d, 1, 500, 125, 2)
    assert d.changes("ChargerCapability", "threshold_voltage") == [0, 410]
    assert d.status_109() == [0x24, 0x34, 0x30]
    assert set(d.values("VehicleStatus", "current_request")) == {0}  # never requests current
    assert 495 <= max(d.values("ChargerStatus", "present_voltage")) <= 505
    assert d.first("ChargerStatus") == pytest.approx(46.0, abs=0.1)


def test_zombieverter_ea_target() -> None:
    d = decoded("zombieverter/ea_target.csv")
    _car(d, 1, 388, 398, 200)
    _charger(d, 1, 500, 108, 1)
    assert _one(d, "ChargerStatus", "present_current") == 8  # constant 8 A while idle
    assert max(d.values("ChargerStatus", "present_voltage")) == 434
    assert d.status_109() == [0x20, 0x24, 0x26, 0x22]
    abort = next(f.t for f in d.of("ChargerStatus") if f.signals["charger_malfunction"])
    assert abort == pytest.approx(58.2, abs=0.05)


@pytest.mark.parametrize("path", ["zombieverter/evgo_kildare.csv", "zombieverter/evgo_walmart.csv"])
def test_zombieverter_evgo(path: str) -> None:
    d = decoded(path)
    _car(d, 1, 388, 398, 200)
    _charger(d, 1, 600, 125, 2)
    assert d.status_109() == [0x20, 0x24, 0x34, 0x36, 0x32]
    assert set(d.values("ChargerStatus", "present_current")) <= {0, 1, 2, 3, 4}
    assert 500 <= max(d.values("ChargerStatus", "present_voltage")) <= 506


def test_zombieverter_evgo_walmart_oddities() -> None:
    d = decoded("zombieverter/evgo_walmart.csv")
    (odd,) = [f for f in d.of("VehicleChargeTime") if f.signals["max_charge_time_min"] != 254]
    assert odd.t == pytest.approx(88.6, abs=0.05) and odd.data == bytes.fromhex("fffe000000000000")
    (zero,) = [f for f in d.frames if f.arbitration_id == 0]
    assert zero.name is None and zero.data == b""
