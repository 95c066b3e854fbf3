"""The Evcc's bidirectional -20 session (DC_BPT, docs/iso20.md "BPT") message by message: chosen
only when the charger lists DC_BPT and the car lets current be taken out, the car's discharge
limits and floor in every BPT request, the charger's discharge reaching the status — and plain DC,
byte for byte as before, otherwise."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ccs2chademo.runtime import InputChanged
from ccs2chademo.v2g.evcc import EvRequest
from ccs2chademo.v2g.messages import EvMessage, EvseMessage, Kind

from .test_evcc import REQUEST
from .test_evcc20 import SEQUENCE, Drive20, ok20

#: a CHAdeMO car in V2X mode: 40 A may be taken out (the fallback), floor 10 %, 40 kWh
BPT_REQUEST = replace(REQUEST, discharge_current_limit=40.0, discharge_floor_soc=10, battery_capacity_wh=40_000.0)
WALLBOX_W = 11_000.0


def bpt_ok(mode: str = "scheduled") -> dict[Kind, EvseMessage]:
    """A bidirectional charger's answers: its DC_BPT parameter sets, discharge limits, a
    discharging schedule (scheduled mode) and a discharge in the loop."""
    ok = ok20(mode)
    limits = {"max_discharge_current": 30.0, "max_discharge_power": WALLBOX_W}
    ok[Kind.SERVICE_DETAIL] = replace(ok[Kind.SERVICE_DETAIL], service_id=6)
    ok[Kind.CHARGE_PARAMETER_DISCOVERY] = replace(ok[Kind.CHARGE_PARAMETER_DISCOVERY], **limits)
    ok[Kind.SCHEDULE_EXCHANGE] = replace(ok[Kind.SCHEDULE_EXCHANGE],
                                         schedule_discharge_power=WALLBOX_W if mode == "scheduled" else None)
    ok[Kind.CURRENT_DEMAND] = replace(ok[Kind.CURRENT_DEMAND], present_current=-25.0, **limits)
    return ok


def bpt_drive(mode: str = "scheduled") -> Drive20:
    d = Drive20(mode, request=BPT_REQUEST)
    d.ok = bpt_ok(mode)
    return d


def sent(d: Drive20, kind: Kind, **match: object) -> list[EvMessage]:
    return [m for _, m in d.sent if m.kind is kind and all(getattr(m, k) == v for k, v in match.items())]


@pytest.mark.parametrize("mode", ["scheduled", "dynamic"])
def test_a_car_that_can_discharge_selects_dc_bpt(mode: str) -> None:
    d = bpt_drive(mode)
    d.to20(Kind.CURRENT_DEMAND)
    detail, selection = sent(d, Kind.SERVICE_DETAIL)[0], sent(d, Kind.SERVICE_SELECTION)[0]
    assert detail.service_id == selection.service_id == 6
    assert ("service-selected", {"service": 6, "parameter_set": selection.parameter_set_id, "control_mode": mode,
                                 "discharge_a": 40.0, "floor_soc": 10}) in [(k, f) for _, k, f in d.log]
    assert d.evcc.status.bidirectional
    cpd = sent(d, Kind.CHARGE_PARAMETER_DISCOVERY)[0]
    assert (cpd.max_discharge_current, cpd.max_discharge_power) == (40.0, 40.0 * 390.0)  # at the battery voltage
    schedule = sent(d, Kind.SCHEDULE_EXCHANGE)[0]
    if mode == "dynamic":  # the floor as MinimumSOC and the energy down to it (42 % → 10 % of 40 kWh)
        assert (schedule.min_soc, schedule.v2x_energy_to_floor) == (10, -12_800.0)
    assert sent(d, Kind.POWER_DELIVERY)[0].discharge_channel  # Start: BPT_ChannelSelection Discharge
    loop = d.last
    assert (loop.max_discharge_current, loop.min_soc) == (40.0, 10)
    if mode == "scheduled":  # the EV sets the current: the schedule's 11 kW at 390 V, within the car's 40 A
        assert loop.target_current == -28.2
    else:  # the charger decides: the car's charge wish and its discharge limit, and the energy to the floor
        assert (loop.target_current, loop.v2x_energy_to_floor) == (80.0, -12_800.0)
    d.answer(d.ok[Kind.CURRENT_DEMAND])
    assert d.evcc.status.present_current == -25.0  # the discharge, for the bridge (negative: out of the car)
    d.stop_to_the_end(BPT_REQUEST)
    assert d.evcc.status.result == "completed"
    stop = sent(d, Kind.POWER_DELIVERY, power_on=False)[0]
    assert not stop.discharge_channel


def test_the_car_limit_follows_the_request_in_the_loop() -> None:
    """The car's 0x200 maximum changes (a ZE0 ramps 0 → 15 A): every loop request says the latest."""
    d = bpt_drive("dynamic")
    d.to20(Kind.CURRENT_DEMAND)
    d.event(InputChanged("request", replace(BPT_REQUEST, discharge_current_limit=15.0)))
    d.answer(d.ok[Kind.CURRENT_DEMAND])
    assert (d.last.max_discharge_current, d.last.max_discharge_power) == (15.0, 15.0 * 390.0)


