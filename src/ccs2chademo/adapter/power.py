"""The power manager (adapter.md §8, §10, §16): button, inactivity, power-off, always-on, special modes.

The adapter runs from internal batteries and switches itself off by dropping a power-hold line,
so "when may we turn off" is a safety question: never with the adapter contactor closed (the
car's contactors would then break the charger's voltage), never while a side still holds its
(logical) lock.  This machine owns that decision and the user interface around it (the one
stop button and the LED); the bridge wires it to both protocol sides.

It is a sans-I/O machine on the 100 ms CHAdeMO/UI cycle: ticks at ``start + n × 0.1 s``; while
a one-shot LED timeline plays (battery-level blink, special-mode confirmation) it also wakes at
the timeline's exact edges (see :mod:`.leds`).

Inputs: the physical ones arrive as :class:`~ccs2chademo.runtime.InputChanged` (``Input.BUTTON``,
``Input.VCC4``, ``Input.VCC12``); what the bridge tells it are typed calls — :meth:`press`,
:meth:`supply`, :meth:`unlocked`, :meth:`contactor`, :meth:`activity`, :meth:`stop_reported`,
:meth:`pattern`.  :meth:`receive` also takes each by the name in this table (tests, tools):

==================== ================ ==========================================================
``button``           bool             stop button pressed (edges are timed exactly; a press
                                      shorter than a tick still counts)
``vcc4``             float (V)        internal battery (ADC ×2)
``vcc12``            float (V)        12 V rail (ADC ×11)
``ccs_unlocked``     bool             CCS side logically unlocked (default True)
``chademo_unlocked`` bool             CHAdeMO side logically unlocked (default True)
``contactor_closed`` bool             the adapter contactor is (commanded) closed
``activity``         str              pulse: ``"PreChargeRes"``, ``"CurrentDemandRes"`` or
                                      ``"chademo-loop"`` (one per charging-loop cycle)
``ccs_stop``         str | int        a CCS stop reason (session end, CurrentDemand stop, battery
                                      full); truthy → power-off pending
``chademo_stop``     str | int        CHAdeMO is stopping or ended (its stop-reason mask);
                                      truthy → power-off pending
``led_pattern``      str              a session pattern name of :data:`.leds.PATTERNS`
==================== ================ ==========================================================

Outputs (:class:`~ccs2chademo.runtime.SetOutput` names and values), emitted on change:

===================== ===================== =====================================================
``power_hold``        bool                  keep the adapter powered (False = power cut)
``led``               bool                  both LEDs on
``contactor_override`` bool | None          override of the adapter contactor: None = the bridge
                                            decides; False = forced open (power-off, forced off);
                                            True/False toggling = unwelding mode (adapter.md §10 mode 3)
``power_off_pending`` bool                  both sides must stop normally
``sides_enabled``     bool                  the protocol sides may run (False during special-mode
                                            selection, self-charging, unwelding, after power-off)
``modes``             frozenset[str]        special modes, emitted when startup continues (the
                                            bridge starts its sides then): ``"v2x"``,
                                            ``"unwelding"``, ``"exi-logging"``
``soft_reset``        :class:`SoftReset`    always-on: re-initialise the sides (count increments)
``forced_off``        bool                  True: emergency power-off by a long button hold
===================== ===================== =====================================================

Choices where the spec is silent (documented in ``docs/adapter.md``): a button press is acted on
at its press edge; the special-mode selection counts a held press as the last press of its
command and measures the 2 s confirmation gap from the last release; the battery-level blink
precedes a real power-off only (an always-on soft reset does not blink); a forced off opens the
contactor, waits 100 ms and cuts power without the blink.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from .. import __version__
from ..deadline import Timers
from ..runtime import Event, InputChanged, MachineBase, SetOutput
from ..runtime.machine import successor_table
from ..runtime.signals import Input, Output
from .config import AdapterConfig
from .leds import (
    PATTERNS,
    POWER_OFF_PENDING,
    USB_CHARGING,
    LedSequencer,
    Timeline,
    TimelinePlayer,
    battery_blink,
    selection_feedback,
)

CYCLE_S: Final = 0.1
CONTACTOR_OPEN_WAIT_S: Final = 0.1  # adapter.md §2.2: open first, wait 100 ms, then cut power
CHAIN_HOLD_S: Final = 0.6  # adapter.md §10 / §16
CONFIRM_GAP_S: Final = 2.0
CANCEL_S: Final = 10.0
MAX_COMMANDS: Final = 3
AO_MIN_VCC4: Final = 3.3  # adapter.md §12.3
EPS: Final = 1e-9

#: adapter.md §10: number of presses → mode name (2 is unassigned; unknown numbers are ignored).
MODE_BY_PRESSES = {1: "v2x", 3: "unwelding", 4: "exi-logging"}


class PowerSignal(StrEnum):
    """The power manager's outputs that are not physical (:class:`~ccs2chademo.runtime.signals.Output`
    has ``POWER_HOLD`` and ``LED``): what it tells the bridge (the outputs table above)."""

    #: override of the adapter contactor (None = the bridge decides); the bridge applies it
    CONTACTOR_OVERRIDE = "contactor_override"
    POWER_OFF_PENDING = "power_off_pending"
    SIDES_ENABLED = "sides_enabled"
    MODES = "modes"
    SOFT_RESET = "soft_reset"
    FORCED_OFF = "forced_off"


CAUSE_BUTTON = "button"
CAUSE_INACTIVITY = "inactivity"
CAUSE_UNWELDING_DONE = "unwelding-done"


class PowerState(StrEnum):
    """The power manager's states (adapter.md §8, §10); the values are the session log's."""

    BOOT = "boot"
    SELF_CHARGING = "self-charging"
    SELECT_ENTER = "select-enter"
    SELECTING = "selecting"
    CONFIRMING = "confirming"
    UNWELDING = "unwelding"
    RUNNING = "running"
    OPENING_CONTACTOR = "opening-contactor"
    BLINK = "blink"
    OFF = "off"


P = PowerState

# Plain values of the states compared on hot paths: a compiled module reads a module constant
# natively, while an Enum member is a class-attribute lookup on every comparison.
_P_BLINK: Final = "blink"
_P_CONFIRMING: Final = "confirming"
_P_OFF: Final = "off"
#: Every state but ``off`` may be ended by the power-off path (a forced off: the button held):
#: the contactor opens first if it was closed (adapter.md §2.2), then the power is cut.
_CUT = {P.OPENING_CONTACTOR, P.OFF}
#: What may follow each state (docs/machines.md).
POWER_SUCCESSORS = successor_table({
    P.BOOT: {P.SELF_CHARGING, P.SELECT_ENTER, P.RUNNING, *_CUT},
    P.SELF_CHARGING: _CUT,
    P.SELECT_ENTER: {P.SELECTING, *_CUT},
    P.SELECTING: {P.CONFIRMING, P.RUNNING, *_CUT},  # running: the selection was cancelled
    P.CONFIRMING: {P.UNWELDING, P.RUNNING, *_CUT},
    P.UNWELDING: {P.RUNNING, *_CUT},
    P.RUNNING: {P.BLINK, *_CUT},  # blink: power-off pending with the contactor already open
    P.OPENING_CONTACTOR: {P.BLINK, P.RUNNING, P.OFF},  # running: an always-on soft reset
    P.BLINK: _CUT,
    P.OFF: set(),
})


class PowerTimer(StrEnum):
    """What the power manager waits for."""

    CYCLE = "cycle"  # the 100 ms cycle
    LED = "led"  # the next edge of the LED timeline being played (followed at every wake while it plays)


@dataclass(frozen=True, slots=True)
class SoftReset:
    """Always-on soft reset number ``count``; ``keep_discovery``: keep CHAdeMO discovery results (not SX)."""

    count: int
    keep_discovery: bool


#: read per event, step or cycle: module constants, not Enum class attribute lookups
_IN_BUTTON: Final = Input.BUTTON
_IN_VCC12: Final = Input.VCC12
_IN_VCC4: Final = Input.VCC4
_OUT_LED: Final = Output.LED
_OUT_POWER_HOLD: Final = Output.POWER_HOLD
_PS_BLINK: Final = P.BLINK
_PS_BOOT: Final = P.BOOT
_PS_CONFIRMING: Final = P.CONFIRMING
_PS_OFF: Final = P.OFF
_PS_OPENING_CONTACTOR: Final = P.OPENING_CONTACTOR
_PS_RUNNING: Final = P.RUNNING
_PS_SELECTING: Final = P.SELECTING
_PS_SELECT_ENTER: Final = P.SELECT_ENTER
_PS_SELF_CHARGING: Final = P.SELF_CHARGING
_PS_UNWELDING: Final = P.UNWELDING
_SIG_CONTACTOR_OVERRIDE: Final = PowerSignal.CONTACTOR_OVERRIDE
_SIG_FORCED_OFF: Final = PowerSignal.FORCED_OFF
_SIG_MODES: Final = PowerSignal.MODES
_SIG_POWER_OFF_PENDING: Final = PowerSignal.POWER_OFF_PENDING
_SIG_SIDES_ENABLED: Final = PowerSignal.SIDES_ENABLED
_SIG_SOFT_RESET: Final = PowerSignal.SOFT_RESET
_T_CYCLE: Final = PowerTimer.CYCLE
_T_LED: Final = PowerTimer.LED


def battery_level(vcc4: float | None) -> int:
    """adapter.md §8: vcc4 ≥ 3.9 V → 3, ≥ 3.6 V → 2, else 1 (unknown → 1)."""
    if vcc4 is None:
        return 1
    if vcc4 >= 3.9:
        return 3
    return 2 if vcc4 >= 3.6 else 1


def is_self_charging(vcc4: float | None, vcc12: float | None) -> bool:
    """adapter.md §8/§16: vcc4 < 1.0 V and 4.0 ≤ vcc12 < 5.0 V → the adapter is being charged over USB."""
    return vcc4 is not None and vcc12 is not None and vcc4 < 1.0 and 4.0 <= vcc12 < 5.0


class PowerManager(MachineBase):
    """Power management and special modes (adapter.md §8, §10); see the module doc for inputs and outputs."""

    def __init__(self, config: AdapterConfig, name: str = "power", start: float = 0.0) -> None:
        super().__init__(name, _PS_BOOT.value, POWER_SUCCESSORS)
        self.config = config
        self._start = start
        self._n = 1  # first cycle 100 ms after power-on: the inputs' initial values arrive first
        self._outputs: dict[str, Any] = {}
        # inputs
        self.button = False
        self.vcc4: float | None = None
        self.vcc12: float | None = None
        self.ccs_unlocked = True
        self.chademo_unlocked = True
        self.contactor_closed = False
        self._edges: list[tuple[float, bool]] = []
        self._press_t = 0.0
        self._stop_causes: list[str] = []
        self._pattern_requests: list[str] = []
        # state
        self.pending_cause: str | None = None
        self.modes: frozenset[str] = frozenset()
        self.soft_resets = 0
        self._last_activity = start
        self._leds = LedSequencer()
        self._timeline: TimelinePlayer | None = None
        self._open_since: float | None = None
        self._after_open = "blink"
        self._count = 0
        self._commands: list[int] = []
        self._held_stored = False
        self._last_release = start
        self._selection_start = start
        self._toggle = False
        self._last_now = start
        self.timers = Timers()
        self._arm()
        for name_, value in ((_OUT_POWER_HOLD, True), (_OUT_LED, True), (_SIG_CONTACTOR_OVERRIDE, None),
                             (_SIG_POWER_OFF_PENDING, False), (_SIG_SIDES_ENABLED, False),
                             (_SIG_FORCED_OFF, False)):
            self._set(name_, value)

    # -- machine protocol --------------------------------------------------------------------
    def receive(self, event: Event, now: float) -> None:
        """A physical input (``Input.BUTTON``, ``Input.VCC4``, ``Input.VCC12``), or — for tests and
        tools — any input of the table above by name, mapped onto the typed methods below."""
        if not isinstance(event, InputChanged):
            return
        name, value = event.name, event.value
        if name == _IN_BUTTON:
            self.press(bool(value), now)
        elif name in (_IN_VCC4, _IN_VCC12):
            self.supply(name, value, now)
        elif name in ("ccs_unlocked", "chademo_unlocked"):
            ccs = bool(value) if name == "ccs_unlocked" else self.ccs_unlocked
            chademo = bool(value) if name == "chademo_unlocked" else self.chademo_unlocked
            self.unlocked(ccs, chademo, now)
        elif name == "contactor_closed":
            self.contactor(bool(value), now)
        elif name == "activity":
            self.activity(now)
        elif name in ("ccs_stop", "chademo_stop", "adapter_stop"):
            self.stop_reported(name.removesuffix("_stop"), value, now)
        elif name == "led_pattern":
            self.pattern(str(value), now)
        elif self.state != _P_OFF:
            self._log("input-rejected", name=name, reason="unknown input")

    # -- what the bridge tells it (typed; once off, nothing is taken) -------------------------
    def press(self, pressed: bool, now: float) -> None:
        """The stop button's level; edges are timed exactly (a press shorter than a tick counts)."""
        if self.state != _P_OFF and pressed != self.button:
            self.button = pressed
            self._edges.append((now, pressed))
            if pressed:
                self._press_t = now

    def supply(self, rail: str, volts: object, now: float) -> None:
        """A reading of the internal battery (``vcc4``) or the 12 V rail (``vcc12``)."""
        if self.state == _P_OFF:
            return
        if isinstance(volts, int | float) and not isinstance(volts, bool):
            setattr(self, rail, float(volts))
        else:
            self._log("input-rejected", name=rail, reason="invalid value", value=repr(volts))

    def unlocked(self, ccs: bool, chademo: bool, now: float) -> None:
        """Whether each side is logically unlocked (nothing holds its connector)."""
        if self.state != _P_OFF:
            self.ccs_unlocked, self.chademo_unlocked = ccs, chademo

    def contactor(self, closed: bool, now: float) -> None:
        """The adapter contactor is (commanded) closed."""
        if self.state != _P_OFF:
            self.contactor_closed = closed

    def activity(self, now: float) -> None:
        """A sign of a running charge (a PreCharge/CurrentDemand response, a CHAdeMO loop cycle):
        the inactivity timer starts again."""
        if self.state != _P_OFF:
            self._last_activity = now

    def stop_reported(self, side: str, reason: object, now: float) -> None:
        """A side (``ccs``, ``chademo``, or the ``adapter`` itself) reports a stop: a truthy
        ``reason`` makes power-off pending with the cause ``"side: reason"``."""
        if self.state != _P_OFF and reason:
            self._stop_causes.append(f"{side}: {reason}")

    def pattern(self, name: str, now: float) -> None:
        """Show a session LED pattern of :data:`.leds.PATTERNS` (the highest wanted wins)."""
        if self.state == _P_OFF:
            return
        if name not in PATTERNS:
            self._log("led-pattern-unknown", pattern=name)
        else:
            self._pattern_requests.append(name)

    def get_timer(self) -> float | None:
        return self.timers.next()

    def handle_timer(self, now: float) -> None:
        self._last_now = now
        if self.state == _P_OFF:
            return
        if now >= self._start + self._n * CYCLE_S - EPS:
            self._on_timer(_T_CYCLE, now)
        if self._timeline is not None and self.state != _P_OFF:
            self._on_timer(_T_LED, now)
        self._arm()

    def _on_timer(self, purpose: PowerTimer, now: float) -> None:
        if purpose is _T_CYCLE:
            self._n += 1
            self._tick(now)
        elif self._timeline is not None:  # LED
            self._set(_OUT_LED, self._timeline.level(now))
            if self._timeline.done(now):
                self._timeline = None
                self._timeline_done(now)

    def _arm(self) -> None:
        """The next cycle and, while a timeline plays, its next edge; nothing once off."""
        self.timers.clear()
        if self.state == _P_OFF:
            return
        self.timers.start(_T_CYCLE, self._start + self._n * CYCLE_S)
        edge = self._timeline.next_edge(self._last_now) if self._timeline is not None else None
        if edge is not None:
            self.timers.start(_T_LED, edge)

    def _go(self, state: PowerState, **why: Any) -> None:
        self._enter(state.value, **why)  # the plain value: the session log shows it (docs/machines.md)

    # -- helpers -----------------------------------------------------------------------------
    def _set(self, name: str, value: Any) -> None:
        if name not in self._outputs or self._outputs[name] != value:
            self._outputs[name] = value
            self._emit(SetOutput(name, value))

    def output(self, name: str) -> Any:
        """The last value of an output (for tests and the live view)."""
        return self._outputs[name]

    def _take_edges(self) -> list[tuple[float, bool]]:
        edges, self._edges = self._edges, []
        return edges

    def _play(self, timeline: Timeline, now: float) -> None:
        self._timeline = TimelinePlayer(timeline, now)
        self._set(_OUT_LED, self._timeline.level(now))

    # -- the 100 ms cycle --------------------------------------------------------------------
    def _tick(self, now: float) -> None:
        if (self.button and not self._outputs[_SIG_FORCED_OFF]
                and now - self._press_t >= self.config.forced_off_hold_s - EPS):
            self._forced_off(now)
            return
        handler = getattr(self, "_tick_" + self.state.replace("-", "_"))
        handler(now)

    def _tick_boot(self, now: float) -> None:
        self._take_edges()
        level = battery_level(self.vcc4)
        self._log("boot", version=__version__, config=self.config.non_defaults(), vcc4=self.vcc4, vcc12=self.vcc12,
                  battery_level=level)
        if is_self_charging(self.vcc4, self.vcc12):
            self._go(_PS_SELF_CHARGING, vcc4=self.vcc4, vcc12=self.vcc12)
            self._leds = LedSequencer(USB_CHARGING)
            self._set(_OUT_LED, self._leds.tick())
        elif self.button:
            self._go(_PS_SELECT_ENTER)
        else:
            self._start_running(now, frozenset())

    def _tick_self_charging(self, now: float) -> None:
        if any(pressed for _, pressed in self._take_edges()):
            self._log("button-press", during="self-charging")
            self._power_off(now, CAUSE_BUTTON)
            return
        self._set(_OUT_LED, self._leds.tick())

    # -- special-mode selection (adapter.md §10) --------------------------------------------------------
    def _tick_select_enter(self, now: float) -> None:
        edges = self._take_edges()
        for i, (t, pressed) in enumerate(edges):
            if not pressed:
                self._go(_PS_SELECTING)
                self._selection_start = self._last_release = t
                self._edges = edges[i + 1:] + self._edges
                self._tick_selecting(now)
                return

    def _tick_selecting(self, now: float) -> None:
        for t, pressed in self._take_edges():
            if pressed:
                self._count += 1
                self._held_stored = False
            else:
                self._last_release = t
        self._set(_OUT_LED, not self.button)
        if self.button:
            if self._count and not self._held_stored and now - self._press_t >= CHAIN_HOLD_S - EPS:
                self._commands.append(self._count)
                self._log("mode-command", presses=self._count, commands=list(self._commands))
                self._count, self._held_stored = 0, True
                if len(self._commands) == MAX_COMMANDS:
                    self._confirm(now)
            return
        if (self._count or self._commands) and now - self._last_release >= CONFIRM_GAP_S - EPS:
            if self._count:
                self._commands.append(self._count)
            self._confirm(now)
        elif not self._count and not self._commands and now - self._selection_start >= CANCEL_S - EPS:
            self._log("mode-selection-cancelled")
            self._start_running(now, frozenset())

    def _confirm(self, now: float) -> None:
        unknown = [n for n in self._commands if n not in MODE_BY_PRESSES]
        if unknown:
            self._log("mode-unknown", presses=unknown)
        self.modes = frozenset(MODE_BY_PRESSES[n] for n in self._commands if n in MODE_BY_PRESSES)
        self._log("mode-selection", commands=list(self._commands), modes=sorted(self.modes))
        self._go(_PS_CONFIRMING)
        self._play(selection_feedback(self._commands), now)

    def _tick_confirming(self, now: float) -> None:
        self._take_edges()

    def _timeline_done(self, now: float) -> None:
        if self.state == _P_CONFIRMING:
            if "unwelding" in self.modes:
                self._go(_PS_UNWELDING)
                self._set(_SIG_MODES, self.modes)
            else:
                self._start_running(now, self.modes)
        elif self.state == _P_BLINK:
            self._cut_power(now)

    # -- mode 3: contactor unwelding ---------------------------------------------------------
    def _tick_unwelding(self, now: float) -> None:
        if any(pressed for _, pressed in self._take_edges()):
            self._log("button-press", during="unwelding")
            self._request_off(now, CAUSE_UNWELDING_DONE)
            self._go(_PS_RUNNING)
            self._tick_running(now)
            return
        self._toggle = not self._toggle
        self._set(_SIG_CONTACTOR_OVERRIDE, self._toggle)

    # -- normal operation --------------------------------------------------------------------
    def _start_running(self, now: float, modes: frozenset[str]) -> None:
        self.modes = modes
        self._last_activity = now
        self._go(_PS_RUNNING)
        self._set(_SIG_MODES, modes)
        self._set(_SIG_SIDES_ENABLED, True)
        self._set(_OUT_LED, self._leds.tick())

    def _request_off(self, now: float, cause: str) -> None:
        if self.pending_cause is not None:
            if cause == CAUSE_BUTTON and self.pending_cause != CAUSE_BUTTON:
                # the user wants it off: in always-on this turns a soft reset into a power-off
                self._log("power-off-pending", cause=cause, previous=self.pending_cause)
                self.pending_cause = cause
            return
        self.pending_cause = cause
        self._log("power-off-pending", cause=cause)
        self._set(_SIG_POWER_OFF_PENDING, True)
        self._leds.request(POWER_OFF_PENDING)

    def _tick_running(self, now: float) -> None:
        for t, pressed in self._take_edges():
            if pressed:
                self._log("button-press", at=t, pending=self.pending_cause)
                self._request_off(now, CAUSE_BUTTON)
            else:
                self._log("button-release", at=t, held_s=round(t - self._press_t, 3))
        for cause in self._stop_causes:
            self._request_off(now, cause)
        self._stop_causes.clear()
        limit = self.config.inactivity_off_s
        if limit and now - self._last_activity >= limit - EPS:
            self._request_off(now, CAUSE_INACTIVITY)
        for name in self._pattern_requests:
            self._leds.request(PATTERNS[name])
        self._pattern_requests.clear()
        self._set(_OUT_LED, self._leds.tick())
        if self.pending_cause is not None and self.ccs_unlocked and self.chademo_unlocked:
            self._begin_off(now, "blink")

    def _begin_off(self, now: float, after: str) -> None:
        """Open the contactor first; the rest follows ≥ 100 ms later if it was closed (adapter.md §2.2)."""
        self._after_open = after
        self._set(_SIG_SIDES_ENABLED, False)
        was_closed = self.contactor_closed or self._outputs.get(_SIG_CONTACTOR_OVERRIDE) is True
        self._set(_SIG_CONTACTOR_OVERRIDE, False)
        if was_closed:
            self._open_since = now
            self._go(_PS_OPENING_CONTACTOR, then=after)
        else:
            self._after_contactor_open(now)

    def _tick_opening_contactor(self, now: float) -> None:
        self._take_edges()
        if self._after_open == "blink":
            self._set(_OUT_LED, self._leds.tick())
        else:
            self._set(_OUT_LED, False)
        if self._open_since is not None and now - self._open_since >= CONTACTOR_OPEN_WAIT_S - EPS:
            self._after_contactor_open(now)

    def _after_contactor_open(self, now: float) -> None:
        if self._after_open == "cut":
            self._cut_power(now)
            return
        cause = self.pending_cause or ""
        vcc4_ok = self.vcc4 is not None and self.vcc4 > AO_MIN_VCC4
        if self.config.always_on and cause not in (CAUSE_BUTTON, CAUSE_UNWELDING_DONE) and vcc4_ok:
            self._soft_reset(now)
            return
        self._go(_PS_BLINK, cause=cause)
        self._play(battery_blink(battery_level(self.vcc4)), now)

    def _tick_blink(self, now: float) -> None:
        self._take_edges()

    def _soft_reset(self, now: float) -> None:
        self.soft_resets += 1
        keep = self.config.sx is not True
        self._log("soft-reset", cause=self.pending_cause, count=self.soft_resets, keep_discovery=keep)
        self.pending_cause = None
        self._stop_causes.clear()
        self._pattern_requests.clear()
        self._leds = LedSequencer()
        self._set(_SIG_POWER_OFF_PENDING, False)
        self._set(_SIG_CONTACTOR_OVERRIDE, None)
        self._set(_SIG_SOFT_RESET, SoftReset(self.soft_resets, keep))
        self._start_running(now, self.modes & {"exi-logging"})

    # -- power-off ---------------------------------------------------------------------------
    def _forced_off(self, now: float) -> None:
        self._log("forced-off", held_s=round(now - self._press_t, 3), hold_limit_s=self.config.forced_off_hold_s)
        self._timeline = None
        self.pending_cause = self.pending_cause or CAUSE_BUTTON
        self._set(_SIG_FORCED_OFF, True)
        self._set(_SIG_POWER_OFF_PENDING, True)
        self._set(_OUT_LED, False)
        self._begin_off(now, "cut")

    def _power_off(self, now: float, cause: str) -> None:
        self.pending_cause = cause
        self._begin_off(now, "cut")

    def _cut_power(self, now: float) -> None:
        self._log("power-off", cause=self.pending_cause, version=__version__, config=self.config.non_defaults(),
                  vcc4=self.vcc4)
        self._timeline = None
        self._set(_SIG_SIDES_ENABLED, False)
        self._set(_OUT_LED, False)
        self._set(_OUT_POWER_HOLD, False)
        self._go(_PS_OFF)
