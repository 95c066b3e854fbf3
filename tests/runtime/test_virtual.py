from __future__ import annotations

import io
import itertools
import json
import logging
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.runtime import (
    Action,
    ByteLink,
    CanBus,
    CanFrame,
    CanReceived,
    Event,
    FrameMedium,
    FrameReceived,
    Impairment,
    Log,
    MachineBase,
    SendCan,
    SendFrame,
    VirtualRuntime,
)
from ccs2chademo.runtime.sessionlog import capture
from ccs2chademo.runtime.virtual import NS, to_ns

from .toys import EchoServer, PingClient, Ticker


def test_periodic_machines_exact_tick_counts_over_one_virtual_hour() -> None:
    sim = VirtualRuntime(seed=1)
    a, b = Ticker("a", 0.100), Ticker("b", 0.030)
    sim.add(a)
    sim.add(b)
    sim.run(until=3600.0)
    # deadlines at 0, p, 2p, … ≤ 3600 s inclusive
    assert a.ticks == 36_001
    assert b.ticks == 120_001
    assert sim.now() == 3600.0


def test_timers_fire_in_deadline_order_and_equal_deadlines_in_scheduling_order() -> None:
    sim = VirtualRuntime()
    order: list[str] = []
    for name, t in [("late", 2.0), ("first-at-1", 1.0), ("early", 0.5), ("second-at-1", 1.0)]:
        sim.call_at(t, order.append, name)
    sim.run()
    assert order == ["early", "first-at-1", "second-at-1", "late"]


def test_machine_timer_rearm_supersedes_old_deadline() -> None:
    class Moving(MachineBase):
        def __init__(self) -> None:
            super().__init__("moving")
            self.deadline: float | None = 5.0
            self.fired: list[float] = []

        def receive(self, event: Event, now: float) -> None:
            self.deadline = 1.0  # an event moves the deadline earlier

        def handle_timer(self, now: float) -> None:
            self.fired.append(now)
            self.deadline = None

        def get_timer(self) -> float | None:
            return self.deadline

    sim = VirtualRuntime()
    m = Moving()
    sim.add(m)
    sim.call_at(0.5, lambda _: sim.inject("moving", FrameReceived("x", b"")))
    sim.run(until=10)
    assert m.fired == [1.0]


class _Mover(MachineBase):
    """Its deadline is whatever the last event said (``FrameReceived`` carries it as text)."""

    def __init__(self, order: list[str], deadline: float) -> None:
        super().__init__("mover")
        self.order = order
        self.deadline: float | None = deadline

    def receive(self, event: Event, now: float) -> None:
        assert isinstance(event, FrameReceived)
        self.deadline = float(event.frame)

    def handle_timer(self, now: float) -> None:
        self.order.append(f"mover@{now:g}")
        self.deadline = None

    def get_timer(self) -> float | None:
        return self.deadline


def _move(sim: VirtualRuntime, at: float, to: float) -> None:
    sim.call_at(at, lambda _: sim.inject("mover", FrameReceived("x", str(to).encode())))


def test_a_moved_deadline_fires_where_a_fresh_entry_would_and_leaves_no_stale_entries() -> None:
    sim = VirtualRuntime()
    order: list[str] = []
    sim.add(_Mover(order, 1.0))
    sim.call_at(3.0, order.append, "queued-before-the-move")
    for i in range(100):  # later and later, then earlier, then later again: 102 moves
        _move(sim, 0.001 * (i + 1), 1.0 + i / 100)
    _move(sim, 0.2, 0.5)
    _move(sim, 0.3, 3.0)
    sim.call_at(0.4, lambda _: sim.call_at(3.0, order.append, "queued-after-the-move"))
    sim.run()
    assert order == ["queued-before-the-move", "mover@3", "queued-after-the-move"]
    # the test's 105 events and 102 injections, then the slot's entries: the one for 0.5 reached
    # and dropped (the one for 1.0 comes earlier than 3.0), the one for 1.0 back in at 3.0, the
    # timer; one stale entry per move would add a hundred
    assert sim.events_run == 105 + 102 + 3


def _ping_scenario(seed: int) -> str:
    sim = VirtualRuntime(seed=seed)
    link = ByteLink(sim, "tcp", Impairment(latency=0.002, jitter=0.003), max_chunk=3)
    server, client = EchoServer(), PingClient(target=("sim", 1), count=20)
    sim.add(server, {"tcp": link.server})
    sim.add(client, {"tcp": link.client})
    sim.add(Ticker("tick", 0.25, log_ticks=True))
    out = io.StringIO()
    with capture(out, level=logging.DEBUG):
        sim.run(until=30.0)
    assert client.state == "done"
    assert client.answers == [b"pong %d" % i for i in range(1, 21)]
    return out.getvalue()


