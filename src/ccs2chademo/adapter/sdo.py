"""The openinverter SDO server of the CAN-controlled EV mode: expedited CANopen SDO requests on
0x600 + node id, answers on 0x580 + node id (issue 13).

Why a server of our own: a ZombieVerter VCU configures the charge controller over SDO at start
(``ConfigFoccci=1``: clear the CAN map, add its entries one by one, save), and tools read and
write parameters the same way.  This module is sans-I/O: :meth:`SdoServer.handle` takes the 8
data bytes of one request and the parameters' present values and returns the answer and what
changed; the clara car side (:mod:`.clara_side`) owns the frames and applies the changes.

The protocol facts (ccs32clara / ZombieVerter public sources; CANopen expedited SDO):

* byte 0 the command: ``0x40`` read; ``0x23`` / ``0x2B`` / ``0x2F`` write 4 / 2 / 1 bytes
  (``0x22``, size not indicated, is taken as 4); answers ``0x43`` (read, 4 bytes), ``0x60``
  (write done), ``0x80`` abort with a 4-byte abort code; bytes 1–2 the index (little-endian),
  byte 3 the subindex, bytes 4–7 the data (little-endian).
* ``0x2100 | uid >> 8``, subindex ``uid & 0xff``: a parameter by its unique id
  (:data:`.clara_map.PARAMETERS`), as openinverter fixed point (value × 32, signed 32 bit).
* ``0x3000`` / ``0x3001``: add a sent / received map entry in three writes — subindex 0 the
  frame id (32 bit), 1 the parameter uid (16 bit), start bit and length (8 bit each), 2 the gain
  in thousandths (signed 24 bit) and the offset (signed 8 bit).  The entry is added only when
  the third write arrives and the map with it validates: **nothing is applied half-way**.
* ``0x3100 + n`` / ``0x3180 + n`` (n = 0…63): the map's *n*-th sent / received frame, read entry
  by entry as openinverter does (jsphuebner/libopeninv ``src/cansdo.cpp``, ``ReadOrDeleteCanMap``;
  ``src/canmap.cpp``, ``GetMap``): subindex 0 reads the frame id, subindex 2k+1 the k-th entry's
  uid, start bit and length, subindex 2k+2 its gain and offset — the words the three writes of
  ``0x3000`` carried, byte for byte; a frame or entry that is not there is an abort
  ``0x06020000``.  A write of 0 removes the entry max(0, subindex − 1) / 2 of that frame; when it
  was the frame's last, openinverter moves its last frame into the freed place (``CanMap::Remove``)
  and so do we, so later reads number the frames as openinverter would.  With nothing there the
  answer is an abort (ZombieVerter clears the map by writing ``0x3100`` subindex 0 until it gets
  one).
* ``0x5002`` subindex 0: save — openinverter keeps the CAN map and its parameters (not the test
  parameters, i.e. the VCU's inputs: libopeninv ``src/sdocommands.cpp``, ``src/param_save.cpp``).
  The outcome carries a :class:`Persist` (the map and the settings); keeping it is the caller's
  business — the clara side validates it as a ``[clara]`` table and hands it to the runtime, which
  writes the configuration file.  An entry still being built is not saved (the save ends it).
* settings (:data:`.clara_map.PARAMETERS` with a ``setting``: node id, demo voltage, demo control,
  maximum pin temperature, lock run time) are read and written like any parameter, in whole
  numbers (and one of the ``choices``); they take effect from the next start.

Every malformed request — a short frame, an unknown command, index or subindex, a value out of
range, a map entry the map rejects — gets an abort with its CANopen code, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from .clara_map import PARAMETERS_BY_UID, CanMap, CanMapError, Direction, MapEntry, validate_map

REQUEST_BASE = 0x600
ANSWER_BASE = 0x580
FIXED_POINT = 32  # openinverter parameters: 5 fractional bits

CMD_READ = 0x40
CMD_READ_ANSWER = 0x43
CMD_WRITE_DONE = 0x60
CMD_ABORT = 0x80
#: write command → number of data bytes
WRITE_SIZES = {0x23: 4, 0x2B: 2, 0x2F: 1, 0x22: 4}

INDEX_PARAM_UID = 0x2100
INDEX_MAP_SENT = 0x3000
INDEX_MAP_RECEIVED = 0x3001
INDEX_MAP_ITEMS_SENT = 0x3100  # + n: the n-th sent frame, read (and removed) entry by entry
INDEX_MAP_ITEMS_RECEIVED = 0x3180  # + n: the n-th received frame
MAP_ITEMS_RECEIVED_BIT = 0x80
MAP_FRAME_MASK = 0x3F
INDEX_COMMANDS = 0x5002
SUB_SAVE = 0


class SdoAbort(IntEnum):
    """CANopen SDO abort codes the server answers with."""

    COMMAND_UNKNOWN = 0x05040001
    READ_ONLY = 0x06010002
    NO_OBJECT = 0x06020000
    LENGTH = 0x06070010
    NO_SUBINDEX = 0x06090011
    VALUE_RANGE = 0x06090030
    GENERAL = 0x08000000


@dataclass(frozen=True, slots=True)
class Persist:
    """What a save keeps: the CAN map and the settings (parameter name → value)."""

    can_map: CanMap
    settings: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class SdoOutcome:
    """What one request did: the answer's 8 data bytes, the abort code if it was refused, the
    parameter writes to apply (name → physical value), the new map if it changed, and what to
    keep when a save was asked for."""

    answer: bytes
    abort: SdoAbort | None = None
    index: int = 0
    subindex: int = 0
    written: Mapping[str, float] = field(default_factory=dict)
    new_map: CanMap | None = None
    persist: Persist | None = None


@dataclass(slots=True)
class _Pending:
    """A map entry being built by the three writes of 0x3000/0x3001."""

    direction: Direction
    frame_id: int
    param: str | None = None
    start: int = 0
    length: int = 0


def entry_words(entry: MapEntry) -> tuple[int, int]:
    """The two data words of a map entry as the second and third write of ``0x3000`` / ``0x3001``
    carry them, and as ``0x3100 + n`` reads give them back: (uid | start << 16 | length << 24,
    gain in thousandths as signed 24 bit | offset << 24)."""
    return (entry.spec.uid | entry.start << 16 | entry.length << 24,
            round(entry.gain * 1000) & 0xFFFFFF | (entry.offset & 0xFF) << 24)


def _answer(command: int, index: int, subindex: int, payload: int = 0) -> bytes:
    return bytes((command, index & 0xFF, index >> 8 & 0xFF, subindex)) + (payload & 0xFFFFFFFF).to_bytes(4, "little")


class SdoServer:
    """One node's SDO server over a CAN map (see the module docstring).  Its only state is the map
    and the map entry under construction."""

    def __init__(self, node_id: int, can_map: CanMap) -> None:
        if not 1 <= node_id <= 127:
            raise ValueError("node id must be 1…127")
        self.node_id = node_id
        self.can_map = can_map
        self._pending: _Pending | None = None

    @property
    def request_id(self) -> int:
        return REQUEST_BASE + self.node_id

    @property
    def answer_id(self) -> int:
        return ANSWER_BASE + self.node_id

    def _abort(self, index: int, subindex: int, code: SdoAbort) -> SdoOutcome:
        return SdoOutcome(_answer(CMD_ABORT, index, subindex, code), code, index, subindex)

    def refuse(self, outcome: SdoOutcome, code: SdoAbort) -> SdoOutcome:
        """``outcome`` answered with an abort instead (a save the caller cannot keep: openinverter
        answers a save it cannot do with ``0x08000000``); nothing of it is applied."""
        return self._abort(outcome.index, outcome.subindex, code)

    def handle(self, data: bytes, values: Mapping[str, float]) -> SdoOutcome:
        """Answer one request; ``values`` are the parameters' present values (for reads)."""
        head = bytes(data[:4]).ljust(4, b"\0")
        command, index, subindex = head[0], int.from_bytes(head[1:3], "little"), head[3]
        if len(data) < 8:
            self._pending = None
            return self._abort(index, subindex, SdoAbort.LENGTH)
        payload = bytes(data[4:8])
        if command == CMD_READ:
            return self._read(index, subindex, values)
        size = WRITE_SIZES.get(command)
        if size is None:
            self._pending = None
            return self._abort(index, subindex, SdoAbort.COMMAND_UNKNOWN)
        return self._write(index, subindex, payload, size, values)

    # ------------------------------------------------------------------ reads
    def _read(self, index: int, subindex: int, values: Mapping[str, float]) -> SdoOutcome:
        if index & 0xFF00 == INDEX_MAP_ITEMS_SENT:
            return self._map_read(index, subindex)
        if index & 0xFF00 != INDEX_PARAM_UID:
            return self._abort(index, subindex, SdoAbort.NO_OBJECT)
        spec = PARAMETERS_BY_UID.get((index & 0xFF) << 8 | subindex)
        if spec is None:
            return self._abort(index, subindex, SdoAbort.NO_OBJECT)
        raw = round(values.get(spec.name, 0.0) * FIXED_POINT)
        return SdoOutcome(_answer(CMD_READ_ANSWER, index, subindex, raw), None, index, subindex)

    def _map_item(self, index: int, subindex: int) -> tuple[Direction, int, int, int, MapEntry] | None:
        """What ``0x3100 + n`` / ``0x3180 + n`` subindex points at: (direction, frame number, frame
        id, entry number, entry), or None when the map has no such frame or entry."""
        direction = Direction.RECEIVED if index & MAP_ITEMS_RECEIVED_BIT else Direction.SENT
        frames = self.can_map.frames(direction)
        n, item = index & MAP_FRAME_MASK, max(0, subindex - 1) // 2
        if n >= len(frames) or item >= len(frames[n][1]):
            return None
        frame_id, entries = frames[n]
        return direction, n, frame_id, item, entries[item]

    def _map_read(self, index: int, subindex: int) -> SdoOutcome:
        found = self._map_item(index, subindex)
        if found is None:
            return self._abort(index, subindex, SdoAbort.NO_OBJECT)
        _, _, frame_id, _, entry = found
        ids, gains = entry_words(entry)
        payload = frame_id if subindex == 0 else ids if subindex & 1 else gains
        return SdoOutcome(_answer(CMD_READ_ANSWER, index, subindex, payload), None, index, subindex)

    # ------------------------------------------------------------------ writes
    def _write(self, index: int, subindex: int, payload: bytes, size: int, values: Mapping[str, float]) -> SdoOutcome:
        if index in (INDEX_MAP_SENT, INDEX_MAP_RECEIVED):
            return self._map_add(index, subindex, payload)
        self._pending = None  # any other request ends an entry under construction
        if index & 0xFF00 == INDEX_PARAM_UID:
            return self._param_write(index, subindex, int.from_bytes(payload[:size], "little", signed=True))
        if index & 0xFF00 == INDEX_MAP_ITEMS_SENT:
            return self._map_remove(index, subindex, int.from_bytes(payload[:size], "little"))
        if index == INDEX_COMMANDS:
            if subindex != SUB_SAVE:
                return self._abort(index, subindex, SdoAbort.NO_SUBINDEX)
            settings = {p.name: values.get(p.name, 0.0) for p in PARAMETERS_BY_UID.values() if p.setting is not None}
            return SdoOutcome(_answer(CMD_WRITE_DONE, index, subindex), None, index, subindex,
                              persist=Persist(self.can_map, settings))
        return self._abort(index, subindex, SdoAbort.NO_OBJECT)

    def _param_write(self, index: int, subindex: int, raw: int) -> SdoOutcome:
        spec = PARAMETERS_BY_UID.get((index & 0xFF) << 8 | subindex)
        if spec is None:
            return self._abort(index, subindex, SdoAbort.NO_OBJECT)
        if spec.direction is not Direction.RECEIVED:
            return self._abort(index, subindex, SdoAbort.READ_ONLY)
        value = raw / FIXED_POINT
        whole = value.is_integer() and (not spec.choices or int(value) in spec.choices)
        if not spec.minimum <= value <= spec.maximum or (spec.setting is not None and not whole):
            return self._abort(index, subindex, SdoAbort.VALUE_RANGE)
        return SdoOutcome(_answer(CMD_WRITE_DONE, index, subindex), None, index, subindex, written={spec.name: value})

    def _map_remove(self, index: int, subindex: int, data: int) -> SdoOutcome:
        found = self._map_item(index, subindex)
        if found is None or data != 0:  # openinverter removes only on a write of 0
            return self._abort(index, subindex, SdoAbort.GENERAL)
        direction, n, frame_id, item, _ = found
        frames = self.can_map.frames(direction)
        rest = frames[n][1][:item] + frames[n][1][item + 1:]
        if rest:
            frames[n] = (frame_id, rest)
        else:  # the frame's last entry: its place goes to the last frame (libopeninv CanMap::Remove)
            last = frames.pop()
            if n < len(frames):
                frames[n] = last
        kept = [e for _, entries in frames for e in entries]
        other = [e for e in self.can_map.entries if e.spec.direction is not direction]
        # a subset of a valid map is valid; the sent frames first, then the received ones
        self.can_map = validate_map((*kept, *other) if direction is Direction.SENT else (*other, *kept))
        return SdoOutcome(_answer(CMD_WRITE_DONE, index, subindex), None, index, subindex, new_map=self.can_map)

    def _map_add(self, index: int, subindex: int, payload: bytes) -> SdoOutcome:
        direction = Direction.SENT if index == INDEX_MAP_SENT else Direction.RECEIVED
        pending = self._pending
        self._pending = None  # restored below only when this step is accepted
        if subindex == 0:
            frame_id = int.from_bytes(payload, "little")
            if frame_id > 0x7FF:
                return self._abort(index, subindex, SdoAbort.VALUE_RANGE)
            self._pending = _Pending(direction, frame_id)
            return SdoOutcome(_answer(CMD_WRITE_DONE, index, subindex), None, index, subindex)
        if subindex not in (1, 2):
            return self._abort(index, subindex, SdoAbort.NO_SUBINDEX)
        if pending is None or pending.direction is not direction or (subindex == 1) != (pending.param is None):
            return self._abort(index, subindex, SdoAbort.GENERAL)  # out of sequence
        if subindex == 1:
            spec = PARAMETERS_BY_UID.get(int.from_bytes(payload[:2], "little"))
            if spec is None:
                return self._abort(index, subindex, SdoAbort.VALUE_RANGE)
            pending.param, pending.start, pending.length = spec.name, payload[2], payload[3]
            self._pending = pending
            return SdoOutcome(_answer(CMD_WRITE_DONE, index, subindex), None, index, subindex)
        gain = int.from_bytes(payload[:3], "little", signed=True) / 1000.0
        offset = int.from_bytes(payload[3:4], "little", signed=True)
        assert pending.param is not None
        entry = MapEntry(pending.param, pending.frame_id, pending.start, pending.length, gain, offset)
        if entry.spec.direction is not direction:
            return self._abort(index, subindex, SdoAbort.GENERAL)
        try:
            new_map = validate_map((*self.can_map.entries, entry))
        except CanMapError:
            return self._abort(index, subindex, SdoAbort.GENERAL)
        self.can_map = new_map
        return SdoOutcome(_answer(CMD_WRITE_DONE, index, subindex), None, index, subindex, new_map=new_map)


def request(command: int, index: int, subindex: int, payload: int = 0) -> bytes:
    """The 8 data bytes of a request (for clients: the simulated VCU, tests)."""
    return _answer(command, index, subindex, payload)


def param_index(uid: int) -> tuple[int, int]:
    """(index, subindex) of a parameter by unique id."""
    return INDEX_PARAM_UID | uid >> 8, uid & 0xFF
