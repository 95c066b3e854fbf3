"""``simulate --realtime --web``: the simulated session paced in an asyncio loop that also serves
the status page (``docs/web.md``).

The world runs one virtual second at a time (its sample period), then the loop sleeps until the
wall clock has caught up at ``speed``× — and serves the page meanwhile.  After each second the
board gets the world's newest ``sample`` (the same values the session log records) and the
bridge's view; the LED's edges come from the bridge's ``led`` output.  The page's stop button is
:meth:`~ccs2chademo.sim.world.World.press_stop`, the ``stop-button`` fault's press.  The world is
never touched while it runs: the page's handlers run only between two seconds.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any

from ..sim.world import World
from ..web.server import WebOptions, WebServer
from ..web.status import StatusBoard

CHUNK_S = 1.0


def board_for(world: World) -> StatusBoard:
    """A board fed by the world's adapter LED output."""
    board = StatusBoard(target_soc=float(world.config.stop_charging_soc), source="simulation")
    slot = world.sim.slots[world.bridge.name]
    inner = slot.on_output

    def on_output(name: str, value: Any, now: float) -> None:
        if inner is not None:
            inner(name, value, now)
        if name == "led":
            board.led_edge(now, bool(value))

    slot.on_output = on_output
    return board


def feed(board: StatusBoard, world: World) -> None:
    view = world.bridge.view()
    if world.samples:
        s = world.samples[-1]
        board.update(s.t, view, voltage=s.charger_v, current=s.current_a, soc=s.soc, energy_kwh=world.energy_kwh())
    else:
        board.update(world.sim.now(), view, voltage=None, current=None, soc=None, energy_kwh=0.0)


async def run_paced(world: World, board: StatusBoard, speed: float) -> None:
    """Run the world to its end, ``speed``× faster than the wall clock, feeding ``board``."""
    loop = asyncio.get_running_loop()
    sim, limit = world.sim, world.scenario.limit_s
    wall0 = loop.time()
    while world.finished_at is None and sim.now() < limit - 1e-9:
        world.run(until=min(limit, sim.now() + CHUNK_S))
        feed(board, world)
        await asyncio.sleep(max(0.0, sim.now() / speed - (loop.time() - wall0)))
    board.end()


async def serve_session(world: World, options: WebOptions, speed: float, *,
                        announce: Callable[[WebServer], None] | None = None,
                        on_end: Callable[[], None] | None = None, linger: bool = True) -> StatusBoard:
    """Serve the page while the world runs; ``on_end`` runs when the session has ended, then
    (``linger``) the page stays up until SIGINT/SIGTERM, to read the result, change settings for
    the next session and browse the past sessions."""
    board = board_for(world)
    options.press = lambda: world.press_stop(world.sim.now())
    options.speed = speed
    server = WebServer(board, options)
    await server.start()
    if announce is not None:
        announce(server)
    try:
        await run_paced(world, board, speed)
        if on_end is not None:
            on_end()
        if linger:
            await _until_signal()
    finally:
        await server.stop()
    return board


async def _until_signal() -> None:
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    try:
        await done.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
