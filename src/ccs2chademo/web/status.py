"""What the page shows of a running session: one read-only snapshot, filled from outside.

The charging machines never know the page exists.  Whoever runs the session copies a few numbers
into a :class:`StatusBoard` on its own schedule (the runner every 250 ms of wall time, the
simulation after each virtual second) and forwards the LED output's edges; the server only reads
the board.  So a flooded or failed server costs the machines nothing but the time the loop spends
on it (``bench/web.py`` measures that), and nothing on the page can reach into the bridge.

The LED's *pattern* is recognised from the real output edges (the last few on/off runs, rounded
to 100 ms ticks, matched against a rotation of the patterns of adapter.md §9), so the page blinks
what the LED did, not what a state name suggests.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..adapter.bridge import BridgeView
from ..adapter.leds import PATTERNS, TICK_S

#: Chart points kept; when full, every other point is dropped and the spacing doubles, so a
#: session of any length costs the same memory (a Pi Zero 2 has 512 MB).
HISTORY_POINTS = 720
HISTORY_STEP_S = 1.0
#: SoC rate window for the remaining-time estimate.
RATE_WINDOW_S = 120.0
_EDGES = 16


class LedTracker:
    """The LED's recent edges and the adapter.md §9 pattern they form."""

    def __init__(self) -> None:
        self.level = False
        self._edges: deque[tuple[float, bool]] = deque(maxlen=_EDGES)
        self._recognised: str | None = None

    def edge(self, t: float, level: bool) -> None:
        if self._edges and self._edges[-1][1] == level:
            return
        self.level = level
        self._edges.append((t, level))

    def pattern(self, now: float) -> str | None:
        """The name of the pattern the last runs match, or None (steady, one-shot blink, unknown)."""
        edges = list(self._edges)
        runs = [round((b[0] - a[0]) / TICK_S) * (1 if a[1] else -1) for a, b in itertools.pairwise(edges)]
        if not runs or now - edges[-1][0] > 2.5:  # no edge for longer than any cycle: steady
            self._recognised = None
            return None
        # the longest recent stretch that a pattern explains wins, up to two of its cycles: a
        # short pattern must not win over a longer one of which it is a part (lifesign in tcp-connected)
        best: tuple[int, int, str] | None = None  # (runs matched, pattern length, name)
        for pattern in PATTERNS.values():
            ticks = list(pattern.ticks)
            n = len(ticks)
            cycle = ticks * 3
            for window in range(min(len(runs), 2 * n), n - 1, -1):
                if n >= 2 and any(cycle[i:i + window] == runs[-window:] for i in range(n)):
                    candidate = (window, n, pattern.name)
                    best = candidate if best is None or candidate > best else best
                    break
        if best is not None:
            self._recognised = best[2]
        return self._recognised  # between two patterns the runs match neither for a cycle: keep the last one


@dataclass(frozen=True, slots=True)
class Point:
    t: float
    voltage: float
    current: float
    soc: float | None


