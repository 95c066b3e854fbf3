"""The sans-I/O TLS layer (v2g/tls.py): two channels wired back to back with no socket, the failure
classification, the composite around the Evcc (direct mode) and the Secc, and the SDP answer."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest

from ccs2chademo.runtime.events import DataReceived, FrameReceived, LinkUp, SendData, SendFrame
from ccs2chademo.sim.ev_session import build_session
from ccs2chademo.sim.pki import SimPki, make_test_pki
from ccs2chademo.sim.tls_charger import ChargerTls
from ccs2chademo.v2g import v2gtp
from ccs2chademo.v2g.discovery import SdpServer, TlsOffer
from ccs2chademo.v2g.messages import Schema
from ccs2chademo.v2g.sdp import SdpRequest, Security, decode_response
from ccs2chademo.v2g.tls import (
    TLS_STOP_CAUSES,
    TlsChannel,
    TlsFailure,
    TlsLink,
    TlsMode,
    TlsPolicy,
    client_context,
    link_down_reason,
    server_context,
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimPki:
    return make_test_pki(tmp_path_factory.mktemp("pki"))


def _pair(pki: SimPki, variant: str = "ok", client: ssl.SSLContext | None = None,
          server: ssl.SSLContext | None = None) -> tuple[TlsChannel, TlsChannel]:
    chain, key = pki.chain(variant)
    c = TlsChannel(client or client_context([pki.root]), server_side=False, name="ev")
    s = TlsChannel(server or server_context(chain, key), server_side=True, name="evse")
    s.start(0.0)
    c.start(0.0)
    return c, s


def _wire(a: TlsChannel, b: TlsChannel, now: float = 0.01, rounds: int = 6) -> dict[str, bytes]:
    """Carry ciphertext both ways until quiet; the plaintext each side received."""
    got = {a.name: b"", b.name: b""}
    for _ in range(rounds):
        moved = False
        for src, dst in ((a, b), (b, a)):
            for action in src.actions():
                if isinstance(action, SendData):
                    got[dst.name] += dst.feed(action.data, now)
                    moved = True
        if not moved:
            break
    return got


def test_a_handshake_then_data_both_ways(pki: SimPki) -> None:
    c, s = _pair(pki)
    _wire(c, s)
    assert c.established and s.established
    assert c.info is not None and (c.info.version, c.info.verified) == ("TLSv1.3", True)
    c.send(v2gtp.encode(b"\x80\x00"))
    s.send(b"answer")
    assert _wire(c, s) == {"evse": v2gtp.encode(b"\x80\x00"), "ev": b"answer"}
    c.close()
    _wire(c, s)
    assert c.state == "closed" and s.state == "closed"  # the server read our close_notify


def test_a_tampered_record_is_a_protocol_error(pki: SimPki) -> None:
    c, s = _pair(pki)
    _wire(c, s)
    c.send(b"CurrentDemandReq")
    [record] = [a for a in c.actions() if isinstance(a, SendData)]
    spoiled = record.data[:-1] + bytes([record.data[-1] ^ 0x01])
    assert s.feed(spoiled, 1.0) == b""
    assert s.failure is not None and s.failure[0] is TlsFailure.PROTOCOL_ERROR


def test_no_common_version_is_a_handshake_failure_and_an_alert(pki: SimPki) -> None:
    only13 = client_context([pki.root])
    only13.minimum_version = ssl.TLSVersion.TLSv1_3
    chain, key = pki.chain()
    c, s = _pair(pki, client=only13, server=server_context(chain, key, ssl.TLSVersion.TLSv1_2))
    _wire(c, s)
    assert s.failure is not None and s.failure[0] is TlsFailure.HANDSHAKE_FAILURE, s.failure
    assert c.failure is not None and c.failure[0] is TlsFailure.ALERT, c.failure
    assert "protocol_version" in c.failure[1]


def test_the_handshake_bound_and_a_lost_link(pki: SimPki) -> None:
    c, s = _pair(pki)
    assert c.get_timer() == 5.0
    c.handle_timer(5.0)
    assert c.failure == (TlsFailure.TIMEOUT, "no finished handshake within 5 s")
    s.lost("reset", 0.2)
    assert s.failure is not None and s.failure[0] is TlsFailure.CLOSED
    assert link_down_reason(s.failure).split(":")[0] in TLS_STOP_CAUSES


def test_a_policy_other_than_off_needs_a_context() -> None:
    with pytest.raises(ValueError, match="needs a client context"):
        TlsPolicy(TlsMode.REQUIRE)
    assert TlsPolicy().security == Security.NONE
    assert TlsPolicy(TlsMode.PREFER, client_context(accept_unverified=True)).security == Security.TLS


@pytest.mark.parametrize(("offer", "asked", "answered"), [
    (TlsOffer.NONE, Security.TLS, Security.NONE),
    (TlsOffer.ASKED, Security.TLS, Security.TLS),
    (TlsOffer.ASKED, Security.NONE, Security.NONE),
    (TlsOffer.ONLY, Security.NONE, Security.TLS),
])
def test_the_sdp_answer_carries_the_chargers_security(offer: TlsOffer, asked: int, answered: int) -> None:
    import ipaddress

    server = SdpServer(ipaddress.IPv6Address("fe80::1"), 15118, tls=offer)
    server.receive(FrameReceived("sdp", SdpRequest(asked).encode(), ("fe80::2", 5000)), 0.0)
    [reply] = [a for a in server.actions() if isinstance(a, SendFrame)]
    assert decode_response(reply.frame).security == answered


def test_a_plain_charger_link_serves_a_car_that_did_not_ask_for_tls(pki: SimPki) -> None:
    """A charger offering TLS to those who ask (``plain``) takes a first byte that is no TLS
    record as plain TCP: the car decided from the SDP answer."""
    from ccs2chademo.runtime.machine import MachineBase

    class Inner(MachineBase):
        def __init__(self) -> None:
            super().__init__("secc", "x")
            self.events: list[object] = []

        def receive(self, event: object, now: float) -> None:  # type: ignore[override]
            self.events.append(event)

        def get_timer(self) -> float | None:
            return None

        def handle_timer(self, now: float) -> None:
            pass

    inner = Inner()
    chain, key = pki.chain()
    link = TlsLink(inner, server_context(chain, key), server_side=True, plain=True)
    link.receive(LinkUp("tcp", "ev"), 0.0)
    assert inner.events == [] and link.get_timer() == 5.0
    hello = v2gtp.encode(b"\x80\x00")
    link.receive(DataReceived("tcp", hello), 0.1)
    assert inner.events == [LinkUp("tcp", "ev"), DataReceived("tcp", hello)]
    assert link.channel is None and link.get_timer() is None


@pytest.mark.parametrize(("variant", "reason"), [
    ("ok", None), ("wrong-root", "tls-bad-certificate:Connecting"), ("stall", "connect-timeout:Connecting")])
def test_the_evcc_in_direct_mode_behind_a_tls_link(pki: SimPki, variant: str, reason: str | None) -> None:
    """``ccs-sim`` / ``ev_direct``'s path: the Evcc opens TCP itself; LinkUp only after the
    handshake (its 2 s connect bound covers TCP and TLS there, so a stall is a connect timeout)."""
    session = build_session("alpitronic", Schema.ISO2, minutes=0.2, tls=ChargerTls(pki, variant),
                            tls_client=client_context([pki.root]))
    result = session.run(limit=300.0)
    assert result.safe_end
    if reason is None:
        assert result.result == "completed" and "CurrentDemand" in result.states
    else:
        assert result.result == "safe-shutdown" and result.stop_reason == reason


def test_the_client_context_checks_no_host_name_and_keeps_the_iso2_suite(pki: SimPki, tmp_path: Path) -> None:
    context = client_context([pki.root], keylog_file=tmp_path / "keys.log")
    assert not context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    suites = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert suites == {"ECDHE-ECDSA-AES128-SHA256"}
    assert (tmp_path / "keys.log").exists()


@pytest.mark.parametrize(("variant", "result", "reason"), [
    ("ok", "completed", "ev-stop-request:CurrentDemand"),
    ("expired", "safe-shutdown", "tls-bad-certificate:Connecting"),
])
def test_ccs_sim_with_a_tls_charger(tmp_path: Path, variant: str, result: str, reason: str) -> None:
    from click.testing import CliRunner

    from ccs2chademo.cli import cli

    done = CliRunner().invoke(cli, ["ccs-sim", "--protocol", "iso2", "--minutes", "0.1", "--json", "--tls", variant,
                                    "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output.splitlines()[-1])
    assert (summary["result"], summary["stop_reason"], summary["safe_end"]) == (result, reason, True)
    assert (tmp_path / "pki" / "v2g-root.pem").exists() and (tmp_path / "tls-keys.log").exists()
