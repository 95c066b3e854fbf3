"""SLAC → SDP → TCP → one V2GTP exchange in virtual time, through simulated modems."""

from __future__ import annotations

import io

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.drivers.pcapng import PcapngWriter
from ccs2chademo.homeplug import frames as F
from ccs2chademo.homeplug.slac import SlacEvse, random_network_key
from ccs2chademo.runtime import FrameReceived, Impairment, VirtualRuntime
from ccs2chademo.sim.plc import PlcSite
from ccs2chademo.sim.scenario import Car, Charger, add_car, add_charger, mac
from ccs2chademo.v2g import ipv6
from tests.recording import Recorder

from .toys import SAP_REQ, SAP_RES, EchoSecc, OneShotEvcc


def world(seed: int = 0, line: Impairment | None = None) -> tuple[VirtualRuntime, PlcSite, Recorder]:
    log = Recorder()
    sim = VirtualRuntime(seed=seed, log=log)
    return sim, PlcSite(sim, line=line), log


def single(seed: int = 0, line: Impairment | None = None, max_chunk: int | None = None, start_at: float = 10.0,
           pcap: PcapngWriter | None = None) -> tuple[VirtualRuntime, Charger, Car, OneShotEvcc, EchoSecc, Recorder]:
    sim, site, log = world(seed, line)
    charger = add_charger(sim, site, "charger", 1, tcp_port=51111)
    evcc, secc = OneShotEvcc(), EchoSecc()
    car = add_car(sim, site, "car", 1, [charger], {"charger": secc}, session=evcc, max_chunk=max_chunk,
                  start_at=start_at, pcap=pcap)
    return sim, charger, car, evcc, secc, log


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pairing_with_latency_and_loss_reaches_tcp_and_one_v2gtp_exchange(seed: int) -> None:
    sim, charger, car, evcc, secc, _ = single(seed, Impairment(latency=0.003, jitter=0.004, loss=0.08),
                                                max_chunk=3)
    sim.run(until=120, stop=lambda: bool(evcc.answers))
    conn = car.connection
    assert evcc.answers and evcc.answers[0][1] == SAP_RES and secc.received == [SAP_REQ]
    assert conn.state == "connected" and conn.slac_result is not None and conn.sdp_result is not None
    assert conn.slac_result.evse_mac == charger.host.nic.mac
    assert conn.sdp_result.port == 51111 and conn.sdp_result.address == charger.host.nic.ip
    assert conn.sdp_result.evse_mac == charger.host.nic.mac
    assert car.host.modem.nid == charger.host.modem.nid == charger.slac.nid


def test_spec_timings_power_on_to_tcp() -> None:
    sim, _, car, evcc, _, log = single(start_at=10.0)
    sim.run(until=60, stop=lambda: bool(evcc.answers))
    conn = car.connection
    assert conn.connected_at is not None
    lifesign = log.kinds("car", "lifesign")[0][0]
    slac_ok = log.kinds("car", "slac-ok")[0][0]
    sdp_done = next(t for t, f in log.kinds("car", "state") if f["state"] == "connecting")
    found = next(t for t, f in log.kinds("car", "state") if f["state"] == "slac")
    assert found - 10.0 == pytest.approx(0.5)  # one GET_SW round finds the local modem (ccs-ev.md §5)
    assert lifesign - found < 0.05
    assert 1.3 < slac_ok - found < 2.0  # 90 ms START + 300 ms sounds + 0.9 s wait + answers
    # the modem reboots ≈5 s after SET_KEY: SDP sends fail meanwhile and are retried (ccs-ev.md §2.4, §16 rule 7)
    assert log.kinds("car", "send-failed")
    assert 5.0 < sdp_done - slac_ok < 6.0
    assert 7.0 < conn.connected_at - 10.0 < 8.5
    assert car.host.modem.reboots == 1


