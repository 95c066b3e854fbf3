"""Real kernel networking: AF_PACKET, IPv6 multicast and TCP between two processes on a veth pair."""

from __future__ import annotations

import asyncio
import errno
import json
import shutil
import subprocess
import sys
from pathlib import Path

import dpkt
import pytest

from ccs2chademo.drivers.linux import iface
from ccs2chademo.drivers.linux.multicast import MulticastUdpPort
from ccs2chademo.drivers.linux.netns import VethPair, unavailable
from ccs2chademo.drivers.linux.raweth import RawEthernetPort
from ccs2chademo.homeplug import frames as F
from ccs2chademo.v2g import ipv6

REASON = unavailable()
root = pytest.mark.skipif(REASON is not None, reason=f"kernel networking test skipped: {REASON}")


def test_missing_interface_is_a_typed_error() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(iface.InterfaceNotFound, match="nosuch0"):
            RawEthernetPort(loop, "nosuch0").start()
        with pytest.raises(iface.InterfaceNotFound, match="nosuch0"):
            loop.run_until_complete(MulticastUdpPort(loop, "nosuch0").start())
        with pytest.raises(iface.InterfaceNotFound):
            iface.mac_address("nosuch0")
    finally:
        loop.close()


def test_errno_translation() -> None:
    assert isinstance(iface.translate(PermissionError(errno.EPERM, "x"), "opening", "eth0"), iface.NotPermitted)
    assert isinstance(iface.translate(OSError(errno.ENODEV, "x"), "opening", "eth0"), iface.InterfaceNotFound)
    assert iface.with_scope(("fe80::1", 5), 3) == ("fe80::1", 5, 0, 3)
    assert iface.with_scope(("ff02::1", 15118, 0, 0), 3) == ("ff02::1", 15118, 0, 3)
    assert iface.with_scope(("2001:db8::1", 5), 3) == ("2001:db8::1", 5)


@root
def test_raw_socket_without_privileges_says_so() -> None:
    code = ("import asyncio\nfrom ccs2chademo.drivers.linux.raweth import RawEthernetPort\n"
            "from ccs2chademo.drivers.linux.iface import NotPermitted\n"
            "try:\n    RawEthernetPort(asyncio.new_event_loop(), 'lo').start()\n"
            "except NotPermitted as e:\n    print('NotPermitted:', e)\n")
    if shutil.which("capsh") is None:
        pytest.skip("needs capsh to drop CAP_NET_RAW")
    done = subprocess.run(["capsh", "--drop=cap_net_raw", "--", "-c", f"{sys.executable} -c \"$0\"", code],
                          capture_output=True, text=True, timeout=30, check=False)
    assert "NotPermitted:" in done.stdout and "CAP_NET_RAW" in done.stdout, done.stderr


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ccs2chademo", "homeplug", *args]


@root
def test_two_processes_pair_discover_connect_and_exchange_over_veth(tmp_path: Path) -> None:
    """Charger in one namespace, car in the other: SLAC over AF_PACKET, SDP over ff02::1, TCP."""
    pcap = tmp_path / "car.pcapng"
    with VethPair(prefix="hp") as pair:
        evse = subprocess.Popen(pair.command(pair.ns_a, *_cli("evse", "--iface", pair.if_a, "--timeout", "40")),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert evse.stdout is not None
            ready = json.loads(evse.stdout.readline() or "{}")
            assert ready.get("ready"), evse.stderr.read() if evse.stderr else ""
            car = subprocess.run(pair.command(pair.ns_b, *_cli("pev", "--iface", pair.if_b, "--timeout", "40",
                                                               "--pcap", str(pcap))),
                                 capture_output=True, text=True, timeout=60, check=False)
            assert car.returncode == 0, car.stderr
            result = json.loads(car.stdout.splitlines()[-1])
            out, _ = evse.communicate(timeout=20)
        finally:
            if evse.poll() is None:
                evse.kill()
                evse.wait()
    charger = json.loads(out.splitlines()[-1])
    assert result["ok"] and result["answer"] == "80400040"
    assert result["evse_mac"] == ready["mac"]  # learnt from ATTEN_CHAR.IND / SLAC over AF_PACKET
    assert result["sdp"] == {"address": ready["address"], "port": 51111, "requests": result["sdp"]["requests"]}
    assert result["nid"] == charger["nid"] and charger["sessions"] == 1 and charger["received"] == 1
    m = result["milestones"]
    assert 1.2 < m["sdp"] - m["slac"] < 3.0  # real SLAC timings: 3 START + 10 sounds + 0.9 s
    assert not [ns for ns in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                            check=False).stdout.split() if pair.tag in ns]
    # the car recorded its side: real SLAC frames, SDP with valid checksums, a TCP conversation
    with pcap.open("rb") as f:
        packets = [bytes(b) for _, b in dpkt.pcapng.Reader(f)]
    names = [F.decode(p).NAME for p in packets if F.is_homeplug(p)]
    assert names[:4] == ["VS_SW_VER.REQ", "VS_SW_VER.CNF", "CM_SLAC_PARAM.REQ", "CM_SLAC_PARAM.CNF"]
    assert names.count("CM_MNBC_SOUND.IND") == 10
    assert "CM_SET_KEY.CNF" in names
    sdp_ports = {(u.sport, u.dport) for u in (ipv6.parse_udp(p) for p in packets if p[12:14] == b"\x86\xdd"
                                              and p[20] == 17)}
    assert any(d == 15118 for _, d in sdp_ports) and any(s == 15118 for s, _ in sdp_ports)
    tcp = [dpkt.ethernet.Ethernet(p).data.data for p in packets if p[12:14] == b"\x86\xdd" and p[20] == 6]
    assert tcp[0].flags == dpkt.tcp.TH_SYN and tcp[0].dport == 51111 and tcp[-1].flags & dpkt.tcp.TH_FIN
