"""The certificates a verifier trusts, looked up the way DUIS signatures name them: by issuer and serial
number (``KeyInfo/X509Data/X509IssuerSerial``).

Issuer names arrive as RFC 2253 / 4514 strings written by Java (``CN=Z1,OU=07``) or by hand
(``CN=Z1, OU=07``): they are compared attribute by attribute (type, value), ignoring the spacing around the
separators and the case of attribute type names.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..errors import DuisError, ParameterError

# the attribute type names RFC 4514 (and Java's X500Principal) write for X.500 names
_TYPE_NAMES = {
    "CN": NameOID.COMMON_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "O": NameOID.ORGANIZATION_NAME,
    "C": NameOID.COUNTRY_NAME, "L": NameOID.LOCALITY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "STREET": NameOID.STREET_ADDRESS, "DC": NameOID.DOMAIN_COMPONENT, "UID": NameOID.USER_ID,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER, "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    "UNIQUEIDENTIFIER": NameOID.X500_UNIQUE_IDENTIFIER,
}
_OID_RE = re.compile(r"\d+(\.\d+)+\Z")
# x500UniqueIdentifier: SMKI certificates carry the entity's EUI-64 there
_ENTITY_ID = NameOID.X500_UNIQUE_IDENTIFIER

NameKey = tuple  # ((oid dotted string, value), ...) in RFC 4514 order (most specific RDN first)


@functools.lru_cache(maxsize=1024)
def issuer_key(text: str) -> NameKey:
    """The comparable form of an X509IssuerName string; DuisError if it is not an RFC 4514 name."""
    parts = _split_unescaped(text.strip(), ",;")
    if not parts or not parts[0].strip():
        raise DuisError(f"X509IssuerName: {text!r} is not a distinguished name")
    key = []
    for rdn in parts:
        for attribute in _split_unescaped(rdn, "+"):
            name, sep, value = attribute.partition("=")
            name = name.strip()
            if not sep or not name:
                raise DuisError(f"X509IssuerName: {attribute.strip()!r} in {text!r} is not TYPE=value")
            if _OID_RE.match(name):
                oid = name
            elif name.upper() in _TYPE_NAMES:
                oid = _TYPE_NAMES[name.upper()].dotted_string
            else:
                raise DuisError(f"X509IssuerName: unknown attribute type {name!r} in {text!r}")
            key.append((oid, _unescape(value.strip(), text)))
    return tuple(key)


def name_key(name: x509.Name) -> NameKey:
    """The comparable form of a certificate's name (the same order as the RFC 4514 string)."""
    key = []
    for rdn in reversed(name.rdns):
        for attribute in rdn:
            value = attribute.value
            key.append((attribute.oid.dotted_string,
                        "#" + value.hex() if isinstance(value, bytes) else str(value)))
    return tuple(key)


def _split_unescaped(text: str, separators: str) -> list[str]:
    parts, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch in separators:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _unescape(value: str, whole: str) -> str:
    if value.startswith("#"):                   # a hex-encoded BER value (RFC 4514 2.4)
        return value.lower()
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            pair = value[i + 1:i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                out.append(chr(int(pair, 16)))
                i += 3
                continue
            out.append(value[i + 1])
            i += 2
            continue
        if ch == '"':
            raise DuisError(f"X509IssuerName: quoted values are not supported ({whole!r})")
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass(frozen=True, eq=False)
class TrustedCertificate:
    certificate: x509.Certificate
    public_key: ec.EllipticCurvePublicKey
    issuer: NameKey
    serial: int
    entity_id: str | None       # the EUI-64 in the subject's x500UniqueIdentifier (SMKI), e.g. 90-B3-D5-...
    source: str                 # where it was loaded from

    @functools.cached_property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()


def entity_id_of(certificate: x509.Certificate) -> str | None:
    for attribute in certificate.subject.get_attributes_for_oid(_ENTITY_ID):
        value = attribute.value
        if isinstance(value, bytes):
            # a BIT STRING: a leading 0x00 (no unused bits) before the 8 octets of the EUI-64
            octets = value[1:] if len(value) == 9 and value[0] == 0 else value
            if len(octets) == 8:
                return "-".join(f"{b:02X}" for b in octets)
    return None


class TrustStore:
    """Trusted DUIS signing certificates, by (issuer, serial number). Only ECDSA P-256 keys are accepted."""

    def __init__(self, certificates=()):
        self._by_key: dict[tuple[NameKey, int], TrustedCertificate] = {}
        # bumped by every add(): a verifier's cache of lookups is only good for the generation it was filled in
        self.generation = 0
        for cert in certificates:
            self.add(cert)

    @classmethod
    def from_directory(cls, directory: str | Path) -> "TrustStore":
        """Every ``*.pem`` / ``*.crt`` / ``*.cer`` in ``directory`` (PEM; several certificates a file allowed)."""
        folder = Path(directory)
        if not folder.is_dir():
            raise ParameterError(f"the trust store {directory} is not a directory of PEM certificates")
        store = cls()
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in (".pem", ".crt", ".cer") and path.is_file():
                store.add_pem(path.read_bytes(), source=str(path))
        if not len(store):
            raise ParameterError(f"no certificates (*.pem, *.crt, *.cer) in {directory}")
        return store

    def add_pem(self, data: bytes, source: str = "<memory>") -> None:
        try:
            certificates = x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise ParameterError(f"{source}: not a PEM certificate ({exc})") from None
        for certificate in certificates:
            self.add(certificate, source)

    def add(self, certificate: x509.Certificate, source: str = "<memory>") -> TrustedCertificate:
        key = certificate.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ParameterError(f"{source}: DUIS signing certificates carry ECDSA P-256 keys; this one does not")
        trusted = TrustedCertificate(certificate, key, name_key(certificate.issuer), certificate.serial_number,
                                     entity_id_of(certificate), source)
        self._by_key[(trusted.issuer, trusted.serial)] = trusted
        self.generation += 1
        return trusted

    def lookup(self, issuer_name: str, serial: int) -> TrustedCertificate:
        found = self._by_key.get((issuer_key(issuer_name), serial))
        if found is None:
            raise DuisError(f"KeyInfo: no trusted certificate with issuer {issuer_name!r} and serial number "
                            f"{serial} (the signer is unknown)")
        return found

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self):
        return iter(self._by_key.values())
