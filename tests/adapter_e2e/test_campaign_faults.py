"""The world faults the reliability campaign added (issue 15), one scenario each: the fault does
what its name says in the world, and the adapter meets it with a named, safe end (or, where the
adapter cannot see the harm, the invariants catch it)."""

from __future__ import annotations

import pytest

from ccs2chademo.sim.invariants import CONTACTOR_CLOSED_WITH_VOLTAGE_DIFFERENCE, INLET_VOLTAGE_BEFORE_CAR_CONTACTORS
from ccs2chademo.sim.vehicle import FAULT_NAMES as CAR_FAULT_BITS
from ccs2chademo.sim.world import AUX_LOW_V

from .helpers import kinds, run, violations


def _fired(records: list[dict], name: str) -> bool:
    return any(r["fault"] == name for r in kinds(records, "fault"))


def test_modem_reboot_in_current_demand_ends_in_a_ccs_timeout() -> None:
    """The modem comes back outside the charger's network: the established connection goes
    silent (no RST), and the adapter stops on its message timeout."""
    world, summary, records = run(faults=("modem-reboot@CurrentDemand+2",))
    assert _fired(records, "modem-reboot") and world.site.hosts["adapter"].modem.reboots >= 1
    assert violations(summary) == []
    assert summary.result == "safe-shutdown" and summary.stop_reason == "ccs: timeout:CurrentDemand"


def test_modem_reboot_before_charge_parameters_is_a_restart() -> None:
    """Before ChargeParameterDiscovery the CCS side may restart (adapter.md §4): SLAC again, and
    the session completes."""
    _, summary, _ = run(faults=("modem-reboot@ChargeParameterDiscovery",))
    assert violations(summary) == [] and summary.result == "completed"
    assert summary.ccs_states.count("slac") >= 2


def test_slac_failure_ends_in_inactivity() -> None:
    world, summary, _ = run(faults=("slac-fail@slac",))
    assert world.charger.host.modem.slac_deaf and world.charger.host.modem.dropped > 0
    assert "SupportedAppProtocol" not in summary.ccs_states
    assert violations(summary) == [] and summary.stop_reason == "inactivity"
    assert world.energy_kwh() == 0.0


@pytest.mark.parametrize("car", ["lexus-ux300e", "xpeng-g3"])
def test_slac_failure_ends_in_inactivity_when_the_car_closed_first(car: str) -> None:
    """The single-session flow: these cars close their contactors before the CCS session; a
    charger that never completes SLAC must not hold them (and the adapter powered) for ever —
    the campaign found them retrying SLAC for 4 virtual hours."""
    world, summary, _ = run(car=car, soc=50.0, faults=("slac-fail@slac",), limit_s=900.0)
    assert "SupportedAppProtocol" not in summary.ccs_states
    assert violations(summary) == [] and summary.stop_reason == "inactivity"
    assert summary.virtual_s < 400.0
    assert world.energy_kwh() == 0.0


def test_cp_loss_in_current_demand_stops_the_charger_and_the_session() -> None:
    world, summary, records = run(faults=("cp-loss@CurrentDemand+10",))
    assert violations(summary) == []
    assert summary.result == "safe-shutdown" and summary.stop_reason == "ccs: tcp-reset:CurrentDemand"
    fired = next(r["t"] for r in kinds(records, "fault") if r["fault"] == "cp-loss")
    before = [s.current_a for s in world.samples if fired - 1.0 <= s.t < fired]
    after = [s.current_a for s in world.samples if s.t >= fired + 1.0]
    assert max(before) > 20.0 and max(after) < 1.0  # the charger's output ramped off at once


def test_cp_loss_before_the_session_is_recovered() -> None:
    """A lost pilot while SLAC runs: nothing to stop yet; the session still completes (and the
    world does not count it as a stop, or a later close would look like one after a stop)."""
    _, summary, _ = run(faults=("cp-loss@slac+0.5",))
    assert violations(summary) == [] and summary.result == "completed"


def test_the_cars_can_going_silent_is_a_can_timeout() -> None:
    world, summary, _ = run(faults=("car-can-silent@charging+2",))
    assert world.car.can_silent
    assert violations(summary) == [] and summary.stop_reason == "chademo: 0x20 (CAN_TIMEOUT)"


