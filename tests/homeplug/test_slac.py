from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.homeplug import frames as F
from ccs2chademo.homeplug.slac import DEFAULT_PROFILE, SlacEvse, SlacPev, SlacTiming
from ccs2chademo.runtime import Action, FrameReceived, Log, SendFrame

from .capture import homeplug

DEHNER = "2022-11-17_Dehner_Alpitronic_until_SdpRequest.pcapng"
TAYCAN = ["2023-05-03_TaycanLeftside_slacFail.pcapng", "2023-05-03_TaycanRightside_slacFail.pcapng"]


class FixedRng(random.Random):
    """Hands out the bytes of ``data`` as the RunID."""

    def __init__(self, data: bytes) -> None:
        super().__init__(0)
        self.data = list(data)

    def getrandbits(self, k: int) -> int:
        return self.data.pop(0) if self.data else 0


def sent(actions: list[Action]) -> list[F.Mme]:
    out = []
    for a in actions:
        if isinstance(a, SendFrame):
            m = F.decode(a.frame)
            assert isinstance(m, F.Mme)
            out.append(m)
    return out


def logs(actions: list[Action], kind: str) -> list[Log]:
    return [a for a in actions if isinstance(a, Log) and a.kind == kind]


def run_timers(m: SlacPev | SlacEvse, until_state: str, now: float, limit: float = 30.0) -> tuple[float, list[Action]]:
    out: list[Action] = []
    while m.state != until_state:
        t = m.get_timer()
        assert t is not None and t < limit, f"stuck in {m.state}"
        now = t
        m.handle_timer(now)
        out += m.actions()
    return now, out


# ------------------------------------------------------------------------- the real PEV run


def test_dehner_pev_run_sequence_and_timings() -> None:
    """pyPLC as the car against an Alpitronic HYC: message order and timings of ccs-ev.md §3."""
    seq = [(t, F.decode(f)) for t, f in homeplug(DEHNER)]
    names = [m.NAME for _, m in seq]
    slac = names[1:names.index("CM_SET_KEY.CNF") + 1]
    assert slac == (["CM_SLAC_PARAM.CNF"] + ["CM_START_ATTEN_CHAR.IND"] * 3 + ["CM_MNBC_SOUND.IND"] * 10
                    + ["CM_ATTEN_CHAR.IND", "CM_ATTEN_CHAR.RSP", "CM_SLAC_MATCH.REQ", "CM_SLAC_MATCH.CNF",
                       "CM_SET_KEY.REQ", "CM_SET_KEY.CNF"])
    t = {name: [ts for ts, m in seq if name == m.NAME] for name in set(names)}
    sounds = t["CM_MNBC_SOUND.IND"]
    assert [m.count for _, m in seq if isinstance(m, F.MnbcSoundInd)] == list(range(9, -1, -1))
    assert t["CM_SLAC_PARAM.CNF"][0] - t["CM_SLAC_PARAM.REQ"][0] == pytest.approx(0.006, abs=0.002)
    # this old run used TIME_OUT 10 and waited 149 ms; working sessions needed ≤ 100 ms (ccs-ev.md §3)
    assert t["CM_START_ATTEN_CHAR.IND"][0] - t["CM_SLAC_PARAM.CNF"][0] == pytest.approx(0.149, abs=0.003)
    assert all(m.time_out == 10 for _, m in seq if isinstance(m, F.StartAttenCharInd))
    assert max(b - a for a, b in itertools.pairwise(sounds)) < 0.040
    assert t["CM_ATTEN_CHAR.IND"][0] - sounds[-1] == pytest.approx(0.007, abs=0.002)
    assert t["CM_SLAC_MATCH.REQ"][0] - t["CM_ATTEN_CHAR.RSP"][0] == pytest.approx(0.973, abs=0.01)
    assert t["CM_SLAC_MATCH.CNF"][0] - t["CM_SLAC_MATCH.REQ"][0] == pytest.approx(0.006, abs=0.002)
    assert t["CM_SET_KEY.REQ"][0] - t["CM_SLAC_MATCH.CNF"][0] == pytest.approx(0.035, abs=0.005)