def test_same_scenario_twice_gives_byte_identical_logs() -> None:
    first, second = _ping_scenario(7), _ping_scenario(7)
    assert first == second
    assert '"kind":"rx"' in first and '"kind":"state"' in first
    assert _ping_scenario(8) != first  # the seed matters (jitter differs)


def test_byte_link_never_reorders_and_reports_fin_and_refusal() -> None:
    sim = VirtualRuntime(seed=3)
    link = ByteLink(sim, "tcp", Impairment(latency=0.01, jitter=0.05), max_chunk=1)
    server, client = EchoServer(), PingClient(target=None, count=50)
    sim.add(server, {"tcp": link.server})
    sim.add(client, {"tcp": link.client})
    sim.run(until=60)
    assert client.answers == [b"pong %d" % i for i in range(1, 51)]
    assert server.state == "listening"  # got the FIN

    sim2 = VirtualRuntime()
    refused = ByteLink(sim2, "tcp")
    refused.listening = False
    c2 = PingClient(target=None)
    sim2.add(c2, {"tcp": refused.client})
    sim2.run(until=5)
    assert c2.state == "failed"


class _Sink(MachineBase):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.got: list[tuple[float, bytes]] = []

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, FrameReceived):
            self.got.append((now, event.frame))
        elif isinstance(event, CanReceived):
            self.got.append((now, event.frame.data))

    def handle_timer(self, now: float) -> None:
        pass

    def get_timer(self) -> None:
        return None


class _Source(MachineBase):
    def __init__(self, name: str, count: int, period: float, can: bool = False) -> None:
        super().__init__(name)
        self.count, self.period, self.n, self.can = count, period, 0, can

    def receive(self, event: Event, now: float) -> None:
        pass

    def handle_timer(self, now: float) -> None:
        payload = self.n.to_bytes(4, "big")
        if self.can:
            self._emit(SendCan("bus", CanFrame(0x102, payload + bytes(4))))
        else:
            self._emit(SendFrame("net", payload))
        self.n += 1

    def get_timer(self) -> float | None:
        return self.n * self.period if self.n < self.count else None


def test_loss_and_latency_applied_as_configured() -> None:
    sim = VirtualRuntime(seed=42)
    medium = FrameMedium(sim, "plc", Impairment(latency=0.005, jitter=0.002, loss=0.2))
    src, sink = _Source("src", 10_000, 0.001), _Sink("sink")
    sim.add(src, {"net": medium.port()})
    sim.add(sink, {"net": medium.port()})
    sim.run()
    n = len(sink.got)
    # binomial(10000, 0.8): sigma = 40; allow 4 sigma
    assert abs(n - 8000) < 160
    delays = [t - int.from_bytes(f, "big") * 0.001 for t, f in sink.got]
    assert min(delays) >= 0.005 - 1e-9 and max(delays) <= 0.007 + 1e-9
    assert abs(sum(delays) / n - 0.006) < 0.0001
    assert medium.lost == 10_000 - n


def test_reordering_happens_only_when_configured() -> None:
    def received(impairment: Impairment) -> list[int]:
        sim = VirtualRuntime(seed=5)
        bus = CanBus(sim, "can", impairment)
        sink = _Sink("sink")
        sim.add(_Source("car", 2000, 0.001, can=True), {"bus": bus.port()})
        sim.add(sink, {"bus": bus.port()})
        sim.run()
        return [int.from_bytes(d[:4], "big") for _, d in sink.got]

    in_order = received(Impairment(latency=0.0001))
    assert in_order == sorted(in_order) and len(in_order) == 2000
    shuffled = received(Impairment(latency=0.0001, reorder=0.1, reorder_delay=0.005))
    assert sorted(shuffled) == list(range(2000))
    inversions = sum(1 for x, y in itertools.pairwise(shuffled) if x > y)
    assert 100 < inversions < 300  # ≈ 10 % of frames held back


def test_frame_medium_unicast_and_deaf_stations() -> None:
    sim = VirtualRuntime()
    medium = FrameMedium(sim, "udp")
    a, b, c = _Sink("a"), _Sink("b"), _Sink("c")
    pa, pb, pc = medium.port("A"), medium.port("B"), medium.port("C")
    sim.add(a, {"net": pa})
    sim.add(b, {"net": pb})
    sim.add(c, {"net": pc})
    pc.enabled = False
    pa.transmit(SendFrame("net", b"all"))
    pa.transmit(SendFrame("net", b"to-b", dest="B"))
    sim.run()
    assert [f for _, f in b.got] == [b"all", b"to-b"]
    assert c.got == [] and a.got == []


