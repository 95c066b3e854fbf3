"""The CP line's duty cycle from GPIO edge timestamps (clara mode, basic AC, IEC 61851-1).

Why edges and not an ADC: the EVSE's 1 kHz PWM says the current it offers by its duty cycle
alone; a comparator on the CP line (the board's CP receiver) feeds a GPIO input, and the kernel
timestamps each edge (gpiod's ``timestamp_ns``), so the period and high time are measured to
microseconds without a busy loop.  Sans-I/O: the backend hands over each edge and, now and then,
the time and the line's level (:meth:`DutyMeter.idle`); the meter answers with a new duty cycle
when it changed.

* A duty cycle is the mean of the last ``PERIODS`` complete periods (rising → falling → rising),
  reported when it moves by ``REPORT_STEP`` % or more (a 1 kHz PWM is 1000 readings a second).
* Periods outside 0.5–2 ms (IEC 61851-1: 1 kHz ± a margin) are dropped as glitches.
* No edge for ``IDLE_S``: no PWM — 0 % (line low: state E/F or no EVSE) or 100 % (high: an EVSE
  that offers nothing), which offer no AC current either way.
"""

from __future__ import annotations

from collections import deque

PERIODS = 8
REPORT_STEP = 0.5  # %
MIN_PERIOD_NS = 500_000
MAX_PERIOD_NS = 2_000_000
IDLE_S = 0.05


class DutyMeter:
    """Edges in, duty cycle (%) out."""

    def __init__(self) -> None:
        self._rise_ns: int | None = None
        self._fall_ns: int | None = None
        self._last_edge_ns: int | None = None
        self._shares: deque[float] = deque(maxlen=PERIODS)
        self.reported: float | None = None

    def edge(self, rising: bool, t_ns: int) -> float | None:
        """An edge at ``t_ns`` (kernel timestamp); the new duty cycle if it changed, else None."""
        self._last_edge_ns = t_ns
        if not rising:
            self._fall_ns = t_ns if self._rise_ns is not None else None
            return None
        rise, fall = self._rise_ns, self._fall_ns
        self._rise_ns, self._fall_ns = t_ns, None
        if rise is None or fall is None:
            return None
        period = t_ns - rise
        if not MIN_PERIOD_NS <= period <= MAX_PERIOD_NS or not rise <= fall <= t_ns:
            return None
        self._shares.append((fall - rise) / period)
        if len(self._shares) < PERIODS:
            return None
        return self._report(100.0 * sum(self._shares) / len(self._shares))

    def idle(self, t_ns: int, level: bool) -> float | None:
        """Called now and then: without edges for ``IDLE_S`` the line is steady (0 / 100 %)."""
        if self._last_edge_ns is not None and t_ns - self._last_edge_ns < IDLE_S * 1e9:
            return None
        self._shares.clear()
        self._rise_ns = self._fall_ns = None
        return self._report(100.0 if level else 0.0)

    def _report(self, duty: float) -> float | None:
        last = self.reported
        if last is not None and abs(duty - last) < REPORT_STEP and duty not in (0.0, 100.0):
            return None
        if last == duty:
            return None
        self.reported = duty = round(duty, 2)
        return duty
