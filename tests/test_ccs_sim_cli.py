"""``ccs2chademo ccs-sim``: the JSON contract, --list, --fault, --out."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ccs2chademo import exi
from ccs2chademo.cli import cli
from ccs2chademo.pcap import V2gRecord, iter_records


def test_json_has_exactly_the_contract_keys() -> None:
    result = CliRunner().invoke(cli, ["ccs-sim", "--charger", "abb", "--minutes", "0.05", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"result", "stop_reason", "states", "messages", "virtual_s", "wall_s", "safe_end"}
    assert out["result"] == "completed" and out["safe_end"] is True and out["states"][-1] == "End"


def test_fault_and_protocol() -> None:
    result = CliRunner().invoke(cli, ["ccs-sim", "--charger", "tesla-sc", "--protocol", "iso2",
                                      "--fault", "unknown-session@CableCheck", "--json"])
    out = json.loads(result.output)
    assert out["result"] == "safe-shutdown" and out["stop_reason"] == "FAILED_UnknownSession:CableCheck"


def test_list_and_bad_fault() -> None:
    listing = CliRunner().invoke(cli, ["ccs-sim", "--list"]).output
    for name in ("alpitronic", "compleo", "abb", "tesla-sc", "tesla-v2", "underdeliver", "stale-voltage",
                 "emergency-shutdown", "tcp-reset", "WeldingDetection"):
        assert name in listing
    bad = CliRunner().invoke(cli, ["ccs-sim", "--fault", "explode@CableCheck"])
    assert bad.exit_code == 2 and "unknown fault" in bad.output


def test_out_writes_the_session_log_and_a_pcapng_our_capture_reader_follows(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["ccs-sim", "--charger", "abb", "--minutes", "0.02", "--json",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in (tmp_path / "session.jsonl").read_text().splitlines()]
    assert any(r["kind"] == "session-end" for r in lines) and any(r["kind"] == "tx" for r in lines)
    records = [r for r in iter_records(tmp_path / "session.pcapng") if isinstance(r, V2gRecord)]
    assert len(records) == json.loads(result.output)["messages"]
    names = [exi.message_name(exi.decode(r.payload, r.schema or "din")) for r in records]
    assert names[:2] == ["supportedAppProtocolReq", "supportedAppProtocolRes"]
    assert names[-2:] == ["SessionStopReq", "SessionStopRes"]


def test_iso20_session_and_its_capture(tmp_path: Path) -> None:
    """``--protocol iso20`` at the -20 charger: -20 state names, a -20 fault by its name, and a
    capture our reader follows through the -20 payload types."""
    result = CliRunner().invoke(cli, ["ccs-sim", "--charger", "iso20-dc", "--protocol", "iso20", "--minutes", "0.02",
                                      "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["result"] == "completed" and out["stop_reason"] == "ev-stop-request:DC_ChargeLoop"
    assert "ScheduleExchange" in out["states"] and "DC_ChargeLoop" in out["states"]
    records = [r for r in iter_records(tmp_path / "session.pcapng") if isinstance(r, V2gRecord)]
    assert len(records) == out["messages"]
    names = [exi.message_name(exi.decode(r.payload, r.schema or "din")) for r in records]
    assert names[2:4] == ["SessionSetupReq", "SessionSetupRes"] and "DC_ChargeLoopReq" in names
    assert names[-2:] == ["SessionStopReq", "SessionStopRes"]
    fault = CliRunner().invoke(cli, ["ccs-sim", "--charger", "iso20-dc", "--protocol", "iso20",
                                     "--fault", "timeout@ScheduleExchange", "--json"])
    assert json.loads(fault.output)["stop_reason"] == "timeout:ScheduleExchange"
    assert "DC_ChargeLoop" in CliRunner().invoke(cli, ["ccs-sim", "--list"]).output