def test_a_can_frame_reaches_every_other_station_in_one_event_in_station_order() -> None:
    sim = VirtualRuntime()
    bus = CanBus(sim, "can", Impairment(latency=0.001))
    ports = [bus.port(name) for name in "abcd"]
    heard: list[str] = []

    def hears(name: str) -> Callable[[Event], None]:
        return lambda event: heard.append(name)

    for name, port in zip("abcd", ports, strict=True):
        port.bind("can", hears(name))
    ports[1].transmit(SendCan("can", CanFrame(0x100, b"\x01")))
    sim.run()
    assert heard == ["a", "c", "d"] and sim.events_run == 1 and bus.delivered == 3


def test_impairment_validates() -> None:
    with pytest.raises(ValueError):
        Impairment(loss=1.5)
    with pytest.raises(ValueError):
        ByteLink(VirtualRuntime(), "x", Impairment(loss=0.1))


def test_timer_never_fires_before_a_deadline_that_is_not_a_whole_nanosecond() -> None:
    class Strict(MachineBase):
        """Re-checks its deadline with a plain comparison, as most machines do."""

        def __init__(self) -> None:
            super().__init__("strict")
            self.deadline: float | None = 0.1000000004  # rounds down to 100 000 000 ns
            self.calls = 0

        def receive(self, event: Event, now: float) -> None:
            pass

        def handle_timer(self, now: float) -> None:
            self.calls += 1
            if self.deadline is not None and now >= self.deadline:
                self.deadline = None

        def get_timer(self) -> float | None:
            return self.deadline

    sim = VirtualRuntime()
    m = Strict()
    sim.add(m)
    sim.run(until=1.0, max_events=100)
    assert m.calls == 1 and m.deadline is None


def test_frames_are_logged_by_the_level_each_run_began_with() -> None:
    """``rx``/``tx`` records follow the logger's level as it was when ``run()`` began (the runtime
    reads it once per run, not at every event): a level changed between runs takes effect."""

    def kinds(out: io.StringIO) -> set[str]:
        return {json.loads(line)["kind"] for line in out.getvalue().splitlines()}

    sim = VirtualRuntime(seed=1)
    link = ByteLink(sim, "tcp", Impairment(latency=0.002), max_chunk=3)
    sim.add(EchoServer(), {"tcp": link.server})
    sim.add(PingClient(target=("sim", 1), count=20), {"tcp": link.client})
    quiet, loud = io.StringIO(), io.StringIO()
    with capture(quiet, level=logging.INFO):
        sim.run(until=0.05)
    with capture(loud, level=logging.DEBUG):
        sim.run(until=30.0)
    assert not kinds(quiet) & {"rx", "tx"} and "open" in kinds(quiet)
    assert {"rx", "tx"} <= kinds(loud)


class _PlainTicker:
    """A machine that follows the protocol without deriving from MachineBase."""

    def __init__(self, name: str, period: float) -> None:
        self.name, self.period, self.fired, self.received = name, period, 0, 0
        self._out: list[Action] = []

    def receive(self, event: Event, now: float) -> None:
        self.received += 1

    def handle_timer(self, now: float) -> None:
        self.fired += 1
        self._out.append(Log("tick", {"n": self.fired}))

    def get_timer(self) -> float | None:
        return None if self.fired >= 10 else (self.fired + 1) * self.period

    def actions(self) -> list[Action]:
        out, self._out = self._out, []
        return out


def test_a_machine_that_only_follows_the_protocol_runs_like_any_other() -> None:
    sim = VirtualRuntime()
    plain = _PlainTicker("plain", 0.5)
    sim.add(plain)
    sim.inject("plain", CanReceived("can", CanFrame(0x100, b"\x00" * 8)))
    out = io.StringIO()
    with capture(out, level=logging.INFO):
        sim.run(until=10.0)
    assert (plain.fired, plain.received) == (10, 1)
    assert out.getvalue().count('"kind":"tick"') == 10


# -- the queue's order against a reference -------------------------------------------------------
# An event's script: ("call", delay ms) schedules the next event (a negative delay means now),
# ("move", machine, delay ms or None) injects a new deadline into a machine.  Times are whole
# milliseconds, so equal times are the rule; the timers move often and re-arm after firing.
_MS = 1_000_000
_Action = tuple[str, int] | tuple[str, int, int | None]
_actions = st.one_of(
    st.tuples(st.just("call"), st.integers(-1, 3)),
    st.tuples(st.just("move"), st.integers(0, 1), st.none() | st.integers(-1, 4)),
)


