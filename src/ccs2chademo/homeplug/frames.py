"""HomePlug Green PHY management messages (MMEs) as typed records, with byte-exact encode/decode.

Layouts follow ccs-ev.md §2; every offset below counts from the start of the Ethernet frame, as
in the spec tables, so a field can be checked against a capture by eye.  Each record keeps the
bytes after its defined fields in ``tail`` (zero padding, the vendor data of a 297-byte
VS_SW_VER.CNF, the unused key area of GET_KEY.CNF): a frame decoded from a capture re-encodes to
exactly the same bytes, and a freshly built record gets the standard zero padding to 60 bytes.

Bad input never escapes as ``IndexError``/``struct.error``: a known MMTYPE whose frame is too
short or inconsistent raises :class:`MmeError`; an MMTYPE we do not know decodes to
:class:`UnknownMme` (the caller logs and ignores it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

ETHERTYPE = 0x88E1
MIN_FRAME = 60  # Ethernet minimum without FCS; shorter frames are zero-padded (ccs-ev.md §2.1)
BROADCAST = b"\xff" * 6
#: Qualcomm "local management" address: only the modem on our own Ethernet answers it (ccs-ev.md §2.3).
LOCAL_MANAGEMENT = bytes.fromhex("00b052000001")
QUALCOMM_OUI = bytes.fromhex("00b052")
HEADER_END = 19  # payload of an MMV 1 MME starts here (ccs-ev.md §2.1)
VENDOR_HEADER_END = 20  # payload of a vendor (MMV 0) MME starts after the 3-byte OUI


class MmeError(ValueError):
    """A HomePlug frame that cannot be what its MMTYPE says (truncated, wrong length, bad header)."""


# ------------------------------------------------------------------------------ layout helpers


@dataclass(frozen=True, slots=True)
class Field:
    """One fixed field: absolute ``offset`` in the frame, ``size`` bytes, integer or raw bytes."""

    name: str
    offset: int
    size: int
    integer: bool = False  # integers are little-endian (MVFLength, PRN); most are one byte


def u8(name: str, offset: int) -> Field:
    return Field(name, offset, 1, integer=True)


def u16(name: str, offset: int) -> Field:
    return Field(name, offset, 2, integer=True)


def raw(name: str, offset: int, size: int) -> Field:
    return Field(name, offset, size)


def format_mac(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


# ------------------------------------------------------------------------------------ records


@dataclass(frozen=True, slots=True, kw_only=True)
class Mme:
    """Common part of every MME: addresses and the bytes that follow the defined fields."""

    NAME: ClassVar[str] = "MME"
    MMTYPE: ClassVar[int] = -1
    VENDOR: ClassVar[bool] = False
    LAYOUT: ClassVar[tuple[Field, ...]] = ()

    dest: bytes
    source: bytes
    tail: bytes = b""

    # -- variable part (overridden by the few messages that have one) --------------------------
    def _encode_variable(self) -> bytes:
        return b""

    @classmethod
    def _decode_variable(cls, frame: bytes, start: int) -> tuple[dict[str, Any], int]:
        return {}, start

    @classmethod
    def fixed_end(cls) -> int:
        base = VENDOR_HEADER_END if cls.VENDOR else HEADER_END
        return max([base, *(f.offset + f.size for f in cls.LAYOUT)])

    # -- codec ----------------------------------------------------------------------------------
    def encode(self) -> bytes:
        for name, mac in (("dest", self.dest), ("source", self.source)):
            if len(mac) != 6:
                raise MmeError(f"{self.NAME}: {name} MAC must be 6 bytes, got {len(mac)}")
        end = self.fixed_end()
        out = bytearray(end)
        out[0:6] = self.dest
        out[6:12] = self.source
        out[12:14] = ETHERTYPE.to_bytes(2, "big")
        out[14] = 0 if self.VENDOR else 1
        out[15:17] = self.MMTYPE.to_bytes(2, "little")
        if self.VENDOR:
            out[17:20] = QUALCOMM_OUI
        for f in self.LAYOUT:
            value = getattr(self, f.name)
            if f.integer:
                if not 0 <= value < 1 << (8 * f.size):
                    raise MmeError(f"{self.NAME}: {f.name}={value} does not fit {f.size} byte(s)")
                out[f.offset : f.offset + f.size] = value.to_bytes(f.size, "little")
            else:
                if len(value) != f.size:
                    raise MmeError(f"{self.NAME}: {f.name} must be {f.size} bytes, got {len(value)}")
                out[f.offset : f.offset + f.size] = value
        out += self._encode_variable()
        out += self.tail
        if len(out) < MIN_FRAME:
            out += bytes(MIN_FRAME - len(out))
        return bytes(out)

    @classmethod
    def decode_body(cls, frame: bytes) -> Mme:
        """Decode a frame whose header already says it is this message."""
        end = cls.fixed_end()
        if len(frame) < end:
            raise MmeError(f"{cls.NAME}: truncated, {len(frame)} bytes where the layout needs {end}")
        expected_mmv = 0 if cls.VENDOR else 1
        if frame[14] != expected_mmv:
            raise MmeError(f"{cls.NAME}: MMV {frame[14]} where {expected_mmv} is expected")
        if cls.VENDOR:
            if frame[17:20] != QUALCOMM_OUI:
                raise MmeError(f"{cls.NAME}: vendor OUI {frame[17:20].hex()} is not Qualcomm 00b052")
        elif frame[17:19] != b"\x00\x00":
            raise MmeError(f"{cls.NAME}: fragmented MME (FMI {frame[17:19].hex()}) is not supported")
        values: dict[str, Any] = {}
        for f in cls.LAYOUT:
            chunk = frame[f.offset : f.offset + f.size]
            values[f.name] = int.from_bytes(chunk, "little") if f.integer else bytes(chunk)
        variable, end = cls._decode_variable(frame, end)
        values.update(variable)
        tail = bytes(frame[end:])
        if len(frame) <= MIN_FRAME and not any(tail):
            tail = b""  # plain padding: encode() adds it back
        record = cls(dest=bytes(frame[0:6]), source=bytes(frame[6:12]), tail=tail, **values)
        record.check()
        return record

    def check(self) -> None:
        """Consistency checks beyond the layout (length fields); raise :class:`MmeError`."""

    def fields_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("dest", "source", "tail")}


# -- CM_SLAC_PARAM (ccs-ev.md §2.2) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SlacParamReq(Mme):
    NAME = "CM_SLAC_PARAM.REQ"
    MMTYPE = 0x6064
    LAYOUT = (u8("application_type", 19), u8("security_type", 20), raw("run_id", 21, 8))
    run_id: bytes
    application_type: int = 0
    security_type: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SlacParamCnf(Mme):
    NAME = "CM_SLAC_PARAM.CNF"
    MMTYPE = 0x6065
    LAYOUT = (
        raw("msound_target", 19, 6), u8("num_sounds", 25), u8("time_out", 26), u8("resp_type", 27),
        raw("forwarding_sta", 28, 6), u8("application_type", 34), u8("security_type", 35), raw("run_id", 36, 8),
    )
    forwarding_sta: bytes
    run_id: bytes
    msound_target: bytes = BROADCAST
    num_sounds: int = 10
    time_out: int = 6
    resp_type: int = 1
    application_type: int = 0
    security_type: int = 0


# -- sounding ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StartAttenCharInd(Mme):
    NAME = "CM_START_ATTEN_CHAR.IND"
    MMTYPE = 0x606A
    LAYOUT = (
        u8("application_type", 19), u8("security_type", 20), u8("num_sounds", 21), u8("time_out", 22),
        u8("resp_type", 23), raw("forwarding_sta", 24, 6), raw("run_id", 30, 8),
    )
    forwarding_sta: bytes
    run_id: bytes
    num_sounds: int = 10
    time_out: int = 6  # ccs-ev.md §2.2: Compleo ignores the message with 10
    resp_type: int = 1
    application_type: int = 0
    security_type: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MnbcSoundInd(Mme):
    NAME = "CM_MNBC_SOUND.IND"
    MMTYPE = 0x6076
    LAYOUT = (
        u8("application_type", 19), u8("security_type", 20), raw("sender_id", 21, 17), u8("count", 38),
        raw("run_id", 39, 8), raw("reserved", 47, 8), raw("rnd", 55, 16),
    )
    count: int
    run_id: bytes
    sender_id: bytes = bytes(17)
    reserved: bytes = bytes(8)
    rnd: bytes = b"\xff" * 16
    application_type: int = 0
    security_type: int = 0


def _groups(frame: bytes, count_at: int, start: int, name: str) -> tuple[bytes, int]:
    count = frame[count_at]
    end = start + count
    if len(frame) < end:
        raise MmeError(f"{name}: truncated, {count} attenuation groups announced, {len(frame) - start} present")
    return bytes(frame[start:end]), end


@dataclass(frozen=True, slots=True, kw_only=True)
class _AttenuationGroups(Mme):
    """An MME whose layout ends in NumGroups, followed by one attenuation byte per group."""

    groups: bytes
    num_groups: int = -1  # -1: take len(groups)

    def __post_init__(self) -> None:
        if self.num_groups == -1:
            object.__setattr__(self, "num_groups", len(self.groups))

    def check(self) -> None:
        if self.num_groups != len(self.groups):
            raise MmeError(f"{self.NAME}: NumGroups {self.num_groups} but {len(self.groups)} groups")

    def _encode_variable(self) -> bytes:
        self.check()
        return self.groups

    @classmethod
    def _num_groups_at(cls) -> int:
        return next(f.offset for f in cls.LAYOUT if f.name == "num_groups")

    @classmethod
    def _decode_variable(cls, frame: bytes, start: int) -> tuple[dict[str, Any], int]:
        groups, end = _groups(frame, cls._num_groups_at(), start, cls.NAME)
        return {"groups": groups}, end


@dataclass(frozen=True, slots=True, kw_only=True)
class AttenCharInd(_AttenuationGroups):
    NAME = "CM_ATTEN_CHAR.IND"
    MMTYPE = 0x606E
    LAYOUT = (
        u8("application_type", 19), u8("security_type", 20), raw("source_address", 21, 6), raw("run_id", 27, 8),
        raw("source_id", 35, 17), raw("resp_id", 52, 17), u8("num_sounds", 69), u8("num_groups", 70),
    )
    source_address: bytes
    run_id: bytes
    num_sounds: int = 10
    source_id: bytes = bytes(17)
    resp_id: bytes = bytes(17)
    application_type: int = 0
    security_type: int = 0

    @property
    def mean_attenuation(self) -> float:
        return sum(self.groups) / len(self.groups) if self.groups else float("inf")


@dataclass(frozen=True, slots=True, kw_only=True)
class AttenCharRsp(Mme):
    NAME = "CM_ATTEN_CHAR.RSP"
    MMTYPE = 0x606F
    LAYOUT = (
        u8("application_type", 19), u8("security_type", 20), raw("source_address", 21, 6), raw("run_id", 27, 8),
        raw("source_id", 35, 17), raw("resp_id", 52, 17), u8("result", 69),
    )
    source_address: bytes
    run_id: bytes
    result: int = 0
    source_id: bytes = bytes(17)
    resp_id: bytes = bytes(17)
    application_type: int = 0
    security_type: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AttenProfileInd(_AttenuationGroups):
    """Emitted by an EVSE-side modem to its host for every sound it heard (ccs-ev.md §2.1)."""

    NAME = "CM_ATTEN_PROFILE.IND"
    MMTYPE = 0x6086
    LAYOUT = (raw("pev_mac", 19, 6), u8("num_groups", 25), u8("reserved", 26))
    pev_mac: bytes
    reserved: int = 0


# -- CM_SLAC_MATCH ------------------------------------------------------------------------------

_MATCH_COMMON = (
    u8("application_type", 19), u8("security_type", 20), u16("mvf_length", 21), raw("pev_id", 23, 17),
    raw("pev_mac", 40, 6), raw("evse_id", 46, 17), raw("evse_mac", 63, 6), raw("run_id", 69, 8),
    raw("reserved", 77, 8),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SlacMatchReq(Mme):
    NAME = "CM_SLAC_MATCH.REQ"
    MMTYPE = 0x607C
    LAYOUT = _MATCH_COMMON
    MVF_LENGTH: ClassVar[int] = 62
    pev_mac: bytes
    evse_mac: bytes
    run_id: bytes
    mvf_length: int = 62
    pev_id: bytes = bytes(17)
    evse_id: bytes = bytes(17)
    reserved: bytes = bytes(8)
    application_type: int = 0
    security_type: int = 0

    def check(self) -> None:
        if self.mvf_length != self.MVF_LENGTH:
            raise MmeError(f"{self.NAME}: MVFLength {self.mvf_length}, expected {self.MVF_LENGTH}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SlacMatchCnf(Mme):
    NAME = "CM_SLAC_MATCH.CNF"
    MMTYPE = 0x607D
    LAYOUT = (*_MATCH_COMMON, raw("nid", 85, 7), u8("reserved2", 92), raw("nmk", 93, 16))
    MVF_LENGTH: ClassVar[int] = 86
    pev_mac: bytes
    evse_mac: bytes
    run_id: bytes
    nid: bytes
    nmk: bytes
    mvf_length: int = 86
    pev_id: bytes = bytes(17)
    evse_id: bytes = bytes(17)
    reserved: bytes = bytes(8)
    reserved2: int = 0
    application_type: int = 0
    security_type: int = 0

    def check(self) -> None:
        if self.mvf_length != self.MVF_LENGTH:
            raise MmeError(f"{self.NAME}: MVFLength {self.mvf_length}, expected {self.MVF_LENGTH}")
        if self.nid[6] & 0xC0:
            raise MmeError(f"{self.NAME}: NID is 54 bits, top bits of byte 91 set ({self.nid.hex()})")


# -- modem keys (ccs-ev.md §2.3) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SetKeyReq(Mme):
    NAME = "CM_SET_KEY.REQ"
    MMTYPE = 0x6008
    LAYOUT = (
        u8("key_type", 19), raw("my_nonce", 20, 4), raw("your_nonce", 24, 4), u8("pid", 28), u16("prn", 29),
        u8("pmn", 31), u8("cco_capability", 32), raw("nid", 33, 7), u8("new_eks", 40), raw("nmk", 41, 16),
    )
    nid: bytes
    nmk: bytes
    key_type: int = 1
    my_nonce: bytes = b"\xaa" * 4
    your_nonce: bytes = bytes(4)
    pid: int = 4
    prn: int = 0
    pmn: int = 0
    cco_capability: int = 0
    new_eks: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class SetKeyCnf(Mme):
    """``result`` ≠ 0 from the local QCA modem means *accepted* (ccs-ev.md §2.4); it then reboots."""

    NAME = "CM_SET_KEY.CNF"
    MMTYPE = 0x6009
    LAYOUT = (u8("result", 19), raw("my_nonce", 20, 4), raw("your_nonce", 24, 4), u8("pid", 28), u16("prn", 29),
              u8("pmn", 31))
    result: int
    my_nonce: bytes = bytes(4)
    your_nonce: bytes = b"\xaa" * 4
    pid: int = 4
    prn: int = 0
    pmn: int = 0

    @property
    def accepted(self) -> bool:
        return self.result != 0


@dataclass(frozen=True, slots=True, kw_only=True)
class GetKeyReq(Mme):
    NAME = "CM_GET_KEY.REQ"
    MMTYPE = 0x600C
    LAYOUT = (u8("request_type", 19), u8("key_type", 20), raw("nid", 21, 7), raw("my_nonce", 28, 4), u8("pid", 32),
              u16("prn", 33), u8("pmn", 35))
    nid: bytes
    request_type: int = 0
    key_type: int = 1
    my_nonce: bytes = b"\xaa" * 4
    pid: int = 4
    prn: int = 0
    pmn: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class GetKeyCnf(Mme):
    NAME = "CM_GET_KEY.CNF"
    MMTYPE = 0x600D
    LAYOUT = (
        u8("result", 19), u8("key_type", 20), raw("my_nonce", 21, 4), raw("your_nonce", 25, 4), raw("nid", 29, 7),
        u8("eks", 36), u8("pid", 37), u16("prn", 38), u8("pmn", 40), raw("key", 41, 16),
    )
    result: int
    nid: bytes
    key: bytes = bytes(16)
    key_type: int = 1
    my_nonce: bytes = bytes(4)
    your_nonce: bytes = b"\xaa" * 4
    eks: int = 1
    pid: int = 4
    prn: int = 0
    pmn: int = 0


# -- Qualcomm vendor messages -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SwVerReq(Mme):
    NAME = "VS_SW_VER.REQ"
    MMTYPE = 0xA000
    VENDOR = True


MAX_VERSION_LENGTH = 0x2F


@dataclass(frozen=True, slots=True, kw_only=True)
class SwVerCnf(Mme):
    NAME = "VS_SW_VER.CNF"
    MMTYPE = 0xA001
    VENDOR = True
    LAYOUT = (u8("mstatus", 20), u8("device_id", 21), u8("version_length", 22))
    version: str
    device_id: int = 0x20  # 0x20 QCA7420, 0x22 QCA7000/QCA7005
    mstatus: int = 0
    version_length: int = -1  # -1: len(version) + 1 (the count includes the terminating zero)

    def __post_init__(self) -> None:
        if self.version_length == -1:
            object.__setattr__(self, "version_length", len(self.version) + 1)

    def check(self) -> None:
        if not 1 <= self.version_length <= MAX_VERSION_LENGTH:
            raise MmeError(f"{self.NAME}: version length {self.version_length} outside 1..{MAX_VERSION_LENGTH}")

    def _encode_variable(self) -> bytes:
        self.check()
        text = self.version.encode("ascii")
        if len(text) >= self.version_length:
            raise MmeError(f"{self.NAME}: version {self.version!r} longer than its length field allows")
        return text + bytes(self.version_length - len(text))

    @classmethod
    def _decode_variable(cls, frame: bytes, start: int) -> tuple[dict[str, Any], int]:
        length = frame[22]
        if not 1 <= length <= MAX_VERSION_LENGTH:
            raise MmeError(f"{cls.NAME}: version length {length} outside 1..{MAX_VERSION_LENGTH}")
        end = start + length
        if len(frame) < end:
            raise MmeError(f"{cls.NAME}: truncated version string ({len(frame) - start} of {length} bytes)")
        text = frame[start:end].split(b"\x00", 1)[0]
        if len(text) == length:
            raise MmeError(f"{cls.NAME}: version string not zero-terminated within {length} bytes")
        try:
            version = text.decode("ascii")
        except UnicodeDecodeError:
            raise MmeError(f"{cls.NAME}: version string is not ASCII: {text!r}") from None
        return {"version": version}, end


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownMme:
    """An MME we have no layout for (vendor PC-tool frames, 0xA14E, …): kept raw, reported, ignored."""

    NAME: ClassVar[str] = "unknown"
    dest: bytes
    source: bytes
    mmv: int
    mmtype: int
    body: bytes = field(default=b"")  # everything from offset 17 (FMI or OUI onwards)

    def encode(self) -> bytes:
        out = self.dest + self.source + ETHERTYPE.to_bytes(2, "big") + bytes([self.mmv])
        out += self.mmtype.to_bytes(2, "little") + self.body
        return out + bytes(max(0, MIN_FRAME - len(out)))


MESSAGES: dict[int, type[Mme]] = {
    cls.MMTYPE: cls
    for cls in (
        SlacParamReq, SlacParamCnf, StartAttenCharInd, MnbcSoundInd, AttenCharInd, AttenCharRsp, AttenProfileInd,
        SlacMatchReq, SlacMatchCnf, SetKeyReq, SetKeyCnf, GetKeyReq, GetKeyCnf, SwVerReq, SwVerCnf,
    )
}

#: Base MMTYPE → name, for reporting MMTYPEs we only name (ccs-ev.md §2.1 table).
KNOWN_NAMES = {0x6078: "CM_VALIDATE"}

Frame = Mme | UnknownMme


def is_homeplug(frame: bytes) -> bool:
    return len(frame) >= 14 and frame[12:14] == b"\x88\xe1"


def mmtype_of(frame: bytes) -> int:
    if len(frame) < 17:
        raise MmeError(f"truncated HomePlug header: {len(frame)} bytes, need 17")
    return int.from_bytes(frame[15:17], "little")


def decode(frame: bytes) -> Frame:
    """Decode one Ethernet frame of ethertype 0x88E1 into a typed record."""
    if len(frame) < 17:
        raise MmeError(f"truncated HomePlug header: {len(frame)} bytes, need 17")
    if not is_homeplug(frame):
        raise MmeError(f"not a HomePlug frame: ethertype {frame[12:14].hex()}")
    mmtype = mmtype_of(frame)
    cls = MESSAGES.get(mmtype)
    if cls is None:
        return UnknownMme(dest=bytes(frame[0:6]), source=bytes(frame[6:12]), mmv=frame[14], mmtype=mmtype,
                          body=bytes(frame[17:]))
    return cls.decode_body(frame)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    return value


_MAC_FIELDS = {"forwarding_sta", "source_address", "pev_mac", "evse_mac", "msound_target"}


def describe(frame: bytes | Frame) -> dict[str, Any]:
    """A JSON-ready summary of one HomePlug frame (used by ``ccs2chademo pcap``).

    Never raises for bad bytes: a frame that does not decode is described with ``error``.
    """
    if isinstance(frame, bytes | bytearray):
        raw_bytes = bytes(frame)
        try:
            frame = decode(raw_bytes)
        except MmeError as exc:
            out: dict[str, Any] = {"type": "invalid", "error": str(exc), "length": len(raw_bytes)}
            if len(raw_bytes) >= 17 and is_homeplug(raw_bytes):
                out["mmtype"] = f"0x{mmtype_of(raw_bytes):04x}"
            return out
    info: dict[str, Any] = {"dest": format_mac(frame.dest), "source": format_mac(frame.source)}
    if isinstance(frame, UnknownMme):
        base = frame.mmtype & ~3
        info.update(type=KNOWN_NAMES.get(base, "unknown"), mmtype=f"0x{frame.mmtype:04x}", mmv=frame.mmv,
                    length=len(frame.body) + 17)
        return info
    info.update(type=frame.NAME, mmtype=f"0x{frame.MMTYPE:04x}")
    for name, value in frame.fields_dict().items():
        if name in _MAC_FIELDS:
            info[name] = format_mac(value)
        elif name == "groups":
            info[name] = list(value)
        elif name in ("reserved", "reserved2", "sender_id", "pev_id", "evse_id", "source_id", "resp_id") and not any(
            value if isinstance(value, bytes) else [value]
        ):
            continue
        else:
            info[name] = _jsonable(value)
    return info
