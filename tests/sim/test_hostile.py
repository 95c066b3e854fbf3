"""Hostile chargers (issue 15, sim/hostile.py): every one ends with the adapter's outputs safe,
no invariant violated, a log record that names the cause, in bounded virtual time and memory."""

from __future__ import annotations

import io
import ipaddress
import json
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccs2chademo.runtime.sessionlog import capture
from ccs2chademo.sim.ev_session import build_session
from ccs2chademo.sim.faults import FAULT_STATES
from ccs2chademo.sim.hostile import CHARGERS, HOSTILE, neighbour_charger, rogue_sdp, tarpit
from ccs2chademo.sim.world import Scenario, World, summarize
from ccs2chademo.v2g import v2gtp
from ccs2chademo.v2g.messages import EvMessage
from ccs2chademo.v2g.secc import Reply

#: Virtual seconds any of these sessions may take (a normal 20 → 21 % session: ≈ 60 s).
BOUND_S = 600.0

#: What each hostile personality must lead to: the session's result, and a text the stop reason
#: or a record kind must show.
EXPECTED: dict[str, tuple[str, str]] = {
    "hostile-malformed-exi": ("safe-shutdown", "bad-message:CurrentDemand"),
    "hostile-oversized-exi": ("safe-shutdown", "tcp-error:CurrentDemand"),
    "hostile-v2gtp-4gb": ("safe-shutdown", "tcp-error:CurrentDemand"),
    "hostile-drip": ("safe-shutdown", "timeout:CurrentDemand"),
    "hostile-wrong-schema": ("safe-shutdown", "bad-message:CurrentDemand"),
    "hostile-wrong-state": ("safe-shutdown", "unexpected-PreCharge:CurrentDemand"),
    # legal: a 1-byte SessionID is echoed and the session completes (ccs-ev.md §16 rule 2)
    "hostile-session-id-short": ("completed", "battery-full"),
    # refused at SessionSetup, before ChargeParameterDiscovery: the CCS side restarts (adapter.md §4)
    "hostile-session-id-empty": ("completed", "bad-session-id:SessionSetup"),
    "hostile-session-id-long": ("completed", "bad-session-id:SessionSetup"),
    "hostile-session-id-changes": ("safe-shutdown", "session-id-changed:ChargeParameterDiscovery"),
    "hostile-rst-handshake": ("completed", "tcp-reset:SupportedAppProtocol"),
}


def _run(world_setup: Any = None, **scenario: Any) -> tuple[World, list[dict[str, Any]]]:
    stream = io.StringIO()
    with capture(stream=stream):
        world = World(Scenario(soc_start=20.0, soc_stop=21, limit_s=BOUND_S, **scenario))
        if world_setup is not None:
            world_setup(world)
        world.run()
    return world, [json.loads(line) for line in stream.getvalue().splitlines()]


def _assert_safe(world: World, records: list[dict[str, Any]]) -> None:
    summary = summarize(world, 0.0)
    assert not summary.invariant_violations, summary.invariant_violations
    assert not world.hw.contactor.closed, "the adapter contactor is still closed"
    assert world.finished_at is not None and world.sim.now() < BOUND_S, "the adapter did not power off in time"
    assert not [r for r in records if r["kind"] == "transition-refused"]


def test_every_behaviour_has_an_expectation() -> None:
    assert set(EXPECTED) == set(HOSTILE)
    assert set(HOSTILE) <= set(CHARGERS) and all(name in CHARGERS for name in ("abb", "alpitronic"))


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_charger_ends_safe(name: str) -> None:
    result, cause = EXPECTED[name]
    world, records = _run(charger=name)
    _assert_safe(world, records)
    summary = summarize(world, 0.0)
    assert summary.result == result, (summary.result, summary.stop_reason)
    fired = [r for r in records if r["kind"] == "hostile"]
    assert fired and fired[0]["behaviour"] == name.removeprefix("hostile-")
    reasons = [str(r.get("reason")) for r in records if r["kind"] == "safe-shutdown"] + [str(summary.stop_reason)]
    assert any(cause in reason for reason in reasons), reasons


