"""The status page beside ``ccs2chademo run``: a :class:`~ccs2chademo.adapter.runner.Service`.

It copies what the runner already tracks (the bridge's view, the energy of its trail) into the
:class:`~.status.StatusBoard` every :data:`FEED_S` of wall time — never from the machines'
event path — and forwards the LED output's edges.  The stop button is
:meth:`~ccs2chademo.adapter.runner.AdapterRun.press_stop`, the same input as the GPIO line.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..adapter.runner import AdapterRun
from .server import WebOptions, WebServer
from .status import StatusBoard

FEED_S = 0.25


class RunWebService:
    """The status page of one ``run``; ``options.press`` is filled in when the run starts."""

    def __init__(self, options: WebOptions) -> None:
        self.options = options
        self.board = StatusBoard(target_soc=float(options.config.stop_charging_soc), source="adapter")
        self.server: WebServer | None = None
        self._run: AdapterRun | None = None
        self._handle: asyncio.TimerHandle | None = None

    def on_output(self, name: str, value: Any, now: float) -> None:
        if name == "led":
            self.board.led_edge(now, bool(value))

    async def start(self, run: AdapterRun) -> None:
        self._run = run
        self.options.press = run.press_stop
        server = WebServer(self.board, self.options)
        await server.start()
        self.server = server
        self._feed()

    async def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self.board.end()
        if self.server is not None:
            await self.server.stop()

    def _feed(self) -> None:
        run = self._run
        if run is not None and run.bridge is not None:
            view = run.bridge.view()
            self.board.update(run.rt.now(), view, voltage=view.charger_voltage_v, current=view.charger_current_a,
                              soc=view.soc, energy_kwh=run.trail.energy_wh / 1000.0)
        self._handle = asyncio.get_running_loop().call_later(FEED_S, self._feed)
