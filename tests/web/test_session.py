"""The status page and the session it shows: restarting the server mid-session leaves the session
exactly as it would have been without a page; past sessions are split and served from rotated
logs; the LED pattern is recognised from the output's edges (≈4 s)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from ccs2chademo.adapter.config import AdapterConfig
from ccs2chademo.commands._web_sim import board_for, run_paced
from ccs2chademo.sim.world import Scenario, World, build_world, summarize
from ccs2chademo.web.server import WebOptions, WebServer
from ccs2chademo.web.sessions import SessionIndex
from ccs2chademo.web.status import LedTracker

SCENARIO = dict(soc_start=40.0, soc_stop=41)


def _outcome(world: World) -> dict[str, Any]:
    summary = summarize(world, 0.0).as_json()
    summary.pop("wall_s")
    return {"summary": summary, "samples": list(world.samples), "stop_begun": world.stop_begun_at}


def test_server_restart_mid_session_leaves_the_session_untouched() -> None:
    alone = build_world(Scenario(**SCENARIO))  # type: ignore[arg-type]
    alone.run()

    async def with_page() -> tuple[World, list[int]]:
        world = build_world(Scenario(**SCENARIO))  # type: ignore[arg-type]
        board = board_for(world)
        server = WebServer(board, WebOptions(port=0, press=lambda: None))
        await server.start()
        task = asyncio.create_task(run_paced(world, board, speed=100.0))
        seen: list[int] = []
        during: list[bool] = []
        async with aiohttp.ClientSession() as client:
            for _ in range(3):  # restart the server three times while the session runs
                await asyncio.sleep(0.1)
                async with client.get(f"http://127.0.0.1:{server.port}/api/status") as r:
                    seen.append(r.status)
                    during.append(not (await r.json())["ended"] and not task.done())
                await server.stop()
                await asyncio.sleep(0.05)
                await server.start()
            await task
            async with client.get(f"http://127.0.0.1:{server.port}/api/status") as r:
                status = await r.json()
        await server.stop()
        assert status["ended"] and status["stop_reason"] == world.bridge.view().stop_reason
        assert during == [True, True, True]  # the restarts happened while the session ran
        return world, seen

    world, seen = asyncio.run(with_page())
    assert seen == [200, 200, 200]
    assert _outcome(world) == _outcome(alone)
    assert not world.invariants.violations


def _lines(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


HEADER = {"t": 0, "source": "ccs2chademo", "kind": "session-log", "format": "ccs2chademo-session-log", "version": 1}


def _sample(t: float, soc: float) -> dict[str, Any]:
    return {"t": t, "source": "world", "kind": "sample", "charger_v": 360.0, "current_a": 100.0, "soc": soc}


def test_sessions_from_rotated_logs(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    base = logs / "session.jsonl"
    # oldest file: session A begins; .1: A goes on after a rollover (time keeps growing), then B starts at 0
    (logs / "session.jsonl.2").write_text(_lines(HEADER, _sample(1.0, 50.0), _sample(2.0, 50.5)))
    (logs / "session.jsonl.1").write_text(
        _lines(HEADER, _sample(3.0, 51.0), {"t": 3.5, "source": "adapter", "kind": "power-off-pending",
                                            "cause": "adapter: button"})
        + "not json\n" + "x" * 70000 + "\n"
        + _lines(HEADER, _sample(0.5, 20.0), _sample(1.5, 21.0)))
    base.write_text(_lines(HEADER, _sample(2.5, 22.0)))
    sessions = SessionIndex([base]).sessions()
    assert len(sessions) == 2
    a, b = sessions
    assert [p.path.name for p in a.parts] == ["session.jsonl.2", "session.jsonl.1"]
    assert a.summary()["stop_reason"] == "adapter: button" and a.bad_lines == 2
    assert (a.soc_start, a.soc_end) == (50.0, 51.0)
    assert round(a.energy_wh, 3) == round(360 * 100 * 2 / 3600, 3)
    assert (b.soc_start, b.soc_end) == (20.0, 22.0) and [p.path.name for p in b.parts] == ["session.jsonl.1",
                                                                                          "session.jsonl"]

    async def download() -> tuple[bytes, dict[str, Any]]:
        server = WebServer(_board(), WebOptions(port=0, session_logs=[base], config=AdapterConfig()))
        await server.start()
        try:
            async with aiohttp.ClientSession() as client:
                url = f"http://127.0.0.1:{server.port}/api/sessions"
                async with client.get(url) as r:
                    listing = await r.json()
                async with client.get(f"{url}/{b.id}/log") as r:
                    body = await r.read()
        finally:
            await server.stop()
        return body, listing

    body, listing = asyncio.run(download())
    assert [s["id"] for s in listing["sessions"]] == [b.id, a.id]  # newest first
    expected = _lines(HEADER, _sample(0.5, 20.0), _sample(1.5, 21.0)) + _lines(HEADER, _sample(2.5, 22.0))
    assert body == expected.encode()


def _board() -> Any:
    from ccs2chademo.web.status import StatusBoard

    return StatusBoard()


def test_led_pattern_from_edges() -> None:
    def play(ticks: list[int], cycles: int) -> LedTracker:
        leds, t = LedTracker(), 0.0
        for _ in range(cycles):
            for n in ticks:
                leds.edge(t, n > 0)
                t += abs(n) * 0.1
        leds.edge(t, ticks[0] > 0)
        return leds

    assert play([-10, 10], 3).pattern(6.1) == "charging"
    assert play([-2, 2], 4).pattern(1.7) == "precharge"
    assert play([-2, 2, -2, 9], 3).pattern(4.6) == "tcp-connected"
    assert play([-10, 10], 3).pattern(60.0) is None  # no edge for long: steady
    assert play([-3, 7], 3).pattern(3.1) is None  # not a pattern of adapter.md §9
    leds = play([-2, 2], 4)
    assert leds.pattern(1.7) == "precharge"
    leds.edge(2.6, True)  # charging begins: one off run of 1 s matches nothing yet
    assert leds.pattern(2.7) == "precharge"
    leds.edge(3.6, False)
    leds.edge(4.6, True)
    assert leds.pattern(4.7) == "charging"
