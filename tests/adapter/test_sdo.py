"""The openinverter SDO server of the clara mode: ZombieVerter's map configuration byte for byte,
parameter reads and writes, and every malformed request answered with an abort — nothing applied
half-way (issue 13)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.adapter.clara_map import DEFAULT_MAP, CanMap, MapEntry, validate_map
from ccs2chademo.adapter.sdo import SdoAbort, SdoServer, param_index, request
from ccs2chademo.sim.zombie_vcu import zombieverter_configuration

VALUES = {"soc": 42.0, "EvseVoltage": 390.5}


def server(can_map: CanMap = DEFAULT_MAP) -> SdoServer:
    return SdoServer(22, can_map)


def abort_code(answer: bytes) -> int:
    assert answer[0] == 0x80
    return int.from_bytes(answer[4:], "little")


def test_ids_follow_the_node_id() -> None:
    assert (server().request_id, server().answer_id) == (0x616, 0x596)


def test_zombieverter_configuration_byte_for_byte() -> None:
    """What ZombieVerter sends with ConfigFoccci=1: clear the sent and received map (until the
    abort), 10 sent and 7 received entries in three writes each, save."""
    frames = zombieverter_configuration()
    assert frames[0] == bytes.fromhex("2300310000000000")  # clear the sent map (repeated until abort)
    assert frames[1] == bytes.fromhex("2380310000000000")
    assert frames[2:5] == [bytes.fromhex("2300300009010000"), bytes.fromhex("23003001d6070010"),
                           bytes.fromhex("23003002e8030000")]
    assert frames[-4:-1] == [bytes.fromhex("2301300058030000"), bytes.fromhex("2301300120000701"),
                             bytes.fromhex("23013002e8030000")]
    assert frames[-1] == bytes.fromhex("2302500000000000")
    sdo = server()
    answers = []
    for frame in [frames[0]] * 11 + [frames[1]] * 8 + frames[2:]:
        answers.append(sdo.handle(frame, VALUES))
    # 10 sent entries removed, then the abort that ends the clearing; likewise 7 received ones
    assert [a.abort for a in answers[:11]] == [None] * 10 + [SdoAbort.GENERAL]
    assert [a.abort for a in answers[11:19]] == [None] * 7 + [SdoAbort.GENERAL]
    assert all(a.abort is None and a.answer[0] == 0x60 for a in answers[19:])
    saved = answers[-1].persist
    assert saved is not None and saved.can_map == sdo.can_map
    assert set(sdo.can_map.entries) == set(DEFAULT_MAP.entries)


def configured() -> SdoServer:
    """A server after ZombieVerter's configuration (the map cleared, then written entry by entry)."""
    frames = zombieverter_configuration()
    sdo = server()
    for frame in [frames[0]] * 11 + [frames[1]] * 8 + frames[2:]:
        sdo.handle(frame, VALUES)
    return sdo


def test_the_map_reads_back_byte_for_byte_what_zombieverter_wrote() -> None:
    """0x3100 + n (sent) / 0x3180 + n (received), as openinverter numbers them: subindex 0 the
    frame id, 2k+1 and 2k+2 the k-th entry — the data bytes of ZombieVerter's own writes."""
    sdo = configured()
    writes = zombieverter_configuration()[2:-1]
    expected: dict[tuple[int, int], list[bytes]] = {}  # (0x3000 / 0x3001, frame id) → its writes' data
    for sub0, sub1, sub2 in zip(writes[::3], writes[1::3], writes[2::3], strict=True):
        key = (int.from_bytes(sub0[1:3], "little"), int.from_bytes(sub0[4:], "little"))
        expected.setdefault(key, [sub0[4:]]).extend((sub1[4:], sub2[4:]))
    frame_numbers: dict[int, int] = {}
    read = 0
    for (index, _), words in expected.items():
        n = frame_numbers[index] = frame_numbers.get(index, -1) + 1
        base = 0x3100 if index == 0x3000 else 0x3180
        for subindex, data in enumerate(words):
            answer = sdo.handle(request(0x40, base + n, subindex), VALUES).answer
            assert answer == bytes((0x43, (base + n) & 0xFF, (base + n) >> 8, subindex)) + data
            read += 1
    assert read == 3 + 17 * 2  # three frames, seventeen entries
    assert frame_numbers == {0x3000: 1, 0x3001: 0}  # 0x109 and 0x357 sent, 0x358 received
    # past the last entry, past the last frame: aborts, as openinverter answers them
    assert abort_code(sdo.handle(request(0x40, 0x3100, 9), VALUES).answer) == SdoAbort.NO_OBJECT
    assert abort_code(sdo.handle(request(0x40, 0x3102, 0), VALUES).answer) == SdoAbort.NO_OBJECT
    assert abort_code(sdo.handle(request(0x40, 0x3181, 0), VALUES).answer) == SdoAbort.NO_OBJECT


