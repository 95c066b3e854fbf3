"""TLS between the V2GTP stream and the TCP link, sans-I/O: bytes in, bytes out, typed failures.

ISO 15118-2 makes TLS optional (the car asks for it in the SDP request's security byte, the
charger's SDP answer decides); ISO 15118-20 requires TLS 1.3.  The standard :mod:`ssl` module does
the cryptography on two :class:`ssl.MemoryBIO` buffers around an :class:`ssl.SSLObject`, so no
socket and no clock is touched here: ciphertext arrives as ``DataReceived``, leaves as
``SendData``, and the handshake's bound is a named timer like every other deadline
(docs/machines.md).  Two users:

* :class:`TlsChannel` — one TLS connection as a *part* of a composite machine: the homeplug
  connection supervisor (``PevConnection``, the adapter's CCS side) owns one per TCP connection,
  between its TCP link and its V2GTP stream;
* :class:`TlsLink` — a composite that puts a channel between any byte-stream machine and its TCP
  link: the simulated charger's ``Secc`` (server) and the ``Evcc`` in direct mode (client,
  ``ccs-sim``, ``drivers/linux/ev_direct.py``).

Facts (the ISO documents are not public; the requirement numbers are as the ``iso15118`` package
quotes them, ``iso15118/shared/security.py``, EcoG-io/iso15118):

* ISO 15118-2 names two TLS 1.2 suites, TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256 and
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 (OpenSSL: ECDH-ECDSA-AES128-SHA256, ECDHE-ECDSA-AES128-SHA256);
  the EVCC needs only one and we take the ECDHE one (forward secrecy; OpenSSL 3 has no static-ECDH
  suites at all).  V2G certificates of -2 are ECDSA on secp256r1 (P-256).
* ISO 15118-20 requires TLS 1.3 with TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256
  ([V2G20-1856], [V2G20-2459] for the EVCC); both are in OpenSSL's default TLS 1.3 list, AES-256
  first, and Python's ``ssl`` cannot narrow that list, so it stays the default.  A -20 session is
  not offered over TLS 1.2 or plain TCP ([V2G20-1237], as a summary of ISO 15118-20 clause 7.3.4 on
  blog.csdn.net/weixin_40900932/article/details/136406037 quotes it): :attr:`TlsChannel.info`
  tells the session which version it got.
* The SDP security byte: 0x00 = TLS, 0x10 = none (docs/spec/ccs-ev.md §6; the Tesla Model X of
  2025-07-22 asks 0x00 and falls back when the charger answers 0x10).

Every failure is one of :class:`TlsFailure`; a user turns it into the stop reason
``tls-<cause>`` and a ``tls-failed`` record.
"""

from __future__ import annotations

import hashlib
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from ..deadline import Timers, due
from ..runtime.events import (
    CloseLink,
    DataReceived,
    Event,
    InputChanged,
    LinkDown,
    LinkUp,
    Log,
    SendData,
)
from ..runtime.machine import Machine, MachineBase, successor_table
from .sdp import Security

logger = logging.getLogger(__name__)

#: The TLS 1.2 suite we offer and serve: ISO 15118-2's ECDHE one (module docstring).
ISO2_CIPHERS: Final = "ECDHE-ECDSA-AES128-SHA256"
#: How long a handshake may take once TCP is up.  Ours: an ECDSA P-256 handshake costs tens of
#: milliseconds of CPU on a Raspberry Pi and two round trips on the PLC link (≈10 ms each,
#: ccs-ev.md §14.1); 5 s — the TCP connect bound of the connection supervisor — catches a charger
#: that stalls without eating into the 60 s the charger waits for a first request.
HANDSHAKE_TIMEOUT: Final = 5.0
#: First byte of a TLS record carrying a handshake (RFC 8446, section 5.1: ContentType 22); a V2GTP
#: message starts with its version byte 0x01.
TLS_HANDSHAKE_RECORD: Final = 0x16
_READ_SIZE: Final = 16 * 1024
#: OpenSSL names the reason of a *received* alert SSLV3_ALERT_*, TLSV1_ALERT_* or TLSV13_ALERT_*.
_ALERT_PREFIXES: Final = ("SSLV3_ALERT_", "TLSV1_ALERT_", "TLSV13_ALERT_")


