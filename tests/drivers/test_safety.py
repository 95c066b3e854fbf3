"""Safe startup and shutdown: in-process sequence checks, and a child process on the sim GPIO
backend that is signalled or fails in each phase (exit status, recorded output order)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ccs2chademo.drivers.gpio import GpioError
from ccs2chademo.drivers.hardware_config import GpioConfig
from ccs2chademo.drivers.safety import SafeOutputs, run_guarded
from ccs2chademo.drivers.sim.gpio import SimGpio

CHILD = Path(__file__).with_name("safety_child.py")
SHUTDOWN = ["contactor", "d2", "d1", "cp_state_c", "led_external", "led_internal", "power_hold"]
SAFE_END = {"contactor": False, "d2": False, "d1": False, "cp_state_c": False, "led_external": False,
            "led_internal": False, "power_hold": False}


def _all_on(gpio: SimGpio) -> None:
    for role in ("cp_state_c", "d1", "d2", "contactor", "led_external", "led_internal"):
        gpio.set_output(role, True)


def test_construction_drives_safe_values_contactor_first() -> None:
    gpio = SimGpio()
    _all_on(gpio)
    n = len(gpio.timeline)
    SafeOutputs(gpio, handle_signals=False)
    assert [(c.role, c.value) for c in gpio.timeline[n:]] == [
        ("contactor", False), ("d2", False), ("d1", False), ("cp_state_c", False),
        ("led_external", False), ("led_internal", False)]  # power hold was already held
    assert gpio.outputs["power_hold"] is True


def test_shutdown_sequence_waits_100_ms_after_the_contactor_and_is_idempotent() -> None:
    now = [0.0]
    gpio = SimGpio(clock=lambda: now[0])
    safe = SafeOutputs(gpio, sleep=lambda s: now.__setitem__(0, now[0] + s), handle_signals=False)
    _all_on(gpio)
    n = len(gpio.timeline)
    safe.shutdown("test")
    safe.shutdown("again")
    tail = gpio.timeline[n:]
    assert [c.role for c in tail] == SHUTDOWN
    assert tail[0].t == 0.0 and all(c.t == pytest.approx(0.1) for c in tail[1:])
    assert gpio.closed and safe.reason == "test"
    gpio.set_output("contactor", True)  # after the shutdown nothing can close it again
    assert gpio.outputs["contactor"] is False


class _FailingGpio(SimGpio):
    broken = False

    def _write(self, role: str, value: bool) -> None:
        if role == "d2" and self.broken:
            raise GpioError("line d2: EIO")
        super()._write(role, value)


def test_a_failing_line_does_not_stop_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    gpio = _FailingGpio(GpioConfig())
    gpio.broken = True
    safe = SafeOutputs(gpio, sleep=lambda s: None, handle_signals=False)
    gpio.set_output("d1", True)
    safe.shutdown()
    assert gpio.outputs["d1"] is False and gpio.outputs["power_hold"] is False
    assert "could not drive d2" in caplog.text


def test_run_guarded_in_process_normal_end_and_error() -> None:
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    gpio = SimGpio()

    async def fine() -> None:
        gpio.set_output("contactor", True)

    assert run_guarded(SafeOutputs(gpio, sleep=lambda s: None, handle_signals=False), fine) == 0
    assert gpio.outputs["contactor"] is False and gpio.outputs["power_hold"] is False

    async def broken() -> None:
        raise ValueError("bug")

    assert run_guarded(SafeOutputs(SimGpio(), sleep=lambda s: None, handle_signals=False), broken) == 1
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == handlers  # restored


# ----------------------------------------------------------------------------- child process


def _spawn(tmp_path: Path, phase: str) -> tuple[subprocess.Popen[str], Path]:
    trace = tmp_path / "gpio.jsonl"
    proc = subprocess.Popen([sys.executable, str(CHILD), str(trace), phase], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    return proc, trace


def _wait_for(proc: subprocess.Popen[str], word: str) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == word, (line, proc.stderr.read() if proc.stderr else "")


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=20)
    return proc.returncode, err


def _rows(trace: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in trace.read_text().splitlines()]


def _check_shutdown(rows: list[dict[str, Any]], charging: bool) -> None:
    final = {}
    for row in rows:
        final[row["role"]] = row["value"]
    assert final == SAFE_END
    assert rows[-1]["role"] == "power_hold" and rows[-1]["value"] is False  # released last
    if charging:
        tail = rows[-len(SHUTDOWN):]
        assert [r["role"] for r in tail] == SHUTDOWN
        assert tail[1]["t"] - tail[0]["t"] >= 0.099  # contactor open, then 100 ms, then d2
        assert not [r for r in rows[rows.index(tail[0]):] if r["value"] is True]  # nothing re-closed


@pytest.mark.parametrize(("phase", "sig", "charging"), [
    ("startup", signal.SIGTERM, False),
    ("startup", signal.SIGINT, False),
    ("charging", signal.SIGTERM, True),
    ("charging", signal.SIGINT, True),
])
def test_a_signal_in_each_phase_gives_safe_outputs_and_status_0(
        tmp_path: Path, phase: str, sig: signal.Signals, charging: bool) -> None:
    proc, trace = _spawn(tmp_path, phase)
    _wait_for(proc, "SAFE")
    if charging:
        _wait_for(proc, "READY")
    proc.send_signal(sig)
    code, err = _finish(proc)
    assert code == 0, err
    _check_shutdown(_rows(trace), charging)


def test_a_second_signal_during_the_shutdown_changes_nothing(tmp_path: Path) -> None:
    proc, trace = _spawn(tmp_path, "charging")
    _wait_for(proc, "SAFE")
    _wait_for(proc, "READY")
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.03)  # inside the 100 ms contactor wait
    proc.send_signal(signal.SIGTERM)
    code, err = _finish(proc)
    assert code == 0, err
    _check_shutdown(_rows(trace), charging=True)


@pytest.mark.parametrize(("phase", "words"), [
    ("error", "RuntimeError: a machine bug"),
    ("callback-error", "ZeroDivisionError"),
])
def test_an_unhandled_error_runs_the_same_sequence_and_fails(tmp_path: Path, phase: str, words: str) -> None:
    proc, trace = _spawn(tmp_path, phase)
    _wait_for(proc, "SAFE")
    _wait_for(proc, "READY")
    code, err = _finish(proc)
    assert code == 1
    assert words in err and "safe shutdown (unhandled error)" in err
    _check_shutdown(_rows(trace), charging=True)
