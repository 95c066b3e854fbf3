"""TLS on the CCS side in the simulated world (virtual time): a whole ISO 15118-2 session over TLS,
the SDP negotiation, the hostile chargers (wrong root, expired certificate, handshake stall), the
logged escape hatch and the key log file.  The PKI is generated per test session (sim/pki.py).
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from ccs2chademo.adapter.config import AdapterConfig, build_config
from ccs2chademo.cli import cli
from ccs2chademo.homeplug.connection import ConnectionState
from ccs2chademo.pcap.extract import iter_records
from ccs2chademo.pcap.records import RawRecord, V2gRecord
from ccs2chademo.runtime import logkinds
from ccs2chademo.runtime.sessionlog import capture
from ccs2chademo.sim.hostile import CHARGERS
from ccs2chademo.sim.pki import SimPki, make_test_pki
from ccs2chademo.sim.tls_charger import ChargerTls, trusting_config
from ccs2chademo.sim.world import Scenario, Summary, World, summarize
from ccs2chademo.v2g import codec, v2gtp
from ccs2chademo.v2g.discovery import TlsOffer
from ccs2chademo.v2g.evcc import EvccConfig
from ccs2chademo.v2g.messages import EvMessage, Kind
from ccs2chademo.v2g.sdp import Security

#: The SDP request of the Tesla Model X Plaid (2025-07-22 capture in ../shared/data/captures, first
#: SDP datagram): it asks for TLS — the request our ``prefer``/``require`` sends, byte for byte.
MODEL_X_SDP_REQUEST = bytes.fromhex("01fe9000000000020000")
#: … and the request every reference PEV (and our ``off``) sends (docs/spec/ccs-ev.md §6).
NO_TLS_SDP_REQUEST = bytes.fromhex("01fe9000000000021000")
#: A V2GTP header of an EXI message (version 01 FE, payload type 0x8001).
V2GTP_EXI = bytes.fromhex("01fe8001")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimPki:
    return make_test_pki(tmp_path_factory.mktemp("pki"))


Run = tuple[World, Summary, list[dict[str, Any]], list[bytes]]


def _run(config: AdapterConfig, tls: ChargerTls | None, soc: float = 78.0) -> Run:
    """One ISO-2 session; the records and every Ethernet frame the adapter's CCS side sent or got."""
    frames: list[bytes] = []
    scenario = Scenario(car="leaf-ze1-40", charger="alpitronic", soc_start=soc, soc_stop=int(soc) + 2,
                        config=config, protocol="iso2", tls=tls, limit_s=900.0)
    stream = io.StringIO()
    with capture(stream=stream):
        world = World(scenario, pcap=lambda t, frame, comment: frames.append(frame))
        world.run()
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert not [r for r in records if r["kind"] == "transition-refused"]
    validator = jsonschema.Draft202012Validator(logkinds.json_schema())
    for record in records:
        if record["kind"].startswith("tls") or record.get("part") == "tls":
            validator.validate(record)  # every TLS record is registered (docs/session-log.md)
    return world, summarize(world, 0.0), records, frames


def _kind(records: list[dict[str, Any]], kind: str, source: str = "adapter") -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == kind and r["source"] == source]


def _connection_states(records: list[dict[str, Any]]) -> list[str]:
    """The connection supervisor's states (homeplug/connection.py) in the adapter's log."""
    names = {state.value for state in ConnectionState}
    return [r["state"] for r in _kind(records, "state") if r.get("part") == "ccs" and r["state"] in names]


def _sdp_requests(frames: list[bytes]) -> list[bytes]:
    """The V2GTP SDP requests in the captured Ethernet/IPv6/UDP frames (payload type 0x9000)."""
    return [frame[62:] for frame in frames if len(frame) == 72 and frame[62:66] == bytes.fromhex("01fe9000")]


def _assert_safe_without_power(summary: Summary, world: World) -> None:
    assert summary.result != "completed" and not summary.invariant_violations, summary
    assert summary.energy_kwh == 0.0
    assert not world.hw.contactor.closed and world.bridge.ccs_status.cp == "B"
    assert "PreCharge" not in summary.ccs_states  # no power before the charger was trusted


