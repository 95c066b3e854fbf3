"""The supervisor as a plain machine: guard timer, robustness against arbitrary event streams."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.homeplug import frames as F
from ccs2chademo.homeplug.connection import LEVELS, PevConnection
from ccs2chademo.homeplug.finder import ModemFinder
from ccs2chademo.homeplug.slac import SlacPev, SlacTiming
from ccs2chademo.runtime import DataReceived, Event, FrameReceived, LinkDown, LinkUp, Log, SendFailed, SendFrame
from ccs2chademo.v2g import v2gtp
from ccs2chademo.v2g.loopback import OneShotRequester

MAC = bytes.fromhex("020000000001")


def test_the_15_s_guard_restarts_a_stuck_step() -> None:
    pev = SlacPev(MAC, random.Random(1), timing=SlacTiming(atten_char_timeout=60.0))  # upstream-style wait
    pev.start(0.0)
    pev.receive(FrameReceived("plc", F.SlacParamCnf(dest=MAC, source=bytes(6), forwarding_sta=MAC,
                                                     run_id=pev.run_id).encode()), 0.01)
    now = 0.01
    while pev.attempts == 1:
        t = pev.get_timer()
        assert t is not None and t < 30
        now = t
        pev.handle_timer(now)
    logs = [a for a in pev.actions() if isinstance(a, Log) and a.kind == "timeout"]
    assert logs[-1].fields["step"] == "wait_atten_char" and 15.0 < now < 15.5


def _drive(conn: PevConnection, events: list[tuple[float, Event]]) -> list[object]:
    out: list[object] = []
    now = 0.0
    for dt, event in events:
        target = now + dt
        while (t := conn.get_timer()) is not None and t <= target:
            now = max(now, t)
            conn.handle_timer(now)
            out += conn.actions()
        now = target
        conn.receive(event, now)
        out += conn.actions()
    return out


EVENTS = st.one_of(
    st.builds(lambda b: FrameReceived("plc", MAC + bytes(6) + b"\x88\xe1\x01" + b), st.binary(max_size=120)),
    st.builds(lambda b: FrameReceived("sdp", b"\x01\xfe\x90\x01" + b, ("fe80::1", 15118)), st.binary(max_size=30)),
    st.builds(lambda b: DataReceived("tcp", b), st.binary(max_size=40)),
    st.just(LinkUp("tcp", "peer")),
    st.sampled_from([LinkDown("tcp", "reset"), LinkDown("tcp", "refused"), SendFailed("sdp", "down"),
                     SendFailed("plc", "down")]),
)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 3.0), EVENTS), max_size=25))
def test_any_event_stream_keeps_the_supervisor_in_a_defined_state(events: list[tuple[float, Event]]) -> None:
    conn = PevConnection(MAC, random.Random(0), session=OneShotRequester())
    out = _drive(conn, events)
    assert conn.state in LEVELS
    # the supervisor and its parts move only along their successor tables (docs/machines.md)
    assert [a for a in out if isinstance(a, Log) and a.kind == "transition-refused"] == []


def test_once_connected_slac_and_sdp_frames_change_nothing() -> None:
    conn = PevConnection(MAC, random.Random(0), session=OneShotRequester())
    conn.handle_timer(0.0)
    conn.actions()
    conn.state = "connecting"  # as after a valid SDP answer
    conn.receive(LinkUp("tcp", ("fe80::1", 51111)), 1.0)
    out = conn.actions()
    assert conn.state == "connected"
    sent = [a for a in out if hasattr(a, "data")]
    assert sent and v2gtp.decode(sent[0].data).payload_type == v2gtp.PayloadType.EXI  # type: ignore[attr-defined]
    cnf = F.SlacMatchCnf(dest=MAC, source=bytes(6), pev_mac=MAC, evse_mac=bytes(6), run_id=bytes(8),
                         nid=bytes(7), nmk=bytes(16)).encode()
    conn.receive(FrameReceived("plc", cnf), 1.1)
    conn.receive(FrameReceived("sdp", b"\x01\xfe\x90\x01" + bytes(24), ("fe80::2", 15118)), 1.2)
    out = conn.actions()
    assert not [a for a in out if isinstance(a, SendFrame)] and conn.ignored == 2 and conn.state == "connected"
    # a V2GTP header with a bad version byte ends the connection cleanly (warm restart)
    conn.receive(DataReceived("tcp", b"\x02\xfd" + bytes(6)), 1.3)
    assert conn.state == "sdp"


def test_modem_finder_retries_until_a_modem_answers_and_counts_them() -> None:
    finder = ModemFinder(MAC)
    finder.start(0.0)
    req = [a for a in finder.actions() if isinstance(a, SendFrame)]
    assert isinstance(F.decode(req[0].frame), F.SwVerReq)
    now = 0.0
    for _ in range(4):  # no modem: GET_SW every second (0.5 s window + 0.5 s pause)
        t = finder.get_timer()
        assert t is not None
        now = t
        finder.handle_timer(now)
    assert finder.rounds == 3 and finder.state == "searching" and now == 2.0
    for modem in (b"\x00\xb0\x52\x00\x00\x01", b"\xbc\xf2\xaf\x00\x00\x02"):
        cnf = F.SwVerCnf(dest=MAC, source=modem, version="MAC-QCA7000-1.1.0.727-02-20130826-FINAL", device_id=0x22)
        finder.receive(FrameReceived("plc", cnf.encode()), now + 0.1)
    finder.receive(FrameReceived("plc", F.SwVerCnf(dest=bytes(6), source=bytes(6), version="x").encode()), now + 0.2)
    finder.handle_timer(now + 0.5)
    assert finder.state == "done" and [m.device_id for m in finder.found] == [0x22, 0x22]
