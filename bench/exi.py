"""Benchmark: per-message decode and encode time of the pure-Python EXI codec.

Messages are real DIN vectors from shared/data/exi-vectors.jsonl (a CurrentDemandReq/Res and
a PreChargeReq from a real session) and, for ISO 15118-20, the DC_ChargeLoopReq of the -20 session
vectors (tests/exi/iso20_vectors.py, bytes as the iso15118 codec writes them) in scheduled mode,
the counterpart of DIN's CurrentDemandReq, and in BPT dynamic mode, the largest; figures are the
best of several timeit repeats in µs per operation, in process CPU time (the machine is shared;
CPU time is what the codec costs). Run with ``make bench`` (or ``python bench/exi.py``). Target
(issue 3): CurrentDemandReq decode + encode ≤ 15 µs on the project machine.

The ``compiled`` table (issue 17) times the DIN and ISO-2 messages through the compiled twins of the
generated modules (``exi/native/din.py``, ``exi/native/iso2.py``: what the adapter's codec uses in a
compiled build) beside the pure generated modules, in the same run, with their ratio; target ≥ 6×.
The ISO-2 charging-loop messages are the public vectors of the designwerk-charger converter's tests.
The comparison with the ``iso15118`` package at the end has both in one table.

The ``session`` rows time what the EV session pays per charging-loop message: the neutral message
encoded and decoded by the message-model codec (the EXI rows above plus the neutral ⇄ generated
mapping) — DIN's CurrentDemandReq as the Evcc builds it, the real CurrentDemandRes and PreChargeReq
above, through ``v2g/codec.py`` (never memoised: issue 17) next to ISO 15118-20's DC_ChargeLoopReq
through ``v2g/codec20.py`` (not memoised), in both control modes.
"""

from __future__ import annotations

import statistics
import sys
import time
import timeit
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peer_exi import run_peer

from ccs2chademo import exi
from ccs2chademo.pcap import extract
from ccs2chademo.v2g import codec, codec20
from ccs2chademo.v2g.messages import EvMessage, Kind, Schema

BENCH = Path(__file__).resolve().parent

# (schema, label: the message name and a note, hex): DIN messages of the 2024-06 Polestar 2 session
# and ISO-2 ones of designwerk-charger/exi_converter's integration test (all in exi-vectors.jsonl);
# -20 DC charge loop requests of tests/exi/iso20_vectors.py
MESSAGES: list[tuple[str, str, str]] = [
    ("din", "CurrentDemandReq",
     "809a02004080c1014181c210d14012c080c02803050d6030080c298744003020d08c01118286101800"),
    ("din", "CurrentDemandRes", "809a02004080c1014181c210e00040800001828610181818008400c0"),
    ("din", "PreChargeReq", "809a02004080c1014181c211514012c0c142880c080c0000"),
    ("iso2", "CurrentDemandReq ISO-2",
     "8098020df6a63dcd82240f90d1001e01860021006101f4020414300f80003081900610280188120060"),
    ("iso2", "CurrentDemandRes ISO-2",
     "8098020df6a63dcd82240f90e00000002040c40e601030c0042220310360100618560101050e80700c554b3132334531323334000400"),
    ("iso2", "PreChargeReq ISO-2", "8098020df6a63dcd82240f9171001e018812006061800800"),
    ("iso20-dc", "DC_ChargeLoopReq scheduled",
     "8034042d0f061ebd94f24088ce2cfaa06280fe1e03a463f8710481fc21080a"),
    ("iso20-dc", "DC_ChargeLoopReq BPT dynamic",
     "8034042d0f061ebd94f24088fe2cfaa06201b0079001fc38c74090602808301e041882020c0c810000008007d0400598182003e8041060"
     "1408000004000c8106014041884800"),
]


def per_op_us(fn: object, number: int = 20000, repeat: int = 5) -> float:
    """Best of ``repeat`` runs, in µs per call."""
    timer = timeit.Timer(fn, timer=time.process_time)  # type: ignore[arg-type]
    return min(timer.repeat(number=number, repeat=repeat)) / number * 1e6


def rows() -> list[tuple[str, str, float, float]]:
    out = []
    for schema, name, hexstr in MESSAGES:
        data = bytes.fromhex(hexstr)
        msg = exi.decode(data, schema)
        assert exi.message_name(msg) == name.split()[0] and exi.encode(msg) == data
        dec = per_op_us(lambda d=data, s=schema: exi.decode(d, s))
        enc = per_op_us(lambda m=msg: exi.encode(m))
        out.append((schema, name, dec, enc))
    return out


def twin(schema: str) -> ModuleType | None:
    """The compiled twin of a schema's module, or None where the codec uses the pure module (a pure
    build, or a schema without a twin)."""
    if schema not in exi.NATIVE_SCHEMAS:
        return None
    module = exi.codec_module(schema)
    return None if module is exi.SCHEMAS[schema] else module


