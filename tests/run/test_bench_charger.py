"""The veth stand-ins of charger-sim, without sockets: the car's-modem SET_KEY answer and the
bench load behind the power stage."""

from __future__ import annotations

import random

from ccs2chademo.homeplug import frames as F
from ccs2chademo.runtime import FrameReceived, Log, SendFrame
from ccs2chademo.sim.bench_charger import LOCAL_MODEM_MAC, BenchLoad, BenchStage, ModemStandIn
from ccs2chademo.sim.charger import PERSONALITIES, PowerStageModel

CAR = bytes.fromhex("0200000000ca")
EVSE = bytes.fromhex("0200000000e0")
NID, NMK = bytes.fromhex("01020304050607"), bytes(range(16))


def _set_key(dest: bytes = F.BROADCAST, source: bytes = CAR) -> bytes:
    return F.SetKeyReq(dest=dest, source=source, nid=NID, nmk=NMK, my_nonce=b"\x01\x02\x03\x04").encode()


def test_answers_the_cars_set_key_like_its_local_modem() -> None:
    modem = ModemStandIn(EVSE)
    modem.receive(FrameReceived("plc", _set_key(), CAR), 0.0)
    sent = [a for a in modem.actions() if isinstance(a, SendFrame)]
    assert len(sent) == 1
    cnf = F.decode(sent[0].frame)
    assert isinstance(cnf, F.SetKeyCnf) and cnf.accepted
    assert cnf.dest == CAR and cnf.source == LOCAL_MODEM_MAC and cnf.your_nonce == b"\x01\x02\x03\x04"
    assert modem.answered == 1


def test_local_management_address_is_answered_too() -> None:
    modem = ModemStandIn(EVSE)
    modem.receive(FrameReceived("plc", _set_key(dest=F.LOCAL_MANAGEMENT), CAR), 0.0)
    assert modem.answered == 1


def test_ignores_its_own_station_other_unicast_and_other_frames() -> None:
    modem = ModemStandIn(EVSE)
    modem.receive(FrameReceived("plc", _set_key(source=EVSE), EVSE), 0.0)
    modem.receive(FrameReceived("plc", _set_key(dest=bytes.fromhex("0200000000ff")), CAR), 0.0)
    modem.receive(FrameReceived("plc", F.SlacParamReq(dest=F.BROADCAST, source=CAR, run_id=bytes(8)).encode(), CAR),
                  0.0)
    modem.receive(FrameReceived("plc", b"\x00" * 10, CAR), 0.0)
    assert modem.answered == 0 and not [a for a in modem.actions() if isinstance(a, SendFrame)]


def test_truncated_set_key_is_a_logged_rejection() -> None:
    modem = ModemStandIn(EVSE)
    modem.receive(FrameReceived("plc", _set_key()[:30], CAR), 0.0)
    actions = modem.actions()
    assert modem.answered == 0 and any(isinstance(a, Log) and a.kind == "rejected" for a in actions)


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
    assert abs(stage.load.ocv - 380.0) < 1e-6  # anchored at the precharge target: PowerDelivery may go ON
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