def test_lost_match_cnf_is_retried() -> None:
    class DropFirstMatchCnf(SlacEvse):
        dropped = 0

        def _send(self, mme: F.Mme) -> None:
            if isinstance(mme, F.SlacMatchCnf) and not self.dropped:
                self.dropped += 1
                return
            super()._send(mme)

    sim, site, log = world()
    nid, nmk = random_network_key(sim.rng_for("k"))
    slac = DropFirstMatchCnf(mac(0xE0, 1), nid, nmk, name="charger.slac")
    charger = add_charger(sim, site, "charger", 1, slac=slac)
    evcc = OneShotEvcc()
    car = add_car(sim, site, "car", 1, [charger], {"charger": EchoSecc()}, session=evcc, start_at=10.0)
    sim.run(until=60, stop=lambda: bool(evcc.answers))
    assert slac.dropped == 1 and evcc.answers
    assert [f["step"] for _, f in log.kinds("car", "retry")] == ["wait_match_cnf"]
    assert car.connection.slac.attempts == 1


def test_two_cars_on_one_line_each_pair_with_their_own_charger() -> None:
    """A shared cabinet: both chargers hear both cars (cross-talk 35 dB vs 8–9 dB on the own cable)."""
    sim, site, log = world(seed=5)
    c1 = add_charger(sim, site, "charger1", 1, tcp_port=51001, attenuation={"car1-modem": 8, "car2-modem": 35})
    c2 = add_charger(sim, site, "charger2", 2, tcp_port=51002, attenuation={"car1-modem": 35, "car2-modem": 9})
    secc = {(car, ch): EchoSecc(f"secc-{car}-{ch}") for car in (1, 2) for ch in (1, 2)}
    e1, e2 = OneShotEvcc("evcc1"), OneShotEvcc("evcc2")
    car1 = add_car(sim, site, "car1", 1, [c1, c2], {"charger1": secc[1, 1], "charger2": secc[1, 2]}, session=e1,
                   start_at=10.0)
    car2 = add_car(sim, site, "car2", 2, [c1, c2], {"charger1": secc[2, 1], "charger2": secc[2, 2]}, session=e2,
                   start_at=10.0)
    sim.run(until=90, stop=lambda: bool(e1.answers and e2.answers))
    assert e1.answers and e2.answers
    r1, r2 = car1.connection.slac_result, car2.connection.slac_result
    assert r1 is not None and r2 is not None
    assert (r1.evse_mac, r2.evse_mac) == (c1.host.nic.mac, c2.host.nic.mac)
    assert car1.connection.sdp_result is not None and car1.connection.sdp_result.port == 51001
    assert car2.connection.sdp_result is not None and car2.connection.sdp_result.port == 51002
    assert [s.received for s in secc.values()] == [[SAP_REQ], [], [], [SAP_REQ]]
    # both chargers answered both cars; each car matched by attenuation
    assert {f["candidates"] for _, f in log.kinds("car1", "evse-chosen")} == {2}
    assert car1.host.modem.nid == c1.host.modem.nid != car2.host.modem.nid == c2.host.modem.nid


def test_neighbour_slac_is_ignored_once_tcp_is_up() -> None:
    """A second car pairs with the same charger while the first session runs (ccs-ev.md §13.2)."""
    sim, site, _ = world(seed=7)
    charger = add_charger(sim, site, "charger", 1)
    e1, e2 = OneShotEvcc("evcc1"), OneShotEvcc("evcc2")
    car1 = add_car(sim, site, "car1", 1, [charger], {"charger": EchoSecc()}, session=e1, start_at=10.0)
    sim.run(until=60, stop=lambda: bool(e1.answers))
    add_car(sim, site, "car2", 2, [charger], {}, session=e2, start_at=sim.now() + 1)
    sim.run(until=sim.now() + 30, stop=lambda: e2.connected_at is not None)
    assert e2.connected_at is not None
    assert car1.connection.state == "connected" and car1.connection.ignored > 10
    assert car1.host.modem.reboots == 1  # no SET_KEY from the neighbour's MATCH.CNF
    # even a MATCH.CNF addressed to car1 with car1's last RunID is ignored now
    slac = car1.connection.slac
    cnf = F.SlacMatchCnf(dest=slac.mac, source=charger.host.nic.mac, pev_mac=slac.mac, evse_mac=charger.host.nic.mac,
                         run_id=slac.run_id, nid=bytes(7), nmk=bytes(16))
    sim.inject("car1", FrameReceived("plc", cnf.encode()))
    sim.run(until=sim.now() + 2)
    assert car1.host.modem.reboots == 1 and car1.connection.state == "connected"