class TlsMode(StrEnum):
    """``[ccs] tls`` (adapter/config.py): what the car asks for in SDP and what it accepts."""

    OFF = "off"  # SDP asks 0x10, plain TCP whatever the answer (the behaviour before TLS existed)
    PREFER = "prefer"  # SDP asks 0x00; the charger's answer decides (0x10: plain TCP)
    REQUIRE = "require"  # SDP asks 0x00; an answer of 0x10 ends the session (tls-not-offered)


class TlsFailure(StrEnum):
    """Why a TLS connection failed; the stop reason is ``tls-<value>``."""

    BAD_CERTIFICATE = "bad-certificate"  # the charger's chain does not verify (unknown root, expired, …)
    HANDSHAKE_FAILURE = "handshake-failure"  # no common version or suite, a malformed handshake message
    ALERT = "alert"  # the peer sent a fatal alert
    TIMEOUT = "timeout"  # no finished handshake within the bound
    CLOSED = "closed"  # TCP ended during the handshake
    PROTOCOL_ERROR = "protocol-error"  # a bad record after the handshake (MAC, decryption, framing)
    NOT_OFFERED = "not-offered"  # ``require``, and the charger's SDP answer says no TLS


#: The stop causes a TLS failure gives (``tls-bad-certificate`` …), matched exactly by the Evcc.
TLS_STOP_CAUSES: Final = frozenset(f"tls-{failure.value}" for failure in TlsFailure)


class TlsState(StrEnum):
    """A channel's states; the values are the session log's (records with ``part`` = ``tls``)."""

    IDLE = "idle"
    HANDSHAKE = "handshake"
    ESTABLISHED = "established"
    CLOSED = "closed"  # close_notify sent or received, or TCP gone after the handshake
    FAILED = "failed"


TLS_SUCCESSORS = successor_table({
    TlsState.IDLE: {TlsState.HANDSHAKE},
    TlsState.HANDSHAKE: {TlsState.ESTABLISHED, TlsState.FAILED},
    TlsState.ESTABLISHED: {TlsState.CLOSED, TlsState.FAILED},
    TlsState.CLOSED: set(),
    TlsState.FAILED: set(),
})


class TlsTimer(StrEnum):
    """What a channel waits for."""

    HANDSHAKE = "handshake"  # the handshake's bound (``handshake_timeout``)


@dataclass(frozen=True, slots=True)
class TlsInfo:
    """What the handshake agreed: ``version`` as OpenSSL names it (``TLSv1.3``), the suite, and
    whether the peer's certificate was verified (a client with ``tls-accept-unverified`` does not)."""

    version: str
    cipher: str
    verified: bool
    #: SHA-256 of the peer's certificate (DER, hex), where the peer sent one
    peer_sha256: str | None


@dataclass(frozen=True)
class TlsPolicy:
    """The car side's TLS choice, ready to use: the mode and a client context built by
    :func:`client_context` in a composition root (it reads the root certificates, which a machine
    never does).  ``context`` is None only with :attr:`TlsMode.OFF`."""

    mode: TlsMode = TlsMode.OFF
    context: ssl.SSLContext | None = None
    handshake_timeout: float = HANDSHAKE_TIMEOUT

    def __post_init__(self) -> None:
        if self.mode is not TlsMode.OFF and self.context is None:
            raise ValueError(f"tls = {self.mode.value!r} needs a client context")

    @property
    def security(self) -> int:
        """The SDP request's security byte."""
        return Security.NONE if self.mode is TlsMode.OFF else Security.TLS


