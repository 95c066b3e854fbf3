"""The fuzz targets: one per parser that meets outside bytes, with the one error it may raise.

A target is ``run(data)`` plus the exception types its parser documents for bad input; the
harness (``tools/fuzz/run.py``) treats anything else as a finding, as it does a hang (> 1 s for
one input) or memory growth beyond 50 MB.  ``seeds(data_dir)`` yields the starting corpus from
the real data in ``../shared/data`` (data/README.md) — real bytes, so the fuzzer starts deep
inside each format instead of at its first length check.

Inputs that need more than one value (a CAN ID and its data, a file format and its content) take
their first byte(s) as the selector, so one byte string is always one reproducible case.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import can
import dpkt

from ccs2chademo import exi
from ccs2chademo.adapter.config import ConfigError, load_config
from ccs2chademo.canlog.reader import CanLog, CanLogError
from ccs2chademo.canlog.writer import write_log
from ccs2chademo.chademo.codec import ChademoFrameError, default_codec
from ccs2chademo.chademo.frames import decode as decode_chademo
from ccs2chademo.drivers.pcapng import PcapngWriter
from ccs2chademo.homeplug import frames as homeplug
from ccs2chademo.pcap.extract import extract
from ccs2chademo.pcap.frames import SdpDatagram, TcpSegment, classify
from ccs2chademo.pcap.jsonl import raw_record_json, v2g_record_json
from ccs2chademo.pcap.reader import LINKTYPE_ETHERNET, Frame, PcapError, read_frames
from ccs2chademo.runtime.events import CanFrame
from ccs2chademo.v2g import codec, sdp, v2gtp
from ccs2chademo.v2g.messages import Schema


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes], None]
    allowed: tuple[type[BaseException], ...]
    seeds: Callable[[Path], Iterator[bytes]]
    max_len: int = 4096
    doc: str = ""


# ------------------------------------------------------------------------------ seeds from shared/data


def _vectors(data_dir: Path, schema: str) -> Iterator[bytes]:
    with (data_dir / "exi-vectors.jsonl").open() as fh:
        for line in fh:
            vector = json.loads(line)
            if vector["schema"] == schema:
                yield bytes.fromhex(vector["hex"])


def _captures(data_dir: Path, limit: int = 200_000) -> list[Path]:
    return sorted(p for p in (data_dir / "captures").glob("*.pcapng") if p.stat().st_size <= limit)


def _ethernet(data_dir: Path) -> Iterator[bytes]:
    for path in _captures(data_dir):
        for frame in read_frames(path):
            yield frame.data


def _homeplug_seeds(data_dir: Path) -> Iterator[bytes]:
    seen: set[int] = set()
    for frame in _ethernet(data_dir):
        if homeplug.is_homeplug(frame) and len(frame) >= 17:
            mmtype = homeplug.mmtype_of(frame)
            if mmtype not in seen:  # one per MMTYPE: the fuzzer mutates, it needs no duplicates
                seen.add(mmtype)
                yield frame


def _records(data_dir: Path, kind: str) -> Iterator[bytes]:
    for path in _captures(data_dir):
        for record in extract(path).raw:
            if record.kind == kind:
                yield record.data


def _v2gtp_seeds(data_dir: Path) -> Iterator[bytes]:
    for path in _captures(data_dir)[:3]:
        payloads = [m.payload for m in extract(path).messages][:12]
        if payloads:
            yield b"".join(v2gtp.encode(p) for p in payloads)
    yield from _records(data_dir, "sdp")


#: Largest pcap input: libFuzzer's cost per input grows with its frames, and a mutation touches one.
_PCAP_MAX_LEN = 8192
#: Bytes of Ethernet frames in a capture cut from a real one: the first SLAC messages, or SDP,
#: the TCP handshake and the first V2G requests and responses (≈ 20 frames).
_PCAP_WINDOW = 3000


def _pcap_seeds(data_dir: Path) -> Iterator[bytes]:
    """The small real captures whole (their own section and interface blocks), then cut from
    every capture: its first frames, and its V2G frames alone (SDP and TCP; the rest of a sniff
    is skipped by the extraction anyway) — each :data:`_PCAP_WINDOW` bytes of frames, written as
    pcapng and, every other capture, classic pcap (the real captures are all pcapng).  Whole large
    captures would make every input slow and spend it re-reading frames no mutation touched."""
    for path in _captures(data_dir, limit=_PCAP_MAX_LEN):
        yield path.read_bytes()
    for index, path in enumerate(_captures(data_dir, limit=1 << 30)):
        frames = list(read_frames(path))
        v2g = [f for f in frames if isinstance(classify(f), SdpDatagram | TcpSegment)]
        for window in (frames, v2g) if v2g else (frames,):
            yield _pcap_file(list(_window(window, _PCAP_WINDOW)), classic=index % 2 == 1)


def _window(frames: list[Frame], size: int) -> Iterator[Frame]:
    for frame in frames:
        size -= len(frame.data)
        if size < 0:
            return
        yield frame


def _pcap_file(frames: list[Frame], classic: bool) -> bytes:
    out = io.BytesIO()
    if classic:
        writer = dpkt.pcap.Writer(out, linktype=LINKTYPE_ETHERNET)
        for frame in frames:
            writer.writepkt(frame.data, frame.time)
    else:
        pcapng = PcapngWriter(out)
        for frame in frames:
            pcapng.write(frame.time, frame.data)
    return out.getvalue()


def _can_seeds(data_dir: Path) -> Iterator[bytes]:
    for message in _log_messages(data_dir, 400):
        if message.arbitration_id <= 0x7FF:
            yield message.arbitration_id.to_bytes(2, "big") + bytes(message.data)


def _log_messages(data_dir: Path, count: int) -> list[can.Message]:
    log = CanLog(data_dir / "chademo" / "leaf-ze0-v2x-evse-start-stop.csv")
    messages: list[can.Message] = []
    for message in log:
        messages.append(message)
        if len(messages) >= count:
            break
    return messages


def _head(path: Path, lines: int) -> bytes:
    with path.open("rb") as fh:
        return b"".join(fh.readline() for _ in range(lines))


def _canlog_seeds(data_dir: Path) -> Iterator[bytes]:
    chademo = data_dir / "chademo"
    yield bytes([_CANLOG_SUFFIXES.index(".csv")]) + _head(chademo / "leaf-ze0-v2x-evse-start-stop.csv", 30)
    yield bytes([_CANLOG_SUFFIXES.index(".csv")]) + _head(chademo / "zombieverter" / "FailedInstaVolt.csv", 30)
    yield bytes([_CANLOG_SUFFIXES.index(".txt")]) + _head(chademo / "diy-car-177v-session.txt", 30)
    messages = _log_messages(data_dir, 20)
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".log", ".asc", ".trc", ".blf"):  # python-can's writers give real files of each format
            out = Path(tmp) / f"seed{suffix}"
            write_log(messages, out)
            yield bytes([_CANLOG_SUFFIXES.index(suffix)]) + out.read_bytes()


def _config_seeds(data_dir: Path) -> Iterator[bytes]:
    examples = Path(__file__).resolve().parents[2] / "examples"
    for path in sorted(examples.glob("*.toml")):
        yield path.read_bytes()
    yield b'preset = "v2x"\n'
    yield b'mode = "clara"\n[clara]\n'


# ------------------------------------------------------------------------------ the targets


def _exi(schema: str) -> Callable[[bytes], None]:
    """The EXI decoder of one schema, then what the product does with a decoded message: the
    neutral V2G codec (requests and responses) and the JSON form of ``ccs2chademo exi``."""
    v2g_schema = None if schema == "apphand" else Schema(schema)

    def run(data: bytes) -> None:
        for decode in (codec.decode_request, codec.decode_response):
            with contextlib.suppress(codec.CodecError):
                decode(data, v2g_schema)
        exi.to_json(exi.decode(data, schema))

    return run


def _twin(schema: str) -> Callable[[bytes], None]:
    """Differential: a codec's twin written for compilation (``exi/native/``) and the pure module
    give the same JSON and bytes, or the same error at the same bit, for any input."""

    def run(data: bytes) -> None:
        pure = exi.SCHEMAS[schema]
        twin = importlib.import_module(f"ccs2chademo.exi.native.{schema}")
        outcomes: list[tuple[object, object]] = []
        for module in (pure, twin):
            try:
                doc = exi.decode_with(module, data)
                outcomes.append((exi.to_json(doc), exi.encode(doc)))
            except exi.ExiError as err:
                outcomes.append((type(err).__name__, str(err)))
        if outcomes[0] != outcomes[1]:
            raise AssertionError(f"the {schema} twin differs from the pure module: {outcomes[1]!r} != {outcomes[0]!r}")

    return run


def _v2gtp(data: bytes) -> None:
    """The TCP stream reassembler fed in pieces of the size the first byte says, then the datagram decoder."""
    body = data[1:]
    step = (data[0] if data else 0) or len(body) or 1
    stream = v2gtp.V2gtpStream()
    try:
        for start in range(0, len(body), step):
            stream.feed(body[start : start + step])
    except v2gtp.V2gtpError:
        pass
    v2gtp.decode(body)


def _sdp(data: bytes) -> None:
    sdp.describe(data)
    with contextlib.suppress(sdp.SdpError):
        sdp.decode_request(data)
    sdp.decode_response(data)


def _homeplug(data: bytes) -> None:
    homeplug.describe(data)
    homeplug.decode(data)


def _chademo(data: bytes) -> None:
    """Two bytes of CAN ID (11 bits), then up to eight data bytes, as a frame off the bus."""
    if len(data) < 2:
        return
    frame = CanFrame(int.from_bytes(data[:2], "big") & 0x7FF, data[2:10])
    with contextlib.suppress(ChademoFrameError):
        default_codec().decode_frame(frame)
    decode_chademo(frame)


_CANLOG_SUFFIXES = (".csv", ".txt", ".log", ".asc", ".trc", ".blf", ".log.gz")
_TMP = Path(os.environ.get("FUZZ_TMP", "/dev/shm" if Path("/dev/shm").is_dir() else tempfile.gettempdir()))


def _canlog(data: bytes) -> None:
    """A log of the format the first byte picks (by the extension of its name; our two text
    formats are recognised by their first line whatever the name), read leniently, then strictly
    — from memory, through the same readers a file goes through."""
    if not data:
        return
    name = "fuzz" + _CANLOG_SUFFIXES[data[0] % len(_CANLOG_SUFFIXES)]
    for strict in (False, True):
        for _ in CanLog(data[1:], strict=strict, name=name):
            pass


def _pcap(data: bytes) -> None:
    """The capture reader and everything ``ccs2chademo pcap`` does with what it reads."""
    extraction = extract(data)
    for message in extraction.messages:
        v2g_record_json(message)
    for record in extraction.raw:
        raw_record_json(record)


def _config(data: bytes) -> None:
    path = _TMP / f"ccs2chademo-fuzz-{os.getpid()}.toml"
    path.write_bytes(data)
    try:
        load_config(path)
    finally:
        path.unlink()


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("exi-apphand", _exi("apphand"), (exi.ExiError,), lambda d: _vectors(d, "apphand"), 512,
               "EXI SupportedAppProtocol decoder → V2G codec → JSON"),
        Target("exi-din", _exi("din"), (exi.ExiError,), lambda d: _vectors(d, "din"), 1024,
               "EXI DIN SPEC 70121 decoder → V2G codec → JSON"),
        Target("exi-din-twin", _twin("din"), (), lambda d: _vectors(d, "din"), 1024,
               "EXI DIN: the compiled codec's twin against the pure module (differential)"),
        Target("exi-iso2", _exi("iso2"), (exi.ExiError,), lambda d: _vectors(d, "iso2"), 1024,
               "EXI ISO 15118-2 decoder → V2G codec → JSON"),
        Target("exi-iso2-twin", _twin("iso2"), (), lambda d: _vectors(d, "iso2"), 1024,
               "EXI ISO 15118-2: the compiled codec's twin against the pure module (differential)"),
        Target("v2gtp", _v2gtp, (v2gtp.V2gtpError,), _v2gtp_seeds, 2048, "V2GTP stream reassembly and datagrams"),
        Target("sdp", _sdp, (sdp.SdpError,), lambda d: _records(d, "sdp"), 64, "SDP request/response decoders"),
        Target("homeplug", _homeplug, (homeplug.MmeError,), _homeplug_seeds, 1600, "HomePlug MME decoder"),
        Target("chademo", _chademo, (ChademoFrameError,), _can_seeds, 10, "CHAdeMO frame codec and dataclasses"),
        Target("canlog", _canlog, (CanLogError,), _canlog_seeds, 8192, "CAN log readers (every format)"),
        Target("pcap", _pcap, (PcapError,), _pcap_seeds, _PCAP_MAX_LEN, "pcap/pcapng reader → V2G extraction → JSON"),
        Target("config", _config, (ConfigError,), _config_seeds, 4096, "the TOML configuration"),
    )
}