def test_our_pev_replays_the_dehner_run_byte_for_byte() -> None:
    """Our PEV, given pyPLC's MAC and RunID, answers the real Alpitronic frames with the same bytes."""
    frames = [F.decode(f) for _, f in homeplug(DEHNER)]
    pev_mac = bytes.fromhex("dc0ea1116708")
    theirs = {}
    for m in frames:
        theirs.setdefault(m.NAME, []).append(m.encode())
    pev = SlacPev(pev_mac, FixedRng(pev_mac + b"\0\0"))
    pev.start(0.0)
    out = pev.actions()

    def feed(name: str, now: float) -> list[Action]:
        pev.receive(FrameReceived("plc", theirs[name][0]), now)
        return pev.actions()

    out += feed("CM_SLAC_PARAM.CNF", 0.006)
    now, more = run_timers(pev, "wait_atten_char", 0.006)
    out += more
    out += feed("CM_ATTEN_CHAR.IND", now + 0.007)
    now, more = run_timers(pev, "wait_match_cnf", now)
    out += more
    out += feed("CM_SLAC_MATCH.CNF", now + 0.006)
    out += feed("CM_SET_KEY.CNF", now + 0.05)
    assert pev.state == "done" and pev.result is not None
    assert pev.result.evse_mac == bytes.fromhex("9a8ab66d2df6")
    ours = sent(out)
    assert [m.NAME for m in ours] == (["CM_SLAC_PARAM.REQ"] + ["CM_START_ATTEN_CHAR.IND"] * 3
                                      + ["CM_MNBC_SOUND.IND"] * 10
                                      + ["CM_ATTEN_CHAR.RSP", "CM_SLAC_MATCH.REQ", "CM_SET_KEY.REQ"])
    for m in ours:
        if isinstance(m, F.StartAttenCharInd):  # we send TIME_OUT 6 where this old pyPLC sent 10
            assert m.encode()[:22] + m.encode()[23:] == theirs[m.NAME][0][:22] + theirs[m.NAME][0][23:]
        elif isinstance(m, F.MnbcSoundInd):
            assert m.encode() == theirs[m.NAME][9 - m.count]
        else:
            assert m.encode() == theirs[m.NAME][0], m.NAME


def test_pev_timings_follow_section_3() -> None:
    pev = SlacPev(bytes.fromhex("020000000001"), random.Random(1))
    pev.start(0.0)
    req = sent(pev.actions())[0]
    assert isinstance(req, F.SlacParamReq)
    cnf = F.SlacParamCnf(dest=pev.mac, source=bytes(5) + b"\x01", forwarding_sta=pev.mac, run_id=pev.run_id)
    pev.receive(FrameReceived("plc", cnf.encode()), 0.010)
    stamps: list[tuple[float, F.Mme]] = []
    while pev.state != "wait_atten_char":
        t = pev.get_timer()
        assert t is not None
        pev.handle_timer(t)
        stamps += [(t, m) for m in sent(pev.actions())]
    starts = [t for t, m in stamps if isinstance(m, F.StartAttenCharInd)]
    sounds = [(t, m) for t, m in stamps if isinstance(m, F.MnbcSoundInd)]
    assert len(starts) == 3 and starts[0] - 0.010 <= 0.100
    assert all(isinstance(m, F.StartAttenCharInd) and m.time_out == 6 and m.num_sounds == 10 for _, m in stamps[:3])
    assert [m.count for _, m in sounds] == list(range(9, -1, -1))
    assert all(b - a == pytest.approx(0.030) for a, b in itertools.pairwise(starts))
    with pytest.raises(ValueError, match="100 ms"):
        SlacTiming(cnf_to_start=0.15)