class _Timed(MachineBase):
    """Its deadline is ``now`` + what the last event said; after firing, ``now`` + its period (3 times)."""

    def __init__(self, name: str, order: list[str], period: int | None) -> None:
        super().__init__(name)
        self.order, self.period, self.fired = order, period, 0
        self.deadline: float | None = None

    def receive(self, event: Event, now: float) -> None:
        assert isinstance(event, FrameReceived)
        self.deadline = None if not event.frame else now + int(event.frame) / 1000

    def handle_timer(self, now: float) -> None:
        self.order.append(f"{self.name}@{now!r}")
        self.fired += 1
        self.deadline = now + self.period / 1000 if self.period and self.fired < 3 else None

    def get_timer(self) -> float | None:
        return self.deadline


def _run_virtual(initial: list[int], scripts: list[list[_Action]], periods: list[int | None]) -> list[str]:
    sim = VirtualRuntime()
    order: list[str] = []
    for j, period in enumerate(periods):
        sim.add(_Timed(f"m{j}", order, period))
    created = 0

    def event(k: int) -> None:
        nonlocal created
        order.append(f"e{k}")
        for action in scripts[k] if k < len(scripts) else []:
            if action[0] == "call":
                created += 1
                sim.call_at_ns(sim.now_ns + action[1] * _MS, event, created)
            else:
                delay = action[2] if len(action) == 3 else None
                sim.inject(f"m{action[1]}", FrameReceived("x", b"" if delay is None else str(delay).encode()))

    for t in initial:
        created += 1
        sim.call_at_ns(t * _MS, event, created)
    sim.run()
    return order


def _run_reference(initial: list[int], scripts: list[list[_Action]], periods: list[int | None]) -> list[str]:
    """The same by the rule itself: the least (time, sequence) first, one fresh entry per arm."""
    queue: list[tuple[int, int, str, int]] = []  # (time ns, sequence, kind, event or machine)
    timers: list[tuple[int, int] | None] = [None] * len(periods)  # the key each timer fires at
    deadlines: list[float | None] = [None] * len(periods)
    pending: list[list[int | None]] = [[] for _ in periods]  # the injected deadlines not yet delivered
    fired = [0] * len(periods)
    order: list[str] = []
    seq = now = created = 0

    def push(t_ns: int, kind: str, what: int) -> None:
        nonlocal seq
        seq += 1
        queue.append((max(t_ns, now), seq, kind, what))

    def service(j: int, deadline: float | None) -> None:
        nonlocal seq
        if deadline == deadlines[j]:
            return
        deadlines[j] = deadline
        timers[j] = None
        if deadline is not None:
            seq += 1
            timers[j] = key = (max(to_ns(deadline), now), seq)
            queue.append((*key, "timer", j))

    for t in initial:
        created += 1
        push(t * _MS, "event", created)
    while queue:
        t_ns, key_seq, kind, what = entry = min(queue)
        queue.remove(entry)
        now = t_ns
        if kind == "event":
            order.append(f"e{what}")
            for action in scripts[what] if what < len(scripts) else []:
                if action[0] == "call":
                    created += 1
                    push(now + action[1] * _MS, "event", created)
                else:
                    pending[action[1]].append(action[2] if len(action) == 3 else None)
                    push(now, "deliver", action[1])
        elif kind == "deliver":
            delay = pending[what].pop(0)
            service(what, None if delay is None else now / NS + delay / 1000)
        elif timers[what] == (t_ns, key_seq):  # else a stale entry: the deadline moved
            deadline, deadlines[what], timers[what] = deadlines[what], None, None
            at = now / NS if deadline is None or now / NS >= deadline else deadline
            order.append(f"m{what}@{at!r}")
            fired[what] += 1
            period = periods[what]
            service(what, at + period / 1000 if period and fired[what] < 3 else None)
    return order


@settings(max_examples=300)
@given(
    initial=st.lists(st.integers(0, 4), min_size=1, max_size=6),
    scripts=st.lists(st.lists(_actions, max_size=3), max_size=40),
    periods=st.lists(st.none() | st.integers(1, 3), min_size=2, max_size=2),
)
def test_events_run_in_time_then_scheduling_order_with_timers_moved_and_rearmed(
    initial: list[int], scripts: list[list[_Action]], periods: list[int | None]
) -> None:
    assert _run_virtual(initial, scripts, periods) == _run_reference(initial, scripts, periods)
