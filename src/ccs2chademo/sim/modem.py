"""A simulated HomePlug Green PHY modem (QCA7000/7005/7420 behaviour of ccs-ev.md §2.3–§2.4).

The modem is a sans-I/O machine with two links: ``"host"`` (the Ethernet cable to the PC or
controller) and ``"plc"`` (the power line, a :class:`~ccs2chademo.runtime.FrameMedium` shared by
all modems of a charging site).  What it does, because real stacks depend on it:

* **Local management.**  SET_KEY.REQ addressed to broadcast, ``00:B0:52:00:00:01`` or the modem
  answers ``Result 1`` (the QCA "accepted"), then the modem *reboots*: ``reboot_delay`` later
  it goes quiet for ``reboot_time`` (≈5 s) — no frames either way and ``SetOutput("carrier",
  False)`` so the wiring can drop the host's Ethernet carrier (send errors) — and comes back as
  a member of the new logical network (AVLN).  VS_SW_VER.REQ is answered with the firmware
  string; once in an AVLN a broadcast GET_SW is also answered by every other modem of that
  AVLN (how "two modems" is counted).  GET_KEY.REQ is answered with the current key.
* **SLAC frames** (CM_SLAC_PARAM … CM_SLAC_MATCH) go out unassociated: every modem on the
  line hears them and hands them to its host *whatever their destination MAC* — the quirk that
  lets a passive listener see another car's MATCH.CNF (ccs-ev.md §2.4).
* **Everything else** (IPv6: SDP, TCP) crosses the line only inside one AVLN, and a receiving
  modem hands to its host only broadcast/multicast frames and unicast to its host's MAC.
* An EVSE-side modem (``role="evse"``) reports each sound it hears with CM_ATTEN_PROFILE.IND
  (58 groups derived from the line attenuation toward the sender).

On the line a burst is ``NID (7 bytes, zero = unassociated) + Ethernet frame``: the NID stands
for the network-membership encryption a real modem applies and never leaves the simulation.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..deadline import TimerMachine
from ..homeplug import frames as F
from ..runtime.events import Address, Event, FrameReceived, InputChanged, SendFailed, SendFrame, SetOutput
from ..runtime.machine import MachineBase

UNASSOCIATED = bytes(7)
SLAC_RANGE = range(0x6064, 0x6080)  # CM_SLAC_PARAM … CM_SLAC_MATCH (ccs-ev.md §2.1)
QCA7420 = ("MAC-QCA7420-1.4.0.20-00-20171027-CS", 0x20)
QCA7000 = ("MAC-QCA7000-1.1.0.727-02-20130826-FINAL", 0x22)


def set_key_cnf(req: F.SetKeyReq, modem_mac: bytes) -> bytes:
    """The local QCA modem's answer: Result 1 = accepted (ccs-ev.md §2.4)."""
    return F.SetKeyCnf(dest=req.source, source=modem_mac, result=1, my_nonce=bytes(4),
                       your_nonce=req.my_nonce).encode()


#: A real QCA modem's VS_SW_VER.CNF (every one in ../shared/data/captures, QCA7000/7005/7420):
#: 297 bytes; the version string, its NUL and its length byte's count (string + NUL) sit in a fixed
#: 64-byte field at offset 23, then Upgradable (offset 87) and vendor data.  Wireshark reads the
#: fixed field (a 60-byte frame is "Malformed" to it).  We zero what real firmware leaves as stale
#: bytes after the NUL (Wireshark warns "Trailing stray characters" on those) and the vendor data.
SW_VER_CNF_SIZE = 297


def sw_ver_cnf(dest: bytes, modem_mac: bytes, firmware: tuple[str, int]) -> bytes:
    version, device = firmware
    string_end = 23 + len(version) + 1  # the default length byte: the string and its NUL
    return F.SwVerCnf(dest=dest, source=modem_mac, version=version, device_id=device,
                      tail=bytes(SW_VER_CNF_SIZE - string_end)).encode()