def test_a_read_back_gives_negative_gains_and_offsets_in_their_fields() -> None:
    sdo = server(validate_map((MapEntry("EvseCurrent", 0x109, 16, 16, gain=-0.5, offset=-3),)))
    answer = sdo.handle(request(0x40, 0x3100, 2), VALUES).answer
    assert answer[4:] == ((-500) & 0xFFFFFF | 0xFD << 24).to_bytes(4, "little")
    assert sdo.handle(request(0x40, 0x3100, 1), VALUES).answer[4:] == bytes((0xDA, 0x07, 16, 16))


def test_removing_an_entry_by_frame_and_number_as_openinverter_does() -> None:
    """A write of 0 to 0x3100 + n subindex s removes entry max(0, s − 1) / 2 of frame n; a frame
    left empty gets the last frame in its place (libopeninv CanMap::Remove)."""
    sdo = server(validate_map((MapEntry("EvseVoltage", 0x101, 0, 16), MapEntry("EvseCurrent", 0x101, 16, 16),
                               MapEntry("PortState", 0x102, 0, 8), MapEntry("LockState", 0x103, 0, 8))))
    frame_ids = lambda: [sdo.handle(request(0x40, 0x3100 + n, 0), VALUES).answer[4:6] for n in range(3)]  # noqa: E731
    assert sdo.handle(request(0x23, 0x3100, 3, 1), VALUES).abort is SdoAbort.GENERAL  # not a write of 0
    assert sdo.handle(request(0x23, 0x3100, 3, 0), VALUES).new_map is not None  # entry 1 of 0x101
    assert [e.param for e in sdo.can_map.entries] == ["EvseVoltage", "PortState", "LockState"]
    assert sdo.handle(request(0x23, 0x3100, 0, 0), VALUES).abort is None  # 0x101 now empty: 0x103 moves up
    assert frame_ids()[:2] == [bytes((0x03, 0x01)), bytes((0x02, 0x01))]
    assert abort_code(sdo.handle(request(0x40, 0x3102, 0), VALUES).answer) == SdoAbort.NO_OBJECT
    assert sdo.handle(request(0x23, 0x3101, 5, 0), VALUES).abort is SdoAbort.GENERAL  # no entry 2 there


def test_parameter_read_and_write_in_openinverter_fixed_point() -> None:
    sdo = server()
    index, sub = param_index(5)  # soc
    answer = sdo.handle(request(0x40, index, sub), VALUES).answer
    assert answer[:4] == bytes((0x43, 0x00, 0x21, 5)) and int.from_bytes(answer[4:], "little") == 42 * 32
    done = sdo.handle(request(0x23, *param_index(4), 100 * 32), VALUES)  # ChargeCurrent = 100 A
    assert done.answer == bytes((0x60, 0x00, 0x21, 4, 0, 0, 0, 0)) and done.written == {"ChargeCurrent": 100.0}
    index, sub = param_index(2006)
    assert index == 0x2107 and sub == 0xD6


def test_errors_are_aborts_with_their_codes() -> None:
    sdo = server()
    assert abort_code(sdo.handle(request(0x40, 0x2100, 99), VALUES).answer) == SdoAbort.NO_OBJECT
    assert abort_code(sdo.handle(request(0x23, 0x4000, 0), VALUES).answer) == SdoAbort.NO_OBJECT
    assert abort_code(sdo.handle(bytes((0x40, 0x00, 0x21)), VALUES).answer) == SdoAbort.LENGTH
    assert abort_code(sdo.handle(request(0x99, 0x2100, 5), VALUES).answer) == SdoAbort.COMMAND_UNKNOWN
    out_of_range = sdo.handle(request(0x23, *param_index(5), 101 * 32), VALUES)  # soc 101 %
    assert abort_code(out_of_range.answer) == SdoAbort.VALUE_RANGE and out_of_range.written == {}
    read_only = sdo.handle(request(0x23, *param_index(2006), 1), VALUES)
    assert abort_code(read_only.answer) == SdoAbort.READ_ONLY
    assert abort_code(sdo.handle(request(0x23, 0x5002, 7), VALUES).answer) == SdoAbort.NO_SUBINDEX


