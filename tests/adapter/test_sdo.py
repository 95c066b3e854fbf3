"""The openinverter SDO server of the clara mode: ZombieVerter's map configuration byte for byte,
parameter reads and writes, and every malformed request answered with an abort — nothing applied
half-way (issue 13)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.adapter.clara_map import DEFAULT_MAP, CanMap, validate_map
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
    assert answers[-1].saved
    assert set(sdo.can_map.entries) == set(DEFAULT_MAP.entries)


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