class SimModem(TimerMachine):
    def __init__(self, name: str, mac: bytes, host_mac: bytes, role: str = "pev",
                 firmware: tuple[str, int] = QCA7420, reboot_time: float = 5.0, reboot_delay: float = 0.010,
                 attenuation: Mapping[Address, float] | None = None, default_attenuation: float = 20.0) -> None:
        super().__init__(name, "no_network")
        if role not in ("pev", "evse"):
            raise ValueError("role is 'pev' or 'evse'")
        self.mac = mac
        self.host_mac = host_mac
        self.role = role
        self.firmware = firmware
        self.reboot_time = reboot_time
        self.reboot_delay = reboot_delay
        self.attenuation = dict(attenuation or {})
        self.default_attenuation = default_attenuation
        self.nid = UNASSOCIATED
        self.nmk = bytes(16)
        self._pending_key: tuple[bytes, bytes] | None = None
        self.reboots = 0
        self.dropped = 0
        self.slac_deaf = False

    # -- state --------------------------------------------------------------------------------
    @property
    def up(self) -> bool:
        return self.state != "rebooting"

    @property
    def in_network(self) -> bool:
        return self.up and self.nid != UNASSOCIATED

    def _expired(self, now: float) -> None:
        if self.state == "key_written":
            self._enter("rebooting")
            self._emit(SetOutput("carrier", False))
            self._deadline = now + self.reboot_time
            self.reboots += 1
        elif self.state == "rebooting":
            assert self._pending_key is not None
            self.nid, self.nmk = self._pending_key
            self._pending_key = None
            self._enter("in_network" if self.nid != UNASSOCIATED else "no_network", nid=self.nid.hex())
            self._emit(SetOutput("carrier", True))

    def _knob(self, name: str, now: float) -> None:
        """Fault injection (the world's ``modem-reboot`` and ``slac-fail``): ``reboot`` — a supply
        glitch; the key written by SET_KEY is volatile, so the modem comes back with its empty
        default network, outside the AVLN.  ``slac_deaf`` — SLAC frames from the line are dropped."""
        if name == "reboot" and self.up:
            self.nid, self.nmk = UNASSOCIATED, bytes(16)  # volatile: gone with the supply
            self._pending_key = (UNASSOCIATED, bytes(16))
            self._enter("rebooting", reason="supply glitch")
            self._emit(SetOutput("carrier", False))
            self._deadline = now + self.reboot_time
            self.reboots += 1
        elif name == "slac_deaf":
            self.slac_deaf = True

    # -- frames -------------------------------------------------------------------------------
    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, InputChanged):
            self._knob(event.name, now)
            return
        if isinstance(event, SendFailed) or not isinstance(event, FrameReceived):
            return
        if not self.up:
            self.dropped += 1
            return
        if event.link == "host":
            self._from_host(event.frame, now)
        elif event.link == "plc":
            self._from_line(event.frame, event.source)

    def _to_host(self, frame: bytes) -> None:
        self._emit(SendFrame("host", frame))

    def _to_line(self, nid: bytes, frame: bytes) -> None:
        self._emit(SendFrame("plc", nid + frame))

    def _from_host(self, frame: bytes, now: float) -> None:
        if F.is_homeplug(frame):
            try:
                mme = F.decode(frame)
            except F.MmeError as exc:
                self._log("dropped", reason=str(exc))
                return
            if isinstance(mme, F.UnknownMme):
                self._log("dropped", reason="unknown MMTYPE", mmtype=f"0x{mme.mmtype:04x}")
                return
            local = mme.dest in (F.BROADCAST, F.LOCAL_MANAGEMENT, self.mac)
            if isinstance(mme, F.SetKeyReq) and local:
                self._set_key(mme, now)
            elif isinstance(mme, F.SwVerReq) and local:
                self._to_host(self._sw_ver(mme.source))
                if self.in_network and mme.dest == F.BROADCAST:
                    self._to_line(self.nid, frame)
            elif isinstance(mme, F.GetKeyReq) and local:
                self._to_host(F.GetKeyCnf(dest=mme.source, source=self.mac, result=0, nid=self.nid,
                                          key=self.nmk).encode())
            elif mme.MMTYPE in SLAC_RANGE:
                self._to_line(UNASSOCIATED, frame)
            return
        if self.in_network:
            self._to_line(self.nid, frame)
        else:
            self.dropped += 1

    def _from_line(self, burst: bytes, sender: Address) -> None:
        if len(burst) < 7 + 14:
            return
        nid, frame = burst[:7], burst[7:]
        if nid == UNASSOCIATED:
            if self.slac_deaf:
                self.dropped += 1
                return
            if F.is_homeplug(frame) and F.mmtype_of(frame) in SLAC_RANGE:
                self._to_host(frame)
                if self.role == "evse" and F.mmtype_of(frame) == F.MnbcSoundInd.MMTYPE:
                    self._to_host(self._profile(frame[6:12], sender))
            return
        if nid != self.nid or not self.in_network:
            self.dropped += 1
            return
        dest = frame[0:6]
        if F.is_homeplug(frame) and F.mmtype_of(frame) == F.SwVerReq.MMTYPE:
            self._to_line(self.nid, self._sw_ver(frame[6:12]))  # a remote GET_SW: this modem answers
        elif dest == self.host_mac or dest[0] & 1:
            self._to_host(frame)
        else:
            self.dropped += 1  # QCA modems do not forward other stations' unicast

    # -- answers ------------------------------------------------------------------------------
    def _set_key(self, req: F.SetKeyReq, now: float) -> None:
        self._to_host(set_key_cnf(req, self.mac))
        self._pending_key = (req.nid, req.nmk)
        self._enter("key_written", nid=req.nid.hex())
        self._deadline = now + self.reboot_delay

    def _sw_ver(self, dest: bytes) -> bytes:
        return sw_ver_cnf(dest, self.mac, self.firmware)

    def _profile(self, pev_mac: bytes, sender: Address) -> bytes:
        base = self.attenuation.get(sender, self.default_attenuation)
        # a gentle frequency slope across the 58 groups, like a real line
        groups = bytes(max(1, min(255, round(base - 3 + 6 * i / 57))) for i in range(58))
        return F.AttenProfileInd(dest=self.host_mac, source=self.mac, pev_mac=pev_mac, groups=groups).encode()