@pytest.mark.parametrize("name", ["hostile-oversized-exi", "hostile-v2gtp-4gb"])
def test_oversized_length_is_refused_at_the_header(name: str) -> None:
    """The adapter rejects the frame by its length field: it never buffers what was announced."""
    _world, records = _run(charger=name)
    rejected = [r for r in records if r["kind"] == "rejected" and r.get("step") == "v2gtp"]
    assert rejected and f"exceeds bound {v2gtp.MAX_PAYLOAD}" in rejected[0]["reason"]


@pytest.mark.parametrize("name", ["hostile-oversized-exi", "hostile-v2gtp-4gb", "hostile-drip"])
def test_hostile_session_memory_is_bounded(name: str) -> None:
    """Peak Python memory of the whole session (the hostile charger's own 1 MiB message included)."""
    tracemalloc.start()
    try:
        _run(charger=name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_drip_is_cut_by_the_response_timeout() -> None:
    """One byte per second never completes a message: the EV's CurrentDemand timeout ends it."""
    _world, records = _run(charger="hostile-drip")
    fired = next(r for r in records if r["kind"] == "hostile")
    shutdown = next(r for r in records if r["kind"] == "safe-shutdown")
    assert shutdown["t"] - fired["t"] < 2.0


@pytest.mark.parametrize("state", [k.value for k in FAULT_STATES])
def test_rst_at_every_state(state: str) -> None:
    """A RST in answer to every kind of request; the handshake's is ``hostile-rst-handshake``."""
    world, records = _run(charger="abb", faults=(f"tcp-reset@{state}",))
    _assert_safe(world, records)
    assert any(r["kind"] == "reset-connection" for r in records)


# ------------------------------------------------------------------------------ SDP


def test_sdp_answer_not_link_local_is_rejected() -> None:
    """The only SDP answer points to a global address: rejected every time; no TCP, no power."""
    def setup(world: World) -> None:
        rogue = rogue_sdp(world.sim, world.charger.host, ipaddress.IPv6Address("2001:db8::1"), world.charger.tcp_port)
        world.charger.sdp.response = rogue.response  # the real charger announces it too
    world, records = _run(setup)
    _assert_safe(world, records)
    rejected = [r for r in records if r["kind"] == "rejected" and r.get("error") == "SdpAddressError"]
    assert rejected, "the SDP client never rejected the global address"
    assert not [r for r in records if r["kind"] == "state" and r.get("state") == "CurrentDemand"]


def test_first_of_two_sdp_answers_global_is_skipped() -> None:
    """Two responders on the charger's network; the first answer to arrive points to a global
    address (rejected), the second is the charger's own: the session completes."""
    def setup(world: World) -> None:
        charger = world.charger
        first = charger.sdp.response
        second = rogue_sdp(world.sim, charger.host, ipaddress.IPv6Address("2001:db8::2"), 15118)
        charger.sdp.response, second.response = second.response, first  # the first to answer says 2001:db8::2
    world, records = _run(setup)
    _assert_safe(world, records)
    assert summarize(world, 0.0).result == "completed"
    assert [r for r in records if r["kind"] == "rejected" and r.get("error") == "SdpAddressError"]


def test_sdp_answer_pointing_to_nobody_ends_safe() -> None:
    """The first SDP answer names a link-local host that is not there (the charger's own comes
    second): every connect is refused, the CCS side retries and gives up — no power, bounded."""
    def setup(world: World) -> None:
        charger = world.charger
        second = rogue_sdp(world.sim, charger.host, ipaddress.IPv6Address("fe80::dead"), 15118)
        charger.sdp.response, second.response = second.response, charger.sdp.response
    world, records = _run(setup)
    _assert_safe(world, records)
    assert [r for r in records if r["kind"] == "restart" and r.get("reason") == "TCP connect refused"]


OTHER_PORT = 15119


def _answer_other_port(world: World) -> None:
    """The first SDP answer names the charger's own address with another TCP port."""
    charger = world.charger
    second = rogue_sdp(world.sim, charger.host, charger.host.nic.ip, OTHER_PORT)
    charger.sdp.response, second.response = second.response, charger.sdp.response


@pytest.mark.parametrize(("listener", "kind", "cause"), [
    ("nothing", "restart", "TCP connect refused"),
    ("tarpit", "safe-shutdown", "timeout:SupportedAppProtocol"),
])
def test_sdp_answer_pointing_to_another_port_ends_safe(listener: str, kind: str, cause: str) -> None:
    """The first SDP answer names the charger's link-local address but port 15119 (its SECC is on
    15118).  Nothing listens there: every connect is refused (a RST), the CCS side restarts and
    the session ends idle — or a tarpit accepts and never answers: every SupportedAppProtocolReq
    times out and the adapter powers off for it.  No power either way, every connection to 15119,
    bounded."""
    def setup(world: World) -> None:
        _answer_other_port(world)
        if listener == "tarpit":
            tarpit(world.sim, world.site, world.router, "adapter", world.charger.host, OTHER_PORT)
    world, records = _run(setup)
    _assert_safe(world, records)
    connects = [r for r in records if r["kind"] == "state" and r.get("part") == "ccs" and r["state"] == "connecting"]
    assert connects and {(r["address"], r["port"]) for r in connects} == {(str(world.charger.host.nic.ip), OTHER_PORT)}
    assert [r for r in records if r["kind"] == kind and r.get("reason") == cause]
    assert not [r for r in records if r["kind"] == "state" and r.get("state") == "CurrentDemand"]
    assert [r for r in records if r["kind"] == "power-off"]


# ------------------------------------------------------------------------------ SLAC


def test_slac_neighbour_heard_weaker_is_not_chosen() -> None:
    """The charger next door answers SLAC too, 20 dB weaker than our own (20 dB): the car matches its own charger."""
    world, records = _run(lambda w: neighbour_charger(w.sim, w.site, {"adapter-modem": 40.0}))
    _assert_safe(world, records)
    assert summarize(world, 0.0).result == "completed"


def test_slac_neighbour_heard_stronger_ends_safe() -> None:
    """The neighbour's answers are the strongest (a charger on the wrong cable): the car matches
    it, finds no SECC there and never closes its contactor."""
    world, records = _run(lambda w: neighbour_charger(w.sim, w.site, {"adapter-modem": 5.0}))
    _assert_safe(world, records)
    assert summarize(world, 0.0).result == "safe-shutdown"
    assert [r for r in records if r["kind"] == "restart" and r.get("reason") == "TCP connect refused"]


def test_nmk_changed_mid_session_ends_safe() -> None:
    """In CurrentDemand the charger's modem moves to another network key: nothing reaches the
    charger any more, the EV's response timeout ends the session with the contactor open."""
    def setup(world: World) -> None:
        modem = world.charger.host.modem
        world.tcp.lose_unreachable = True

        def watch(now: float) -> None:
            if world.bridge.view().ccs_state == "CurrentDemand" and modem.nmk != NEW_NMK:
                modem.nid, modem.nmk = bytes(7), NEW_NMK

        world.sim.every(0.5, watch)
    world, records = _run(setup)
    _assert_safe(world, records)
    assert summarize(world, 0.0).stop_reason == "ccs: timeout:CurrentDemand"


NEW_NMK = bytes(range(16))


# ------------------------------------------------------------------------------ random bytes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=st.integers(1, 30), payload=st.binary(max_size=96), framed=st.booleans(),
       chunk=st.sampled_from([0, 1, 3, 8]))
def test_random_bytes_in_place_of_a_reply_end_safe(at: int, payload: bytes, framed: bool, chunk: int) -> None:
    """What atheris cannot drive — the EV session *machine* behind the parsers: any bytes, framed
    as V2GTP or raw, whole or in chunks 0.1 s apart, in place of the charger's n-th reply, end the
    session with CP B and the EV contactor open (or complete it, if the bytes happen to be right)."""
    data = v2gtp.encode(payload) if framed else payload
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] if chunk else [data]
    seen = 0

    def hook(request: EvMessage, reply: Reply) -> Reply:
        nonlocal seen
        seen += 1
        if seen != at or reply.message is None or not data:
            return reply
        return Reply(None, reply.delay, raw=tuple((0.1 * i, piece) for i, piece in enumerate(pieces)))

    session = build_session(charger="abb", minutes=0.02)
    session.sim.slots["charger"].machine.hook = hook  # type: ignore[attr-defined]
    result = session.run(limit=1800.0)
    assert session.evcc.status.ended and result.virtual_s < 1800.0
    assert result.safe_end and result.outputs["cp"] == "B" and result.outputs["ev_contactor"] is False