def twin_rows() -> list[tuple[str, float, float, float, float]]:
    """(message, pure decode µs, pure encode µs, twin decode µs, twin encode µs) for the messages of
    the schemas with a compiled twin."""
    out = []
    for schema, name, hexstr in MESSAGES:
        module = twin(schema)
        if module is None:
            continue
        pure, data = exi.SCHEMAS[schema], bytes.fromhex(hexstr)
        pure_doc, twin_doc = pure.decode_document(data), module.decode_document(data)
        assert pure.encode_document(pure_doc) == module.encode_document(twin_doc) == data
        out.append((name, per_op_us(lambda d=data, p=pure: p.decode_document(d)),
                    per_op_us(lambda m=pure_doc, p=pure: p.encode_document(m)),
                    per_op_us(lambda d=data, t=module: t.decode_document(d)),
                    per_op_us(lambda m=twin_doc, t=module: t.encode_document(m))))
    return out


def _loop_request(control_mode: str | None) -> EvMessage:
    """A charging-loop request as the Evcc builds it (400 V pack at 55 %, asking for 125 A)."""
    return EvMessage(Kind.CURRENT_DEMAND, session_id=bytes.fromhex("5a1e0c3d7b29e481"), soc=55, ev_ready=True,
                     target_voltage=410.0, target_current=125.0, max_voltage=411.0, max_current=200.0,
                     max_power=100_000.0, bulk_charging_complete=False, remaining_full_s=1200.0,
                     remaining_bulk_s=600.0, present_voltage=382.4, control_mode=control_mode)


def session_rows() -> list[tuple[str, str, float, float]]:
    """(schema, message, decode µs, encode µs) of the charging-loop request through the session codecs."""
    din = _loop_request(None)
    din_data = codec.encode_request(din, Schema.DIN)
    out = [("din", "CurrentDemandReq session", per_op_us(lambda: codec.decode_request(din_data, Schema.DIN)),
            per_op_us(lambda: codec.encode_request(din, Schema.DIN)))]
    # the charger's CurrentDemandRes and the car's PreChargeReq of the real session, as the neutral
    # messages they decode to and back
    res_data = bytes.fromhex(MESSAGES[1][2])
    res = codec.decode_response(res_data, Schema.DIN)
    out.append(("din", "CurrentDemandRes session", per_op_us(lambda: codec.decode_response(res_data, Schema.DIN)),
                per_op_us(lambda: codec.encode_response(res, Schema.DIN))))
    pre_data = bytes.fromhex(MESSAGES[2][2])
    pre = codec.decode_request(pre_data, Schema.DIN)
    out.append(("din", "PreChargeReq session", per_op_us(lambda: codec.decode_request(pre_data, Schema.DIN)),
                per_op_us(lambda: codec.encode_request(pre, Schema.DIN))))
    ptype = codec20.payload_type(Kind.CURRENT_DEMAND)
    for mode in ("scheduled", "dynamic"):
        msg = _loop_request(mode)
        data = codec20.encode_request(msg, 1_700_000_000)
        out.append(("iso20", f"DC_ChargeLoopReq session {mode[:5]}",
                    per_op_us(lambda d=data: codec20.decode_request(d, ptype)),
                    per_op_us(lambda m=msg: codec20.encode_request(m, 1_700_000_000))))
    return out


# --- ours vs the iso15118 package (EXIficient in a JVM, driven in .venv-peer by peer_exi.py) ----

#: The whole real session timed message by message on both sides.
SESSION = "2024-06-18_Griffigroen_pyPLC_polestar2_discharging_with_additional_prechargeCircuit.pcapng"
PEER_REPEAT = 5  # the peer takes tens of ms per call: a few calls per single message, one per session message
PEER_WARMUP = 3  # untimed calls first: the JVM's JIT keeps speeding the peer up over its first calls


def wall_op_us(fn: object, number: int) -> float:
    """Best of 5 timeit runs in wall-clock µs per call: the clock and statistic of the peer side."""
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6  # type: ignore[arg-type]


def session_messages() -> list[tuple[str, bytes]]:
    capture = BENCH.parent.parent / "shared" / "data" / "captures" / SESSION
    return [(m.schema or "din", m.payload) for m in extract(capture).messages]


def ours_session_us(messages: list[tuple[str, bytes]]) -> tuple[float, float]:
    """Mean decode and encode µs per message over the whole session."""
    docs = [exi.decode(data, schema) for schema, data in messages]
    assert [exi.encode(d) for d in docs] == [data for _, data in messages]
    dec = wall_op_us(lambda: [exi.decode(data, schema) for schema, data in messages], 50)
    enc = wall_op_us(lambda: [exi.encode(d) for d in docs], 50)
    return dec / len(messages), enc / len(messages)