def test_a_map_entry_is_applied_only_when_complete_and_valid() -> None:
    sdo = server(validate_map(()))
    sdo.handle(request(0x23, 0x3001, 0, 0x358), VALUES)
    sdo.handle(request(0x23, 0x3001, 1, 5 | 8 << 16 | 8 << 24), VALUES)  # soc, bits 8+8
    assert sdo.can_map.entries == ()  # two of three writes: nothing yet
    sdo.handle(request(0x23, 0x3001, 2, 1000), VALUES)
    assert [e.param for e in sdo.can_map.entries] == ["soc"]
    # an overlapping entry is refused at its last write and leaves the map as it was
    sdo.handle(request(0x23, 0x3001, 0, 0x358), VALUES)
    sdo.handle(request(0x23, 0x3001, 1, 23 | 12 << 16 | 1 << 24), VALUES)  # enable at bit 12: inside soc
    refused = sdo.handle(request(0x23, 0x3001, 2, 1000), VALUES)
    assert refused.abort is SdoAbort.GENERAL and [e.param for e in sdo.can_map.entries] == ["soc"]
    # out of sequence: subindex 2 without 0 and 1, a value in the received map
    assert sdo.handle(request(0x23, 0x3001, 2, 1000), VALUES).abort is SdoAbort.GENERAL
    sdo.handle(request(0x23, 0x3001, 0, 0x358), VALUES)
    sdo.handle(request(0x23, 0x3001, 1, 2006 | 32 << 16 | 16 << 24), VALUES)
    assert sdo.handle(request(0x23, 0x3001, 2, 1000), VALUES).abort is SdoAbort.GENERAL
    assert [e.param for e in sdo.can_map.entries] == ["soc"]


def test_a_save_keeps_the_map_and_the_settings_not_an_entry_half_built() -> None:
    """0x5002.0 keeps the map and the settings (openinverter saves the map and its parameters, not
    the VCU's inputs); an entry that had two of its three writes is not in it, and is gone."""
    sdo = configured()
    values = {**VALUES, "NodeId": 22.0, "DemoControl": 0.0, "ChargeCurrent": 99.0}
    sdo.handle(request(0x23, 0x3000, 0, 0x10A), values)
    sdo.handle(request(0x23, 0x3000, 1, 2029 | 0 << 16 | 16 << 24), values)  # EVTargetCurrent, 2 of 3 writes
    saved = sdo.handle(request(0x23, 0x5002, 0), values)
    assert saved.answer == bytes.fromhex("6002500000000000") and saved.persist is not None
    assert saved.persist.can_map == sdo.can_map and 0x10A not in sdo.can_map.sent_ids()
    assert set(saved.persist.settings) == {"LockRunTime", "DemoVoltage", "NodeId", "DemoControl", "MaxPinTemperature"}
    assert saved.persist.settings["NodeId"] == 22.0
    assert sdo.handle(request(0x23, 0x3000, 2, 1000), values).abort is SdoAbort.GENERAL  # the entry is gone


def test_settings_are_written_in_whole_numbers_and_their_choices() -> None:
    sdo = server()
    node = param_index(21)
    assert sdo.handle(request(0x23, *node, 5 * 32), VALUES).written == {"NodeId": 5.0}
    assert sdo.handle(request(0x23, *node, 5 * 32 + 16), VALUES).abort is SdoAbort.VALUE_RANGE  # 5.5
    assert sdo.handle(request(0x23, *node, 64 * 32), VALUES).abort is SdoAbort.VALUE_RANGE
    demo = param_index(25)
    assert sdo.handle(request(0x23, *demo, 234 * 32), VALUES).written == {"DemoControl": 234.0}
    assert sdo.handle(request(0x23, *demo, 100 * 32), VALUES).abort is SdoAbort.VALUE_RANGE  # not 0 or 234


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=9), max_size=12))
def test_arbitrary_requests_are_answered_never_raised(frames: list[bytes]) -> None:
    sdo = server()
    for frame in frames:
        before = sdo.can_map
        outcome = sdo.handle(frame, VALUES)
        assert len(outcome.answer) == 8 and outcome.answer[0] in (0x43, 0x60, 0x80)
        if outcome.abort is not None:
            assert sdo.can_map == before and outcome.written == {}  # a refused request changes nothing
