"""The simulated ZombieVerter-like VCU on its own: 0x358 every 100 ms, the ±1 A ramp toward its
voltage set-point, the clamps to the charger's available current and its BMS limit (issue 13)."""

from __future__ import annotations

from ccs2chademo.adapter.clara_map import DEFAULT_MAP, pack, unpack
from ccs2chademo.runtime import CanFrame, CanReceived, InputChanged, SendCan
from ccs2chademo.sim.vehicle import CarElectrical
from ccs2chademo.sim.zombie_vcu import ZombieVcu


def controller(vcu: ZombieVcu, now: float, available: float, port_state: int = 4) -> None:
    """What the controller reports: 0x109 (available current) and 0x357 (port state)."""
    vcu.receive(CanReceived("can", CanFrame(0x109, pack(DEFAULT_MAP, 0x109, {"EvseMaxCurrent": available}))), now)
    vcu.receive(CanReceived("can", CanFrame(0x357, pack(DEFAULT_MAP, 0x357, {"PortState": port_state}))), now)


def run(vcu: ZombieVcu, until: float, available: float = 200.0, port_state: int = 4) -> list[dict[str, float]]:
    sent = []
    while (t := vcu.get_timer()) is not None and t <= until:
        controller(vcu, t, available, port_state)
        vcu.handle_timer(t)
        sent += [unpack(DEFAULT_MAP, 0x358, a.frame.data) for a in vcu.actions()
                 if isinstance(a, SendCan) and a.frame.arbitration_id == 0x358]
    return sent


def test_ramps_one_amp_per_100_ms_and_clamps_to_the_bms_and_the_charger() -> None:
    vcu = ZombieVcu(target_voltage=398.0, bms_limit_a=30.0)
    vcu.receive(InputChanged("electrical", CarElectrical(battery_voltage=380.0, soc=50.0)), 0.0)
    frames = run(vcu, 1.0)
    assert len(frames) == 10 and [f["ChargeCurrent"] for f in frames] == list(range(1, 11))
    assert frames[-1]["enable"] == 1 and frames[-1]["BatteryVoltage"] == 380 and frames[-1]["soc"] == 50
    assert max(f["ChargeCurrent"] for f in run(vcu, 10.0)) == 30  # the BMS limit
    assert run(vcu, 11.0, available=12.0)[-1]["ChargeCurrent"] == 12  # the charger's available current
    vcu.receive(InputChanged("electrical", CarElectrical(battery_voltage=399.0, soc=90.0)), 11.0)
    falling = [f["ChargeCurrent"] for f in run(vcu, 11.5, available=12.0)]
    assert falling == [11, 10, 9, 8, 7]  # above its set-point: down 1 A per 100 ms


def test_no_request_until_the_controller_charges_dc_and_none_after_its_target_soc() -> None:
    vcu = ZombieVcu(target_voltage=398.0, soc_stop=80.0)
    vcu.receive(InputChanged("electrical", CarElectrical(battery_voltage=380.0, soc=79.0)), 0.0)
    assert {f["ChargeCurrent"] for f in run(vcu, 1.0, port_state=2)} == {0}
    vcu.receive(InputChanged("electrical", CarElectrical(battery_voltage=380.0, soc=80.0)), 1.0)
    last = run(vcu, 1.5)[-1]
    assert last["enable"] == 0 and last["ChargeCurrent"] == 0 and vcu.state == "stopped"


def test_the_generic_bms_asks_for_its_limit_and_tapers_near_the_set_point() -> None:
    vcu = ZombieVcu(variant="bms", target_voltage=398.0, bms_limit_a=100.0)
    assert vcu.state == "running"  # no SDO configuration
    vcu.receive(InputChanged("electrical", CarElectrical(battery_voltage=380.0, soc=50.0)), 0.0)
    assert run(vcu, 0.2)[-1]["ChargeCurrent"] == 100
    vcu.receive(InputChanged("electrical", CarElectrical(battery_voltage=393.0, soc=90.0)), 0.2)
    assert run(vcu, 0.4)[-1]["ChargeCurrent"] == 50