def comparison() -> None:
    singles = [(schema, name, bytes.fromhex(h)) for schema, name, h in MESSAGES]
    session = session_messages()
    ours: dict[str, tuple[float, float]] = {}
    compiled: dict[str, tuple[float, float]] = {}  # the compiled twin, where there is one
    for schema, name, data in singles:
        msg = exi.decode(data, schema)
        ours[name] = (wall_op_us(lambda d=data, s=schema: exi.decode(d, s), 20000),
                      wall_op_us(lambda m=msg: exi.encode(m), 20000))
        module = twin(schema)
        if module is not None:
            doc = module.decode_document(data)
            compiled[name] = (wall_op_us(lambda d=data, t=module: t.decode_document(d), 20000),
                              wall_op_us(lambda m=doc, t=module: t.encode_document(m), 20000))
    session_label = f"session ({len(session)} msgs, per msg)"
    ours[session_label] = ours_session_us(session)
    items = [{"name": name, "schema": schema, "hex": data.hex(), "repeat": PEER_REPEAT, "warmup": PEER_WARMUP}
             for schema, name, data in singles]
    items += [{"name": f"s{i}", "schema": schema, "hex": data.hex(), "repeat": 1, "warmup": 0, "models": False}
              for i, (schema, data) in enumerate(session)]
    print("\nours vs iso15118 (EXIficient over py4j): wall-clock µs per message, best of runs; "
          f"session = {SESSION[:40]}…")
    try:
        header, results = run_peer(items)
    except RuntimeError as exc:
        print(f"peer not measured: {exc}")
        return
    by_name = {r["name"]: r for r in results}
    peer: dict[str, tuple[float, float, str]] = {}
    for _, name, _ in singles:
        r = by_name.get(name, {})
        if "error" in r or not r:
            print(f"peer failed on {name}: {r.get('error', 'no answer')}")
            continue
        note = "" if r["roundtrip"] else "re-encodes differently"
        if r.get("model_decode_us") is not None:
            note = (note + "; " if note else "") + (f"EXI class (pydantic): {r['model_decode_us']:.0f} / "
                                                   f"{r['model_encode_us']:.0f} µs")
        elif r.get("model_error"):
            note = (note + "; " if note else "") + f"EXI class refuses it: {r['model_error'][:140]}"
        peer[name] = (r["decode_us"], r["encode_us"], note)
    timed = [r for r in results if r["name"].startswith("s") and "error" not in r]
    failed = len(session) - len(timed)
    if timed:
        peer[session_label] = (statistics.fmean(r["decode_us"] for r in timed),
                               statistics.fmean(r["encode_us"] for r in timed),
                               f"{sum(not r['roundtrip'] for r in timed)} re-encode differently"
                               + (f", {failed} failed" if failed else ""))
    print(f"peer: iso15118 codec {header['version']}, JVM start {header['startup_s']:.2f} s (not counted)")
    print(f"{'message':32} {'ours dec':>9} {'ours enc':>9} {'peer dec':>10} {'peer enc':>10} {'ratio':>8} "
          f"{'compiled':>9} {'ratio':>8}  note")
    for name, (odec, oenc) in ours.items():
        cdec, cenc = compiled.get(name, (0.0, 0.0))
        shown = f"{cdec + cenc:9.2f}" if name in compiled else f"{'—':>9}"
        if name not in peer:
            print(f"{name:32} {odec:9.2f} {oenc:9.2f} {'—':>10} {'—':>10} {'—':>8} {shown} {'—':>8}")
            continue
        pdec, penc, note = peer[name]
        ratio = (pdec + penc) / (odec + oenc)
        cratio = f"{(pdec + penc) / (cdec + cenc):7.0f}×" if name in compiled else f"{'—':>8}"
        print(f"{name:32} {odec:9.2f} {oenc:9.2f} {pdec:10.0f} {penc:10.0f} {ratio:7.0f}× {shown} {cratio}  {note}")
    print("ratio = peer (decode + encode) / ours (decode + encode), wall clock on both sides (the peer works in "
          "its JVM process); compiled = decode + encode through the compiled twin (exi/native/) and its "
          "ratio to the peer; peer figures are the codec proper "
          f"(JSON in/out, after {PEER_WARMUP} untimed calls per single message; the session runs after them)")
    print("session row: ours = best of 5 runs over all its messages, peer = mean of one call per message "
          "(best of 5 would take minutes)")


def main() -> None:
    print(f"{'schema':8} {'message':34} {'decode µs':>10} {'encode µs':>10} {'sum µs':>8}")
    for schema, name, dec, enc in (*rows(), *session_rows()):
        print(f"{schema:8} {name:34} {dec:10.2f} {enc:10.2f} {dec + enc:8.2f}")
    compiled = twin_rows()
    if not compiled:
        print("\ncompiled twin: not built (pure installation); the codec uses the pure modules")
    else:
        print("\ncompiled twins (exi/native/) vs the pure generated modules, decode + encode, CPU µs, "
              "same run (issue 17: ≥ 6×)")
        print(f"{'message':24} {'pure dec':>9} {'pure enc':>9} {'pure sum':>9} {'twin dec':>9} {'twin enc':>9} "
              f"{'twin sum':>9} {'ratio':>7}")
        for name, pdec, penc, tdec, tenc in compiled:
            print(f"{name:24} {pdec:9.2f} {penc:9.2f} {pdec + penc:9.2f} {tdec:9.2f} {tenc:9.2f} {tdec + tenc:9.2f} "
                  f"{(pdec + penc) / (tdec + tenc):6.1f}×")
    comparison()


if __name__ == "__main__":
    main()
