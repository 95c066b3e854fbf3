"""Every public vector in shared/data/exi-vectors.jsonl, byte-exact (robustness vectors per their note)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ccs2chademo import exi
from tests.conftest import shared_data

from . import oracle


def _vectors() -> list[dict[str, Any]]:
    with shared_data("exi-vectors.jsonl").open() as f:
        return [json.loads(line) for line in f if line.strip()]


VECTORS = _vectors()


def _id(v: dict[str, Any]) -> str:
    return f"{v['schema']}-{v['message'].split()[0]}-{v['hex'][:24]}"


def test_vector_counts() -> None:
    counts = {s: sum(v["schema"] == s for v in VECTORS) for s in ("apphand", "din", "iso2")}
    assert counts == {"apphand": 11, "din": 227, "iso2": 44}


@pytest.mark.parametrize("vec", VECTORS, ids=_id)
def test_vector(vec: dict[str, Any]) -> None:
    data = bytes.fromhex(vec["hex"])
    note = vec.get("note", "")
    if "fragment" in vec["message"]:
        schema = "xmldsig" if "xmldsig" in vec["message"] else vec["schema"]
        items = exi.decode_fragment(data, schema)
        assert items[0][0] == vec["message"].split()[0]
        assert exi.encode_fragment([obj for _, obj in items], schema) == data
        return
    if "one byte short" in note or "omitted the final byte" in note:
        with pytest.raises(exi.ExiDecodeError):
            exi.decode(data, vec["schema"])
        return
    msg = exi.decode(data, vec["schema"])
    assert exi.message_name(msg) == vec["message"]
    out = exi.encode(msg)
    if "trailing" in note:
        assert len(out) < len(data) and data.startswith(out) and not data[len(out):].strip(b"\0")
    elif "2nd-level EE" in note:
        # decoded with the tolerance of exi.md §8; our re-encoding is the canonical CH form
        assert exi.decode(out, vec["schema"]) == msg and len(out) > len(data)
    else:
        assert out == data
    again = exi.from_json(json.loads(json.dumps(exi.to_json(msg))))
    assert again == msg


def test_openv2g_values_of_a_current_demand_req() -> None:
    vec = next(v for v in VECTORS if v["message"] == "CurrentDemandReq" and v["schema"] == "din"
               and isinstance(v.get("decoded_by_openv2g"), dict) and "EVTargetVoltage.Value" in v["decoded_by_openv2g"])
    ref = vec["decoded_by_openv2g"]
    msg = exi.decode(bytes.fromhex(vec["hex"]), "din")
    assert isinstance(msg, exi.din.V2G_Message)
    body = msg.body.body_element
    assert isinstance(body, exi.din.CurrentDemandReq)
    assert body.ev_target_voltage.value == int(ref["EVTargetVoltage.Value"])
    assert body.ev_target_current.value == int(ref["EVTargetCurrent.Value"])
    assert body.dc_ev_status.evresssoc == int(ref["DC_EVStatus.EVRESSSOC"])
    assert msg.header.session_id.hex().upper() == ref["header.SessionID"].upper()


@pytest.mark.parametrize("vec", [v for v in VECTORS if "fragment" not in v["message"] and "robustness" not in
                                 v.get("note", "")], ids=_id)
def test_vector_matches_the_grammar_interpreter(vec: dict[str, Any]) -> None:
    data = bytes.fromhex(vec["hex"])
    assert oracle.decode(data, vec["schema"]) == exi.decode(data, vec["schema"])
