"""Throwaway DUIS signing identities (a User and a DSP: P-256 key, certificate, trust folder) for running the
DCC stand-in and its load test anywhere, without the DCC Boxed test material that only a clone of the
repository carries. The keys are fixed, publicly known numbers: never use them for anything but tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type  # the one way cryptography writes a BIT STRING name value
from cryptography.x509.oid import NameOID

VALID_FROM = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Identity:
    key: Path
    cert: Path


@dataclass(frozen=True)
class TestIdentities:
    user: Identity
    dsp: Identity
    certs: Path          # a trust folder holding both certificates


def _write(folder: Path, name: str, entity_id: str, secret: int, serial: int) -> Identity:
    key = ec.derive_private_key(secret, ec.SECP256R1())
    # issued by a "Z1" CA like the DCC's test certificates; self-signed, the trust folder is what vouches
    issuer = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "07"),
                        x509.NameAttribute(NameOID.COMMON_NAME, "Z1")])
    # SMKI puts the party's EUI-64 in x500UniqueIdentifier, a BIT STRING (its DER content: 0x00 unused bits, 8 octets)
    eui64 = bytes.fromhex(entity_id.replace("-", ""))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"althan-ota test {name}"),
                         x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, b"\x00" + eui64,
                                            _ASN1Type.BitString)])
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
                   .serial_number(serial).not_valid_before(VALID_FROM)
                   .not_valid_after(VALID_FROM + dt.timedelta(days=3650)).sign(key, hashes.SHA256()))
    paths = Identity(folder / "keys" / f"{name}.key", folder / "certs" / f"{name}.pem")
    paths.key.parent.mkdir(parents=True, exist_ok=True)
    paths.cert.parent.mkdir(parents=True, exist_ok=True)
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    paths.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return paths


def write_test_identities(folder: str | Path, user_id: str, dsp_id: str) -> TestIdentities:
    """A User (EUI-64 ``user_id``) and a DSP (``dsp_id``) identity under ``folder`` (keys/, certs/); the same
    keys every time."""
    folder = Path(folder)
    user = _write(folder, "user", user_id, 0x5EED_0001, 0x5EED01)
    dsp = _write(folder, "dsp", dsp_id, 0x5EED_0002, 0x5EED02)
    return TestIdentities(user, dsp, folder / "certs")
