"""``ccs2chademo exi decode|encode`` (the forms of issue 3 are a contract)."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from ccs2chademo.cli import cli

CDRES = "809a02004080c1014181c210e00040800001828610181818008400c0"
SAPREQ = "8000dbab9371d3234b71d1b981899189d191818991d26b9b3a232b30020000040040"


def _decode_and_encode_back(schema: str, hexa: str) -> dict[str, Any]:
    """``exi decode`` of ``hexa``, then ``exi encode`` of its output gives ``hexa`` again."""
    runner = CliRunner()
    out = runner.invoke(cli, ["exi", "decode", "--schema", schema, hexa])
    assert out.exit_code == 0, out.output
    back = runner.invoke(cli, ["exi", "encode", "--schema", schema], input=out.output)
    assert back.exit_code == 0 and back.output.strip() == hexa
    obj: dict[str, Any] = json.loads(out.output)
    assert set(obj) == {"schema", "message", "body"} and obj["schema"] == schema
    return obj


def test_decode_argument_and_encode_back() -> None:
    assert _decode_and_encode_back("din", CDRES)["message"] == "CurrentDemandRes"


def test_decode_stdin_lines_with_a_bad_one() -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["exi", "decode", "--schema", "apphand"], input=f"{SAPREQ}\nnothex\n8000\n80400040\n")
    assert out.exit_code == 1
    lines = [json.loads(ln) for ln in out.output.splitlines()]
    assert len(lines) == 4
    assert lines[0]["message"] == "supportedAppProtocolReq" and lines[3]["message"] == "supportedAppProtocolRes"
    assert "error" in lines[1] and "error" in lines[2]


def test_encode_rejects_bad_json() -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["exi", "encode", "--schema", "din"], input='{"schema": "din", "body": {}}\nnot json\n')
    assert out.exit_code == 1


def test_schema_choice_is_enforced() -> None:
    out = CliRunner().invoke(cli, ["exi", "decode", "--schema", "iso20", CDRES])
    assert out.exit_code == 2


# A -20 DC ChargeLoopReq (dynamic mode) as the iso15118 package's codec (EXIficient) encodes it
CLREQ20 = "80340400810182028303840b9602810012006348300a04180a020c00410606408000004003e82003080c1001580400"


def test_iso20_decode_and_encode_back() -> None:
    obj = _decode_and_encode_back("iso20-dc", CLREQ20)
    assert obj["message"] == "DC_ChargeLoopReq"
    assert obj["body"]["DC_ChargeLoopReq"]["Dynamic_DC_CLReqControlMode"]["EVMaximumVoltage"] == {
        "Exponent": 0, "Value": 450}
    wrong = CliRunner().invoke(cli, ["exi", "decode", "--schema", "iso20-cm", CLREQ20])  # not a common message
    assert wrong.exit_code == 1 and "error" in json.loads(wrong.output)