def client_context(roots: Sequence[str | Path] = (), accept_unverified: bool = False,
                   keylog_file: str | Path | None = None,
                   max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3) -> ssl.SSLContext:
    """The EV side's context: TLS 1.2 (ISO 15118-2's suite) up to ``max_version`` (1.3 preferred —
    OpenSSL picks the highest both sides have), the charger's chain checked against ``roots`` (PEM
    files of V2G root certificates), or not checked at all with ``accept_unverified``; with
    ``keylog_file`` OpenSSL appends the session secrets in the NSS key log format (SSLKEYLOGFILE)
    so Wireshark can decrypt a capture of our own sessions.  Reads files: composition roots only."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = max_version
    context.set_ciphers(ISO2_CIPHERS)  # TLS 1.2 only; TLS 1.3's suites are OpenSSL's defaults
    # No host name check: a charger is reached at the link-local address its SDP answer gave
    # (there is no name to check against), and a V2G SECC certificate names the charge point and
    # its operator in its subject, not a DNS name.  What is checked is the chain up to a V2G root.
    context.check_hostname = False
    if accept_unverified:
        context.verify_mode = ssl.CERT_NONE
    else:
        context.verify_mode = ssl.CERT_REQUIRED
        for root in roots:
            context.load_verify_locations(cafile=str(root))
    if keylog_file is not None:
        context.keylog_filename = str(keylog_file)
    return context


def server_context(chain: str | Path, key: str | Path, max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
                   keylog_file: str | Path | None = None) -> ssl.SSLContext:
    """A charger's context (the simulated charger): its certificate ``chain`` (leaf first, PEM)
    and ``key``; TLS 1.2 with ISO 15118-2's suite up to ``max_version``; no session tickets (a car
    never resumes)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = max_version
    context.set_ciphers(ISO2_CIPHERS)
    context.load_cert_chain(str(chain), str(key))
    context.num_tickets = 0
    if keylog_file is not None:
        context.keylog_filename = str(keylog_file)
    return context


def _classify(exc: ssl.SSLError, handshaking: bool) -> tuple[TlsFailure, str]:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TlsFailure.BAD_CERTIFICATE, exc.verify_message or str(exc)
    if isinstance(exc, ssl.SSLEOFError):
        return TlsFailure.CLOSED, str(exc)
    reason = exc.reason or ""
    if reason.startswith(_ALERT_PREFIXES):
        return TlsFailure.ALERT, reason.lower()
    return (TlsFailure.HANDSHAKE_FAILURE if handshaking else TlsFailure.PROTOCOL_ERROR), reason.lower() or str(exc)


