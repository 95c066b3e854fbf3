"""ISO 15118-20 against an independent codec: the iso15118 package's (EXIficient in a JVM).

For random valid messages of every message of the common messages, DC (BPT included) and AC
sets, and for the session vectors: the peer's encoding equals ours byte for byte, the peer decodes
ours to the same JSON, and we decode the peer's to the same object. One peer process serves the
whole pytest session (tests/exi/peer_codec.py; under xdist, each worker that runs some of these
tests starts its own: xdist's loadgroup cannot group tests under pytest 9, which ignores the node
ids it rewrites), and every hypothesis example goes to it as one batch. ISO20_PEER_EXAMPLES sets the number of examples
(batches) per message set: the default 1 (a fresh random message of every root per run) keeps the
JVM's share to about 10 s of CPU, most of it its start and first use of each grammar;
``ISO20_PEER_EXAMPLES=50`` is the deeper run.

Where the peer is broken the tests say so (strict xfail) instead of bending our codec: its JAXB
layer cannot encode the binary values of xmldsig KeyInfo (X509Data, PGPData, SPKIData), nor
encode or decode any WPT or ACDP message. Needs .venv-peer
(``make .venv-peer``) and a Java runtime; skipped otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ccs2chademo import exi
from ccs2chademo.exi import iso20_cm, iso20_dc, xmldsig
from ccs2chademo.v2g import codec20
from ccs2chademo.v2g.messages import EvMessage, EvseMessage, Kind

from .iso20_vectors import FRAGMENTS, VECTORS
from .peer_codec import PEER_PYTHON, Peer
from .peer_json import NAMESPACES, agrees, document, to_peer
from .strategies import instance, roots

EXAMPLES = int(os.environ.get("ISO20_PEER_EXAMPLES", "1"))
ORACLE_SCHEMAS = ["iso20-cm", "iso20-dc", "iso20-ac"]
ROOTS = {schema: roots(schema) for schema in ORACLE_SCHEMAS}


@pytest.fixture(scope="session")
def peer() -> Iterator[Peer]:
    if not PEER_PYTHON.exists():
        pytest.skip("needs .venv-peer with iso15118 0.31 (make .venv-peer)")
    if shutil.which("java") is None:
        pytest.skip("needs a Java runtime for the iso15118 codec")
    process = Peer()
    yield process
    process.close()


def _compare(peer: Peer, messages: list[Any]) -> list[str]:
    """Both ways for each message: what differs, one line per message (empty: all agree)."""
    docs = [document(m) for m in messages]
    encoded = peer.batch([{"op": "encode", "ns": NAMESPACES[m.SCHEMA], "json": json.dumps(d)}
                          for m, d in zip(messages, docs, strict=True)])
    ours = [exi.encode(m) for m in messages]
    decoded = peer.batch([{"op": "decode", "ns": NAMESPACES[m.SCHEMA], "hex": data.hex()}
                          for m, data in zip(messages, ours, strict=True)])
    problems = []
    for msg, doc, data, theirs, back in zip(messages, docs, ours, encoded, decoded, strict=True):
        name = exi.message_name(msg)
        if "error" in theirs:
            problems.append(f"{name}: the peer does not encode {json.dumps(doc)}: {theirs['error']}")
        elif theirs["hex"] != data.hex():
            problems.append(f"{name}: ours {data.hex()} != peer {theirs['hex']} for {json.dumps(doc)}")
        elif exi.decode(bytes.fromhex(theirs["hex"]), msg.SCHEMA) != msg:
            problems.append(f"{name}: we decode the peer's {theirs['hex']} differently")
        if "error" in back:
            problems.append(f"{name}: the peer does not decode ours {data.hex()}: {back['error']}")
        elif not agrees(json.loads(back["json"]), doc):
            problems.append(f"{name}: the peer decodes {data.hex()} to {back['json']}, not {json.dumps(doc)}")
    return problems


def _carriable(msg: Any) -> Any:
    """Drop from a header signature's KeyInfo what the peer cannot encode (the binary values in
    X509Data, PGPData and SPKIData, test_peer_cannot_encode_key_info_binaries)."""
    signature = getattr(getattr(msg, "header", None), "signature", None)
    key_info = None if signature is None else signature.key_info
    if key_info is not None:
        for item in key_info.x509_data:
            item.x509_ski, item.x509_certificate, item.x509_crl = [], [], []
        key_info.x509_data = [x for x in key_info.x509_data if x.x509_issuer_serial or x.x509_subject_name]
        key_info.pgp_data, key_info.spki_data = [], []
        if not any((key_info.key_name, key_info.key_value, key_info.retrieval_method, key_info.x509_data,
                    key_info.mgmt_data)):
            signature.key_info = None  # KeyInfo needs one child
    return msg


def test_session_vectors_are_the_peers(peer: Peer) -> None:
    assert _compare(peer, [msg for _, msg, _ in VECTORS]) == []
    fragments = peer.batch([{"op": "encode", "ns": NAMESPACES["iso20-cm"],
                             "json": json.dumps({name: to_peer(obj, "iso20-cm")})} for name, obj, _ in FRAGMENTS])
    assert [f.get("hex") for f in fragments] == [hexa for _, _, hexa in FRAGMENTS]


@pytest.mark.parametrize("schema", ORACLE_SCHEMAS)
@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(data=st.data())
def test_random_messages_agree_with_the_peer(peer: Peer, schema: str, data: st.DataObject) -> None:
    """One random valid message of every root of the set per example, all in one batch (no
    shrinking: each try costs peer calls; the failure lists every message that differs)."""
    messages = [_carriable(data.draw(instance(schema, root, xml=True), label=root))
                for root in ROOTS[schema]]
    problems = _compare(peer, messages)
    assert not problems, "\n".join(problems)


def test_empty_values_differ_by_design(peer: Peer) -> None:
    """EXIficient writes an empty string as a second-level EE (docs/exi.md); we write the canonical
    empty CH. The streams differ, and each codec decodes the other's to the same message."""
    msg = iso20_cm.SessionSetupReq(header=iso20_cm.MessageHeader(session_id=bytes(8), time_stamp=0), evccid="")
    theirs = peer.batch([{"op": "encode", "ns": NAMESPACES["iso20-cm"], "json": json.dumps(document(msg))}])[0]
    ours = exi.encode(msg)
    assert bytes.fromhex(theirs["hex"]) != ours
    assert exi.decode(bytes.fromhex(theirs["hex"]), "iso20-cm") == msg
    back = peer.batch([{"op": "decode", "ns": NAMESPACES["iso20-cm"], "hex": ours.hex()}])[0]
    assert json.loads(back["json"]) == document(msg)