def test_a_whole_iso2_session_runs_over_tls13(pki: SimPki) -> None:
    config = trusting_config(build_config({}), pki)
    _world, summary, records, frames = _run(config, ChargerTls(pki))
    assert summary.result == "completed" and summary.stop_reason == "ccs: battery-full:CurrentDemand", summary
    assert not summary.invariant_violations and summary.energy_kwh > 0.1
    assert "CurrentDemand" in summary.ccs_states
    assert _connection_states(records)[-4:] == ["connecting", "tls", "connected", "finished"]
    [established] = _kind(records, "tls-established")
    assert established["version"] == "TLSv1.3" and established["cipher"] == "TLS_AES_256_GCM_SHA384"
    assert established["verified"] is True and established["part"] == "tls"
    assert _kind(records, "tls-established", "secc")  # the charger's side of the same handshake
    assert _sdp_requests(frames) and set(_sdp_requests(frames)) == {MODEL_X_SDP_REQUEST}
    # the V2G messages are on the wire only encrypted: no V2GTP header in any TCP segment
    tcp = [frame for frame in frames if len(frame) > 74 and frame[20] == 6]  # IPv6 next header TCP
    assert tcp and not any(V2GTP_EXI in frame for frame in tcp)
    assert any(frame[74] == 0x16 for frame in tcp)  # a TLS handshake record


def test_the_plain_session_shows_its_v2g_messages(pki: SimPki) -> None:
    """The counterpart of the check above (so it can fail): without TLS the headers are there."""
    _world, summary, records, frames = _run(build_config({}), None)
    assert summary.result == "completed"
    assert set(_sdp_requests(frames)) == {NO_TLS_SDP_REQUEST}
    assert any(V2GTP_EXI in frame for frame in frames)
    assert not [r for r in records if r["kind"].startswith("tls") or r.get("part") == "tls"]


def test_an_iso2_charger_with_tls12_gets_the_iso2_suite(pki: SimPki) -> None:
    _world, summary, records, _ = _run(trusting_config(build_config({}), pki), ChargerTls(pki, max_version="1.2"))
    assert summary.result == "completed", summary
    [established] = _kind(records, "tls-established")
    assert (established["version"], established["cipher"]) == ("TLSv1.2", "ECDHE-ECDSA-AES128-SHA256")


@pytest.mark.parametrize(("variant", "reason", "detail"), [
    ("wrong-root", "tls-bad-certificate", "unable to get local issuer certificate"),
    ("expired", "tls-bad-certificate", "certificate has expired"),
    ("stall", "tls-timeout", "no finished handshake within 5 s"),
])
def test_a_hostile_charger_ends_the_session_safe(pki: SimPki, variant: str, reason: str, detail: str) -> None:
    world, summary, records, _ = _run(trusting_config(build_config({}), pki), ChargerTls(pki, variant))
    _assert_safe_without_power(summary, world)
    assert summary.stop_reason == f"ccs: {reason}:Idle", summary
    failed = _kind(records, "tls-failed")
    assert failed and {r["detail"] for r in failed} == {detail}
    shutdowns = _kind(records, "safe-shutdown")
    assert shutdowns and all(r["reason"] == f"{reason}:Idle" for r in shutdowns)
    assert not _kind(records, "tls-established")
    if variant == "stall":
        assert all(r["after_ms"] == 5000.0 for r in failed)  # the handshake bound, in virtual time


def test_prefer_falls_back_to_plain_tcp_when_the_charger_answers_no_tls(pki: SimPki) -> None:
    """The Model X case (docs/spec/ccs-ev.md §6): TLS asked, 0x10 answered, plain TCP."""
    config = build_config({"ccs": {"tls": "prefer", "v2g-root-certs": [str(pki.root)]}})
    _world, summary, records, frames = _run(config, None)
    assert summary.result == "completed", summary
    assert set(_sdp_requests(frames)) == {MODEL_X_SDP_REQUEST}
    assert [r["security"] for r in _kind(records, "tls-declined")] == [0x10]
    assert not _kind(records, "tls-established")


def test_require_ends_the_session_when_the_charger_answers_no_tls(pki: SimPki) -> None:
    config = build_config({"ccs": {"tls": "require", "v2g-root-certs": [str(pki.root)]}})
    world, summary, records, _frames = _run(config, None)
    _assert_safe_without_power(summary, world)
    assert summary.stop_reason == "ccs: tls-not-offered:Idle", summary
    assert {r["cause"] for r in _kind(records, "tls-failed")} == {"not-offered"}
    connection = _connection_states(records)
    assert "connecting" not in connection and connection[-2:] == ["sdp", "finished"]  # no TCP at all


def test_a_tls_only_charger_serves_prefer(pki: SimPki) -> None:
    config = build_config({"ccs": {"tls": "prefer", "v2g-root-certs": [str(pki.root)]}})
    _world, summary, records, _ = _run(config, ChargerTls(pki, offer=TlsOffer.ONLY))
    assert summary.result == "completed" and _kind(records, "tls-established"), summary


