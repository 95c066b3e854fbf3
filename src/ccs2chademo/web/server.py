"""The status page's HTTP server (aiohttp, in the adapter's own asyncio loop; ``docs/web.md``).

Why aiohttp: it is one pure-asyncio package (no ASGI server, no thread pool) that runs as a few
more tasks on the loop the runner already drives, so the page reads the :class:`StatusBoard`
without locks or copies across threads, and it fits a Pi Zero 2's memory.

Safety and security (issue 16):

* the page can do one thing to a session — :attr:`WebServer.press`, a short press of the stop
  button, only while the sides run; it cannot start a charge, close a contactor or change a
  setting mid-session (a settings write is refused while a session is active and the new file
  is read only by the next session);
* loopback by default; on any other address every POST needs the access token
  (``X-Access-Token``, :mod:`.token`);
* CSRF: a POST must be JSON, carry ``X-CSRF-Token`` equal to the ``csrf`` cookie (double submit;
  the cookie is ``SameSite=Strict``) and, if it has an ``Origin``, come from this host;
* limits: bodies over :data:`MAX_BODY` are refused (413), a body that does not arrive within
  ``body_timeout_s`` is 408, each client address gets a token bucket (beyond it: 429 after a
  pause, and the connection closed), at most
  :data:`MAX_STREAMS` live streams, and a stream whose client does not read is closed after
  ``write_timeout_s``;
* downloads are looked up by name in :class:`~.sessions.FileTable` (no path from a request).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from ..adapter.config import AdapterConfig
from ..adapter.config_file import write_atomically
from .sessions import FileTable, Session, SessionIndex
from .settings import SettingsError, check, describe
from .status import StatusBoard
from .token import load_or_create, token_path

logger = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
MAX_STREAMS = 8
STREAM_INTERVAL_S = 0.25
KEEPALIVE_S = 15.0
MAX_HELD = 16
_CSRF_COOKIE = "csrf"
_CHUNK = 64 * 1024
_STATIC = {"index.html": "text/html", "app.css": "text/css", "app.js": "application/javascript"}
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
}


class ListenError(ValueError):
    """A ``--web`` value that is not ``[ADDR:]PORT``."""


def parse_listen(text: str) -> tuple[str, int]:
    """``PORT``, ``ADDR:PORT`` or ``[V6ADDR]:PORT`` → (address, port); the address defaults to 127.0.0.1."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise ListenError(f"--web {text!r}: expected [ADDR:]PORT") from None
    if not 0 <= port <= 65535:
        raise ListenError(f"--web {text!r}: port out of range")
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ListenError(f"--web {text!r}: {host!r} is not an IP address") from None
    return host, port


def is_loopback(host: str) -> bool:
    return host == "localhost" or ipaddress.ip_address(host).is_loopback


@dataclass
class WebOptions:
    """What the server serves; ``press`` is the one action it may take."""

    host: str = "127.0.0.1"
    port: int = 8080
    config_path: Path | None = None
    config: AdapterConfig = field(default_factory=AdapterConfig)
    session_logs: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    press: Callable[[], None] | None = None
    speed: float = 1.0
    rate_per_s: float = 20.0
    burst: int = 40
    tarpit_s: float = 0.5
    body_timeout_s: float = 5.0
    write_timeout_s: float = 5.0