def test_tcp_loss_restarts_warm_from_sdp() -> None:
    sim, _, car, evcc, _, log = single()
    sim.run(until=60, stop=lambda: bool(evcc.answers))
    car.tcp["charger"].break_link("reset")
    sim.run(until=sim.now() + 10, stop=lambda: len(evcc.answers) == 2)
    assert evcc.downs == ["reset"] and len(evcc.answers) == 2
    warm = [f for _, f in log.kinds("car", "state") if f.get("warm")]
    assert warm and car.connection.slac.attempts == 1  # SDP again, not SLAC


def test_unanswered_sdp_falls_back_to_slac() -> None:
    sim, _, car, _, _, log = single()
    sim.slots["charger.sdp"].ports["sdp"].port = 1  # the SDP server no longer hears port 15118
    sim.run(until=50)
    assert car.connection.slac.attempts == 2 and car.connection.sdp.sent in range(1, 51)
    assert [f for _, f in log.kinds("car", "restart") if "SDP unanswered" in f["reason"]]


def test_pcapng_of_a_virtual_session_reads_back() -> None:
    buf = io.BytesIO()
    writer = PcapngWriter(buf, epoch=1_700_000_000.0)
    sim, _, _, evcc, _, _ = single(pcap=writer)
    sim.run(until=60, stop=lambda: bool(evcc.answers))
    buf.seek(0)
    packets = [(ts, bytes(b)) for ts, b in dpkt.pcapng.Reader(buf)]
    assert len(packets) == writer.frames > 20
    assert packets[0][0] == pytest.approx(1_700_000_010.0, abs=0.01)
    mmes = [F.decode(b) for _, b in packets if F.is_homeplug(b)]
    assert {"CM_SLAC_PARAM.REQ", "CM_SLAC_MATCH.CNF", "CM_SET_KEY.CNF"} <= {m.NAME for m in mmes}
    udp = [ipv6.parse_udp(b) for _, b in packets if b[12:14] == b"\x86\xdd" and b[20] == 17]  # checksums verified
    assert any(u.dport == 15118 for u in udp) and any(u.sport == 15118 for u in udp)
    tcp = [dpkt.ethernet.Ethernet(b) for _, b in packets if b[12:14] == b"\x86\xdd" and b[20] == 6]
    flags = [e.data.data.flags for e in tcp]
    assert flags[:3] == [dpkt.tcp.TH_SYN, dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK, dpkt.tcp.TH_ACK]
    payloads = [e.data.data.data for e in tcp if e.data.data.data]
    assert b"".join(payloads)[8:] .startswith(SAP_REQ[:3]) and any(p.endswith(SAP_RES) for p in payloads)
    for e in tcp:  # the TCP checksum over the pseudo-header is right
        ip6 = e.data
        seg = bytes(ip6.data)
        pseudo = ip6.src + ip6.dst + len(seg).to_bytes(4, "big") + b"\x00\x00\x00\x06"
        assert ipv6.checksum(pseudo + seg) == 0


def test_refused_tcp_restarts_warm_then_from_slac() -> None:
    sim, _, car, evcc, _, log = single()
    car.tcp["charger"].listening = False  # the charger's TCP port is closed: RST on every SYN
    sim.run(until=40)
    steps = [(f["reason"], f["step"]) for _, f in log.kinds("car", "restart")]
    assert steps[:3] == [("TCP connect refused", "sdp")] * 2 + [("TCP connect refused", "modem")]
    assert car.connection.slac.attempts >= 2 and not evcc.answers


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 0.2), st.floats(0.0, 0.02), st.integers(1, 64))
def test_pairing_completes_for_any_seed_loss_and_segmentation(seed: int, loss: float, jitter: float,
                                                              chunk: int) -> None:
    sim, charger, car, evcc, secc, _ = single(seed, Impairment(latency=0.002, jitter=jitter, loss=loss),
                                              max_chunk=chunk)
    sim.run(until=200, stop=lambda: bool(evcc.answers))
    assert evcc.answers and secc.received == [SAP_REQ]
    assert car.connection.slac_result is not None and car.connection.slac_result.evse_mac == charger.host.nic.mac
