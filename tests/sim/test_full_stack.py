"""SLAC → SDP → TCP (homeplug's PevConnection) → our Evcc → simulated Alpitronic, in virtual time."""

from __future__ import annotations

from typing import Any

from ccs2chademo.runtime import InputChanged, VirtualRuntime
from ccs2chademo.sim.battery import linear_battery
from ccs2chademo.sim.charger import PERSONALITIES, build_charger
from ccs2chademo.sim.plc import PlcSite
from ccs2chademo.sim.scenario import add_car, add_charger
from ccs2chademo.v2g.evcc import Evcc, EvccConfig, EvRequest


def test_whole_din_session_behind_the_connection_supervisor() -> None:
    sim = VirtualRuntime(seed=3)
    site = PlcSite(sim)
    charger = add_charger(sim, site, "charger", 1, tcp_port=51110)
    battery = linear_battery(soc=99.5)
    secc = build_charger(PERSONALITIES["alpitronic"], sim.rng_for("secc"), battery=battery, name="secc")
    evcc = Evcc("evcc", EvccConfig(link="v2g", framed=True),
                EvRequest(precharge_voltage=battery.ocv(), target_voltage=410.0, target_current=20.0, soc=100))
    car = add_car(sim, site, "car", 1, [charger], {"charger": secc}, session=evcc, start_at=1.0)
    outputs: dict[str, Any] = {}

    def on_output(name: str, value: Any, now: float) -> None:
        outputs[name] = value
        if name == "ev_contactor":
            sim.inject("secc", InputChanged("ev_contactor", value))

    sim.slots["car"].on_output = on_output
    sim.run(until=200.0, stop=lambda: evcc.status.ended)
    status = evcc.status
    assert status.ended and status.result == "completed", status.stop_reason
    assert status.stop_reason == "battery-full:CurrentDemand"
    assert evcc.states[-5:] == ["PowerDeliveryOff", "StopWait", "WeldingDetection", "SessionStop", "End"]
    assert car.connection.state == "finished" and car.connection.sdp_result is not None
    assert car.connection.sdp_result.port == 51110
    assert outputs["cp"] == "B" and outputs["ev_contactor"] is False
