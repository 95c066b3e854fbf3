"""The clara car side on its own (issue 13): the VCU's frames in, 0x109/0x357 out, the CAN
watchdog, the stop paths and the light-bulb demo — and the bridge with it plugged in through
``car_factory`` while the CCS side is scripted (tests/adapter/fakes.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ccs2chademo.adapter.clara_map import DEFAULT_MAP, Direction, pack, unpack
from ccs2chademo.adapter.clara_side import SAVE_OUTPUT, WATCHDOG_S, ClaraSave, ClaraSide, ClaraState
from ccs2chademo.adapter.config import build_config
from ccs2chademo.adapter.sdo import param_index, request
from ccs2chademo.chademo.interfaces import SessionKind, Upstream
from ccs2chademo.runtime import CanFrame, CanReceived, Log, SendCan, SetOutput

from .fakes import Rig

BATTERY = 384.0
VCU = {"enable": 1.0, "AcObcState": 2.0, "AllowUnlock": 1.0, "soc": 55.0, "BatteryVoltage": BATTERY,
       "TargetVoltage": 398.0, "ChargeCurrent": 40.0}


def vcu_frame(**changes: float) -> CanReceived:
    return CanReceived("can", CanFrame(0x358, pack(DEFAULT_MAP, 0x358, {**VCU, **changes}, Direction.RECEIVED)))


class Driver:
    """A clara side driven through time; the VCU's 0x358 every 100 ms unless ``silent``."""

    def __init__(self, mode: str = "clara", **clara: Any) -> None:
        self.side = ClaraSide("clara", build_config({"mode": mode, "clara": clara}))
        self.now = 0.0
        self.out: list[Any] = []
        self.vcu: dict[str, float] | None = dict(VCU)
        self.side.permission(False, 0.0)

    def run(self, until: float) -> None:
        while self.now < until - 1e-9:
            self.now = round(self.now + 0.05, 6)
            if self.vcu is not None and round(self.now * 20) % 2 == 0:
                self.side.frame(vcu_frame(**self.vcu), self.now)
            while (t := self.side.get_timer()) is not None and t <= self.now + 1e-9:
                self.side.handle_timer(t)
            self.out += self.side.actions()

    def frames(self, frame_id: int) -> list[dict[str, float]]:
        return [unpack(DEFAULT_MAP, frame_id, a.frame.data, Direction.SENT) for a in self.out
                if isinstance(a, SendCan) and a.frame.arbitration_id == frame_id]

    def logs(self, kind: str) -> list[dict[str, Any]]:
        return [a.fields for a in self.out if isinstance(a, Log) and a.kind == kind]

    def outputs(self, name: str) -> list[Any]:
        return [a.value for a in self.out if isinstance(a, SetOutput) and a.name == name]

    def charging(self) -> Driver:
        """Discovery, the charge session, the precharge done: the inlet contactors may close."""
        self.side.start(SessionKind.DISCOVERY, self.now)
        self.run(self.now + 0.3)
        assert self.side.discovered()
        self.side.start(SessionKind.CHARGE, self.now)
        self.side.feed(Upstream(present_voltage=BATTERY - 5, precharge_done=True), self.now)
        self.run(self.now + 0.2)
        assert self.side.state == ClaraState.CHARGING and self.side.contactors_evident()
        return self


def test_discovery_learns_the_vcu_values_as_a_measured_battery_voltage() -> None:
    d = Driver()
    d.side.start(SessionKind.DISCOVERY, 0.0)
    assert d.side.discovering()
    d.run(0.3)
    view = d.side.vehicle
    assert d.side.discovered()
    assert (view.target_voltage, view.soc, view.measured_voltage, view.seen) == (398, 55.0, 384, True)
    assert view.max_battery_voltage == 0  # never recognised as a CHAdeMO car model