class ModemStandIn(MachineBase):
    """Answers a *peer's* modem-management frames where there is no modem (a veth test bench).

    On a veth pair the car's SET_KEY.REQ reaches the charger host instead of a modem; this
    machine, running there on its own raw socket, answers it as the car's local modem would
    (SET_KEY.CNF Result 1, VS_SW_VER.CNF).  It ignores frames from ``own_host`` and does not
    model the reboot: the cable is always "in the network".
    """

    def __init__(self, mac: bytes, own_host: bytes, name: str = "modem_standin", link: str = "plc",
                 firmware: tuple[str, int] = QCA7420) -> None:
        super().__init__(name, "serving")
        self.mac = mac
        self.own_host = own_host
        self.link = link
        self.firmware = firmware
        self.keys_set = 0

    def get_timer(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> None:
        pass

    def receive(self, event: Event, now: float) -> None:
        if not isinstance(event, FrameReceived) or not F.is_homeplug(event.frame):
            return
        try:
            mme = F.decode(event.frame)
        except F.MmeError:
            return
        if mme.source == self.own_host or mme.dest not in (F.BROADCAST, F.LOCAL_MANAGEMENT, self.mac):
            return
        if isinstance(mme, F.SetKeyReq):
            self.keys_set += 1
            self._log("set-key", host=F.format_mac(mme.source), nid=mme.nid.hex())
            self._emit(SendFrame(self.link, set_key_cnf(mme, self.mac)))
        elif isinstance(mme, F.SwVerReq):
            self._emit(SendFrame(self.link, sw_ver_cnf(mme.source, self.mac, self.firmware)))