class StatusBoard:
    """The latest values of the session and its chart history (see the module doc).

    :meth:`update` is called by the session's owner; :meth:`status` and :meth:`history` by the
    server.  ``changed`` wakes the page's streams.
    """

    def __init__(self, *, target_soc: float | None = None, source: str = "adapter") -> None:
        self.source = source
        self.target_soc = target_soc
        self.leds = LedTracker()
        self.history: list[Point] = []
        self._step = HISTORY_STEP_S
        self._rates: deque[tuple[float, float]] = deque()
        self.version = 0
        self.ended = False
        self._changed: asyncio.Event | None = None
        self._status: dict[str, Any] = {
            "t": 0.0, "ccs_state": None, "downstream_state": None, "power_state": None, "led": False,
            "led_pattern": None, "led_ticks": None, "soc": None, "voltage": None, "current": None,
            "power_kw": None, "energy_kwh": 0.0, "elapsed_s": 0.0, "remaining_s": None, "stop_reason": None,
            "charger_limit_a": None, "car_request_a": None, "ccs_target_a": None, "contactor": False,
            "active": False, "ended": False, "stop_allowed": False, "source": source}

    # -- the owner's side ---------------------------------------------------------------------
    def led_edge(self, t: float, level: bool) -> None:
        self.leds.edge(t, bool(level))

    def update(self, t: float, view: BridgeView, *, voltage: float | None, current: float | None,
               soc: float | None, energy_kwh: float) -> None:
        """A new snapshot at session time ``t`` (seconds since the session began)."""
        power = None if voltage is None or current is None else round(voltage * current / 1000.0, 2)
        pattern = self.leds.pattern(t)
        self._status.update(
            t=round(t, 3), ccs_state=view.ccs_state, downstream_state=view.chademo_state,
            power_state=view.power_state, led=self.leds.level, led_pattern=pattern,
            led_ticks=list(PATTERNS[pattern].ticks) if pattern else None,
            soc=None if soc is None else round(soc, 2), voltage=None if voltage is None else round(voltage, 1),
            current=None if current is None else round(current, 1), power_kw=power,
            energy_kwh=round(energy_kwh, 3), elapsed_s=round(t, 1), remaining_s=self._remaining(t, soc),
            stop_reason=view.stop_reason, charger_limit_a=view.charger_limit_a, car_request_a=view.car_request_a,
            ccs_target_a=view.ccs_target_current_a, contactor=view.contactor, active=session_active(view),
            stop_allowed=stop_allowed(view) and not self.ended)
        if voltage is not None and current is not None:
            self._add_point(Point(round(t, 1), round(voltage, 1), round(current, 1),
                                  None if soc is None else round(soc, 2)))
        self._notify()

    def end(self) -> None:
        """The session is over (the adapter switched itself off); the page shows the result."""
        self.ended = True
        self._status.update(ended=True, active=False, stop_allowed=False, remaining_s=None, led_pattern=None,
                            led_ticks=None)
        self._notify()

    # -- the server's side ----------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return dict(self._status)

    def points(self, since: float | None = None) -> list[dict[str, Any]]:
        return [{"t": p.t, "voltage": p.voltage, "current": p.current, "soc": p.soc}
                for p in self.history if since is None or p.t > since]

    async def wait_change(self, seen: int, timeout: float) -> int:
        """Wait until the version differs from ``seen`` (or ``timeout``); returns the version."""
        if self.version == seen:
            event = self._event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        return self.version

    # -- internals --------------------------------------------------------------------------
    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _notify(self) -> None:
        self.version += 1
        if self._changed is not None:
            self._changed.set()
            self._changed = None  # waiters of this version wake; the next wait gets a fresh event

    def _add_point(self, point: Point) -> None:
        if self.history and point.t - self.history[-1].t < self._step - 1e-9:
            return
        self.history.append(point)
        if len(self.history) >= HISTORY_POINTS:
            self.history = self.history[::2]
            self._step *= 2

    def _remaining(self, t: float, soc: float | None) -> float | None:
        """Seconds to the target SoC at the SoC rate of the last two minutes (None: not charging)."""
        if soc is None or self.target_soc is None:
            return None
        rates = self._rates
        rates.append((t, soc))
        while rates and t - rates[0][0] > RATE_WINDOW_S:
            rates.popleft()
        t0, soc0 = rates[0]
        if t - t0 < 10.0 or soc <= soc0:
            return None
        rate = (soc - soc0) / (t - t0)
        left = (self.target_soc - soc) / rate
        return None if left < 0 or not math.isfinite(left) else round(left)


def session_active(view: BridgeView) -> bool:
    """A session runs: the sides are enabled or the contactor is closed (settings are refused)."""
    return view.sides_enabled or view.contactor


def stop_allowed(view: BridgeView) -> bool:
    """The page's stop button may press: only while the sides run.  Before they run a press is
    the power-on special-mode selection (adapter.md §10), which the page must never reach."""
    return view.sides_enabled
