"""A throwaway V2G-like PKI for the simulated charger's TLS, generated when asked, never committed.

The shape follows the ISO 15118-2 CPO branch of the V2G PKI (ECDSA on secp256r1 throughout): a
V2G root → CPO Sub-CA 1 → CPO Sub-CA 2 → the SECC leaf (basicConstraints CA:false, keyUsage
digitalSignature + keyAgreement, the charge point in the subject and no DNS name — as the test
certificates of the ``iso15118`` package, ``iso15118/shared/pki/configs/seccLeafCert.cnf``).  The
charger serves the leaf and both sub-CAs; the car trusts the root (``v2g-root.pem``).

Variants for the hostile chargers (:data:`VARIANTS`): ``wrong-root`` — the same chain shape under
another root the car does not hold; ``expired`` — a leaf whose validity ended yesterday.  The
validity is relative to the wall clock at generation (OpenSSL checks certificates against the
system clock, also in a virtual-time simulation), so a PKI is made per run.

Generating needs the ``cryptography`` package (the ``test`` extra; :mod:`.pki_gen` does it), so
only :func:`make_test_pki` imports it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Final

#: What the simulated charger may serve; ``stall`` (sim/tls_charger.py) is a behaviour, not a chain.
VARIANTS: Final = ("ok", "wrong-root", "expired")
ROOT_FILE: Final = "v2g-root.pem"


@dataclass(frozen=True)
class SimPki:
    """The files of one generated PKI in ``directory``."""

    directory: Path

    @property
    def root(self) -> Path:
        """The V2G root the car trusts (``[ccs] v2g-root-certs``)."""
        return self.directory / ROOT_FILE

    def chain(self, variant: str = "ok") -> tuple[Path, Path]:
        """The (certificate chain, private key) PEM files the charger serves for ``variant``."""
        if variant not in VARIANTS:
            raise ValueError(f"unknown TLS certificate variant {variant!r}; known: {', '.join(VARIANTS)}")
        return self.directory / f"secc-{variant}-chain.pem", self.directory / f"secc-{variant}-key.pem"


def make_test_pki(directory: str | Path, now: dt.datetime | None = None) -> SimPki:
    """Generate every variant into ``directory`` (created); the certificates are valid from a day
    before ``now`` (default: the wall clock) for 30 days, the expired leaf until a day before."""
    try:
        from .pki_gen import generate
    except ImportError as exc:  # pragma: no cover - the test extra brings it
        raise RuntimeError(f"a test PKI needs the cryptography package (pip install 'ccs2chademo[test]'): {exc}") \
            from None
    out = Path(directory)
    generate(out, now or dt.datetime.now(dt.UTC))
    return SimPki(out)


def iso15118_layout(pki: SimPki, path: str | Path) -> Path:
    """``pki`` laid out where the ``iso15118`` package's SECC reads its own (its ``PKI_PATH``; it
    reads ``iso15118_2/`` for -20 too): the SECC chain, its key (an empty password file: none),
    and our root as its "OEM root" — the CA it checks a car's certificate against when its
    ``ENABLE_TLS_1_3`` is set.  For the interop tests and bench/tls.py; returns ``path``."""
    out = Path(path)
    certs, keys = out / "iso15118_2" / "certs", out / "iso15118_2" / "private_keys"
    certs.mkdir(parents=True, exist_ok=True)
    keys.mkdir(parents=True, exist_ok=True)
    chain, key = pki.chain()
    (certs / "cpoCertChain.pem").write_bytes(chain.read_bytes())
    (certs / "oemRootCACert.pem").write_bytes(pki.root.read_bytes())
    (keys / "seccLeaf.key").write_bytes(key.read_bytes())
    (keys / "seccLeafPassword.txt").write_text("\n")
    return out