def test_0x109_and_0x357_every_100_ms_with_the_chargers_figures() -> None:
    d = Driver().charging()
    d.side.feed(Upstream(available_voltage=920, available_current=200, dynamic_current=150, present_voltage=390,
                         present_current=41), d.now)
    before = len(d.frames(0x109))
    d.run(d.now + 1.0)
    assert len(d.frames(0x109)) - before == 10 and len(d.frames(0x357)) >= 10
    assert d.frames(0x109)[-1] == {"EvseVoltage": 390, "EvseCurrent": 41, "EvseMaxCurrent": 150, "EvseMaxVoltage": 920}
    assert d.frames(0x357)[-1]["PortState"] == 4 and d.frames(0x357)[-1]["LockState"] == 2
    assert d.side.demand.charging and d.side.demand.current == 40 and d.side.demand.voltage == 398


def test_can_silence_stops_within_3_s_and_one_cycle() -> None:
    d = Driver().charging()
    last_frame = d.now  # Driver.run sent the VCU's frame at this instant
    d.vcu = None
    while d.side.stop_report() is None and d.now < last_frame + 10:
        d.run(d.now + 0.05)
    assert d.side.stop_report() == "CAN timeout"
    assert WATCHDOG_S - 0.05 <= d.now - last_frame <= WATCHDOG_S + 0.1  # 3 s + one cycle at the most
    (stop,) = d.logs("clara-stop")
    assert stop["code"] == 3
    assert d.side.values["StopReason"] == 3 and d.side.demand.stopping and d.side.demand.current == 0


def test_charge_current_feeds_the_watchdog_only_after_an_enable() -> None:
    d = Driver().charging()
    d.vcu = None
    current = request(0x23, *param_index(4), 30 * 32)
    enable = request(0x23, *param_index(23), 32)
    d.side.frame(CanReceived("can", CanFrame(0x616, enable)), d.now)
    d.side.frame(CanReceived("can", CanFrame(0x616, current)), d.now)  # counted
    fed_at = d.now
    d.run(fed_at + 2.0)
    d.side.frame(CanReceived("can", CanFrame(0x616, current)), d.now)  # no enable since: not counted
    d.run(fed_at + WATCHDOG_S - 0.05)
    assert d.side.stop_report() is None
    d.run(fed_at + WATCHDOG_S + 0.05)
    assert d.side.stop_report() == "CAN timeout"
    assert d.side.values["ChargeCurrent"] == 30  # the write itself was applied


def test_a_session_started_without_the_vcu_times_out_after_3_s() -> None:
    d = Driver()
    d.vcu = None
    d.side.start(SessionKind.CHARGE, 0.0)  # the single-session flow starts at once
    d.run(WATCHDOG_S - 0.1)
    assert d.side.stop_report() is None
    d.run(WATCHDOG_S + 0.1)
    assert d.side.stop_report() == "CAN timeout"


@pytest.mark.parametrize(("change", "reason"), [({"enable": 0.0}, "enable off"), ({"soc": 96.0}, "battery full")])
def test_enable_drop_and_full_battery_stop(change: dict[str, float], reason: str) -> None:
    d = Driver().charging()
    assert d.vcu is not None
    d.vcu.update(change)
    d.run(d.now + 0.3)
    assert d.side.stop_report() == reason and d.side.stopping()


def test_stop_opens_the_contactors_after_the_current_then_unlocks_when_allowed() -> None:
    d = Driver().charging()
    d.side.feed(Upstream(present_voltage=390, present_current=80), d.now)
    d.side.stop(d.now)
    d.run(d.now + 2.0)
    assert d.side.demand.car_contactors_closed  # 80 A still flowing: the inlet contactors stay closed
    d.side.feed(Upstream(present_voltage=390, present_current=2), d.now)
    d.run(d.now + 1.2)
    assert not d.side.demand.car_contactors_closed and d.side.state == ClaraState.STOP_UNLOCK
    assert d.vcu is not None
    d.vcu["AllowUnlock"] = 0.0
    d.side.feed(Upstream(present_voltage=20), d.now)
    d.run(d.now + 6.0)
    assert not d.side.unlocked()  # the VCU does not allow it
    d.vcu["AllowUnlock"] = 1.0
    d.run(d.now + 0.3)
    assert d.side.unlocked() and d.outputs("lock") == [True, False]
    assert d.side.stop_report() == "stop requested"


