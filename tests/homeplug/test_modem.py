"""The simulated modem behaves like the QCA modems of ccs-ev.md §2.3–§2.4."""

from __future__ import annotations

import ipaddress

from ccs2chademo.homeplug import frames as F
from ccs2chademo.runtime import Event, FrameReceived, MachineBase, SendFailed, SendFrame, VirtualRuntime
from ccs2chademo.sim.plc import PlcHost, PlcSite
from ccs2chademo.v2g import ipv6

NID_A, NMK_A = bytes.fromhex("01020304050607"), b"\x77" * 16
NID_B = bytes.fromhex("01020304050608")


class Probe(MachineBase):
    """Sends scheduled raw frames, records what arrives."""

    def __init__(self, name: str, plan: list[tuple[float, bytes]]) -> None:
        super().__init__(name, "probing")
        self.plan = sorted(plan, key=lambda p: p[0])
        self.got: list[tuple[float, bytes]] = []
        self.failed: list[float] = []

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, FrameReceived):
            self.got.append((now, event.frame))
        elif isinstance(event, SendFailed):
            self.failed.append(now)

    def get_timer(self) -> float | None:
        return self.plan[0][0] if self.plan else None

    def handle_timer(self, now: float) -> None:
        while self.plan and self.plan[0][0] <= now + 1e-9:
            self._emit(SendFrame("eth", self.plan.pop(0)[1]))

    def mmes(self) -> list[F.Frame]:
        return [F.decode(f) for _, f in self.got if F.is_homeplug(f)]


def set_key(host: PlcHost, nid: bytes) -> bytes:
    return F.SetKeyReq(dest=F.BROADCAST, source=host.nic.mac, nid=nid, nmk=NMK_A).encode()


def ip_frame(src: PlcHost, dst_mac: bytes, multicast: bool = False) -> bytes:
    a = ipv6.Endpoint(src.nic.mac, src.nic.ip, 1000)
    dst_ip = ipaddress.IPv6Address("ff02::1") if multicast else ipv6.link_local_from_mac(dst_mac)
    return ipv6.udp_frame(a, ipv6.Endpoint(dst_mac, dst_ip, 2000), b"hello")


def udp_probe(sim: VirtualRuntime, host: PlcHost) -> Probe:
    probe = Probe(f"udp-{host.name}", [])
    sim.add(probe, ports={"eth": host.nic.udp_port(2000)})
    return probe


def site_of(n: int) -> tuple[VirtualRuntime, list[PlcHost]]:
    sim = VirtualRuntime()
    site = PlcSite(sim)
    hosts = [site.add_host(f"h{i}", bytes([2, 0, 0, 0, 0xCA, i]), bytes([2, 0, 0, 0, 0xCC, i]),
                           role="evse" if i == 0 else "pev", attenuation={"h1-modem": 12.0}) for i in range(n)]
    return sim, hosts


def test_set_key_answers_result_1_then_reboots_quietly_and_joins() -> None:
    sim, (a, b) = site_of(2)
    pa = Probe("pa", [(0.0, set_key(a, NID_A)), (1.0, ip_frame(a, b.nic.mac)), (6.0, ip_frame(a, b.nic.mac))])
    pb = Probe("pb", [(0.0, set_key(b, NID_A))])
    sim.add(pa, ports={"eth": a.nic.raw_port()})
    sim.add(pb, ports={"eth": b.nic.raw_port()})
    ub = udp_probe(sim, b)
    sim.run(until=3.0)
    cnf = pa.mmes()[0]
    assert isinstance(cnf, F.SetKeyCnf) and cnf.result == 1 and cnf.dest == a.nic.mac
    assert a.modem.state == "rebooting" and pa.failed == [1.0]  # carrier is down: the send fails
    sim.run(until=8.0)
    assert a.modem.in_network and a.modem.nid == NID_A and a.modem.reboots == 1
    # the datagram sent at 6 s arrives at b; the one at 1 s never left the host
    assert [(round(t), f) for t, f in ub.got] == [(6, b"hello")]


def test_only_frames_of_the_own_network_are_forwarded() -> None:
    sim, (a, b, c) = site_of(3)
    other = bytes.fromhex("020000000099")
    group = ipv6.multicast_mac(ipaddress.IPv6Address("ff02::1"))
    plan_a = [(0.0, set_key(a, NID_A)), (6.0, ip_frame(a, b.nic.mac)), (6.1, ip_frame(a, c.nic.mac)),
              (6.2, ip_frame(a, other)), (6.3, ip_frame(a, group, multicast=True))]
    probes = [Probe("pa", plan_a), Probe("pb", [(0.0, set_key(b, NID_A))]), Probe("pc", [(0.0, set_key(c, NID_B))])]
    for host, probe in zip((a, b, c), probes, strict=True):
        sim.add(probe, ports={"eth": host.nic.raw_port()})
    ub, uc = udp_probe(sim, b), udp_probe(sim, c)
    sim.run(until=8.0)
    assert [round(t, 1) for t, _ in ub.got] == [6.0, 6.3]  # its unicast and the multicast
    assert b.modem.dropped == 2  # the unicasts to c and to `other` (QCA: no foreign unicast)
    assert uc.got == [] and c.modem.dropped == 4  # c is in another AVLN: nothing of a's reaches it


def test_sw_ver_is_answered_locally_and_by_every_modem_of_the_avln() -> None:
    sim, (a, b) = site_of(2)
    get_sw = F.SwVerReq(dest=F.BROADCAST, source=a.nic.mac).encode()
    pa = Probe("pa", [(0.0, get_sw), (0.1, set_key(a, NID_A)), (6.0, get_sw)])
    sim.add(pa, ports={"eth": a.nic.raw_port()})
    sim.add(Probe("pb", [(0.1, set_key(b, NID_A))]), ports={"eth": b.nic.raw_port()})
    sim.run(until=8.0)
    answers = [(t, m) for (t, _), m in zip(pa.got, pa.mmes(), strict=True) if isinstance(m, F.SwVerCnf)]
    assert [m.source for t, m in answers if t < 1] == [a.modem.mac]  # alone: one modem
    assert sorted(m.source for t, m in answers if t > 5) == sorted([a.modem.mac, b.modem.mac])  # AVLN: two
    assert answers[0][1].version.startswith("MAC-QCA7420")


def test_slac_frames_reach_every_host_and_evse_modem_reports_attenuation() -> None:
    sim, (evse, car) = site_of(2)
    sound = F.MnbcSoundInd(dest=F.BROADCAST, source=car.nic.mac, count=0, run_id=bytes(8)).encode()
    cnf = F.SlacParamCnf(dest=bytes.fromhex("020000000042"), source=evse.nic.mac,
                         forwarding_sta=bytes.fromhex("020000000042"), run_id=bytes(8)).encode()
    pe, pc = Probe("pe", [(0.1, cnf)]), Probe("pc", [(0.0, sound)])
    sim.add(pe, ports={"eth": evse.nic.raw_port()})
    sim.add(pc, ports={"eth": car.nic.raw_port()})
    sim.run(until=1.0)
    got = pe.mmes()
    assert isinstance(got[0], F.MnbcSoundInd)
    profile = got[1]
    assert isinstance(profile, F.AttenProfileInd) and profile.pev_mac == car.nic.mac
    assert len(profile.groups) == 58 and 9 <= min(profile.groups) <= max(profile.groups) <= 15
    # the charger's answer to another car still reaches this car's host (ccs-ev.md §2.4 quirk)
    assert [m.NAME for m in pc.mmes()] == ["CM_SLAC_PARAM.CNF"]
