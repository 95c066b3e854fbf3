"""Safe outputs at startup and on every way out (adapter.md §2.2, §8; issue 8 "startup and
shutdown that are safe").

Why a guard around the whole run instead of a ``finally`` in each machine: the machines are
sans-I/O and may be mid-session when a signal or a bug ends the process; only the layer that
owns the pins can promise that, whatever happened, the contactor is opened first and given
100 ms before anything else (so the car's contactors never break current), d2 and d1 drop
after it, and the power-hold line — which keeps the adapter itself powered — goes last.

* :class:`SafeOutputs` drives every output to its safe value on construction (before any
  machine exists) and runs the shutdown sequence once, however often it is asked.
* :func:`run_guarded` runs the main coroutine with SIGTERM/SIGINT handlers and an event-loop
  exception handler installed; every exit path runs the shutdown sequence.  Exit status: 0 for
  a normal end or a signal, 1 for an unhandled error.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable, Coroutine
from typing import Any

from .gpio import Gpio
from .hardware_config import ALL_OUTPUT_ROLES, SAFE_OUTPUTS
from .linux.watchdog import SystemdNotifier

logger = logging.getLogger(__name__)

#: Contactor open → wait before anything else changes (adapter.md §12.3).
CONTACTOR_SETTLE_S = 0.1

#: The contactors, opened first (the adapter's, or clara mode's inlet contactors on one or two lines).
CONTACTOR_ROLES = ("contactor", "inlet_contactor")
#: Outputs in shutdown order after the contactors; power hold last (released, not held).  The inlet
#: lock (clara mode) is left where it is: only the controller may open it, at a safe voltage — a
#: crash must not unlock a live inlet (docs/clara-mode.md).
SHUTDOWN_ORDER: tuple[tuple[str, bool], ...] = (
    *((role, SAFE_OUTPUTS[role]) for role in ALL_OUTPUT_ROLES
      if role not in (*CONTACTOR_ROLES, "power_hold", "lock")),
    ("power_hold", False),
)
#: Start-up order: the contactors first, then every other output (power hold held).
STARTUP_ORDER = (*CONTACTOR_ROLES, *(role for role in ALL_OUTPUT_ROLES if role not in CONTACTOR_ROLES))


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(0)  # unwinds through ``with SafeOutputs(...)``, whose exit shuts down safely


class SafeOutputs:
    """Owns the safe state of the adapter's outputs for one process lifetime.

    Use it as a context manager around everything that follows (building the machines, the run)::

        with SafeOutputs(gpio, notifier) as safe:
            status = run_guarded(safe, main)

    With ``handle_signals`` (the default) SIGTERM/SIGINT already lead to the safe shutdown and
    status 0 while the program is still starting, before :func:`run_guarded` takes over.
    """

    def __init__(self, gpio: Gpio, notifier: SystemdNotifier | None = None,
                 sleep: Callable[[float], None] = time.sleep, handle_signals: bool = True) -> None:
        self.gpio = gpio
        self.notifier = notifier
        self._sleep = sleep
        self.shut_down = False
        self.reason: str | None = None
        self._previous: dict[int, Any] = {}
        for role in STARTUP_ORDER:  # contactors first, power hold held
            self._drive(role, SAFE_OUTPUTS[role])
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, _terminate)

    def __enter__(self) -> SafeOutputs:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if kind is not None and not issubclass(kind, SystemExit):
            logger.error("unhandled error before or after the run", exc_info=exc)
        self.shutdown("exit" if kind is None or issubclass(kind, SystemExit) else "unhandled error")
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _drive(self, role: str, value: bool) -> None:
        # One failing line must not stop the others from reaching their safe value.
        try:
            self.gpio.set_output(role, value)
        except Exception:
            logger.exception("could not drive %s to %s", role, value)

    def shutdown(self, reason: str = "shutdown") -> None:
        """Contactor open, 100 ms, d2 off, d1 off, CP state B, LEDs off, power hold released;
        then the lines are released.  Idempotent: only the first call acts."""
        if self.shut_down:
            return
        self.shut_down = True
        self.reason = reason
        logger.info("safe shutdown (%s): opening the contactor first", reason)
        if self.notifier is not None:
            self.notifier.stopping()
        for role in CONTACTOR_ROLES:
            self._drive(role, False)
        if self.gpio.wired_outputs & set(CONTACTOR_ROLES):
            self._sleep(CONTACTOR_SETTLE_S)
        for role, value in SHUTDOWN_ORDER:
            self._drive(role, value)
        try:
            self.gpio.close()
        except Exception:
            logger.exception("closing GPIO failed")


def run_guarded(safe: SafeOutputs, main: Callable[[], Coroutine[Any, Any, None]]) -> int:
    """Run ``main()`` on a fresh event loop; the safe shutdown runs on every way out.

    SIGTERM/SIGINT shut down at once (in the signal handler, before ``main`` is cancelled, so a
    slow teardown cannot delay opening the contactor) and give status 0.  An exception from
    ``main`` or from any loop callback shuts down and gives 1.
    """
    failure: list[BaseException | str] = []
    by_signal: list[str] = []

    async def runner() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(main())

        def on_signal(sig: signal.Signals) -> None:
            logger.warning("%s received", sig.name)
            by_signal.append(sig.name)
            safe.shutdown(sig.name)
            task.cancel()

        def on_loop_error(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            exc = context.get("exception")
            logger.error("unhandled error in the event loop: %s", context.get("message"), exc_info=exc)
            failure.append(exc if exc is not None else str(context.get("message")))
            safe.shutdown("unhandled error")
            task.cancel()

        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
        for sig in previous:
            loop.add_signal_handler(sig, on_signal, sig)
        loop.set_exception_handler(on_loop_error)
        try:
            await task
        except asyncio.CancelledError:
            if not (by_signal or failure):
                raise
        except Exception as exc:
            logger.exception("unhandled error")
            failure.append(exc)
        finally:
            safe.shutdown(by_signal[0] if by_signal else "unhandled error" if failure else "end of run")
            for sig, handler in previous.items():
                loop.remove_signal_handler(sig)
                signal.signal(sig, handler)  # e.g. SafeOutputs' startup handlers, until its exit
        return 1 if failure else 0

    try:
        return asyncio.run(runner())
    finally:
        safe.shutdown("interrupted")  # no-op unless the loop itself died (e.g. SIGINT before handlers)
