from __future__ import annotations

import ipaddress

import pytest

from ccs2chademo.runtime import FrameReceived, Log, SendFailed, SendFrame
from ccs2chademo.v2g import sdp
from ccs2chademo.v2g.discovery import SdpClient, SdpServer

LL = ipaddress.IPv6Address("fe80::988a:b6ff:fe6d:2df6")


def test_request_and_response_layout() -> None:
    assert sdp.SdpRequest().encode() == bytes.fromhex("01fe9000000000021000")
    res = sdp.SdpResponse(LL, 51111).encode()
    assert len(res) == 28 and res[:8] == bytes.fromhex("01fe900100000014") and res[24:26] == (51111).to_bytes(2)
    assert sdp.decode_response(res) == sdp.SdpResponse(LL, 51111)


@pytest.mark.parametrize(
    ("datagram", "error"),
    [
        (bytes.fromhex("01fe900100000013") + bytes(19), sdp.SdpLengthError),
        (bytes.fromhex("01fe900100000015") + bytes(21), sdp.SdpLengthError),
        (bytes.fromhex("01fe900100000014") + bytes(19), sdp.SdpLengthError),
        (sdp.SdpResponse(ipaddress.IPv6Address("2001:db8::1"), 1).encode(), sdp.SdpAddressError),
        (sdp.SdpResponse(ipaddress.IPv6Address("fec0::1"), 1).encode(), sdp.SdpAddressError),
        (sdp.SdpRequest().encode(), sdp.SdpError),
        (b"\x02\xfd" + bytes(26), sdp.SdpError),
        (b"", sdp.SdpError),
    ],
)
def test_bad_responses_are_typed_errors(datagram: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        sdp.decode_response(datagram)


def _run_until_sent(client: SdpClient, now: float) -> list[SendFrame]:
    client.handle_timer(now)
    return [a for a in client.actions() if isinstance(a, SendFrame)]


def test_client_retries_every_half_second_up_to_50_and_tolerates_send_errors() -> None:
    client = SdpClient(scope_id=7)
    client.start(0.0)
    times = []
    while not client.failed:
        t = client.get_timer()
        assert t is not None
        sent = _run_until_sent(client, t)
        if sent:
            times.append(t)
            assert sent[0].dest == ("ff02::1", 15118, 0, 7)
            client.receive(SendFailed("sdp", "Network is unreachable"), t)  # modem rebooting
    assert len(times) == 50 and times[1] - times[0] == pytest.approx(0.5) and times[-1] == pytest.approx(24.5)


def test_client_rejects_bad_replies_and_keeps_discovering() -> None:
    client = SdpClient()
    client.start(0.0)
    _run_until_sent(client, 0.0)
    for bad in (sdp.SdpResponse(ipaddress.IPv6Address("2001:db8::1"), 51111).encode(),
                bytes.fromhex("01fe900100000012") + bytes(18)):
        client.receive(FrameReceived("sdp", bad, ("fe80::1", 15118)), 0.1)
        logs = [a for a in client.actions() if isinstance(a, Log)]
        assert logs[0].kind == "rejected" and logs[0].fields["reason"]
        assert client.state == "discovering" and client.result is None
    client.receive(FrameReceived("sdp", sdp.SdpResponse(LL, 51111).encode(), ("fe80::1", 15118)), 0.2)
    assert client.result is not None and client.result.port == 51111
    assert client.result.evse_mac == bytes.fromhex("9a8ab66d2df6")  # the EUI-64 of the announced address


def test_server_answers_to_the_requester() -> None:
    server = SdpServer(LL, 15118)
    for security in (0x10, 0x00):
        server.receive(FrameReceived("sdp", sdp.SdpRequest(security).encode(), ("fe80::2", 50000, 0, 3)), 0.0)
        out = [a for a in server.actions() if isinstance(a, SendFrame)]
        assert out[0].dest == ("fe80::2", 50000, 0, 3) and sdp.decode_response(out[0].frame).port == 15118
    server.receive(FrameReceived("sdp", b"junk", ("fe80::2", 1)), 0.0)
    assert not [a for a in server.actions() if isinstance(a, SendFrame)]
