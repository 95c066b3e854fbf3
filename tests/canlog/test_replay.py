"""``ccs2chademo can replay``: every shared CHAdeMO log replayed into our charger side.

The figures are the ones measured when the replay was written (docs/chademo.md, "Replay against
real chargers", explains every difference); a change that makes any of them worse fails here.
Bad logs — one side missing, a gap, a wrong DLC, not a log — are clear errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccs2chademo.canlog.replay import (
    CAR_IDS,
    CHARGER_IDS,
    ReplayError,
    compare,
    replay_log,
    run_session,
    split_sessions,
    transitions,
)
from ccs2chademo.cli import cli
from ccs2chademo.runtime import CanFrame

from ..conftest import shared_data

DOC = Path(__file__).resolve().parents[2] / "docs" / "chademo.md"
SUMMARY_KEYS = ["car_frames", "charger_frames", "our_frames", "status_bit_order_agrees", "max_status_lag_s",
                "current_rms_diff_a", "differences"]

#: log, (car frames fed, real charger frames, our frames), status bit order agrees, largest status
#: lag (s), present-current RMS difference (A), number of differences.
MEASURED = [
    ("diy-car-177v-session.txt", (2789, 763, 1314), True, 1.902, 3.336, 4),
    ("diy-car-v2x-charger-fail.csv", (429, 569, 735), False, 3.207, 0.119, 7),
    ("leaf-ze0-v2x-evse-start-stop.csv", (2026, 2044, 2520), True, 8.645, 0.658, 4),
    ("leaf-ze1-62kwh-charging.csv", (1953, 1562, 1995), True, 2.236, 0.0, 5),
    ("zombieverter/Failcan2.csv", (95, 154, 210), False, 0.303, 0.589, 1),
    ("zombieverter/FailedInstaVolt.csv", (100, 162, 267), False, 0.504, 0.225, 5),
    ("zombieverter/GeniePointFail.csv", (134, 238, 312), False, 1.186, 0.244, 4),
    ("zombieverter/abb_nissan.csv", (610, 364, 528), False, 2.7, 0.0, 3),
    ("zombieverter/ea_target.csv", (1095, 588, 1035), False, 9.999, 0.467, 3),
    ("zombieverter/evgo_kildare.csv", (1038, 686, 672), False, 7.792, 1.378, 3),
    ("zombieverter/evgo_walmart.csv", (1154, 738, 657), False, 7.541, 1.576, 3),
]


@pytest.mark.parametrize(("name", "counts", "agrees", "lag", "rms", "n_differences"), MEASURED,
                         ids=[m[0] for m in MEASURED])
def test_every_shared_log_replays_at_its_measured_agreement(name: str, counts: tuple[int, int, int], agrees: bool,
                                                            lag: float, rms: float, n_differences: int) -> None:
    result = replay_log(shared_data("chademo", *name.split("/"))).as_json()
    assert (result["car_frames"], result["charger_frames"], result["our_frames"]) == counts
    assert result["status_bit_order_agrees"] is agrees or agrees is False, result["differences"]
    assert result["max_status_lag_s"] <= lag + 0.01, result["differences"]
    assert result["current_rms_diff_a"] <= rms + 0.01
    assert len(result["differences"]) <= n_differences, result["differences"]
    assert name.split("/")[-1] in DOC.read_text(encoding="utf-8"), "every replayed log is explained in chademo.md"


def test_ze0_replay_details() -> None:
    """The complete Leaf ZE0 session: the lock is the one status difference (the EVSE locks only
    for its insulation test, 8.6 s after the car is ready), the stop is in step with the real one."""
    result = replay_log(shared_data("chademo", "leaf-ze0-v2x-evse-start-stop.csv"))
    assert result.differences[0] == "connector-locked on: ours -8.64 s (4.02 vs 12.66 s)"
    assert not any(d.startswith(("charging", "stop-control", "theirs only", "ours only", "threshold"))
                   for d in result.differences)


def test_a_log_without_the_charger_is_an_error() -> None:
    with pytest.raises(ReplayError, match="one side missing: no charger frames"):
        replay_log(shared_data("chademo", "zombieverter", "FAILCHAD.csv"))


def _savvycan(path: Path, rows: list[tuple[float, int, bytes]]) -> Path:
    lines = ["Time Stamp,ID,Extended,Dir,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8,"]
    for t, fid, data in rows:
        cells = [f"{b:02X}" for b in data] + ["00"] * (8 - len(data))
        lines.append(f"{round(t * 1e6)},{fid:08X},false,Rx,0,{len(data)},{','.join(cells)},")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


CAR_102 = bytes.fromhex("029a010000c94900")
CHARGER_109 = bytes.fromhex("0200000001240000")


def _session(seconds: float, car: bool = True, charger: bool = True, skip: tuple[float, float] = (0, 0),
             dlc: int = 8) -> list[tuple[float, int, bytes]]:
    rows = []
    for i in range(int(seconds * 10)):
        t = i / 10
        if car and not skip[0] <= t < skip[1]:
            rows.append((t, 0x102, CAR_102[:dlc] if i == 5 else CAR_102))
        if charger:
            rows.append((t + 0.02, 0x109, CHARGER_109))
    return rows


@pytest.mark.parametrize(("rows", "message"), [
    (_session(3, charger=False), "one side missing: no charger frames"),
    (_session(3, car=False), "one side missing: no car frames"),
    (_session(6, skip=(2.0, 3.5)), "gap: no 0x102 from 1.900 to 3.500 s"),
    (_session(3, dlc=5), "0x102 at 0.500 s has DLC 5"),
    ([], "no CHAdeMO frames"),
])
def test_bad_logs_are_clear_errors(tmp_path: Path, rows: list[tuple[float, int, bytes]], message: str) -> None:
    path = _savvycan(tmp_path / "bad.csv", rows)
    with pytest.raises(ReplayError, match=message):
        replay_log(path)
    result = CliRunner().invoke(cli, ["can", "replay", "--json", str(path)])
    assert result.exit_code == 1 and message.split(":")[0] in result.output


def test_not_a_log_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.xyz"
    path.write_text("hello\n")
    with pytest.raises(ReplayError, match="unknown log format"):
        replay_log(path)


def test_silence_of_both_sides_splits_sessions(tmp_path: Path) -> None:
    rows = _session(2) + [(t + 20.0, fid, data) for t, fid, data in _session(2)]
    result = replay_log(_savvycan(tmp_path / "two.csv", rows))
    assert result.car_frames == 40 and result.charger_frames == 40


def test_cli_json_summary_is_the_last_line() -> None:
    result = CliRunner().invoke(cli, ["can", "replay", "--json",
                                      str(shared_data("chademo", "leaf-ze0-v2x-evse-start-stop.csv"))])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(summary) == SUMMARY_KEYS
    assert summary["status_bit_order_agrees"] is True and summary["car_frames"] == 2026
    human = CliRunner().invoke(cli, ["can", "replay", str(shared_data("chademo", "leaf-ze0-v2x-evse-start-stop.csv"))])
    assert human.exit_code == 0 and "status bit order agrees: yes" in human.output


def test_bits_changing_in_one_frame_follow_the_session_order() -> None:
    frames = [(0.0, CanFrame(0x109, bytes.fromhex("0200000000200000"))),
              (0.1, CanFrame(0x109, bytes.fromhex("0200000000050000"))),  # locked, charging, stop cleared at once
              (0.2, CanFrame(0x109, bytes.fromhex("0200000000200000")))]
    assert [t.label for t in transitions(frames)] == [
        "connector-locked on", "charging on", "stop-control off", "stop-control on", "charging off",
        "connector-locked off"]


_IDS = sorted(CAR_IDS | CHARGER_IDS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(0.0, 0.4), st.sampled_from(_IDS), st.binary(min_size=8, max_size=8)),
                min_size=1, max_size=120))
def test_any_frame_sequence_replays_or_is_a_replay_error(steps: list[tuple[float, int, bytes]]) -> None:
    """Random both-side traffic (any bytes, any spacing): a result or a ReplayError, never a crash."""
    t = 0.0
    frames = []
    for dt, fid, data in steps:
        t += dt
        frames.append((t, CanFrame(fid, data)))
    try:
        sessions = split_sessions(frames)
    except ReplayError:
        return
    for session in sessions:
        result = compare(*run_session(session))
        assert result.car_frames <= len(session) and result.max_status_lag_s >= 0.0