class TlsChannel(MachineBase):
    """One TLS connection over the byte link ``link`` (a part: its owner feeds it and drains it).

    The owner calls :meth:`start` when TCP is up, :meth:`feed` with every received chunk (it
    returns the plaintext), :meth:`send` with plaintext, :meth:`close` before a FIN, :meth:`lost`
    when TCP ends; ciphertext leaves as ``SendData(link, …)`` among :meth:`actions`.  After a
    failure (:attr:`failure` set, state ``failed``) the owner closes TCP: whatever alert OpenSSL
    wrote is already queued before.
    """

    def __init__(self, context: ssl.SSLContext, server_side: bool, name: str = "tls", link: str = "tcp",
                 handshake_timeout: float = HANDSHAKE_TIMEOUT) -> None:
        super().__init__(name, TlsState.IDLE.value, TLS_SUCCESSORS)
        self.context = context
        self.server_side = server_side
        self.link = link
        self.handshake_timeout = handshake_timeout
        self.timers = Timers()
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        # no server_hostname: no SNI and nothing to match (client_context says why)
        self._tls = context.wrap_bio(self._in, self._out, server_side=server_side)
        self.info: TlsInfo | None = None
        self.failure: tuple[TlsFailure, str] | None = None
        self.started_at = 0.0  # when the handshake began (session time)

    # -- the owner's calls ------------------------------------------------------------------------
    @property
    def established(self) -> bool:
        return self.state == TlsState.ESTABLISHED

    @property
    def failed(self) -> bool:
        return self.state == TlsState.FAILED

    def start(self, now: float) -> None:
        """TCP is up: a client sends its ClientHello, a server waits for one (both bounded)."""
        self.started_at = now
        self._enter(TlsState.HANDSHAKE.value, role="server" if self.server_side else "client")
        self.timers.start(TlsTimer.HANDSHAKE, now + self.handshake_timeout)
        if not self.server_side:
            self._handshake(now)
        self._flush()

    def feed(self, data: bytes, now: float) -> bytes:
        """Ciphertext in; the plaintext it completes (often ``b""``)."""
        if self.state not in (TlsState.HANDSHAKE, TlsState.ESTABLISHED):
            return b""
        self._in.write(data)
        plain = b""
        if self.state == TlsState.HANDSHAKE:
            self._handshake(now)
        if self.state == TlsState.ESTABLISHED:
            plain = self._read(now)
        self._flush()
        return plain

    def send(self, data: bytes) -> None:
        if self.state != TlsState.ESTABLISHED:
            self._log("dropped", reason=f"plaintext to send in TLS state {self.state}")
            return
        self._tls.write(data)
        self._flush()

    def close(self) -> None:
        """Send close_notify (before the owner's FIN); nothing to do unless established."""
        if self.state != TlsState.ESTABLISHED:
            return
        try:
            self._tls.unwrap()
        except ssl.SSLWantReadError:
            pass  # close_notify is written; the peer's answer is not awaited (the FIN follows)
        except ssl.SSLError as exc:
            logger.debug("%s: close_notify: %s", self.name, exc)
        self._flush()
        self._enter(TlsState.CLOSED.value, by="us")

    def lost(self, reason: str, now: float) -> None:
        """TCP ended: a failure during the handshake, the end otherwise."""
        if self.state == TlsState.HANDSHAKE:
            self._fail(TlsFailure.CLOSED, f"TCP {reason} during the handshake", now)
        elif self.state == TlsState.ESTABLISHED:
            self._enter(TlsState.CLOSED.value, by=f"TCP {reason}")

    # -- machine protocol (its one timer) ---------------------------------------------------------
    def get_timer(self) -> float | None:
        return self.timers.next()

    def handle_timer(self, now: float) -> None:
        for _ in self.timers.expired(now):  # HANDSHAKE, the only purpose
            if self.state == TlsState.HANDSHAKE:
                self._fail(TlsFailure.TIMEOUT, f"no finished handshake within {self.handshake_timeout:g} s", now)

    def receive(self, event: Event, now: float) -> None:
        """Events go through the owner's calls (:meth:`feed`, :meth:`lost`); this is for completeness."""
        if isinstance(event, DataReceived) and event.link == self.link:
            self.feed(event.data, now)
        elif isinstance(event, LinkDown) and event.link == self.link:
            self.lost(event.reason, now)

    # -- inside -----------------------------------------------------------------------------------
    def _handshake(self, now: float) -> None:
        try:
            self._tls.do_handshake()
        except ssl.SSLWantReadError:
            return
        except ssl.SSLError as exc:
            self._fail(*_classify(exc, handshaking=True), now)
            return
        self.timers.cancel(TlsTimer.HANDSHAKE)
        der = self._tls.getpeercert(binary_form=True)
        cipher = self._tls.cipher()
        verified = self.context.verify_mode == ssl.CERT_REQUIRED
        self.info = info = TlsInfo(self._tls.version() or "?", cipher[0] if cipher else "?", verified,
                                   hashlib.sha256(der).hexdigest() if der else None)
        self._enter(TlsState.ESTABLISHED.value)
        self._log("tls-established", version=info.version, cipher=info.cipher, verified=info.verified,
                  peer_sha256=info.peer_sha256, handshake_ms=round((now - self.started_at) * 1000.0, 3))
        if not verified and not self.server_side:
            # tls-accept-unverified (adapter/config.py): allowed, never silent
            logger.warning("%s: the charger's certificate was NOT verified (tls-accept-unverified); sha256 %s",
                           self.name, info.peer_sha256)
            self._log("tls-unverified", peer_sha256=info.peer_sha256)

    def _read(self, now: float) -> bytes:
        chunks: list[bytes] = []
        while True:
            try:
                chunk = self._tls.read(_READ_SIZE)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:  # close_notify after ours (both shutdown flags set)
                self._enter(TlsState.CLOSED.value, by="peer")
                break
            except ssl.SSLError as exc:
                self._fail(*_classify(exc, handshaking=False), now)
                break
            if not chunk:  # the peer's close_notify (a memory BIO has no other end of data)
                self._enter(TlsState.CLOSED.value, by="peer")
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def _flush(self) -> None:
        data = self._out.read()
        if data:
            self._emit(SendData(self.link, data))

    def _fail(self, cause: TlsFailure, detail: str, now: float) -> None:
        self.timers.clear()
        self.failure = (cause, detail)
        self._enter(TlsState.FAILED.value, cause=cause.value)
        self._log("tls-failed", cause=cause.value, detail=detail, after_ms=round((now - self.started_at) * 1000.0, 3))
        self._flush()  # the alert OpenSSL wrote, if any, goes out before the owner's FIN