@pytest.mark.parametrize("bit", CAR_FAULT_BITS)
def test_each_0x102_fault_bit_stops_the_session(bit: str) -> None:
    world, summary, _ = run(faults=(f"car-{bit.replace('_', '-')}@charging+2",))
    assert bit in world.car.faults
    assert violations(summary) == [] and summary.stop_reason is not None
    assert summary.stop_reason.startswith("chademo:") and "BATTERY_FAULT" in summary.stop_reason


def test_the_cars_system_fault_stops_the_session() -> None:
    world, summary, _ = run(faults=("car-system-fault@charging+2",))
    assert "system" in world.car.faults
    assert violations(summary) == [] and summary.stop_reason is not None and "CAR_ERROR" in summary.stop_reason


@pytest.mark.parametrize("state", ["wait_precharge", "charging"])
def test_k_dropping_stops_the_session(state: str) -> None:
    """The adapter sees k go while the car still permits charging (a broken wire)."""
    world, summary, _ = run(faults=(f"k-drop@{state}+1",))
    assert world.k_dropped and "driver_stop" not in world.car.stop_reason
    assert violations(summary) == [] and summary.stop_reason == "chademo: 0x40 (K_OFF)"


def test_a_request_above_the_chargers_limit_is_never_passed_on() -> None:
    """The car asks 20 A above 0x108's available current: the CCS target stays within the
    charger's limit (the invariant ``ccs-target-above-charger-limit``)."""
    plain, _, _ = run(charger="underdeliver", stop=22)
    world, summary, _ = run(charger="underdeliver", faults=("over-request@charging",), stop=22)
    assert world.car.over_request
    assert violations(summary) == [] and summary.stop_reason is not None
    assert max(s.request_a for s in world.samples) > max(s.request_a for s in plain.samples)


def test_car_contactors_that_never_close_are_caught_by_the_invariants() -> None:
    """The car reports its contactors closed while they are open: without an inlet voltmeter
    the adapter cannot know and closes onto the open inlet — the invariants must say so."""
    world, summary, _ = run(faults=("car-contactors-no-close",))
    assert not world.invariants.car_closed_once
    found = {v["invariant"] for v in summary.invariant_violations}
    assert found == {CONTACTOR_CLOSED_WITH_VOLTAGE_DIFFERENCE, INLET_VOLTAGE_BEFORE_CAR_CONTACTORS}
    assert world.energy_kwh() == 0.0


@pytest.mark.parametrize("car", ["zombieverter", "lexus-ux300e", "leaf-ze0-24"])
def test_car_contactors_that_never_close_end_in_inactivity_at_90_percent(car: str) -> None:
    """At 90 % the battery is within the car's voltage check of the charger's output, and these
    cars tolerate under-delivery: nothing but the adapter can end a CurrentDemand that delivers
    0 A to a 10 A request — the campaign found such sessions running for 4 virtual hours."""
    world, summary, _ = run(car=car, soc=90.0, faults=("car-contactors-no-close",), limit_s=900.0)
    found = {v["invariant"] for v in summary.invariant_violations}
    assert found == {CONTACTOR_CLOSED_WITH_VOLTAGE_DIFFERENCE, INLET_VOLTAGE_BEFORE_CAR_CONTACTORS}
    assert summary.result == "completed" and summary.stop_reason == "inactivity"
    assert summary.virtual_s < 300.0
    assert world.energy_kwh() == 0.0


def test_car_contactors_that_never_open_fail_the_cars_welding_check() -> None:
    world, summary, _ = run(faults=("car-contactors-no-open",))
    assert world.car_contactors  # still closed at the end
    assert violations(summary) == [] and summary.result == "completed"
    assert world.car.dtcs  # the car's own welding check saw the battery on its inlet


def test_a_low_aux_battery_does_not_disturb_the_session() -> None:
    world, summary, _ = run(faults=("aux-low@CurrentDemand+1",))
    assert world.hw.battery.cell_v < AUX_LOW_V + 0.01  # the DC/DC recharges it slowly
    assert violations(summary) == [] and summary.result == "completed"