def sdo(driver: Driver, data: bytes) -> bytes:
    """One SDO request to the side; its answer's data bytes."""
    driver.side.frame(CanReceived("can", CanFrame(0x616, data)), driver.now)
    actions = driver.side.actions()
    driver.out += actions
    (answer,) = [a.frame.data for a in actions if isinstance(a, SendCan) and a.frame.arbitration_id == 0x596]
    return bytes(answer)


def test_an_sdo_save_hands_the_clara_table_to_the_runtime() -> None:
    """Settings written over SDO are read back at once, change nothing in the running session, and
    a save hands the whole [clara] table (settings and map) to the runtime as one output."""
    d = Driver()
    assert sdo(d, request(0x23, *param_index(21), 5 * 32))[0] == 0x60  # NodeId 5
    assert sdo(d, request(0x40, *param_index(21)))[4:] == (5 * 32).to_bytes(4, "little")
    assert d.side.sdo.request_id == 0x616  # the running node id stays until the next start
    assert sdo(d, request(0x23, *param_index(25), 234 * 32))[0] == 0x60  # DemoControl stand-alone
    assert not d.side.standalone
    assert sdo(d, request(0x23, 0x5002, 0)) == bytes.fromhex("6002500000000000")
    (save,) = d.outputs(SAVE_OUTPUT)
    assert isinstance(save, ClaraSave) and save.clara.node_id == 5 and save.clara.demo_control == "stand-alone"
    assert save.clara.can_map() == DEFAULT_MAP and d.logs("clara-map")[-1]["saved"] is True


def test_a_save_that_gives_no_valid_clara_table_is_refused_whole() -> None:
    """MaxPinTemperature 50 °C is in its range, but not above derate-temp (60 °C): the save is
    answered with openinverter's "cannot save" abort and nothing reaches the runtime."""
    d = Driver()
    assert sdo(d, request(0x23, *param_index(31), 50 * 32))[0] == 0x60
    answer = sdo(d, request(0x23, 0x5002, 0))
    assert answer[:4] == bytes((0x80, 0x02, 0x50, 0)) and int.from_bytes(answer[4:], "little") == 0x08000000
    assert d.outputs(SAVE_OUTPUT) == [] and "derate-temp" in d.logs("clara-map")[-1]["refused"]


def test_a_short_0x358_is_rejected_and_sets_nothing() -> None:
    d = Driver()
    d.vcu = None
    d.side.frame(CanReceived("can", CanFrame(0x358, bytes(3))), 0.0)
    assert d.side.actions() and d.side.values["BatteryVoltage"] == 0.0 and not d.side.vcu_seen


def test_lightbulb_demo_without_vcu_closes_the_load_relay_late_and_never_times_out() -> None:
    d = Driver(mode="lightbulb", **{"demo-voltage": 220})
    d.vcu = None
    d.charging()
    assert d.side.demand.current == 10 and d.side.demand.voltage == 220
    assert d.side.vehicle.measured_voltage == 220  # the precharge aims at the demo voltage
    d.run(d.now + 2.0)
    assert d.outputs("load_relay") == []
    d.run(d.now + 1.0)
    assert d.outputs("load_relay") == [True]
    d.run(d.now + 10.0)
    assert d.side.charging()  # no CAN watchdog in the stand-alone demo


# ---------------------------------------------------------------------------------- the bridge with it
class ClaraRig(Rig):
    """The bridge with the real clara side (scripted CCS side)."""

    def __init__(self, **config: Any) -> None:
        self.sides: list[ClaraSide] = []
        super().__init__(mode="clara", **config)
        self.vcu: dict[str, float] | None = dict(VCU)

    def _car(self, v2x: bool, single_session: bool) -> ClaraSide:  # type: ignore[override]
        self.sides.append(ClaraSide("adapter.clara", self.bridge.config))
        return self.sides[-1]

    def drive(self, until: float) -> None:
        """Time passes, the VCU's frame every 100 ms."""
        while self.now < until - 1e-9:
            if self.vcu is not None:
                self.bridge.receive(vcu_frame(**self.vcu), self.now)
            self.run(round(self.now + 0.1, 6))