def link_down_reason(failure: tuple[TlsFailure, str]) -> str:
    """The ``LinkDown`` reason a TLS failure gives the session above: ``tls-<cause>: <detail>``
    (the Evcc turns it into the stop reason ``tls-<cause>:<state>``)."""
    cause, detail = failure
    return f"tls-{cause.value}: {detail}"  # one of TLS_STOP_CAUSES before the colon


def tagged(action: Any, part: str) -> Any:
    """A part's action as its composite emits it: a log record names the part."""
    if isinstance(action, Log):
        return Log(action.kind, {"part": part, **action.fields})
    return action


class TlsLink(MachineBase):
    """TLS between ``inner`` — a machine speaking a byte stream on ``link`` (``DataReceived`` /
    ``SendData``) — and the TCP link of the same name.  The inner machine sees ``LinkUp`` only once
    the handshake is done and never sees ciphertext; a TLS failure closes TCP (FIN, after the
    alert) and reaches it as ``LinkDown(link, "tls-<cause>: …")``.

    Runs under the inner machine's name (its records keep their ``source``; the channel's carry
    ``part`` = ``tls``).  A server with ``plain`` also serves a connection whose first byte is not
    a TLS handshake record as plain TCP: the car decided from the SDP answer (a charger that
    offers TLS to those who ask for it, docs/tls.md).
    """

    def __init__(self, inner: Machine, context: ssl.SSLContext, server_side: bool, link: str = "tcp",
                 handshake_timeout: float = HANDSHAKE_TIMEOUT, plain: bool = False) -> None:
        super().__init__(inner.name, "open")
        self.inner = inner
        self.context = context
        self.server_side = server_side
        self.link = link
        self.handshake_timeout = handshake_timeout
        self.plain = plain
        self.channel: TlsChannel | None = None
        self._sniffing = False
        self.timers = Timers()  # the bound on the first byte, while ``plain`` sniffs
        self._peer: Any = None
        self._inner_up = False

    # -- machine protocol -------------------------------------------------------------------------
    def get_timer(self) -> float | None:
        deadline = self.inner.get_timer()
        t = self.timers.next()
        if t is not None and (deadline is None or t < deadline):
            deadline = t
        if self.channel is not None:
            t = self.channel.get_timer()
            if t is not None and (deadline is None or t < deadline):
                deadline = t
        return deadline

    def handle_timer(self, now: float) -> None:
        if self.timers.expired(now) and self._sniffing:  # not a byte since TCP came up
            self._sniffing = False
            self.channel = None
            self._emit(Log("tls-failed", {"part": "tls", "cause": TlsFailure.TIMEOUT.value,
                                          "detail": "no first byte", "after_ms": self.handshake_timeout * 1000.0}))
            self._emit(CloseLink(self.link, abort=False))
        channel = self.channel
        if channel is not None and due(channel.get_timer(), now):
            channel.handle_timer(now)
            self._drain()
            if channel.failed:
                self._failed(channel, now)
        if due(self.inner.get_timer(), now):
            self.inner.handle_timer(now)
        self._pump()

    def receive(self, event: Event, now: float) -> None:
        link = getattr(event, "link", None)
        if link != self.link:
            self.inner.receive(event, now)
        elif isinstance(event, LinkUp):
            self._on_up(event, now)
        elif isinstance(event, DataReceived):
            self._on_data(event.data, now)
        elif isinstance(event, LinkDown):
            self._on_down(event, now)
        else:
            self.inner.receive(event, now)
        self._pump()

    # -- the link ---------------------------------------------------------------------------------
    def _on_up(self, event: LinkUp, now: float) -> None:
        self._peer = event.peer
        self._inner_up = False
        self.channel = TlsChannel(self.context, self.server_side, name=f"{self.name}.tls", link=self.link,
                                  handshake_timeout=self.handshake_timeout)
        self._sniffing = self.server_side and self.plain
        if self._sniffing:  # the first byte decides; the same bound runs meanwhile
            self.timers.start(TlsTimer.HANDSHAKE, now + self.handshake_timeout)
        else:
            self.channel.start(now)
            self._drain()

    def _on_data(self, data: bytes, now: float) -> None:
        channel = self.channel
        if channel is None:
            self.inner.receive(DataReceived(self.link, data), now)
            return
        if self._sniffing and data:
            self._sniffing = False
            self.timers.clear()
            if data[0] != TLS_HANDSHAKE_RECORD:
                self.channel = None  # plain TCP from here on
                self._up(now)
                self.inner.receive(DataReceived(self.link, data), now)
                return
            channel.start(now)
        plain = channel.feed(data, now)
        self._drain()
        if channel.established and not self._inner_up:
            self._up(now)
        if plain:
            self.inner.receive(DataReceived(self.link, plain), now)
        if channel.failed:
            self._failed(channel, now)

    def _on_down(self, event: LinkDown, now: float) -> None:
        self._sniffing = False
        self.timers.clear()
        channel = self.channel
        if channel is not None:
            channel.lost(event.reason, now)
            self._drain()
            if channel.failed and channel.failure is not None:
                self.channel = None
                self.inner.receive(LinkDown(self.link, link_down_reason(channel.failure)), now)
                return
        self.channel = None
        self.inner.receive(event, now)

    def _up(self, now: float) -> None:
        self._inner_up = True
        channel = self.channel
        if channel is not None and channel.info is not None:  # as PevConnection does: the version first
            self.inner.receive(InputChanged("tls", channel.info), now)
        self.inner.receive(LinkUp(self.link, self._peer), now)

    def _failed(self, channel: TlsChannel, now: float) -> None:
        assert channel.failure is not None
        self.channel = None
        self._emit(CloseLink(self.link, abort=False))
        self.inner.receive(LinkDown(self.link, link_down_reason(channel.failure)), now)

    # -- actions ----------------------------------------------------------------------------------
    def _drain(self) -> None:
        if self.channel is not None:
            for action in self.channel.actions():
                self._emit(tagged(action, "tls"))

    def _pump(self) -> None:
        """The inner machine's actions, in order; its writes encrypted on the way."""
        for action in self.inner.actions():
            channel = self.channel
            if channel is not None and getattr(action, "link", None) == self.link:
                if isinstance(action, SendData):
                    channel.send(action.data)
                    self._drain()
                    continue
                if isinstance(action, CloseLink):
                    if not action.abort:
                        channel.close()
                    self._drain()
                    self.channel = None
            self._emit(action)
