"""``ccs2chademo pcap FILE``: the JSON-lines contract."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ccs2chademo.cli import cli
from ccs2chademo.v2g.v2gtp import PayloadType
from tests.conftest import shared_data
from tests.exi.iso20_vectors import VECTORS

from .capture_table import capture
from .conftest import extracted
from .synth import pcap_bytes, session_frames

POLESTAR = "2024-06-18_Griffigroen_pyPLC_polestar2_discharging_with_additional_prechargeCircuit.pcapng"


def _run(path: Path) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(cli, ["pcap", str(path)])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, lines, result.stderr


def test_lines_for_every_record_in_capture_order() -> None:
    code, lines, _ = _run(capture(POLESTAR))
    assert code == 0
    x = extracted(POLESTAR)
    v2g = [line for line in lines if "direction" in line]
    raw = [line for line in lines if "kind" in line]
    assert len(v2g) == len(x.messages) == 186 and len(raw) == len(x.raw)
    assert [line["time"] for line in lines] == sorted(line["time"] for line in lines)  # type: ignore[type-var]
    first = v2g[0]
    assert set(first) == {"time", "direction", "connection", "schema", "message", "hex", "body"}
    assert (first["direction"], first["schema"], first["message"]) == ("ev->evse", "apphand", "supportedAppProtocolReq")
    assert [line["hex"] for line in v2g] == [m.hex for m in x.messages]
    names = [line["message"] for line in v2g]
    assert names.count("CurrentDemandReq") == 66 and names[-1] == "SessionStopRes"
    demand = next(line for line in v2g if line["message"] == "CurrentDemandReq")
    assert demand["body"]["V2G_Message"]["Body"]["CurrentDemandReq"]["EVTargetVoltage"] == {  # type: ignore[index]
        "Multiplier": 0, "Unit": "V", "Value": 450}
    assert {k: raw[0][k] for k in ("time", "kind", "hex")} == {"time": x.raw[0].time, "kind": x.raw[0].kind,
                                                                "hex": x.raw[0].hex}
    assert all("type" in line and "error" not in line for line in raw)  # every SLAC/SDP frame decodes


def test_undecodable_message_gives_an_error_line_and_exit_1(tmp_path: Path) -> None:
    sap = extracted(POLESTAR).messages[:2]
    payloads = [(True, sap[0].payload), (False, sap[1].payload), (True, b"\x80\x9a\xff\xff")]
    path = tmp_path / "bad.pcap"
    path.write_bytes(pcap_bytes(session_frames(payloads)))
    code, lines, _ = _run(path)
    assert code == 1 and len(lines) == 3
    assert "body" in lines[1] and "error" not in lines[1]
    assert lines[2]["hex"] == "809affff" and "ExiDecodeError" in str(lines[2]["error"]) and "body" not in lines[2]


def test_damaged_capture_prints_what_came_before_then_exit_2(tmp_path: Path) -> None:
    data = capture(POLESTAR).read_bytes()
    path = tmp_path / "cut.pcapng"
    path.write_bytes(data[: len(data) // 2])
    code, lines, err = _run(path)
    assert code == 2 and lines and "error:" in err
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"not a capture at all")
    code, lines, err = _run(garbage)
    assert code == 2 and lines == [] and "not a pcap or pcapng file" in err


def test_slac_and_sdp_frames_are_listed_decoded() -> None:
    """The Dehner Alpitronic PEV run: the SLAC sequence and the SDP request, by type, in order."""
    runner = CliRunner()
    path = shared_data("captures", "2022-11-17_Dehner_Alpitronic_until_SdpRequest.pcapng")
    result = runner.invoke(cli, ["pcap", str(path)])
    lines = [json.loads(line) for line in result.output.splitlines()]
    types = [line["type"] for line in lines if "kind" in line]
    for expected in ("CM_SLAC_PARAM.REQ", "CM_SLAC_PARAM.CNF", "CM_START_ATTEN_CHAR.IND", "CM_MNBC_SOUND.IND",
                     "CM_ATTEN_CHAR.IND", "CM_ATTEN_CHAR.RSP", "CM_SLAC_MATCH.REQ", "CM_SLAC_MATCH.CNF",
                     "CM_SET_KEY.REQ", "SDP_REQUEST"):
        assert expected in types, (expected, types)
    assert types.index("CM_SLAC_PARAM.REQ") < types.index("CM_SLAC_MATCH.CNF") < types.index("SDP_REQUEST")


def test_an_iso20_session_prints_its_messages(tmp_path: Path) -> None:
    """-20 messages travel under their message set's V2GTP payload type; the lines name the schema."""
    types = {"iso20-cm": PayloadType.ISO20_COMMON_MESSAGES, "iso20-dc": PayloadType.ISO20_DC}
    path = tmp_path / "iso20.pcap"
    path.write_bytes(pcap_bytes(session_frames([(type(msg).__name__.endswith("Req"), bytes.fromhex(hexa),
                                                 types[schema]) for schema, msg, hexa in VECTORS])))
    code, lines, _ = _run(path)
    assert code == 0
    assert [(line["schema"], line["message"]) for line in lines] == [(s, type(m).__name__) for s, m, _ in VECTORS]
    loop = next(line for line in lines if line["message"] == "DC_ChargeLoopReq")
    assert loop["body"]["DC_ChargeLoopReq"]["EVPresentVoltage"] == {"Exponent": -1, "Value": 3824}  # type: ignore[index]