def _paired_to_match(pev: SlacPev, evse_mac: bytes) -> float:
    pev.start(0.0)
    pev.actions()
    pev.receive(FrameReceived("plc", F.SlacParamCnf(dest=pev.mac, source=evse_mac, forwarding_sta=pev.mac,
                                                     run_id=pev.run_id).encode()), 0.01)
    now, _ = run_timers(pev, "wait_atten_char", 0.01)
    pev.receive(FrameReceived("plc", F.AttenCharInd(dest=pev.mac, source=evse_mac, source_address=pev.mac,
                                                     run_id=pev.run_id, groups=DEFAULT_PROFILE).encode()), now)
    now, _ = run_timers(pev, "wait_match_cnf", now)
    assert now == pytest.approx(0.01 + 0.03 + 0.06 + 0.3 + 0.9, abs=0.02)  # ≈0.9 s after the RSP
    return now


def test_lost_match_cnf_is_retried_then_attempt_restarts() -> None:
    evse = bytes.fromhex("020000000099")
    pev = SlacPev(bytes.fromhex("020000000001"), random.Random(2))
    now = _paired_to_match(pev, evse)
    first_run_id = pev.run_id
    now, out = run_timers(pev, "wait_param_cnf", now)
    matches = [m for m in sent(out) if isinstance(m, F.SlacMatchReq)]
    assert len(matches) == 1 and logs(out, "retry") and logs(out, "timeout")  # 2 tries, then a new attempt
    assert pev.attempts == 2 and pev.run_id != first_run_id


# ------------------------------------------------------------------------------- Taycan


@pytest.mark.parametrize("name", TAYCAN)
def test_our_evse_echoes_the_taycan_run_id(name: str) -> None:
    frames = [F.decode(f) for _, f in homeplug(name)]
    reqs = [m for m in frames if isinstance(m, F.SlacParamReq)]
    their_cnfs = [m for m in frames if isinstance(m, F.SlacParamCnf)]
    assert any(c.run_id != r.run_id for c, r in zip(their_cnfs, reqs, strict=False))  # what broke the session
    evse = SlacEvse(bytes.fromhex("020000000099"), bytes(6) + b"\x01", bytes(16), configure_modem=False)
    for req in reqs:
        evse.receive(FrameReceived("plc", req.encode()), 0.0)
        evse.handle_timer(evse.get_timer() or 0.0)
        cnf = sent(evse.actions())[0]
        assert isinstance(cnf, F.SlacParamCnf)
        assert cnf.run_id == req.run_id and cnf.dest == req.source == bytes.fromhex("00188700a1d6")
        assert (cnf.num_sounds, cnf.time_out, cnf.resp_type, cnf.forwarding_sta) == (10, 6, 1, req.source)


@pytest.mark.parametrize("name", TAYCAN)
def test_our_pev_rejects_the_mismatched_taycan_answer(name: str) -> None:
    frames = [F.decode(f) for _, f in homeplug(name)]
    req = next(m for m in frames if isinstance(m, F.SlacParamReq))
    bad = next(m for m in frames if isinstance(m, F.SlacParamCnf) and m.run_id != req.run_id)
    pev = SlacPev(req.source, FixedRng(req.run_id))
    pev.start(0.0)
    pev.actions()
    assert pev.run_id == req.run_id
    pev.receive(FrameReceived("plc", bad.encode()), 0.01)
    rejected = logs(pev.actions(), "rejected")
    assert rejected and "foreign RunID" in rejected[0].fields["reason"] and pev.state == "wait_param_cnf"


# ------------------------------------------------------------------------------- bad input


def test_bad_frames_are_rejected_with_a_reason_and_state_intact() -> None:
    evse = bytes.fromhex("020000000099")
    pev = SlacPev(bytes.fromhex("020000000001"), random.Random(3))
    pev.start(0.0)
    pev.actions()
    good = F.SlacParamCnf(dest=pev.mac, source=evse, forwarding_sta=pev.mac, run_id=pev.run_id).encode()
    other = bytes.fromhex("020000000002")
    bad_frames = [
        good[:30],  # truncated
        F.SlacParamCnf(dest=other, source=evse, forwarding_sta=other, run_id=pev.run_id).encode(),  # other MAC
        F.SlacParamCnf(dest=pev.mac, source=evse, forwarding_sta=pev.mac, run_id=b"TESLA EV").encode(),
        F.SlacParamCnf(dest=pev.mac, source=evse, forwarding_sta=other, run_id=pev.run_id).encode(),
        F.AttenCharInd(dest=pev.mac, source=evse, source_address=pev.mac, run_id=pev.run_id,
                       groups=bytes(58)).encode()[:100],  # wrong length
    ]
    for frame in bad_frames:
        pev.receive(FrameReceived("plc", frame), 0.01)
        out = pev.actions()
        assert logs(out, "rejected")[0].fields["reason"], frame.hex()
        assert not sent(out) and pev.state == "wait_param_cnf"
    assert pev.rejected == len(bad_frames)
    pev.receive(FrameReceived("plc", good), 0.02)
    assert pev.state == "start_atten"


