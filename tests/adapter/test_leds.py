from __future__ import annotations

import pytest

from ccs2chademo.adapter.leds import (
    BOOT,
    CABLE_CHECK,
    CHARGING,
    LIFESIGN,
    PATTERNS,
    POWER_OFF_PENDING,
    PRECHARGE,
    TCP_CONNECTED,
    LedSequencer,
    TimelinePlayer,
    battery_blink,
    selection_feedback,
)


def bits(text: str) -> list[bool]:
    """'..###' → off, off, on, on, on (one character per 100 ms tick)."""
    return [c == "#" for c in text.replace(" ", "")]


# adapter.md §9 as tick strings: one cycle each
SPEC_CYCLES = {
    "boot": "#",
    "lifesign": "..#########",  # 200 ms off, 900 ms on (1.1 s)
    "tcp-connected": "..##..#########",  # 2 short blinks per 1.5 s
    "cable-check": "..##..##..#########",  # 3 short blinks per 1.9 s
    "precharge": "..##",
    "charging": ".........." "##########",
    "power-off-pending": ".#",
    "usb-charging": "." * 20 + "#" * 20,
}


@pytest.mark.parametrize("name", list(SPEC_CYCLES))
def test_pattern_cycles_tick_by_tick(name: str) -> None:
    pattern = PATTERNS[name]
    assert pattern.levels() == bits(SPEC_CYCLES[name])
    seq = LedSequencer(pattern)
    played = [seq.tick() for _ in range(3 * len(SPEC_CYCLES[name]))]
    assert played == bits(SPEC_CYCLES[name]) * 3


def test_cycle_lengths() -> None:
    assert [round(p.cycle_s, 3) for p in (LIFESIGN, TCP_CONNECTED, CABLE_CHECK, PRECHARGE, CHARGING)] == [
        1.1, 1.5, 1.9, 0.4, 2.0]


def test_ranks_follow_the_session_order() -> None:
    order = [BOOT, LIFESIGN, TCP_CONNECTED, CABLE_CHECK, PRECHARGE, CHARGING, POWER_OFF_PENDING]
    assert [p.rank for p in order] == sorted(p.rank for p in order)


def test_new_pattern_waits_for_the_cycle_to_complete() -> None:
    seq = LedSequencer(LIFESIGN)
    got = [seq.tick() for _ in range(4)]  # ..## of the 1.1 s cycle
    assert seq.request(TCP_CONNECTED)
    got += [seq.tick() for _ in range(7 + 15)]
    assert got == bits("..#########" "..##..#########")
    assert seq.pattern is TCP_CONNECTED


def test_boot_switches_on_the_next_tick() -> None:
    seq = LedSequencer()
    assert seq.tick() is True
    seq.request(LIFESIGN)
    assert [seq.tick() for _ in range(3)] == bits("..#")


def test_monotonic_never_back_to_an_earlier_pattern() -> None:
    seq = LedSequencer(PRECHARGE)
    assert seq.tick() is False
    assert not seq.request(TCP_CONNECTED)
    assert not seq.request(PRECHARGE)
    assert seq.request(CHARGING)
    assert not seq.request(LIFESIGN)  # lower than the queued one
    assert [seq.tick() for _ in range(3 + 20)] == bits(".##" + "." * 10 + "#" * 10)


def test_power_off_pending_overrides_all_after_the_running_cycle() -> None:
    seq = LedSequencer(CHARGING)
    [seq.tick() for _ in range(5)]
    assert seq.request(POWER_OFF_PENDING)
    assert not seq.request(CHARGING)
    assert [seq.tick() for _ in range(15 + 6)] == bits("....." "##########" ".#.#.#")


def test_skipping_patterns_is_allowed() -> None:
    seq = LedSequencer()
    seq.tick()
    assert seq.request(CHARGING)
    assert seq.tick() is False and seq.pattern is CHARGING


@pytest.mark.parametrize(("level", "expected"), [
    (1, ((False, 300), (True, 150))),
    (2, ((False, 300), (True, 150), (False, 150), (True, 150))),
    (3, ((False, 300), (True, 150), (False, 150), (True, 150), (False, 150), (True, 150))),
])
def test_battery_blink_150ms_steps(level: int, expected: tuple[tuple[bool, int], ...]) -> None:
    assert battery_blink(level) == expected


def test_battery_blink_level_range() -> None:
    with pytest.raises(ValueError):
        battery_blink(0)


def test_selection_feedback() -> None:
    assert selection_feedback([1]) == ((False, 200), (True, 300))
    assert selection_feedback([3, 1]) == ((False, 200), (True, 300), (False, 200), (True, 300), (False, 200),
                                          (True, 300), (False, 800), (True, 300))
    assert selection_feedback([]) == ()


def test_timeline_player_exact_edges() -> None:
    player = TimelinePlayer(battery_blink(2), start=10.0)
    samples = [(10.0, False), (10.299, False), (10.3, True), (10.449, True), (10.45, False), (10.6, True),
               (10.749, True), (10.75, False)]
    for t, level in samples:
        assert player.level(t) is level, t
    assert player.next_edge(10.0) == pytest.approx(10.3)
    assert player.next_edge(10.3) == pytest.approx(10.45)
    assert player.next_edge(10.75) is None
    assert not player.done(10.7) and player.done(10.75)
    assert player.end == pytest.approx(10.75)