def test_scheduled_without_a_discharging_schedule_charges() -> None:
    d = bpt_drive("scheduled")
    d.ok[Kind.SCHEDULE_EXCHANGE] = replace(d.ok[Kind.SCHEDULE_EXCHANGE], schedule_discharge_power=None)
    d.to20(Kind.CURRENT_DEMAND)
    assert d.last.target_current == REQUEST.target_current and d.last.max_discharge_current == 40.0


@pytest.mark.parametrize(("request_", "services"), [(REQUEST, (2, 6)), (BPT_REQUEST, (2,))],
                         ids=["car-cannot-discharge", "charger-without-bpt"])
def test_otherwise_plain_dc_byte_for_byte(request_: EvRequest, services: tuple[int, ...]) -> None:
    plain = Drive20()
    plain.ok[Kind.SERVICE_DISCOVERY] = replace(plain.ok[Kind.SERVICE_DISCOVERY], services=(2,))
    plain.to20(Kind.CURRENT_DEMAND)
    d = Drive20(request=request_)
    d.ok[Kind.SERVICE_DISCOVERY] = replace(d.ok[Kind.SERVICE_DISCOVERY], services=services)
    d.to20(Kind.CURRENT_DEMAND)
    assert [f.payload for _, f in d.frames] == [f.payload for _, f in plain.frames]
    assert not d.evcc.status.bidirectional
    assert [f for _, k, f in d.log if k == "service-selected"] == [
        {"service": 2, "parameter_set": 1, "control_mode": "scheduled"}]


def test_a_charger_with_only_dc_bpt_and_a_car_that_cannot_discharge_ends_safe() -> None:
    d = Drive20()
    d.ok[Kind.SERVICE_DISCOVERY] = replace(d.ok[Kind.SERVICE_DISCOVERY], services=(6,))
    d.to20(Kind.SERVICE_DISCOVERY)
    d.answer(d.ok[Kind.SERVICE_DISCOVERY])
    d.ends_safe()
    assert d.evcc.status.stop_reason == "no-dc-service:ServiceDiscovery"
    d = bpt_drive()
    d.ok[Kind.SERVICE_DISCOVERY] = replace(d.ok[Kind.SERVICE_DISCOVERY], services=(6,))
    d.to20(Kind.CURRENT_DEMAND)
    assert d.evcc.status.bidirectional


@pytest.mark.parametrize("fault", ["FAILED", "timeout"])
@pytest.mark.parametrize(("kind", "name"), SEQUENCE)
def test_a_fault_at_every_bpt_state_ends_safe(kind: Kind, name: str, fault: str) -> None:
    d = bpt_drive()
    d.to20(kind)
    if fault == "FAILED":
        d.answer(replace(d.ok[kind], response_code="FAILED"))
    d.ends_safe()
    assert d.evcc.status.stop_reason == f"{fault}:{name}" and d.evcc.status.result == "safe-shutdown"


@pytest.mark.parametrize(("mode", "schedule", "goes_on"), [("dynamic", None, True), ("scheduled", WALLBOX_W, True),
                                                           ("scheduled", None, False)])
def test_at_the_charge_limit_a_bpt_session_goes_on_discharging(mode: str, schedule: float | None,
                                                              goes_on: bool) -> None:
    """``stop_soc`` reached: a session that may still discharge goes on without asking for charge;
    one that may not (scheduled, no discharging schedule) stops as battery full."""
    full = replace(BPT_REQUEST, soc=95)
    d = Drive20(mode, request=full, stop_soc=80)
    d.ok = bpt_ok(mode)
    d.ok[Kind.SCHEDULE_EXCHANGE] = replace(d.ok[Kind.SCHEDULE_EXCHANGE], schedule_discharge_power=schedule)
    d.to20(Kind.CURRENT_DEMAND)
    d.answer(d.ok[Kind.CURRENT_DEMAND])
    if goes_on:
        assert d.last.kind is Kind.CURRENT_DEMAND and d.last.target_current <= 0.0
        assert d.last.max_discharge_current == 40.0
    else:
        assert d.last.kind is Kind.POWER_DELIVERY and d.evcc.status.stop_reason == "battery-full:DC_ChargeLoop"