def test_pyplc_private_atten_char_broadcasts_are_ignored() -> None:
    """The Model X capture: 210 broadcast ATTEN_CHAR.IND 'AF FE DC' power-supply messages (ccs-ev.md §4)."""
    frames = [F.decode(f) for _, f in homeplug("2025-07-22_pyPLC_with_tesla_model_x_plaid_until_charging_loop.pcapng")]
    private = [m for m in frames if isinstance(m, F.AttenCharInd) and m.dest == F.BROADCAST]
    assert len(private) == 210
    pev = _pev_waiting_for_atten_char()
    for m in private:
        pev.receive(FrameReceived("plc", m.encode()), 0.5)
    assert pev.state == "wait_atten_char" and not sent(pev.actions())


def _pev_waiting_for_atten_char() -> SlacPev:
    pev = SlacPev(bytes.fromhex("020000000001"), random.Random(4))
    pev.start(0.0)
    pev.receive(FrameReceived("plc", F.SlacParamCnf(dest=pev.mac, source=bytes(6), forwarding_sta=pev.mac,
                                                     run_id=pev.run_id).encode()), 0.01)
    run_timers(pev, "wait_atten_char", 0.01)
    pev.actions()
    return pev


@settings(max_examples=150)
@given(st.lists(st.binary(min_size=0, max_size=130), max_size=6), st.sampled_from(sorted(F.MESSAGES)))
def test_random_frames_never_crash_or_move_the_pev(bodies: list[bytes], mmtype: int) -> None:
    pev = _pev_waiting_for_atten_char()
    for body in bodies:
        frame = pev.mac + bytes(6) + b"\x88\xe1\x01" + mmtype.to_bytes(2, "little") + body
        pev.receive(FrameReceived("plc", frame), 0.5)
    assert pev.state == "wait_atten_char" or (pev.state == "collect" and mmtype == F.AttenCharInd.MMTYPE)


def test_evse_answers_after_the_sounding_window_when_the_last_sound_is_lost() -> None:
    pev_mac, run_id = bytes.fromhex("020000000001"), bytes(range(8))
    evse = SlacEvse(bytes.fromhex("020000000099"), bytes(7), bytes(16), configure_modem=False, response_delay=0.0)
    for t, mme in [(0.0, F.SlacParamReq(dest=F.BROADCAST, source=pev_mac, run_id=run_id)),
                   (0.1, F.StartAttenCharInd(dest=F.BROADCAST, source=pev_mac, forwarding_sta=pev_mac, run_id=run_id)),
                   (0.2, F.MnbcSoundInd(dest=F.BROADCAST, source=pev_mac, count=9, run_id=run_id))]:
        evse.receive(FrameReceived("plc", mme.encode()), t)
        while (due_at := evse.get_timer()) is not None and due_at <= t:
            evse.handle_timer(t)
    evse.actions()
    assert evse.get_timer() == pytest.approx(0.7)  # START + TIME_OUT 6 × 100 ms
    evse.handle_timer(0.7)
    ind = [m for m in sent(evse.actions()) if isinstance(m, F.AttenCharInd)]
    assert not ind
    evse.handle_timer(evse.get_timer() or 0.7)
    ind = [m for m in sent(evse.actions()) if isinstance(m, F.AttenCharInd)]
    assert len(ind) == 1 and ind[0].run_id == run_id and ind[0].groups == DEFAULT_PROFILE
    assert evse.get_timer() is None
