"""The status page's HTTP API without a browser: the access token off localhost, CSRF, path
traversal, oversized bodies, slow clients, rate limits, what the stop and the settings accept
(the server in this process, on a free port; ≈3 s)."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ccs2chademo.adapter.bridge import BridgeView
from ccs2chademo.adapter.config import load_config
from ccs2chademo.web.server import MAX_BODY, MAX_STREAMS, WebOptions, WebServer, parse_listen
from ccs2chademo.web.status import StatusBoard
from ccs2chademo.web.token import load_or_create, token_path

CONFIG = "max-amps = 150\n\n[hardware.logging]\nrotate_count = 3\n"


def view(**changes: Any) -> BridgeView:
    fields: dict[str, Any] = dict(
        ccs_state="CurrentDemand", chademo_state="CHARGING", power_state="running", ccs_session_state="CurrentDemand",
        contactor=True, pending=False, sides_enabled=True, precharge_target_v=None, ccs_target_current_a=100.0,
        car_request_a=100.0, charger_limit_a=200.0, charger_voltage_v=360.0, charger_current_a=100.0,
        ccs_delivering=True, ccs_parameters_done=True, ccs_safe_shutdown=False, discharging=False, emergency=False,
        battery_estimate_v=None, battery_measured=False, soc=50.0, stop_reason=None, stop_begun=False,
        emergency_open=False, single_session=False, car_rule=None, soft_resets=0)
    fields.update(changes)
    return BridgeView(**fields)


class Page:
    """A server on a free port and a client that plays the page (cookie + CSRF header)."""

    def __init__(self, server: WebServer, client: aiohttp.ClientSession, host: str) -> None:
        self.server, self.client = server, client
        self.base = f"http://{host}:{server.port}"
        self.presses: list[float] = []

    async def csrf(self) -> str:
        async with self.client.get(self.base + "/") as r:
            assert r.status == 200
        return next(c.value for c in self.client.cookie_jar if c.key == "csrf")

    async def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        h = {"X-CSRF-Token": await self.csrf(), **(headers or {})}
        async with self.client.post(self.base + path, json=body, headers=h) as r:
            return r.status, await r.json(content_type=None)


@asynccontextmanager
async def page(tmp_path: Path, board: StatusBoard | None = None, host: str = "127.0.0.1",
               **options: Any) -> AsyncIterator[Page]:
    config = tmp_path / "adapter.toml"
    if not config.exists():
        config.write_text(CONFIG)
    board = board or StatusBoard(target_soc=80)
    presses: list[float] = []
    opts = WebOptions(host=host, port=0, config_path=config, config=load_config(config),
                      session_logs=[tmp_path / "logs" / "session.jsonl"],
                      files=[tmp_path / "logs" / "ccs.pcapng", tmp_path / "logs" / "can.log"],
                      press=lambda: presses.append(time.monotonic()), **options)
    server = WebServer(board, opts)
    await server.start()
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            p = Page(server, client, "127.0.0.1")
            p.presses = presses
            yield p
    finally:
        await server.stop()


def run(coro: Callable[[], Any]) -> None:
    asyncio.run(coro())


def running_board() -> StatusBoard:
    board = StatusBoard(target_soc=80)
    board.update(12.0, view(), voltage=360.0, current=100.0, soc=50.0, energy_kwh=0.1)
    return board


def test_listen_addresses() -> None:
    assert parse_listen("8080") == ("127.0.0.1", 8080)
    assert parse_listen("0.0.0.0:80") == ("0.0.0.0", 80)
    assert parse_listen("[::1]:8080") == ("::1", 8080)
    for bad in ("http", "1.2.3.4:99999", "example.org:80"):
        with pytest.raises(ValueError):
            parse_listen(bad)


def test_status_fields_and_stream(tmp_path: Path) -> None:
    async def main() -> None:
        board = running_board()
        async with page(tmp_path, board) as p:
            async with p.client.get(p.base + "/api/status") as r:
                status = await r.json()
            for key in ("ccs_state", "downstream_state", "led", "soc", "voltage", "current", "power_kw",
                        "energy_kwh", "elapsed_s", "stop_reason"):
                assert key in status
            assert status["power_kw"] == 36.0 and status["ccs_state"] == "CurrentDemand"
            async with p.client.get(p.base + "/api/stream") as r:
                line = await asyncio.wait_for(r.content.readline(), 5)
                assert line == b"event: status\n"
                board.update(13.0, view(), voltage=361.0, current=100.0, soc=50.1, energy_kwh=0.11)
                await r.content.readline()
                await r.content.readline()
                assert await asyncio.wait_for(r.content.readline(), 5) == b"event: status\n"
    run(main)


def test_token_required_off_localhost(tmp_path: Path) -> None:
    async def main() -> None:
        async with page(tmp_path, running_board(), host="0.0.0.0") as p:
            token = (tmp_path / "web-token").read_text().strip()
            assert (tmp_path / "web-token").stat().st_mode & 0o777 == 0o600
            assert p.server.token == token == load_or_create(token_path(tmp_path / "adapter.toml"))
            assert (await p.post("/api/stop", {"confirm": True}))[0] == 401
            assert (await p.post("/api/stop", {"confirm": True}, {"X-Access-Token": "x" * 24}))[0] == 401
            assert (await p.post("/api/settings", {"values": {}}))[0] == 401
            async with p.client.get(p.base + "/api/status") as r:  # reading needs no token
                assert r.status == 200 and (await r.json())["token_required"] is True
            assert p.presses == []
            assert (await p.post("/api/stop", {"confirm": True}, {"X-Access-Token": token}))[0] == 202
            assert len(p.presses) == 1
        async with page(tmp_path, running_board()) as p:  # loopback: no token
            assert p.server.token is None
            assert (await p.post("/api/stop", {"confirm": True}))[0] == 202
    run(main)


def test_a_token_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "web-token"
    path.write_text("a" * 24)
    os.chmod(path, 0o644)
    with pytest.raises(OSError, match="chmod 600"):
        load_or_create(path)


def test_csrf(tmp_path: Path) -> None:
    async def main() -> None:
        async with page(tmp_path, running_board()) as p:
            csrf = await p.csrf()
            url = p.base + "/api/stop"
            async with p.client.post(url, json={"confirm": True}) as r:  # no header
                assert r.status == 403
            async with p.client.post(url, json={"confirm": True}, headers={"X-CSRF-Token": "forged"}) as r:
                assert r.status == 403
            async with p.client.post(url, data="confirm=true", headers={
                    "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded"}) as r:
                assert r.status == 415  # a plain form post (what another site can send) is refused
            async with p.client.post(url, json={"confirm": True}, headers={
                    "X-CSRF-Token": csrf, "Origin": "http://evil.example"}) as r:
                assert r.status == 403
            async with aiohttp.ClientSession() as stranger, stranger.post(  # no cookie at all
                    url, json={"confirm": True}, headers={"X-CSRF-Token": csrf}) as r:
                assert r.status == 403
            assert p.presses == []
            assert (await p.post("/api/stop", {"confirm": True}))[0] == 202
    run(main)


def test_stop_only_when_confirmed_and_the_sides_run(tmp_path: Path) -> None:
    async def main() -> None:
        board = StatusBoard(target_soc=80)
        board.update(1.0, view(sides_enabled=False, contactor=False, ccs_state="modem"), voltage=None, current=None,
                     soc=None, energy_kwh=0.0)
        async with page(tmp_path, board) as p:
            # before the sides run a press is the special-mode selection: never from the page
            assert (await p.post("/api/stop", {"confirm": True}))[0] == 409
            board.update(2.0, view(), voltage=360.0, current=100.0, soc=50.0, energy_kwh=0.1)
            assert (await p.post("/api/stop", {}))[0] == 400
            assert (await p.post("/api/stop", {"confirm": "yes"}))[0] == 400
            assert (await p.post("/api/stop", {"confirm": True}))[0] == 202
            board.end()
            assert (await p.post("/api/stop", {"confirm": True}))[0] == 409
            assert len(p.presses) == 1
    run(main)


def test_path_traversal_finds_nothing(tmp_path: Path) -> None:
    async def main() -> None:
        logs = tmp_path / "logs"
        logs.mkdir()
        (logs / "ccs.pcapng").write_bytes(b"\n\r\r\n")
        (logs / "ccs.1.pcapng").write_bytes(b"\n\r\r\n")
        (logs / "secret.txt").write_text("secret")
        (logs / "can.2.log").symlink_to("/etc/passwd")
        async with page(tmp_path) as p:
            async with p.client.get(p.base + "/api/sessions") as r:
                names = {f["name"] for f in (await r.json())["files"]}
            assert names == {"ccs.pcapng", "ccs.1.pcapng"}
            async with p.client.get(p.base + "/api/files/ccs.1.pcapng") as r:
                assert r.status == 200 and await r.read() == b"\n\r\r\n"
            for path in ("/api/files/..%2F..%2F..%2Fetc%2Fpasswd", "/api/files/%2e%2e", "/api/files/secret.txt",
                         "/api/files/can.2.log", "/api/files/..%2Fadapter.toml", "/static/..%2Fserver.py",
                         "/static/%2e%2e%2fserver.py", "/api/sessions/..%2F..%2Fetc/log", "/static/../server.py",
                         "/api/files/ccs.pcapng%00.txt", "/api/files/%2Fetc%2Fpasswd"):
                async with p.client.get(p.base + path) as r:
                    body = await r.read()
                    assert r.status == 404, path
                    assert b"root:" not in body and b"max-amps" not in body and b"secret" not in body
    run(main)


def test_oversized_bodies_are_refused(tmp_path: Path) -> None:
    async def main() -> None:
        async with page(tmp_path, running_board()) as p:
            status, _ = await p.post("/api/settings", {"values": {"x": "a" * (MAX_BODY + 1)}})
            assert status == 413
            # a chunked body (no Content-Length) is cut at the same size
            csrf = await p.csrf()

            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(64):
                    yield b" " * 1024

            async with p.client.post(p.base + "/api/stop", data=chunks(), headers={
                    "X-CSRF-Token": csrf, "Content-Type": "application/json"}) as r:
                assert r.status == 413
            assert p.presses == []
    run(main)


def _raw(port: int, request: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(request)
    return sock


def test_slow_clients_do_not_hold_the_server(tmp_path: Path) -> None:
    async def main() -> None:
        async with page(tmp_path, running_board(), body_timeout_s=0.5, write_timeout_s=0.5) as p:
            csrf = await p.csrf()
            loop = asyncio.get_running_loop()
            # a body announced and never sent: 408 after the body timeout
            slow = await loop.run_in_executor(None, _raw, p.server.port, (
                f"POST /api/stop HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
                f"Cookie: csrf={csrf}\r\nX-CSRF-Token: {csrf}\r\n\r\n{{").encode())
            # streams that never read, as many as the server takes
            readers = [await loop.run_in_executor(None, _raw, p.server.port,
                                                  b"GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n")
                       for _ in range(MAX_STREAMS)]
            await asyncio.sleep(0.3)
            async with p.client.get(p.base + "/api/stream") as r:
                assert r.status == 503  # the stream limit
            started = time.monotonic()
            for _ in range(5):  # everything else is still served at once
                async with p.client.get(p.base + "/api/status") as r:
                    assert r.status == 200
            assert time.monotonic() - started < 1.0
            await asyncio.sleep(0.6)
            answer = await loop.run_in_executor(None, slow.recv, 200)
            assert answer.startswith(b"HTTP/1.1 408")
            assert p.presses == []
            for sock in [slow, *readers]:
                sock.close()
            deadline = time.monotonic() + 3.0  # streams whose client went away end within a second or so
            while p.server._streams and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert p.server._streams == 0
    run(main)


def test_rate_limit(tmp_path: Path) -> None:
    async def main() -> None:
        async with page(tmp_path, rate_per_s=5.0, burst=10, tarpit_s=0.2) as p:
            codes = []
            started = time.monotonic()
            for _ in range(15):
                async with p.client.get(p.base + "/api/status") as r:
                    codes.append(r.status)
            assert codes[:10] == [200] * 10 and 429 in codes
            assert time.monotonic() - started >= 0.2 * codes.count(429) * 0.9  # each refusal held back
            # many requests at once: those beyond the hold limit are cut off without the pause
            async def one() -> int:
                async with p.client.get(p.base + "/api/status") as r:
                    return r.status
            results = await asyncio.gather(*(one() for _ in range(40)))
            assert set(results) <= {200, 429} and results.count(429) >= 30
    run(main)


def test_settings_refused_mid_session_and_checked_by_the_model(tmp_path: Path) -> None:
    async def main() -> None:
        board = running_board()
        config = tmp_path / "adapter.toml"
        async with page(tmp_path, board) as p:
            status, body = await p.post("/api/settings", {"values": {"max-amps": 100}})
            assert status == 409 and "active" in body["error"]
            assert config.read_text() == CONFIG
            board.end()
            board.update(99.0, view(sides_enabled=False, contactor=False), voltage=0.0, current=0.0, soc=60.0,
                         energy_kwh=1.0)
            status, body = await p.post("/api/settings", {"values": {"max-amps": 300, "sx": "maybe", "v2x": 1,
                                                                     "no-such-key": 1}, "preset": "turbo"})
            assert status == 422
            assert set(body["fields"]) == {"max-amps", "sx", "v2x", "no-such-key", "preset"}
            assert config.read_text() == CONFIG and not (tmp_path / "adapter.toml.bak").exists()
            status, body = await p.post("/api/settings", {"values": {"max-amps": 99, "chademo-0.9": True,
                                                                     "sx": "auto"}, "preset": "v2x"})
            assert status == 200, body
            text = config.read_text()
            assert text.endswith("[hardware.logging]\nrotate_count = 3\n")  # the tables kept as they were
            assert (tmp_path / "adapter.toml.bak").read_text() == CONFIG
            loaded = load_config(config)
            assert (loaded.max_amps, loaded.chademo_0_9, loaded.v2x, loaded.sx) == (99, True, True, "auto")
            assert loaded.hardware.logging.rotate_count == 3
            assert "sx" not in text  # a default is not written
    run(main)
