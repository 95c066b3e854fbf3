"""``run`` ends safely on every way out: SIGTERM before SLAC, during SLAC, in CurrentDemand (root:
veth namespaces), and an unhandled error at startup (any user).

The sim GPIO's trace file is written at each change, so the test reads what the killed process
did up to its last instant: contactor open before d2 off before d1 off, CP back to B, power hold
released last, and 100 ms between opening the contactor and dropping d2.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ccs2chademo.sim.veth_session import VethSession, wait_for

from .helpers import artifacts, assert_safe_shutdown, final_levels, needs_netns


def _terminate_and_check(session: VethSession) -> dict[str, object]:
    killed_at = time.monotonic()
    session.signal("adapter", signal.SIGTERM)
    adapter = session.wait("adapter", 20.0)
    assert adapter.returncode == 0, adapter.stderr[-3000:]
    summary = adapter.summary()
    assert summary is not None and summary["result"] == "interrupted", adapter.stdout
    assert summary["stop_reason"] == "SIGTERM"
    changes = session.gpio_changes()
    assert_safe_shutdown(changes, since=killed_at)
    return summary


@needs_netns
def test_sigterm_before_slac(request: pytest.FixtureRequest) -> None:
    with VethSession(artifacts(request), charger=False) as session:
        assert wait_for(lambda: any(r.get("part") == "chademo" for r in session.records()), 20.0)
        assert not session.ccs_reached("slac")
        summary = _terminate_and_check(session)
    assert summary["ccs_states"] == ["waiting"]


@needs_netns
def test_sigterm_during_slac(request: pytest.FixtureRequest) -> None:
    # the charger answers: the signal lands while the car side sounds / waits for ATTEN_CHAR.IND
    with VethSession(artifacts(request)) as session:
        assert wait_for(lambda: session.ccs_reached("sounding", part="slac"), 30.0), "\n".join(session.story())
        summary = _terminate_and_check(session)
    ccs = summary["ccs_states"]
    assert "slac" in ccs and "SessionSetup" not in ccs, ccs


@needs_netns
def test_sigterm_in_current_demand(request: pytest.FixtureRequest) -> None:
    with VethSession(artifacts(request), stop_after_s=None) as session:
        # ≈18 s on an idle machine; a loaded one may need a CCS restart or two (adapter.md §4)
        assert wait_for(lambda: session.ccs_reached("CurrentDemand"), 120.0), "\n".join(session.story())
        assert wait_for(lambda: final_levels(session.gpio_changes()).get("contactor") is True, 10.0)
        time.sleep(1.0)
        before = final_levels(session.gpio_changes())
        assert before["contactor"] and before["d1"] and before["d2"] and before["cp_state_c"]
        summary = _terminate_and_check(session)
        changes = session.gpio_changes()
        charger = session.wait("charger", 30.0)
    assert "CurrentDemand" in summary["ccs_states"]
    opened = max(c["t"] for c in changes if c["role"] == "contactor" and not c["value"])
    d2_off = max(c["t"] for c in changes if c["role"] == "d2" and not c["value"])
    assert d2_off - opened >= 0.1  # the contactor gets its 100 ms before anything else changes
    # the charger sees the TCP connection die without SessionStop and ends its session: exit 0
    assert charger.returncode == 0, charger.stderr[-2000:]
    assert (charger.summary() or {}).get("result") == "aborted", charger.stdout


def test_unhandled_error_at_startup_is_exit_1_with_safe_outputs(tmp_path: Path) -> None:
    config = tmp_path / "adapter.toml"
    config.write_text('[hardware.plc]\ninterface = "nosuchif0"\n', encoding="utf-8")
    trace = tmp_path / "gpio.jsonl"
    done = subprocess.run([sys.executable, "-m", "ccs2chademo", "run", "--config", str(config),
                           "--gpio-trace", str(trace)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert "nosuchif0" in done.stderr
    changes = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
    assert [c["role"] for c in changes[:6]] == ["contactor", "d2", "d1", "cp_state_c", "led_external", "led_internal"]
    assert_safe_shutdown(changes)
