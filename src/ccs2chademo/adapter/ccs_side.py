"""The seam between the bridge and its CCS side: the adapter as a CCS *car* toward the charger.

Why a seam: the bridge decides (when to start CCS, what to ask for, when a stop is final) from a
handful of facts about the CCS side — how far the connection got, the EV session's state and
status, whether a response arrived — and never needs the machines behind them.  Behind
:class:`CcsSide` the real thing is :class:`CcsEv`: homeplug's ``PevConnection`` (SLAC → SDP →
TCP) carrying ev-session's ``Evcc`` (DIN SPEC 70121 / ISO 15118-2).  A test builds a bridge with
a scripted CCS side instead (tests/adapter/test_bridge.py), and an ISO 15118-20 session can take
the Evcc's place without the bridge knowing.
"""

from __future__ import annotations

import logging
import random
import ssl
from typing import Protocol

from ..homeplug.connection import SESSION_LINK, PevConnection
from ..homeplug.slac import SlacTiming
from ..runtime import Action, Event, InputChanged
from ..v2g.codec import EXI, Codec
from ..v2g.evcc import Evcc, EvccConfig, EvccStatus, EvRequest
from ..v2g.tls import TlsMode, TlsPolicy, client_context
from .config import AdapterConfig, CcsConfig, ConfigError

logger = logging.getLogger(__name__)


class CcsSide(Protocol):
    """The CCS car side of the bridge (see the module docstring).  Its actions carry the link
    traffic (``plc``, ``sdp``, ``tcp``), ``SetOutput("cp", …)``, ``SetOutput("status",
    EvccStatus)`` whenever the EV session's status changes, and log records."""

    name: str

    def get_timer(self) -> float | None: ...

    def handle_timer(self, now: float) -> None: ...

    def receive(self, event: Event, now: float) -> None: ...

    def actions(self) -> list[Action]: ...

    def ask(self, request: EvRequest, now: float) -> None:
        """What the car wants now (limits, targets, stop, holds): goes into the next request."""

    @property
    def request(self) -> EvRequest:
        """The request the EV session currently works with."""

    @property
    def status(self) -> EvccStatus:
        """The EV session's latest status."""

    @property
    def link_state(self) -> str:
        """The connection's progress: ``idle``, ``modem``, ``slac``, ``sdp``, ``connecting``, ``connected``…"""

    @property
    def session_state(self) -> str:
        """The EV session's state (``Idle`` … ``CurrentDemand`` … ``End``)."""

    @property
    def session_state_name(self) -> str:
        """The same state as the negotiated schema names it (ISO 15118-20: ``DC_ChargeLoop``), to show."""

    @property
    def responses(self) -> int:
        """Responses received so far (a response is activity for the power manager)."""

    @property
    def matched(self) -> bool:
        """SLAC got its first CM_SLAC_PARAM.CNF: a charger answers (single-session start, the life-sign LED)."""

    @property
    def safe_cp_wait(self) -> float:
        """The safe shutdown's wait between CP B and "contactors open", s."""


def evcc_config(cfg: AdapterConfig, mac: bytes, single_session: bool, epoch: float = 0.0) -> EvccConfig:
    """The EV session's parameters: precharge delay only in DX (adapter.md §2 step 3, §3), battery-full
    SoC, the ISO 15118-20 offer; ``epoch``: Unix time at session time 0 (-20 TimeStamps)."""
    return EvccConfig(
        mac=mac,
        link=SESSION_LINK,  # whole EXI documents on PevConnection's seam (V2GTP is done below)
        framed=True,
        precharge_start_delay=0.0 if single_session else cfg.precharge_start_delay_ms / 1000,
        stop_soc=cfg.stop_charging_soc,
        iso20_priority=cfg.ccs.iso20_priority,
        iso20_without_tls=cfg.ccs.iso20_without_tls,
        iso20_control_mode=cfg.ccs.iso20_control_mode,
        epoch=epoch,
        # adapter.md §1: the CCS machines run in a 30 ms loop; the next CurrentDemandReq goes out in the
        # cycle after the response (never faster than one cycle).
        current_demand_interval=0.03,
    )


def tls_policy(ccs: CcsConfig, source: str = "[ccs]") -> TlsPolicy:
    """The CCS side's TLS from the ``[ccs]`` table.  Reads the root certificates and opens the key
    log file, so a composition root calls it once (``ccs2chademo run``, the simulated world), never
    a machine; an unreadable file is a :class:`ConfigError` naming the key."""
    mode = TlsMode(ccs.tls)
    if mode is TlsMode.OFF:
        return TlsPolicy()
    if ccs.tls_accept_unverified:
        logger.warning("%s tls-accept-unverified = true: the charger's certificate is NOT checked", source)
    try:
        context = client_context(() if ccs.tls_accept_unverified else ccs.v2g_root_certs,
                                 accept_unverified=ccs.tls_accept_unverified, keylog_file=ccs.tls_keylog_file)
    except (OSError, ssl.SSLError) as exc:
        key = "tls-keylog-file" if ccs.tls_keylog_file and ccs.tls_keylog_file in str(exc) else "v2g-root-certs"
        raise ConfigError(f"{source} {key}: {exc}") from None
    return TlsPolicy(mode, context)


class CcsEv:
    """The real CCS side: ``PevConnection`` carrying an ``Evcc`` in framed mode."""

    def __init__(self, name: str, config: AdapterConfig, mac: bytes, rng: random.Random, single_session: bool,
                 start_at: float = 0.0, scope_id: int = 0, slac_timing: SlacTiming | None = None,
                 tls: TlsPolicy | None = None, exi: Codec = EXI, epoch: float = 0.0) -> None:
        self.name = name
        self.evcc = Evcc(f"{name}.evcc", evcc_config(config, mac, single_session, epoch), exi=exi)
        self.connection = PevConnection(mac, rng, session=self.evcc, name=f"{name}.ccs", scope_id=scope_id,
                                        timing=slac_timing, start_at=start_at, tls=tls)

    def get_timer(self) -> float | None:
        return self.connection.get_timer()

    def handle_timer(self, now: float) -> None:
        self.connection.handle_timer(now)

    def receive(self, event: Event, now: float) -> None:
        self.connection.receive(event, now)

    def actions(self) -> list[Action]:
        return self.connection.actions()

    def ask(self, request: EvRequest, now: float) -> None:
        self.connection.receive(InputChanged("request", request), now)

    @property
    def request(self) -> EvRequest:
        return self.evcc.req

    @property
    def status(self) -> EvccStatus:
        return self.evcc.status

    @property
    def link_state(self) -> str:
        return self.connection.state

    @property
    def session_state(self) -> str:
        return self.evcc.state

    @property
    def session_state_name(self) -> str:
        return self.evcc.state_name

    @property
    def responses(self) -> int:
        return self.evcc.messages

    @property
    def matched(self) -> bool:
        return self.connection.slac.first_param_cnf_at is not None

    @property
    def safe_cp_wait(self) -> float:
        return self.evcc.cfg.safe_cp_wait
