"""Every enum literal the EV session reads is matched exactly (issue 14, item 4).

An independent ISO 15118-2 SECC answered ``AuthorizationRes`` with
``EVSEProcessing = Ongoing_WaitingForCustomerInteraction``; our EV took it as Finished, sent
ChargeParameterDiscoveryReq, got FAILED_SequenceError and shut down.  These tests drive whole
simulated sessions with every literal of every enum the EV reacts to — each schema's
EVSEProcessing, ResponseCode, DC_EVSEStatusCode and EVSENotification, plus an index the schema
does not define — and check the EV's reaction against the documented sets, and that the EV's
source compares such values only by exact match.
"""

from __future__ import annotations

import ast
import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ccs2chademo.adapter.config import build_config
from ccs2chademo.exi import din, iso2
from ccs2chademo.runtime.sessionlog import capture
from ccs2chademo.sim.ev_session import build_session
from ccs2chademo.sim.world import Scenario, World, summarize
from ccs2chademo.v2g.evcc import RUNNING_STATUSES, STOP_STATUSES
from ccs2chademo.v2g.messages import (
    CODEC_SCHEMAS,
    OK_CODES,
    PROCESSING_FINISHED,
    PROCESSING_ONGOING,
    EvMessage,
    Kind,
    Schema,
)
from ccs2chademo.v2g.secc import Reply

SRC = Path(__file__).resolve().parents[2] / "src" / "ccs2chademo"
MODULES = {Schema.DIN: din, Schema.ISO2: iso2}
PROCESSING_KINDS = (Kind.CONTRACT_AUTHENTICATION, Kind.CHARGE_PARAMETER_DISCOVERY, Kind.CABLE_CHECK)


def _literals(enum: Any) -> list[str]:
    """The schema's literals (as the codec names them) and the first index it leaves undefined."""
    names = [m.name.rstrip("_") for m in enum]
    width = max(1, (len(names) - 1).bit_length())
    if len(names) < 1 << width:  # an index the n-bit field can carry but the schema does not define
        names.append(f"UNDEFINED_{len(names)}")
    return names


def _session(schema: Schema, kind: Kind, times: int, **fields: Any) -> tuple[Any, Any]:
    """A session whose first ``times`` answers to ``kind`` carry ``fields``."""
    session = build_session(charger="abb", schema=schema, minutes=0.05)
    left = [times]

    def hook(req: EvMessage, reply: Reply) -> Reply:
        if req.kind is kind and reply.message is not None and left[0] > 0:
            left[0] -= 1
            return replace(reply, message=replace(reply.message, **fields))
        return reply

    session.sim.slots["charger"].machine.hook = hook  # type: ignore[attr-defined]
    with capture(io.StringIO()):
        result = session.run(limit=600.0)
    return session, result


def test_customer_interaction_personality_waits_20_s_then_charges() -> None:
    """ISO-2: 20 s of Ongoing_WaitingForCustomerInteraction, then the session runs to its end."""
    session = build_session(charger="customer-interaction", schema=Schema.ISO2, minutes=0.05)
    stream = io.StringIO()
    with capture(stream):
        result = session.run(limit=600.0)
    assert result.result == "completed", result.stop_reason
    assert result.stop_reason == "ev-stop-request:CurrentDemand" and result.safe_end
    log = stream.getvalue()
    waits = log.count('"processing":"Ongoing_WaitingForCustomerInteraction"')
    assert 19 <= waits <= 22, waits  # polled ≈1/s for 20 s, not taken as Finished


@pytest.mark.parametrize("schema", list(CODEC_SCHEMAS))
@pytest.mark.parametrize("kind", PROCESSING_KINDS)
def test_every_evse_processing_literal(schema: Schema, kind: Kind) -> None:
    for literal in _literals(MODULES[schema].EVSEProcessing):
        session, result = _session(schema, kind, 3, processing=literal)
        if literal == PROCESSING_FINISHED or literal in PROCESSING_ONGOING:
            assert result.result == "completed", (literal, result.stop_reason)
            polls = session.evcc.states.count(kind.value)
            assert polls == 1, (literal, polls)  # a loop stays one state; the requests repeat within it
        else:
            assert literal.startswith("UNDEFINED_")
            assert result.result != "completed" and result.safe_end, literal
            assert result.stop_reason == f"processing-{literal}:{kind.value}", result.stop_reason
    assert {"Finished", "Ongoing"} <= set(_literals(MODULES[schema].EVSEProcessing))


def test_processing_sets_name_every_schema_literal() -> None:
    """A literal a schema adds must be classified, not fall through to 'unknown'."""
    for module in MODULES.values():
        named = {m.name for m in module.EVSEProcessing}
        assert named == (named & ({PROCESSING_FINISHED} | PROCESSING_ONGOING))
        assert named - {PROCESSING_FINISHED} <= PROCESSING_ONGOING


