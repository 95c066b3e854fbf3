"""charger-sim's veth stand-ins without sockets: homeplug's ``ModemStandIn`` as charger-sim
wires it (it answers for the *car's* modem), and the bench load behind the power stage."""

from __future__ import annotations

import random

from ccs2chademo.homeplug import frames as F
from ccs2chademo.runtime import FrameReceived, SendFrame
from ccs2chademo.sim.battery import Battery
from ccs2chademo.sim.bench_charger import BenchLoad, BenchStage
from ccs2chademo.sim.charger import PERSONALITIES, PowerStageModel
from ccs2chademo.sim.modem import ModemStandIn
from ccs2chademo.sim.profiles import load_profile

CAR = bytes.fromhex("0200000000ca")
EVSE = bytes.fromhex("0200000000e0")
STANDIN = b"\x02\xb0\x52" + EVSE[3:]  # as BenchCharger builds it


def _answers(modem: ModemStandIn, frame: bytes, source: bytes = CAR) -> list[F.Mme]:
    modem.receive(FrameReceived("plc", frame, source), 0.0)
    return [F.decode(a.frame) for a in modem.actions() if isinstance(a, SendFrame)]


def test_standin_answers_the_cars_set_key_and_sw_ver_like_its_local_modem() -> None:
    modem = ModemStandIn(STANDIN, EVSE)
    req = F.SetKeyReq(dest=F.BROADCAST, source=CAR, nid=bytes.fromhex("01020304050607"), nmk=bytes(range(16)),
                      my_nonce=b"\x01\x02\x03\x04")
    (cnf,) = _answers(modem, req.encode())
    assert isinstance(cnf, F.SetKeyCnf) and cnf.accepted and cnf.dest == CAR and modem.keys_set == 1
    (ver,) = _answers(modem, F.SwVerReq(dest=F.BROADCAST, source=CAR).encode())
    assert isinstance(ver, F.SwVerCnf) and ver.dest == CAR


def test_standin_ignores_the_chargers_own_frames_and_slac() -> None:
    modem = ModemStandIn(STANDIN, EVSE)
    own = F.SetKeyReq(dest=F.BROADCAST, source=EVSE, nid=bytes(7), nmk=bytes(16))
    assert _answers(modem, own.encode(), EVSE) == []
    assert _answers(modem, F.SlacParamReq(dest=F.BROADCAST, source=CAR, run_id=bytes(8)).encode()) == []
    assert modem.keys_set == 0


def _stage() -> BenchStage:
    p = PERSONALITIES["tesla-sc"]
    model = PowerStageModel(p.stage, p.secc.max_current, p.secc.max_power, rng=random.Random(1))
    return BenchStage(model, BenchLoad(soc=50.0))


def test_bench_load_takes_current_only_during_power_delivery_on() -> None:
    stage = _stage()
    t = 0.0
    while not stage.cable_check(t):
        t += 0.5
    for _ in range(40):
        t += 0.25
        stage.precharge(380.0, 2.0, t)
    assert abs(stage.load.battery.ocv() - 380.0) < 1e-6  # anchored at the precharge target: PowerDelivery may go ON
    assert stage.power_delivery(True, t) == "OK"
    for _ in range(40):
        t += 0.1
        _v, current, status = stage.current_demand(390.0, 50.0, t)
    assert status == "EVSE_Ready" and 45.0 < current <= 50.5
    assert stage.delivered_ah > 0.0
    assert stage.power_delivery(False, t) == "OK"
    delivered = stage.delivered_ah
    stage.welding(t + 5.0)
    assert stage.delivered_ah == delivered  # disconnected: nothing flows after OFF


def test_cycle_stats_histogram_percentiles_and_gaps() -> None:
    from ccs2chademo.adapter.runner import CycleStats

    stats = CycleStats()
    t = 0.0
    for n in range(200):  # 100 ms ± 0.2 ms, one 7 ms late cycle
        t += 0.1 + (0.0002 if n % 2 else -0.0002) + (0.007 if n == 100 else 0.0)
        stats.frame(t, counting=True)
    assert stats.n == 199
    p50 = stats.percentile(50)
    assert p50 is not None and 0.2 <= p50 <= 0.3 and 6.5 < stats.worst_ms < 7.5  # bin edges: 0.1 ms
    stats.frame(t + 5.0, counting=False)  # outside CurrentDemand: no interval, and the next one restarts
    stats.frame(t + 5.1, counting=True)
    stats.frame(t + 5.2, counting=True)
    assert stats.n == 200
    assert stats.fields()["frames"] == 200
    assert CycleStats().percentile(99) is None


def test_bench_load_with_the_cars_pack_reports_the_voltage_the_cars_battery_has() -> None:
    """``charger-sim --load CAR``: an hour at 60 A moves the Leaf's pack tens of volts; the flat
    stand-in stays ≈ 20 V below it and the car stops on the deviation (the first veth soak); the
    car's own model, anchored at the precharge target, keeps the charger's voltage on the car's."""
    spec = load_profile("leaf-ze1-40").battery
    car = Battery(spec, soc=5.0)
    p = PERSONALITIES["underdeliver"]
    model = PowerStageModel(p.stage, p.secc.max_current, p.secc.max_power, rng=random.Random(1))
    stage = BenchStage(model, BenchLoad(soc=5.0, spec=spec))
    t = 0.0
    while not stage.cable_check(t):
        t += 0.5
    for _ in range(40):
        t += 0.25
        stage.precharge(car.ocv(), 2.0, t)
    assert stage.power_delivery(True, t) == "OK"
    start = car.ocv()
    voltage = 0.0
    for _ in range(3600):
        t += 1.0
        voltage, current, _status = stage.current_demand(car.ocv() + 30.0, 60.0, t)
        car.step(current, 1.0)
    assert car.ocv() - start > 15.0  # the pack really moved
    assert abs(voltage - car.terminal_voltage(60.0)) < 3.0
