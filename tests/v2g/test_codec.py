"""The neutral message layer over the EXI codec: byte-exact where real data exists, round trips elsewhere."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ccs2chademo.v2g import codec
from ccs2chademo.v2g.messages import CODEC_SCHEMAS, ISO20_ONLY_KINDS, EvMessage, EvseMessage, Kind, Schema

from ..conftest import shared_data


def test_session_setup_req_matches_the_worked_example_with_a_mac() -> None:
    msg = EvMessage(Kind.SESSION_SETUP, session_id=bytes(8), evcc_id=b"")
    assert codec.encode_request(msg, Schema.DIN).hex() == "809a02000000000000000011d00000"  # exi.md §6


def test_recorded_charger_responses_decode_to_the_documented_values() -> None:
    from ccs2chademo.sim.replay import load_recording

    rec = load_recording(shared_data("captures", "2022-12-20_alpi_currentDemandSequenceErrorShutdown.pcapng"))
    cd = next(r for r in rec.responses if r.kind is Kind.CURRENT_DEMAND)
    msg = codec.decode_response(cd.payload, Schema.DIN)
    assert (msg.response_code, msg.status_code) == ("FAILED_SequenceError", "EVSE_Shutdown")
    setup = codec.decode_response(rec.responses[1].payload, Schema.DIN)
    assert setup.response_code == "OK_NewSessionEstablished" and len(setup.session_id) == 8


def test_response_where_a_request_is_expected_is_a_codec_error() -> None:
    res = codec.encode_response(EvseMessage(Kind.SESSION_STOP), Schema.DIN)
    with pytest.raises(codec.CodecError):
        codec.decode_request(res, Schema.DIN)
    with pytest.raises(codec.CodecError):
        codec.decode_response(b"\x80\x9a", Schema.DIN)
    with pytest.raises(codec.CodecError):
        codec.encode_request(EvMessage(Kind.CURRENT_DEMAND, target_voltage=1e9), Schema.DIN)


volts = st.integers(0, 9000).map(lambda v: v / 10)
amps = st.integers(0, 4000).map(lambda v: v / 10)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(list(CODEC_SCHEMAS)), volts, amps, volts, amps, st.integers(0, 100),
       st.sampled_from([None, True, False]), st.sampled_from(["NO_ERROR", "FAILED_ChargingCurrentdifferential"]))
def test_current_demand_request_round_trip(schema: Schema, tv: float, ti: float, mv: float, mi: float, soc: int,
                                           bulk: bool | None, error: str) -> None:
    msg = EvMessage(Kind.CURRENT_DEMAND, session_id=b"\x06\xef\x00\x71", ev_ready=True, soc=soc, error_code=error,
                    cabin_conditioning=False if schema is Schema.DIN else None,
                    ress_conditioning=False if schema is Schema.DIN else None,
                    target_voltage=tv, target_current=ti, max_voltage=mv, max_current=mi, max_power=100_000.0,
                    bulk_charging_complete=bulk, remaining_full_s=1200.0, remaining_bulk_s=None)
    assert codec.decode_request(codec.encode_request(msg, schema), schema) == msg


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(list(CODEC_SCHEMAS)),
       st.sampled_from([k for k in Kind if k is not Kind.SUPPORTED_APP_PROTOCOL and k not in ISO20_ONLY_KINDS]),
       st.sampled_from(["OK", "FAILED", "FAILED_SequenceError", "FAILED_UnknownSession"]),
       st.sampled_from(["EVSE_Ready", "EVSE_Shutdown", "EVSE_EmergencyShutdown", "EVSE_Malfunction"]), volts, amps)
def test_responses_round_trip_through_exi(schema: Schema, kind: Kind, code: str, status: str, v: float,
                                          i: float) -> None:
    msg = EvseMessage(kind, response_code=code, session_id=bytes(range(1, 9)), status_code=status, isolation="Valid",
                      present_voltage=v, present_current=i, max_current=i, processing="Finished")
    back = codec.decode_response(codec.encode_response(msg, schema), schema)
    assert (back.kind, back.response_code, back.session_id) == (kind, code, msg.session_id)
    if back.status_code is not None:
        assert back.status_code == status
    if kind is Kind.CURRENT_DEMAND:
        assert (back.present_voltage, back.present_current, back.max_current) == (v, i, i)


# --- the mapping's fast paths make the choices of the general code -------------------------------


def _physical(x: float) -> tuple[int, int] | str:
    from ccs2chademo.exi import din

    try:
        pv = codec._pv(din, x, "V")
    except codec.CodecError as exc:
        return str(exc)
    return pv.value, pv.multiplier


def _reference(x: float) -> tuple[int, int] | str:
    from ccs2chademo.exi._bits import ExiError, pick_multiplier

    try:
        return pick_multiplier(x, -3, 3, -32768, 32767)
    except ExiError as exc:
        return str(exc)


@settings(max_examples=2000)
@given(st.one_of(st.floats(-4e7, 4e7), st.integers(-40_000_000, 40_000_000).map(lambda n: n / 1000),
                 st.integers(-400_000, 400_000).map(lambda n: n / 10), st.integers(-4_000_000, 4_000_000)
                 .map(float), st.integers(-40_000_000, 40_000_000).map(lambda n: n * 0.001)))
@example(100_000.0)
@example(-100_000.0)
@example(327_680.0)
@example(3_276_800.0)
@example(32_768_000.0)
@example(32_768_001.0)
@example(400_010.0)
@example(1e9)
def test_physical_value_fast_path_chooses_as_pick_multiplier(x: float) -> None:
    assert _physical(x) == _reference(x)


def test_physical_value_of_no_number_is_a_codec_error() -> None:
    for x in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(codec.CodecError, match="not a number"):
            codec._pv(codec._DIN, x, "A")


def test_value_of_every_short_at_every_multiplier_is_the_rounded_product() -> None:
    """``_value`` divides instead of rounding value × 10^multiplier to 6 decimals: same floats."""
    from ccs2chademo.exi import din

    for multiplier in range(-3, 4):
        pv = din.PhysicalValue(multiplier=multiplier, unit=None, value=0)
        for value in range(-32768, 32768):
            pv.value = value
            assert codec._value(pv) == round(float(value * 10.0**multiplier), 6), (value, multiplier)


def test_a_din_session_never_imports_the_iso2_codec() -> None:
    """ISO-2's generated module (≈ 1.9 MB of a process) or its compiled twin is imported at the first
    ISO-2 message; a DIN session, the common case, never loads either.  Nor, in the compiled build,
    a schema's pure module: a compiled twin takes its enumerations and tables from the schema's
    data module (``exi/din_data.py``, ``exi/iso2_data.py``).  A fresh interpreter, as ``run`` starts."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from ccs2chademo.v2g import codec\n"
        "from ccs2chademo.v2g.messages import EvMessage, Kind, Schema\n"
        "setup = EvMessage(Kind.SESSION_SETUP, session_id=bytes(8), evcc_id=bytes(6))\n"
        "assert codec.decode_request(codec.encode_request(setup, Schema.DIN), Schema.DIN).kind is Kind.SESSION_SETUP\n"
        "assert not {'ccs2chademo.exi.iso2', 'ccs2chademo.exi.native.iso2'} & set(sys.modules), 'DIN loaded ISO-2'\n"
        "pure = 'ccs2chademo.exi.din'\n"
        "assert (pure in sys.modules) == (codec._DIN.__name__ == pure), 'the compiled twin loaded the pure module'\n"
        "iso = codec.encode_request(setup, Schema.ISO2)\n"
        "assert codec.decode_request(iso, Schema.ISO2).kind is Kind.SESSION_SETUP\n"
        "iso2 = codec._module(Schema.ISO2).__name__\n"
        "pure = 'ccs2chademo.exi.iso2'\n"
        "assert (pure in sys.modules) == (iso2 == pure), 'the compiled twin loaded the pure module'\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