@pytest.mark.parametrize("schema", list(CODEC_SCHEMAS))
def test_every_response_code_literal(schema: Schema) -> None:
    """Only the exact OK codes pass; every FAILED* and undefined code stops the session safely."""
    for literal in _literals(MODULES[schema].ResponseCode):
        _, result = _session(schema, Kind.SERVICE_DISCOVERY, 1, response_code=literal)
        if literal in OK_CODES:
            assert result.result == "completed", (literal, result.stop_reason)
        else:
            assert result.result != "completed" and result.safe_end, literal
            assert result.stop_reason == f"{literal}:ServiceDiscovery", result.stop_reason


@pytest.mark.parametrize("schema", list(CODEC_SCHEMAS))
def test_every_evse_status_code_literal_in_current_demand(schema: Schema) -> None:
    for literal in _literals(MODULES[schema].DC_EVSEStatusCode):
        _, result = _session(schema, Kind.CURRENT_DEMAND, 1, status_code=literal)
        assert result.safe_end, literal
        if literal in STOP_STATUSES:
            assert result.result == "completed" and result.stop_reason == f"{STOP_STATUSES[literal]}:CurrentDemand"
        elif literal in RUNNING_STATUSES:
            assert result.result == "completed" and result.stop_reason == "ev-stop-request:CurrentDemand"
        else:
            assert result.result != "completed" and result.stop_reason == f"{literal}:CurrentDemand", literal


@pytest.mark.parametrize("schema", list(CODEC_SCHEMAS))
def test_every_notification_literal_in_current_demand(schema: Schema) -> None:
    for literal in _literals(MODULES[schema].EVSENotification):
        _, result = _session(schema, Kind.CURRENT_DEMAND, 1, notification=literal)
        assert result.result == "completed" and result.safe_end, literal
        expected = "evse-notification-stop" if literal == "StopCharging" else "ev-stop-request"
        assert result.stop_reason == f"{expected}:CurrentDemand", (literal, result.stop_reason)


#: Calls that match a prefix, suffix or substring of a string — never right for an enum literal.
_FUZZY_CALLS = frozenset({"startswith", "endswith", "find", "rfind", "index", "partition", "split", "count"})


def _fuzzy_matches(path: Path) -> list[str]:
    """Source text of every prefix/suffix/substring/slice operation in ``path``."""
    text = path.read_text()
    found: list[str] = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _FUZZY_CALLS:
            found.append(ast.get_source_segment(text, node.func) or "")
        elif isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators, strict=True):
                # `x in "literal"` is a substring test; `in` on a set/tuple/dict is exact
                if isinstance(op, ast.In | ast.NotIn) and isinstance(right, ast.Constant) and isinstance(
                        right.value, str):
                    found.append(ast.get_source_segment(text, node) or "")
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            found.append(ast.get_source_segment(text, node) or "")
    return found


#: Not enum literals: our own state list, and the driver's own ``kind:detail`` TCP close reason.
_NOT_ENUMS = {"STATES.index", "STATES[:STATES.index(S.POWER_DELIVERY_ON)]", "reason.split"}


def test_ev_session_compares_enum_literals_exactly() -> None:
    """The EV session's source holds no prefix/suffix/substring/slice match a longer literal could pass."""
    found = _fuzzy_matches(SRC / "v2g" / "evcc.py") + _fuzzy_matches(SRC / "v2g" / "messages.py")
    assert set(found) <= _NOT_ENUMS, sorted(set(found) - _NOT_ENUMS)
    assert _fuzzy_matches(Path(__file__)), "the scan finds nothing: broken"




def test_the_adapter_charges_at_a_charger_that_waits_for_customer_interaction() -> None:
    """The whole adapter (CHAdeMO car, bridge, EV session) on the ISO-2 customer-interaction
    charger: it waits out the 20 s and charges (this personality is left out of the matrices)."""
    scenario = Scenario(car="leaf-ze1-40", charger="customer-interaction", soc_start=78.0, soc_stop=79,
                        config=build_config({}, None), protocol="iso2")
    stream = io.StringIO()
    with capture(stream=stream):
        world = World(scenario)
        world.run()
    summary = summarize(world, 0.0)
    assert summary.result == "completed" and summary.invariant_violations == []
    assert summary.stop_reason == "ccs: battery-full:CurrentDemand" and "CurrentDemand" in summary.ccs_states
    assert stream.getvalue().count('"processing":"Ongoing_WaitingForCustomerInteraction"') >= 19
