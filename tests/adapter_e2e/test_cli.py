"""``ccs2chademo simulate`` and ``ccs2chademo plot`` (their CLI is a contract)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ccs2chademo.cli import cli

SUMMARY_KEYS = {"result", "stop_reason", "soc_start", "soc_end", "energy_kwh", "virtual_s", "wall_s",
                "invariant_violations", "ccs_states", "chademo_states"}


def test_simulate_json_summary_and_outputs(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["simulate", "--soc-start", "30", "--soc-stop", "31", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert set(summary) == SUMMARY_KEYS
    assert summary["result"] == "completed" and summary["invariant_violations"] == []
    assert summary["soc_start"] == 30 and summary["soc_end"] > 30
    assert summary["ccs_states"][-1] == "End" and summary["chademo_states"][-1] == "ended"
    names = {p.name for p in out.iterdir()}
    assert {"session.jsonl", "ccs.pcapng", "chademo.log", "session.png"} <= names
    assert (out / "ccs.pcapng").read_bytes()[:4] == bytes.fromhex("0a0d0d0a")
    first = (out / "chademo.log").read_text().splitlines()[0]
    assert " can0 " in first and "#" in first  # candump: (time) can0 ID#DATA
    records = [json.loads(line) for line in (out / "session.jsonl").read_text().splitlines()]
    assert any(r["kind"] == "sample" for r in records)
    # the recordings are readable by our own tools: every V2G message decodes, every CAN frame too
    result = CliRunner().invoke(cli, ["pcap", str(out / "ccs.pcapng")])
    assert result.exit_code == 0, result.output
    assert '"message": "CurrentDemandReq"' in result.output and '"message": "SessionStopRes"' in result.output
    result = CliRunner().invoke(cli, ["can", "decode", str(out / "chademo.log")])
    assert result.exit_code == 0, result.output
    assert "ChargerStatus" in result.output and "VehicleStatus" in result.output
    png = tmp_path / "again.png"
    result = CliRunner().invoke(cli, ["plot", str(out / "session.jsonl"), "-o", str(png)])
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_simulate_at_the_iso20_charger_and_its_capture(tmp_path: Path) -> None:
    """``--charger iso20-dc``: -20 state names in the summary, a capture ``pcap`` decodes as -20."""
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["simulate", "--charger", "iso20-dc", "--soc-start", "30", "--soc-stop", "31",
                                      "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["result"] == "completed" and summary["invariant_violations"] == []
    assert summary["stop_reason"] == "ccs: battery-full:DC_ChargeLoop"
    assert {"ScheduleExchange", "DC_CableCheck", "DC_ChargeLoop", "DC_WeldingDetection"} <= set(summary["ccs_states"])
    result = CliRunner().invoke(cli, ["pcap", str(out / "ccs.pcapng")])
    assert result.exit_code == 0, result.output
    assert '"message": "DC_ChargeLoopReq"' in result.output and '"message": "SessionStopRes"' in result.output


def test_simulate_live_view_prints_summary() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--soc-start", "50", "--soc-stop", "51"])
    assert result.exit_code == 0, result.output
    assert "result: completed" in result.output and "safety invariants: no violation" in result.output


def test_simulate_list() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--list"])
    assert result.exit_code == 0
    for name in ("leaf-ze1-40", "zombieverter", "alpitronic", "stale-voltage", "tcp-loss", "evse-shutdown"):
        assert name in result.output


def test_simulate_rejects_unknown_names() -> None:
    for args in (["--car", "trabant"], ["--charger", "nope"], ["--fault", "gremlins"]):
        result = CliRunner().invoke(cli, ["simulate", "--json", *args])
        assert result.exit_code != 0 and "unknown" in result.output


def test_plot_rejects_a_log_without_samples(tmp_path: Path) -> None:
    log = tmp_path / "x.jsonl"
    log.write_text('{"t": 0, "kind": "state"}\n')
    result = CliRunner().invoke(cli, ["plot", str(log)])
    assert result.exit_code != 0 and "no 'sample' records" in result.output


def test_simulate_config_file(tmp_path: Path) -> None:
    config = tmp_path / "adapter.toml"
    config.write_text('preset = "sx"\n')
    result = CliRunner().invoke(cli, ["simulate", "--car", "xpeng-g3", "--soc-start", "40", "--soc-stop", "41",
                                      "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["result"] == "completed" and "discovered" not in summary["chademo_states"]
    config.write_text("max-amps = 900\n")
    result = CliRunner().invoke(cli, ["simulate", "--config", str(config), "--json"])
    assert result.exit_code != 0 and "max-amps" in result.output