class _Buckets:
    """A token bucket per client address (bounded: the oldest entries go first)."""

    def __init__(self, rate: float, burst: int, size: int = 256) -> None:
        self.rate, self.burst, self.size = rate, burst, size
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, peer: str, now: float) -> bool:
        tokens, last = self._buckets.pop(peer, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        ok = tokens >= 1.0
        self._buckets[peer] = (tokens - 1.0 if ok else tokens, now)
        if len(self._buckets) > self.size:
            del self._buckets[next(iter(self._buckets))]
        return ok


class WebServer:
    """The page on ``options.host:options.port``; :meth:`start` and :meth:`stop` may be called
    again (a restart leaves the session alone: the server only reads the board)."""

    def __init__(self, board: StatusBoard, options: WebOptions) -> None:
        self.board = board
        self.options = options
        self.token: str | None = None
        if not is_loopback(options.host):
            self.token = load_or_create(token_path(options.config_path))
        self.sessions = SessionIndex(options.session_logs)
        self.files = FileTable([*options.session_logs, *options.files])
        self._buckets = _Buckets(options.rate_per_s, options.burst)
        self._streams = 0
        self._held: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._reading = asyncio.Lock()
        self._static = {name: (resources.files(__package__) / "static" / name).read_bytes() for name in _STATIC}
        self.port = options.port

    # -- lifetime ---------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._guard])
        routes = (("GET", "/", self._index), ("GET", "/static/{name}", self._asset),
                  ("GET", "/api/status", self._status), ("GET", "/api/history", self._history),
                  ("GET", "/api/stream", self._stream), ("POST", "/api/stop", self._stop),
                  ("GET", "/api/settings", self._settings), ("POST", "/api/settings", self._save_settings),
                  ("GET", "/api/sessions", self._sessions), ("GET", "/api/sessions/{id}", self._session),
                  ("GET", "/api/sessions/{id}/log", self._session_log), ("GET", "/api/files/{name}", self._file))
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
        return app

    async def start(self) -> None:
        self._stopping = asyncio.Event()
        self._reading = asyncio.Lock()
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.options.host, self.options.port, reuse_address=True)
        await site.start()
        self._runner = runner
        if runner.addresses:  # the port the kernel chose for port 0
            self.port = int(runner.addresses[0][1])
        logger.info("status page on http://%s:%d/%s", self.options.host, self.port,
                    " (access token required for changes)" if self.token else "")

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # -- the guard: limits, CSRF, token -----------------------------------------------------------
    @web.middleware
    async def _guard(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
        peer = request.remote or "?"
        if not self._buckets.allow(peer, time.monotonic()):
            return await self._tarpit(peer)
        if request.method == "POST":
            refused = self._refuse_post(request)
            if refused is not None:
                return refused
        response = await handler(request)
        response.headers.update(_SECURITY_HEADERS)
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def _tarpit(self, peer: str) -> web.Response:
        """429, after a pause: an HTTP/1.1 client waits for the answer before its next request on
        that connection, so a flood costs the loop one cheap timer per request instead of parsing
        thousands per second (what the charging machines' cycle would feel, bench/web.py).  A peer
        with more than :data:`MAX_HELD` requests held is cut off at once."""
        held = self._held.get(peer, 0)
        response = _error(429, "too many requests", {"Retry-After": "1"})
        response.force_close()
        if held >= MAX_HELD:
            return response
        self._held[peer] = held + 1
        try:
            await asyncio.sleep(self.options.tarpit_s)
        finally:
            self._held[peer] -= 1
            if not self._held[peer]:
                del self._held[peer]
        return response

    def _refuse_post(self, request: web.Request) -> web.Response | None:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _error(413, "request body too large")
        if request.content_type != "application/json":
            return _error(415, "expected application/json")
        origin = request.headers.get("Origin")
        if origin is not None and origin.split("://", 1)[-1] != request.host:
            return _error(403, "cross-origin request refused")
        cookie = request.cookies.get(_CSRF_COOKIE, "")
        header = request.headers.get("X-CSRF-Token", "")
        if not cookie or not hmac.compare_digest(cookie, header):
            return _error(403, "missing or wrong CSRF token (reload the page)")
        if self.token is not None and not hmac.compare_digest(request.headers.get("X-Access-Token", ""), self.token):
            return _error(401, "access token required (see `ccs2chademo config show`)")
        return None

    async def _json_body(self, request: web.Request) -> Any:
        try:
            body = await asyncio.wait_for(request.read(), self.options.body_timeout_s)
        except TimeoutError:
            raise web.HTTPRequestTimeout(text="request body too slow") from None
        try:
            return json.loads(body or b"null")
        except ValueError:
            raise web.HTTPBadRequest(text="not JSON") from None

    # -- pages and assets ---------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.StreamResponse:
        response = web.Response(body=self._static["index.html"], content_type="text/html", charset="utf-8")
        csrf = request.cookies.get(_CSRF_COOKIE)
        if not csrf or len(csrf) > 64:
            response.set_cookie(_CSRF_COOKIE, secrets.token_urlsafe(16), samesite="Strict", path="/")
        return response

    async def _asset(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in _STATIC or name == "index.html":
            raise web.HTTPNotFound()
        return web.Response(body=self._static[name], content_type=_STATIC[name], charset="utf-8",
                            headers={"Cache-Control": "max-age=300"})

    # -- the live session ---------------------------------------------------------------------
    def _live(self) -> dict[str, Any]:
        return {**self.board.status(), "speed": self.options.speed, "token_required": self.token is not None,
                "target_soc": self.board.target_soc}

    async def _status(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self._live())

    async def _history(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.board.points())

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: ``status`` (the /api/status object plus new chart ``points``)."""
        if self._streams >= MAX_STREAMS:
            return _error(503, "too many live streams")
        self._streams += 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                               **_SECURITY_HEADERS})
        try:
            await response.prepare(request)
            seen, last_t, quiet = -1, None, 0.0
            while not self._stopping.is_set():
                version = await self.board.wait_change(seen, 1.0)
                if request.transport is None or request.transport.is_closing():
                    break  # the client went away
                if version == seen:
                    quiet += 1.0
                    if quiet < KEEPALIVE_S:
                        continue
                    payload = b": keep-alive\n\n"
                else:
                    seen = version
                    status = self._live()
                    status["points"] = self.board.points(last_t)
                    if status["points"]:
                        last_t = status["points"][-1]["t"]
                    payload = b"event: status\ndata: " + json.dumps(status).encode() + b"\n\n"
                quiet = 0.0
                await asyncio.wait_for(response.write(payload), self.options.write_timeout_s)
                await asyncio.sleep(STREAM_INTERVAL_S)
        except (TimeoutError, ConnectionError, asyncio.CancelledError):
            pass  # a client that does not read, went away, or the server stops
        finally:
            self._streams -= 1
        return response

    async def _stop(self, request: web.Request) -> web.StreamResponse:
        body = await self._json_body(request)
        if not isinstance(body, dict) or body.get("confirm") is not True:
            return _error(400, "the stop needs {\"confirm\": true}")
        status = self.board.status()
        if self.options.press is None or not status["stop_allowed"]:
            return _error(409, "no session to stop")
        logger.warning("stop button pressed on the status page (%s)", request.remote)
        self.options.press()
        return web.json_response({"pressed": True, "t": status["t"]}, status=202)

    # -- settings -------------------------------------------------------------------------------
    async def _settings(self, request: web.Request) -> web.StreamResponse:
        data = describe(self.options.config_path, self.options.config)
        data["locked"] = self.board.status()["active"]
        return web.json_response(data, dumps=_dumps)

    async def _save_settings(self, request: web.Request) -> web.StreamResponse:
        form = await self._json_body(request)
        path = self.options.config_path
        if path is None:
            return _error(409, "no configuration file: start with --config FILE to edit settings")
        if self.board.status()["active"]:
            return _error(409, "a session is active: settings can be changed when it has ended")
        try:
            text, _config = check(form, path)
        except SettingsError as exc:
            return web.json_response({"error": "invalid settings", "fields": exc.fields}, status=422)
        backup = write_atomically(path, text)
        logger.info("settings written to %s (backup %s), applied from the next session", path, backup)
        return web.json_response({"written": str(path), "backup": str(backup), "applies": "next session"})

    # -- past sessions ----------------------------------------------------------------------------
    # Reading the logs is file I/O and JSON parsing: it runs in a worker thread, one at a time,
    # never on the loop that drives the machines.
    async def _index_sessions(self) -> list[Session]:
        async with self._reading:
            return await asyncio.get_running_loop().run_in_executor(None, self.sessions.sessions)

    async def _find(self, request: web.Request) -> Session:
        wanted = request.match_info["id"]
        session = next((s for s in await self._index_sessions() if s.id == wanted), None)
        if session is None:
            raise web.HTTPNotFound()
        return session

    async def _sessions(self, request: web.Request) -> web.StreamResponse:
        sessions = [s.summary() for s in await self._index_sessions()]
        files = await asyncio.get_running_loop().run_in_executor(None, self.files.listing)
        return web.json_response({"sessions": sessions[::-1], "files": files})

    async def _session(self, request: web.Request) -> web.StreamResponse:
        session = await self._find(request)
        return web.json_response({**session.summary(), "plot": session.plot()})

    async def _session_log(self, request: web.Request) -> web.StreamResponse:
        session = await self._find(request)
        response = web.StreamResponse(headers={
            "Content-Type": "application/x-ndjson",
            "Content-Disposition": f'attachment; filename="session-{session.id}.jsonl"'})
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        for part in session.parts:
            offset = part.start
            while offset < part.end:
                chunk = await loop.run_in_executor(None, _read_range, part.path, offset, min(_CHUNK, part.end - offset))
                if not chunk:
                    break
                offset += len(chunk)
                await asyncio.wait_for(response.write(chunk), self.options.write_timeout_s)
        await response.write_eof()
        return response

    async def _file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = self.files.path(name)
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{path.name}"',
                                               "Content-Type": "application/octet-stream"})


def _read_range(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read(size)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)
