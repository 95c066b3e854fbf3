"""Power manager tick by tick (adapter.md §8, §9, §10, §16), driven through the virtual runtime."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo import __version__
from ccs2chademo.adapter.config import AdapterConfig, build_config
from ccs2chademo.adapter.power import (
    POWER_SUCCESSORS,
    PowerManager,
    PowerState,
    PowerTimer,
    SoftReset,
    battery_level,
    is_self_charging,
)
from ccs2chademo.runtime import InputChanged, Log, VirtualRuntime
from tests.recording import Recorder


class World:
    """A power manager in virtual time with scripted inputs and a recorded output timeline."""

    def __init__(self, config: AdapterConfig | None = None, **inputs: Any) -> None:
        self.log = Recorder()
        self.rt = VirtualRuntime(log=self.log)
        self.out: list[tuple[float, str, Any]] = []
        self.pm = PowerManager(config or AdapterConfig())
        self.slot = self.rt.add(self.pm, on_output=lambda n, v, t: self.out.append((round(t, 6), n, v)))
        inputs.setdefault("vcc4", 3.8)
        inputs.setdefault("vcc12", 12.0)
        for name, value in inputs.items():
            self.at(0.0, name, value)

    def at(self, t: float, name: str, value: Any) -> World:
        """Deliver an input at ``t``; scheduled before the run, it precedes a tick at the same time."""
        self.rt.call_at(t, lambda _: self.rt.deliver(self.slot, InputChanged(name, value)))
        return self

    def press(self, t: float, duration: float) -> World:
        return self.at(t, "button", True).at(t + duration, "button", False)

    def run(self, until: float) -> World:
        self.rt.run(until=until)
        # every move is one of POWER_SUCCESSORS (docs/machines.md)
        assert [f for _, _, k, f in self.log.records if k == "transition-refused"] == []
        return self

    def series(self, name: str) -> list[tuple[float, Any]]:
        return [(t, v) for t, n, v in self.out if n == name]

    def first(self, name: str, value: Any) -> float:
        return next(t for t, v in self.series(name) if v == value)

    def led_ticks(self, start: float, count: int, step: float = 0.1) -> str:
        """LED level sampled in the middle of each step from ``start``: '#' on, '.' off."""
        led = self.series("led")
        out = ""
        for i in range(count):
            t = start + (i + 0.5) * step
            level = [v for tt, v in led if tt <= t][-1]
            out += "#" if level else "."
        return out


def test_boot_outputs_and_normal_start() -> None:
    w = World().run(0.5)
    assert w.series("power_hold") == [(0.0, True)]
    assert w.series("sides_enabled") == [(0.0, False), (0.1, True)]
    assert w.series("modes") == [(0.1, frozenset())]
    assert w.series("contactor_override") == [(0.0, None)]
    assert w.pm.state == "running"
    assert w.led_ticks(0.0, 5) == "#####"  # boot pattern {1}


def test_short_press_pending_then_battery_blink_then_off() -> None:
    w = World(vcc4=3.7).press(1.05, 0.3).run(5)
    assert w.series("power_off_pending") == [(0.0, False), (1.1, True)]
    assert w.pm.pending_cause == "button"
    # both sides unlocked, contactor open: blink at once; level 2 = 150 off + 2 × (150 off / 150 on)
    assert w.series("led")[-5:] == [(1.1, False), (1.4, True), (1.55, False), (1.7, True), (1.85, False)]
    assert w.series("power_hold") == [(0.0, True), (1.85, False)]
    assert w.pm.state == "off" and w.pm.get_timer() is None


@pytest.mark.parametrize(("vcc4", "level"), [(4.1, 3), (3.9, 3), (3.89, 2), (3.6, 2), (3.59, 1), (None, 1)])
def test_battery_level(vcc4: float | None, level: int) -> None:
    assert battery_level(vcc4) == level


def test_blink_count_follows_vcc4() -> None:
    for vcc4, ons in ((4.0, 3), (3.7, 2), (3.4, 1)):
        w = World(vcc4=vcc4).press(1.0, 0.1).run(4)
        assert [v for _, v in w.series("led") if v][1:] == [True] * ons  # first True is the boot LED


def test_sub_tick_press_still_counts() -> None:
    w = World().press(1.01, 0.02).run(1.15)
    assert w.pm.pending_cause == "button" and w.first("power_off_pending", True) == 1.1


def test_pending_waits_for_both_sides_unlocked_with_pending_pattern() -> None:
    w = World(ccs_unlocked=False, chademo_unlocked=False).press(1.05, 0.1)
    w.at(3.05, "chademo_unlocked", True).at(4.05, "ccs_unlocked", True).run(6)
    assert w.first("power_off_pending", True) == 1.1  # inputs are acted on at the next 100 ms tick
    # boot {1} cycle completes at once: {-1, 1} from the 1.1 tick until power-off starts
    assert w.led_ticks(1.1, 30) == ".#" * 15
    assert w.first("power_hold", False) == pytest.approx(4.1 + 0.45 + 0.3)  # level 3 blink: 0.75 s


def test_contactor_opened_first_and_100ms_before_blink() -> None:
    w = World(contactor_closed=True, vcc4=3.4).at(2.0, "ccs_stop", "session end").run(4)
    assert w.pm.pending_cause == "ccs: session end"
    assert w.series("contactor_override") == [(0.0, None), (2.0, False)]
    assert w.series("sides_enabled")[-1] == (2.0, False)
    # blink starts 100 ms after the contactor was opened: 300 ms off, 150 ms on, then off
    assert w.series("led")[-3:] == [(2.1, False), (2.4, True), (2.55, False)]
    assert w.series("power_hold")[-1] == (2.55, False)


def test_chademo_stop_and_unknown_inputs() -> None:
    w = World().at(1.0, "chademo_stop", 0).at(1.5, "nonsense", 1).at(1.6, "vcc4", "3.7 V")
    w.at(2.0, "chademo_stop", 0x10).run(2.05)
    assert w.pm.pending_cause == "chademo: 16"
    assert w.pm.vcc4 == 3.8  # the invalid reading was ignored


def test_forced_off_after_continuous_hold_default_30s() -> None:
    w = World(ccs_unlocked=False, contactor_closed=True).at(5.0, "button", True).run(40)
    assert w.first("power_off_pending", True) == 5.0  # orderly stop first
    assert w.series("forced_off") == [(0.0, False), (35.0, True)]
    assert w.series("contactor_override")[-1] == (35.0, False)
    assert w.series("power_hold")[-1] == (35.1, False)  # 100 ms after opening, no blink
    assert w.series("led")[-1] == (35.0, False)


def test_forced_off_hold_configurable_and_interrupted_hold_does_not_count() -> None:
    config = build_config({"forced-off-hold-s": 10})
    w = World(config, ccs_unlocked=False).press(1.0, 9.5).press(11.0, 10.2).run(30)
    assert w.series("forced_off")[-1] == (21.0, True)
    assert w.series("power_hold")[-1] == (21.0, False)  # contactor was open: cut at once


def test_inactivity_default_180s_and_activity_pulses() -> None:
    w = World().run(181)
    assert w.first("power_off_pending", True) == pytest.approx(180.1)
    assert w.pm.pending_cause == "inactivity"
    w = World()
    for t in (100.0, 200.0):
        w.at(t, "activity", "CurrentDemandRes")
    w.run(500)
    assert w.first("power_off_pending", True) == pytest.approx(380.0)


def test_inactivity_zero_means_never() -> None:
    w = World(build_config({"inactivity-off-s": 0})).run(2000)
    assert w.pm.pending_cause is None and w.pm.state == "running"


def test_always_on_soft_reset_on_non_button_causes() -> None:
    config = build_config({}, preset="v2x-ao")
    w = World(config, vcc4=3.8).at(2.0, "ccs_stop", "EVSE_Shutdown").run(3)
    assert w.series("soft_reset") == [(2.0, SoftReset(1, keep_discovery=True))]
    assert w.series("power_off_pending") == [(0.0, False), (2.0, True), (2.0, False)]
    assert w.series("power_hold") == [(0.0, True)]
    assert w.pm.state == "running" and w.pm.pending_cause is None
    # a second stop resets again; the button powers off even in always-on
    w.at(4.0, "chademo_stop", 0x01).press(6.0, 0.2).run(9)
    assert [v.count for _, v in w.series("soft_reset")] == [1, 2]
    assert w.series("power_hold")[-1][1] is False


def test_always_on_powers_off_when_vcc4_low_and_sx_drops_discovery() -> None:
    w = World(build_config({"always-on": True}), vcc4=3.3).at(2.0, "ccs_stop", "x").run(4)
    assert w.series("power_hold")[-1][1] is False and not w.series("soft_reset")
    w = World(build_config({"always-on": True, "sx": True}), vcc4=3.5).at(2.0, "ccs_stop", "x").run(4)
    assert w.series("soft_reset") == [(2.0, SoftReset(1, keep_discovery=False))]


@pytest.mark.parametrize(("vcc4", "vcc12", "charging"), [
    (0.5, 4.2, True), (0.99, 4.0, True), (1.0, 4.2, False), (0.5, 5.0, False), (0.5, 3.99, False),
    (None, 4.2, False)])
def test_self_charging_thresholds(vcc4: float | None, vcc12: float, charging: bool) -> None:
    assert is_self_charging(vcc4, vcc12) is charging


def test_self_charging_mode_led_toggle_and_button_off() -> None:
    w = World(vcc4=0.2, vcc12=4.2).press(20.05, 0.2).run(25)
    assert w.pm.state == "off"
    assert w.series("sides_enabled") == [(0.0, False)]
    assert w.led_ticks(0.1, 80) == ("." * 20 + "#" * 20) * 2
    assert w.series("power_hold")[-1] == (20.1, False)


# -- special modes (adapter.md §10) ---------------------------------------------------------------------

def enter_selection(w: World, release: float = 1.0) -> World:
    return w.at(0.0, "button", True).at(release, "button", False)


def test_single_press_selects_v2x_with_led_feedback() -> None:
    w = enter_selection(World()).press(2.0, 0.2).run(6)
    assert w.series("modes") == [(4.7, frozenset({"v2x"}))]
    assert w.first("sides_enabled", True) == 4.7
    # on while held at power-on and while waiting, off while the button is held,
    # 2 s after the release: 200 ms off / 300 ms on, then the boot pattern
    assert w.led_ticks(0.0, 50) == "#" * 20 + ".." + "#" * 20 + ".." + "###" + "###"
    assert w.pm.pending_cause is None  # a press during selection is no stop


def test_chained_commands_and_feedback_timing() -> None:
    w = enter_selection(World())
    for t in (2.0, 2.5, 3.0):
        w.press(t, 0.2)
    w.press(3.5, 0.8)  # 4th press held ≥ 0.6 s: stores command 4, starts another
    w.press(5.0, 0.2)  # command 1
    w.run(15)
    start = 7.2  # 2 s after the last release
    assert w.first("led", False) == 2.0
    feedback = "..###" * 4 + "......" + "..###"
    assert w.led_ticks(start, len(feedback)) == feedback
    end = start + len(feedback) * 0.1
    assert w.series("modes") == [(pytest.approx(end), frozenset({"exi-logging", "v2x"}))]


def test_at_most_three_commands_confirm_at_once() -> None:
    w = enter_selection(World())
    for t in (2.0, 3.0, 4.0):
        w.press(t, 0.7)
    w.run(10)
    # third hold stored at 4.6 → confirmed: 3 × one flash (500 ms) with 600 ms pauses (2.7 s)
    assert w.series("modes") == [(pytest.approx(4.6 + 2.7), frozenset({"v2x"}))]


def test_unknown_number_ignored_but_flashed() -> None:
    w = enter_selection(World()).press(2.0, 0.2).press(2.4, 0.2).run(8)
    assert w.led_ticks(4.6, 10) == "..###..###"
    assert w.series("modes") == [(pytest.approx(5.6), frozenset())]


def test_no_press_for_10s_cancels() -> None:
    w = enter_selection(World(), release=1.05).run(12)
    assert w.series("modes") == [(11.1, frozenset())]
    assert w.led_ticks(1.1, 99) == "#" * 99


def test_unwelding_toggles_contactor_until_press_then_off() -> None:
    w = enter_selection(World(vcc4=3.4))
    for t in (2.0, 2.3, 2.6):
        w.press(t, 0.1)
    w.press(10.0, 0.1).run(12)
    assert w.pm.modes == frozenset({"unwelding"})
    start = 4.7 + 1.5 + 0.1  # confirmed at 4.7, 3 × (200 off / 300 on), first toggle on the next tick
    contactor = [(t, v) for t, v in w.series("contactor_override") if v is not None]
    assert contactor[0] == (pytest.approx(start), True)
    assert [v for _, v in contactor[:6]] == [True, False] * 3
    toggles = [t for t, _ in contactor[:-1]]
    assert all(abs(b - a - 0.1) < 1e-6 for a, b in itertools.pairwise(toggles))
    assert w.series("sides_enabled") == [(0.0, False)]
    assert contactor[-1][1] is False and contactor[-1][0] == pytest.approx(10.0)
    assert w.pm.pending_cause == "unwelding-done"
    last_closed = max(t for t, v in contactor if v)
    assert w.series("power_hold")[-1][0] >= last_closed + 0.1 + 0.45 - 1e-6  # wait 100 ms, then blink


def test_soft_reset_keeps_only_exi_logging() -> None:
    w = enter_selection(World(build_config({"always-on": True})))
    w.press(2.0, 0.7).press(3.0, 0.1).press(3.2, 0.1).press(3.4, 0.1).press(3.6, 0.1)  # 1 then 4
    w.run(12)
    assert w.pm.modes == frozenset({"v2x", "exi-logging"})
    w.at(13.0, "ccs_stop", "x").run(14)
    assert w.series("modes")[-1] == (13.0, frozenset({"exi-logging"}))


def test_led_patterns_in_a_session() -> None:
    w = World()
    w.at(1.0, "led_pattern", "lifesign").at(2.0, "led_pattern", "nope").at(3.05, "led_pattern", "charging")
    w.at(3.5, "led_pattern", "tcp-connected")  # backwards: ignored
    w.run(8)
    assert w.led_ticks(0.0, 10) == "#" * 10
    assert w.led_ticks(1.0, 22) == "..#########" * 2  # 1.0 .. 3.2
    assert w.led_ticks(3.2, 20) == "." * 10 + "#" * 10


_inputs = st.one_of(
    st.tuples(st.just("button"), st.booleans()),
    st.tuples(st.sampled_from(["ccs_unlocked", "chademo_unlocked", "contactor_closed"]), st.booleans()),
    st.tuples(st.sampled_from(["ccs_stop", "chademo_stop"]), st.sampled_from(["", "end", 0, 0x40])),
    st.tuples(st.just("activity"), st.just("CurrentDemandRes")),
    st.tuples(st.just("vcc4"), st.floats(0.0, 4.3)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 60.0), _inputs), max_size=40), st.booleans())
def test_power_cut_only_when_safe(script: list[tuple[float, tuple[str, Any]]], always_on: bool) -> None:
    """Whatever happens: power is cut only with the contactor open ≥ 100 ms and both sides unlocked
    when the power-off started (or by a forced off), and nothing is emitted after power-off."""
    config = build_config({"always-on": always_on, "forced-off-hold-s": 20, "inactivity-off-s": 30})
    w = World(config)
    state: dict[str, Any] = {"ccs_unlocked": True, "chademo_unlocked": True, "contactor_closed": False}
    history: list[tuple[float, str, Any]] = []
    for t, (name, value) in sorted(script, key=lambda e: e[0]):
        w.at(t, name, value)
        history.append((t, name, value))
    w.run(120)
    cut = [t for t, v in w.series("power_hold") if v is False]
    if not cut:
        return
    t_off = cut[0]
    assert all(t <= t_off for t, _, _ in w.out)
    # the decision is taken when the sides are disabled (power-off starts); they cannot lock after it
    decided = max((t for t, v in w.series("sides_enabled") if v is False), default=t_off)
    for t, name, value in history:
        if t <= decided and name in state:
            state[name] = value
    forced = w.series("forced_off")[-1][1]
    assert forced or (state["ccs_unlocked"] and state["chademo_unlocked"])
    contactor = w.series("contactor_override")
    assert contactor[-1][1] is False
    opened = contactor[-1][0]
    closed_then = next((v for t, n, v in reversed(history) if n == "contactor_closed" and t <= opened), False)
    if closed_then:
        assert t_off - opened >= 0.1 - 1e-6
    assert w.pm.get_timer() is None


def test_always_on_button_during_a_pending_stop_powers_off() -> None:
    w = World(build_config({"always-on": True}), ccs_unlocked=False).at(2.0, "ccs_stop", "x").press(3.0, 0.1)
    w.at(4.0, "ccs_unlocked", True).run(6)
    assert not w.series("soft_reset") and w.series("power_hold")[-1][1] is False
    assert w.pm.pending_cause == "button"


def test_boot_and_power_off_log_version_and_non_default_config() -> None:
    """adapter.md §8/§11: boot and power-off log the version and every non-default value (driven directly)."""
    pm = PowerManager(build_config({"max-amps": 125}))
    pm.receive(InputChanged("vcc4", 3.95), 0.05)
    logs: list[Log] = []
    now = 0.0
    while pm.get_timer() is not None and now < 3:
        if abs(now - 1.0) < 1e-9:
            pm.receive(InputChanged("button", True), now)
        now = pm.get_timer() or now
        pm.handle_timer(now)
        logs += [a for a in pm.actions() if isinstance(a, Log)]
    by_kind = {log.kind: log.fields for log in logs}
    assert by_kind["boot"]["config"] == {"max-amps": 125} and by_kind["boot"]["battery_level"] == 3
    assert by_kind["power-off"] == {"cause": "button", "version": __version__, "config": {"max-amps": 125},
                                    "vcc4": 3.95}
    assert [f["state"] for k, f in ((log.kind, log.fields) for log in logs) if k == "state"] == [
        "running", "blink", "off"]


@pytest.mark.refused_transitions
def test_a_move_outside_the_table_is_refused_and_logged() -> None:
    pm = PowerManager(AdapterConfig())
    pm.actions()
    pm._go(PowerState.BLINK)  # boot → blink skips the whole session
    assert pm.state == "boot"
    assert pm.actions() == [Log("transition-refused", {"state": "blink", "previous": "boot"})]


def test_timers_are_named_the_cycle_and_the_led_edge() -> None:
    w = World()
    assert w.pm.timers.pending() == {PowerTimer.CYCLE: pytest.approx(0.1)}
    w.press(1.0, 0.2).run(1.3)  # running: a short press asks for the power-off, the LED blinks
    assert w.pm.state == "blink"
    assert list(w.pm.timers.pending()) == [PowerTimer.CYCLE, PowerTimer.LED]
    w.run(30.0)
    assert w.pm.state == "off" and w.pm.timers.pending() == {}


def test_selection_confirm_and_unwelding_stay_inside_the_table() -> None:
    w = World(button=True)  # held at power-on: the special-mode selection (adapter.md §10)
    w.at(0.5, "button", False).press(1.0, 0.2).press(1.5, 0.2).press(2.0, 0.2).run(12.0)
    assert w.pm.state == "unwelding"
    w.press(13.0, 0.2).run(20.0)
    states = [str(f["state"]) for _, s, k, f in w.log.records if k == "state"]
    assert states[:4] == ["select-enter", "selecting", "confirming", "unwelding"]
    assert all(b in POWER_SUCCESSORS[a] for a, b in itertools.pairwise(["boot", *states]))
