"""LED patterns of adapter.md §9 and the two ways of playing them.

The adapter has no display: the LED is the user's only view of where a session is, so the
patterns are exactly those of the original firmware (a user compares them with its manual).

* **Session patterns** (:data:`PATTERNS`) are lists of 100 ms ticks, negative = off, positive =
  on, repeated.  :class:`LedSequencer` plays one per 100 ms tick; a requested pattern takes
  effect only when the current cycle completes, and patterns only move forward in a session
  (each has a ``rank``; a request of a lower or equal rank is ignored).  "Power-off pending" has
  the highest rank, so it overrides all — it too waits for the running cycle to finish (at most
  2 s, the charging pattern) so that a blink is never cut short.
* **One-shot sequences** (battery-level blink, special-mode confirmation) are :data:`Timeline`
  values — ``(level, duration_ms)`` segments played once by :class:`TimelinePlayer`.  The
  battery blink uses 150 ms steps, which a 100 ms tick cannot render; rather than distort it
  (e.g. 100/200 ms), the power manager arms its timer at the exact segment boundaries while a
  timeline plays (nothing else runs then: it is the last thing before power-off, or the startup
  selection).
"""

from __future__ import annotations

from dataclasses import dataclass

TICK_S = 0.1
"""One LED tick = one CHAdeMO/UI cycle (adapter.md §1)."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """A repeating LED pattern: ``ticks`` of 100 ms (negative = off), ``rank`` in the session order."""

    name: str
    ticks: tuple[int, ...]
    rank: int

    def levels(self) -> list[bool]:
        """One LED level per 100 ms tick over one cycle."""
        out: list[bool] = []
        for count in self.ticks:
            out += [count > 0] * abs(count)
        return out

    @property
    def cycle_s(self) -> float:
        return sum(abs(n) for n in self.ticks) * TICK_S


# adapter.md §9, in the order a session passes them (rank).
BOOT = Pattern("boot", (1,), 0)
LIFESIGN = Pattern("lifesign", (-2, 9), 1)  # first SLAC_PARAM.CNF
TCP_CONNECTED = Pattern("tcp-connected", (-2, 2, -2, 9), 2)
CABLE_CHECK = Pattern("cable-check", (-2, 2, -2, 2, -2, 9), 3)  # CableCheckReq sent
PRECHARGE = Pattern("precharge", (-2, 2), 4)
CHARGING = Pattern("charging", (-10, 10), 5)  # CurrentDemand
POWER_OFF_PENDING = Pattern("power-off-pending", (-1, 1), 6)
USB_CHARGING = Pattern("usb-charging", (-20, 20), 7)  # self-charging mode only (adapter.md §8, §16: 2 s toggle)

#: Session patterns by name (the ``led_pattern`` input of the power manager takes these names).
PATTERNS: dict[str, Pattern] = {p.name: p for p in (BOOT, LIFESIGN, TCP_CONNECTED, CABLE_CHECK, PRECHARGE,
                                                    CHARGING, POWER_OFF_PENDING, USB_CHARGING)}


class LedSequencer:
    """Plays session patterns tick by tick with the adapter.md §9 rules (cycle completion, monotonic order)."""

    def __init__(self, initial: Pattern = BOOT) -> None:
        self.pattern = initial
        self._levels = initial.levels()
        self._pos = 0
        self._queued: Pattern | None = None

    @property
    def queued(self) -> Pattern | None:
        return self._queued

    def request(self, pattern: Pattern) -> bool:
        """Ask for ``pattern``; ignored (returns False) unless it ranks above everything so far."""
        highest = self._queued or self.pattern
        if pattern.rank <= highest.rank:
            return False
        self._queued = pattern
        return True

    def tick(self) -> bool:
        """The LED level for the next 100 ms; switches pattern when a cycle has completed."""
        if self._pos == 0 and self._queued is not None:
            self.pattern, self._queued = self._queued, None
            self._levels = self.pattern.levels()
        level = self._levels[self._pos]
        self._pos = (self._pos + 1) % len(self._levels)
        return level


Segment = tuple[bool, int]
"""``(level, duration_ms)``."""

Timeline = tuple[Segment, ...]


def _merge(segments: list[Segment]) -> Timeline:
    out: list[Segment] = []
    for level, ms in segments:
        if out and out[-1][0] == level:
            out[-1] = (level, out[-1][1] + ms)
        else:
            out.append((level, ms))
    return tuple(out)


def battery_blink(level: int) -> Timeline:
    """adapter.md §9: 150 ms off, then N × (150 ms off / 150 ms on), N = battery level 1..3."""
    if not 1 <= level <= 3:
        raise ValueError(f"battery level must be 1..3, not {level}")
    return _merge([(False, 150)] + [(False, 150), (True, 150)] * level)


def selection_feedback(commands: list[int] | tuple[int, ...]) -> Timeline:
    """adapter.md §9/§10: per command N × (200 ms off / 300 ms on), 600 ms (off) between commands."""
    segments: list[Segment] = []
    for i, count in enumerate(commands):
        if i:
            segments.append((False, 600))
        segments += [(False, 200), (True, 300)] * count
    return _merge(segments)


class TimelinePlayer:
    """Plays one :data:`Timeline` from ``start``; times are absolute seconds of session time."""

    def __init__(self, timeline: Timeline, start: float) -> None:
        self.timeline = timeline
        self._edges: list[float] = []
        t_ms = 0
        for _, ms in timeline:
            t_ms += ms
            self._edges.append(start + t_ms / 1000)
        self.start = start
        self.end = self._edges[-1] if self._edges else start

    def level(self, now: float) -> bool:
        """The level at ``now`` (off once finished)."""
        for (level, _), edge in zip(self.timeline, self._edges, strict=True):
            if now < edge - 1e-9:
                return level
        return False

    def next_edge(self, now: float) -> float | None:
        """The next segment boundary after ``now``; None once finished."""
        for edge in self._edges:
            if edge > now + 1e-9:
                return edge
        return None

    def done(self, now: float) -> bool:
        return now >= self.end - 1e-9