@pytest.mark.xfail(strict=True, reason="iso15118 0.31's JAXB layer fails on the binary values in xmldsig "
                                       "X509Data, PGPData and SPKIData (NoClassDefFoundError: "
                                       "javax/mail/internet/MimeMultipart)")
def test_peer_cannot_encode_key_info_binaries(peer: Peer) -> None:
    """A contract certificate in KeyInfo, as a PnC signature may carry it."""
    header = iso20_cm.MessageHeader(session_id=bytes(8), time_stamp=0, signature=xmldsig.Signature(
        signed_info=xmldsig.SignedInfo(
            canonicalization_method=xmldsig.CanonicalizationMethod(algorithm="http://www.w3.org/TR/canonical-exi/"),
            signature_method=xmldsig.SignatureMethod(
                algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"),
            reference=[xmldsig.Reference(uri="#id1", digest_method=xmldsig.DigestMethod(
                algorithm="http://www.w3.org/2001/04/xmlenc#sha512"), digest_value=bytes(64))]),
        signature_value=xmldsig.SignatureValue(value=bytes(132)),
        key_info=xmldsig.KeyInfo(x509_data=[xmldsig.X509Data(x509_certificate=[bytes(range(200))])])))
    assert _compare(peer, [iso20_dc.DC_CableCheckReq(header=header)]) == []


@pytest.mark.parametrize("schema", ["iso20-wpt", "iso20-acdp"])
@pytest.mark.xfail(strict=True, reason="iso15118 0.31 encodes and decodes no WPT or ACDP message "
                                       "(javax.xml.bind.UnmarshalException for every one)")
@settings(max_examples=1, deadline=None, phases=[Phase.generate], suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_peer_handles_wpt_and_acdp(peer: Peer, schema: str, data: st.DataObject) -> None:
    messages = [data.draw(instance(schema, root, xml=True), label=root) for root in roots(schema)]
    assert _compare(peer, messages) == []


def test_the_dc_bpt_session_messages_agree_with_the_peer(peer: Peer) -> None:
    """What our DC_BPT session sends and the bidi-wallbox answers (v2g/codec20.py from the neutral
    model, both control modes): the peer encodes them to the same bytes and decodes ours alike."""
    sid, bpt = bytes(8), {"max_discharge_current": 40.0, "max_discharge_power": 15_600.0}
    requests = [EvMessage(Kind.CHARGE_PARAMETER_DISCOVERY, session_id=sid, max_voltage=411.0, max_current=125.0,
                          max_power=100_000.0, full_soc=100, **bpt),
                EvMessage(Kind.SCHEDULE_EXCHANGE, session_id=sid, energy_request=100_000.0, full_soc=100,
                          control_mode="dynamic", min_soc=10, v2x_energy_to_floor=-12_800.0),
                EvMessage(Kind.POWER_DELIVERY, session_id=sid, power_on=True, discharge_channel=True),
                *(EvMessage(Kind.CURRENT_DEMAND, session_id=sid, soc=42, target_voltage=410.0,
                            target_current=-28.2 if mode == "scheduled" else 80.0, max_voltage=411.0,
                            max_current=125.0, max_power=100_000.0, present_voltage=390.0, control_mode=mode,
                            min_soc=10, v2x_energy_to_floor=-12_800.0, **bpt) for mode in ("scheduled", "dynamic"))]
    responses = [EvseMessage(Kind.SERVICE_DETAIL, session_id=sid, service_id=6,
                             parameter_sets=((1, "scheduled"), (2, "dynamic"))),
                 EvseMessage(Kind.SCHEDULE_EXCHANGE, session_id=sid, processing="Finished", control_mode="scheduled",
                             max_power=11_000.0, schedule_discharge_power=11_000.0, sa_schedule_tuple_id=1),
                 *(EvseMessage(Kind.CURRENT_DEMAND, session_id=sid, present_voltage=389.0, present_current=-28.0,
                               max_voltage=500.0, max_current=40.0, max_power=11_000.0, min_voltage=150.0,
                               control_mode=mode, max_discharge_current=40.0, max_discharge_power=11_000.0)
                   for mode in ("scheduled", "dynamic"))]
    encoded = [(codec20.encode_request(m, 1_700_000_000), codec20.payload_type(m.kind)) for m in requests] + [
        (codec20.encode_response(m, 1_700_000_000), codec20.payload_type(m.kind)) for m in responses]
    messages = [exi.decode(data, "iso20-dc" if ptype == 0x8004 else "iso20-cm") for data, ptype in encoded]
    assert _compare(peer, messages) == []
