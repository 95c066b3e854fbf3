"""The certificates of :mod:`.pki` (with the ``cryptography`` package): see there for the shape."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .pki import ROOT_FILE, SimPki

_DAY = dt.timedelta(days=1)


def _name(common: str, *, operator: bool = False) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ccs2chademo sim")]
    if operator:
        parts.append(x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "CPO"))
    return x509.Name(parts)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _certificate(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
                 issuer_key: ec.EllipticCurvePrivateKey, start: dt.datetime, end: dt.datetime,
                 ca_depth: int | None) -> x509.Certificate:
    """``ca_depth`` None: a leaf; else a CA that may have that many CAs below it."""
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=ca_depth is not None, path_length=ca_depth), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                              critical=False))
    ca = ca_depth is not None
    builder = builder.add_extension(x509.KeyUsage(
        digital_signature=not ca, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=not ca, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def generate(out: Path, now: dt.datetime) -> None:
    """Write the root and every variant's chain and key into ``out`` (created)."""
    out.mkdir(parents=True, exist_ok=True)
    start, end = now - _DAY, now + 30 * _DAY
    roots: dict[str, tuple[x509.Name, ec.EllipticCurvePrivateKey, x509.Certificate]] = {}
    for label in ("V2G Root CA (sim)", "Untrusted Root CA (sim)"):
        key = _key()
        name = _name(label)
        roots[label] = (name, key, _certificate(name, key, name, key, start, end + 365 * _DAY, 2))
    (out / ROOT_FILE).write_bytes(_pem(roots["V2G Root CA (sim)"][2]))
    for variant, root_label in (("ok", "V2G Root CA (sim)"), ("expired", "V2G Root CA (sim)"),
                                ("wrong-root", "Untrusted Root CA (sim)")):
        issuer, issuer_key, _ = roots[root_label]
        chain: list[x509.Certificate] = []
        for depth, label in ((1, "CPO Sub-CA 1 (sim)"), (0, "CPO Sub-CA 2 (sim)")):
            key = _key()
            name = _name(label, operator=True)
            chain.insert(0, _certificate(name, key, issuer, issuer_key, start, end, depth))
            issuer, issuer_key = name, key
        leaf_key = _key()
        leaf_end = now - _DAY if variant == "expired" else end
        leaf_start = now - 30 * _DAY if variant == "expired" else start
        leaf = _certificate(_name("ZZ00000 SECC (sim)", operator=True), leaf_key, issuer, issuer_key, leaf_start,
                            leaf_end, None)
        pki = SimPki(out)
        chain_path, key_path = pki.chain(variant)
        chain_path.write_bytes(b"".join(_pem(c) for c in (leaf, *chain)))
        _write_key(key_path, leaf_key)
