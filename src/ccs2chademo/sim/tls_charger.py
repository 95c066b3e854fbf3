"""The simulated charger's TLS (``simulate --tls``, ``charger-sim --tls``): what it announces in
SDP, which certificate chain it serves, and the hostile variants.

:data:`TLS_VARIANTS`: ``ok`` (a chain the car's root verifies), ``wrong-root`` (a chain under a
root the car does not hold), ``expired`` (the leaf's validity is over), ``stall`` (TCP is accepted
and the ClientHello read, never answered).  Each hostile variant must end the car's session safe
with its own stop reason (``tls-bad-certificate``, ``tls-timeout``).  The PKI is
:mod:`.pki`'s, generated per run.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ..adapter.config import AdapterConfig
from ..runtime.events import DataReceived, Event, LinkUp
from ..runtime.machine import Machine, MachineBase
from ..v2g.discovery import TlsOffer
from ..v2g.tls import TlsLink, server_context
from .pki import VARIANTS, SimPki

TLS_VARIANTS: Final = (*VARIANTS, "stall")
#: ``--tls-max``: the highest version the charger speaks (1.2: an ISO 15118-2 charger)
MAX_VERSIONS: Final = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


@dataclass(frozen=True)
class ChargerTls:
    """The TLS of one simulated charger."""

    pki: SimPki
    variant: str = "ok"
    max_version: str = "1.3"
    offer: TlsOffer = TlsOffer.ASKED
    keylog_file: Path | None = None

    def __post_init__(self) -> None:
        if self.variant not in TLS_VARIANTS:
            raise ValueError(f"unknown TLS variant {self.variant!r}; known: {', '.join(TLS_VARIANTS)}")
        if self.max_version not in MAX_VERSIONS:
            raise ValueError(f"TLS version {self.max_version!r}: 1.2 or 1.3")

    def serve(self, secc: Machine) -> Machine:
        """The machine to put on the charger's TCP port in place of ``secc`` (same name)."""
        if self.variant == "stall":
            return StallingServer(secc.name)
        chain, key = self.pki.chain(self.variant)
        context = server_context(chain, key, MAX_VERSIONS[self.max_version], self.keylog_file)
        return TlsLink(secc, context, server_side=True, plain=self.offer is not TlsOffer.ONLY)


class StallingServer(MachineBase):
    """A charger that accepts TCP and reads the ClientHello but never answers it (the ``stall``
    variant): the car's handshake bound must end the session."""

    def __init__(self, name: str) -> None:
        super().__init__(name, "stalling")
        self._told = False

    def get_timer(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> None:
        pass

    def receive(self, event: Event, now: float) -> None:
        if isinstance(event, LinkUp):
            self._told = False
        elif isinstance(event, DataReceived) and not self._told:
            self._told = True
            self._log("hostile", behaviour="tls-stall", msg="ClientHello")


def trusting_config(config: AdapterConfig, pki: SimPki, keylog_file: Path | None = None) -> AdapterConfig:
    """``config`` with ``[ccs] tls = "require"`` trusting the simulated PKI's root — unless its
    ``[ccs]`` already chose TLS (then it is kept as written: ``prefer``, other roots, unverified)."""
    if config.ccs.tls != "off":
        return config
    ccs = config.ccs.model_copy(update={"tls": "require", "v2g_root_certs": (str(pki.root),),
                                        "tls_keylog_file": None if keylog_file is None else str(keylog_file)})
    return config.model_copy(update={"ccs": ccs})