def test_accept_unverified_charges_at_an_untrusted_charger_and_says_so(pki: SimPki,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    config = build_config({"ccs": {"tls": "require", "tls-accept-unverified": True}})
    with caplog.at_level(logging.WARNING, logger="ccs2chademo"):
        _world, summary, records, _ = _run(config, ChargerTls(pki, "wrong-root"))
    assert summary.result == "completed", summary
    [established] = _kind(records, "tls-established")
    assert established["verified"] is False
    assert [r["peer_sha256"] for r in _kind(records, "tls-unverified")] == [established["peer_sha256"]]
    assert any("NOT checked" in m for m in caplog.messages)  # at start (the policy)
    assert any("NOT verified" in m for m in caplog.messages)  # at the session


def test_the_key_log_file_is_written_only_when_configured(pki: SimPki, tmp_path: Path) -> None:
    keylog = tmp_path / "keys" / "tls-keys.log"
    keylog.parent.mkdir()
    _run(trusting_config(build_config({}), pki, keylog_file=keylog), ChargerTls(pki), soc=79.0)
    labels = {line.split()[0] for line in keylog.read_text().splitlines() if line and not line.startswith("#")}
    # TLS 1.3 secrets in the NSS key log format Wireshark reads
    assert {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
            "SERVER_TRAFFIC_SECRET_0"} <= labels
    keylog.unlink()
    _run(trusting_config(build_config({}), pki), ChargerTls(pki), soc=79.0)
    assert list(keylog.parent.iterdir()) == []


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``simulate --tls ok --out DIR``: one whole session, its capture, key log and PKI."""
    out = tmp_path_factory.mktemp("simulate") / "out"
    done = CliRunner().invoke(cli, ["simulate", "--json", "--soc-start", "79", "--soc-stop", "80", "--protocol",
                                    "iso2", "--tls", "ok", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output.splitlines()[-1])["result"] == "completed"
    assert (out / "pki" / "v2g-root.pem").exists()
    return out


@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark (make debian-tshark)")
def test_wireshark_decrypts_our_capture_with_the_key_log(simulated: Path) -> None:
    """DIR/ccs.pcapng carries only TLS records on TCP, and tshark with DIR/tls-keys.log decrypts
    them into the V2GTP messages the Evcc sent, byte for byte."""
    port = CHARGERS["alpitronic"].port
    tshark = subprocess.run(["tshark", "-n", "-r", str(simulated / "ccs.pcapng"), "-d", f"tcp.port=={port},tls",
                             "-o", f"tls.keylog_file:{simulated / 'tls-keys.log'}", "-Y", "tls.app_data",
                             "-T", "fields", "-e", "data.data"], capture_output=True, text=True, timeout=120,
                            check=False)
    assert tshark.returncode == 0, tshark.stderr
    decrypted = [bytes.fromhex(line) for line in tshark.stdout.split() if line]
    assert len(decrypted) > 50 and all(d.startswith(V2GTP_EXI) for d in decrypted)
    # the first one is our SupportedAppProtocolReq (DIN and ISO-2 offered), exactly as encoded
    sap = codec.encode_request(EvMessage(Kind.SUPPORTED_APP_PROTOCOL, protocols=EvccConfig().protocols), None)
    assert decrypted[0] == v2gtp.encode(sap)


def test_our_pcap_reader_names_a_tls_stream(simulated: Path, caplog: pytest.LogCaptureFixture) -> None:
    records = list(iter_records(simulated / "ccs.pcapng"))
    assert not [r for r in records if isinstance(r, V2gRecord)]
    assert [r for r in records if isinstance(r, RawRecord) and r.kind == "sdp"]
    assert sum("a TLS stream, not decoded here" in m for m in caplog.messages) == 2  # both directions


def test_a_charger_that_announces_tls_and_speaks_plain_tcp_ends_safe(pki: SimPki) -> None:
    """SDP says 0x00, the TCP port serves plain V2GTP: our ClientHello is garbage to it, it
    closes, the handshake never finishes (``tls-closed``)."""
    stream = io.StringIO()
    scenario = Scenario(car="leaf-ze1-40", charger="alpitronic", soc_start=78.0, soc_stop=80,
                        config=trusting_config(build_config({}), pki), protocol="iso2", limit_s=900.0)
    with capture(stream=stream):
        world = World(scenario)
        world.charger.sdp.response = world.charger.sdp.responses[Security.TLS]  # the lie
        world.run()
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    summary = summarize(world, 0.0)
    _assert_safe_without_power(summary, world)
    assert summary.stop_reason == "ccs: tls-closed:Idle", summary
    assert {r["cause"] for r in _kind(records, "tls-failed")} == {"closed"}
    assert _kind(records, "bad-frame", "secc")  # the charger's V2GTP parser choked on the ClientHello