def clara_charging() -> ClaraRig:
    rig = ClaraRig()
    rig.drive(1.0)
    assert rig.phases()[:3] == ["running", "discovered", "ccs"]
    rig.ccs.reach(rig.now, "WaitForPreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  evse_max_voltage=500.0, evse_max_current=125.0)
    rig.drive(rig.now + 0.3)
    assert rig.ccs.request.precharge_voltage == BATTERY  # the VCU's battery voltage, measured
    rig.ccs.reach(rig.now, "PreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  precharge_reached=True, present_voltage=BATTERY - 3, evse_max_voltage=500.0)
    rig.drive(rig.now + 0.3)
    assert rig.outputs("contactor") == [True]
    rig.ccs.reach(rig.now, "CurrentDemand", charge_parameter_discovery_done=True, cable_check_done=True,
                  precharge_reached=True, current_demand=True, present_voltage=BATTERY, present_current=30.0,
                  evse_max_voltage=500.0)
    rig.drive(rig.now + 2.0)
    return rig


def test_bridge_charges_on_the_vcu_request() -> None:
    rig = clara_charging()
    assert rig.sides[0].state == ClaraState.CHARGING
    assert rig.ccs.request.target_current == 40.0 and rig.ccs.request.target_voltage == 398.0
    assert any(isinstance(a, SendCan) and a.frame.arbitration_id == 0x109 for a in rig.out)


def test_bridge_ramps_the_vcu_request_only_from_the_first_current_demand() -> None:
    """The VCU asks for 125 A from the end of the precharge; ContactorsClosing and PowerDelivery
    take seconds (a Compleo answers PowerDelivery after ≈0.9 s).  The ramp must not run there: the
    first CurrentDemandReq would carry the accumulated step, which a Compleo overshoots into its
    EmergencyShutdown (campaign finding 5, docs/reliability.md)."""
    rig = ClaraRig()
    rig.vcu = {**VCU, "ChargeCurrent": 125.0}
    rig.drive(1.0)
    rig.ccs.reach(rig.now, "WaitForPreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  evse_max_voltage=500.0, evse_max_current=125.0)
    rig.drive(rig.now + 0.3)
    rig.ccs.reach(rig.now, "PreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  precharge_reached=True, present_voltage=BATTERY - 3, evse_max_voltage=500.0,
                  evse_max_current=125.0)
    rig.drive(rig.now + 0.3)
    assert rig.outputs("contactor") == [True] and rig.sides[0].demand.current == 125
    first, targets = rig.ramp_from_power_delivery(BATTERY)
    assert first == 0.0  # what the first CurrentDemandReq carries
    assert targets == [4.0, 8.0, 12.0, 16.0, 20.0]  # +4 A per 100 ms from 0 A


def test_bridge_contactor_refuses_to_close_across_20_volts_of_the_vcu_battery() -> None:
    rig = ClaraRig()
    rig.drive(1.0)
    rig.ccs.reach(rig.now, "WaitForPreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  evse_max_voltage=500.0)
    rig.drive(rig.now + 0.3)
    rig.ccs.reach(rig.now, "PreCharge", charge_parameter_discovery_done=True, cable_check_done=True,
                  precharge_reached=True, present_voltage=BATTERY - 25, evse_max_voltage=500.0)
    rig.drive(rig.now + 1.0)
    assert rig.outputs("contactor") == []


def test_bridge_stops_both_sides_on_can_silence() -> None:
    rig = clara_charging()
    rig.vcu = None
    rig.drive(rig.now + WATCHDOG_S + 0.3)
    assert rig.bridge.stop_reason == "clara: CAN timeout"
    assert rig.ccs.request.stop and rig.ccs.request.target_current < 40.0
