"""Release keys: Alt HAN Co signs ``manifest.json`` with ECDSA P-256 over SHA-256; a key is named by its
key ID, the SHA-256 of its public key's DER SubjectPublicKeyInfo, which the manifest records."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ..errors import AltHanError, ReleaseError
from ..image import load_public_key


def key_id(key) -> str:
    """The key ID (64 hex digits) of a P-256 key: a public key (object, PEM or DER) or a private key object."""
    public = _public(key, "key")
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def sign_manifest(message: bytes, private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """ECDSA P-256 / SHA-256 signature, DER-encoded (what ``openssl dgst -sha256 -verify`` reads), with
    RFC 6979 deterministic nonces when the OpenSSL underneath has them (3.2+), so the same inputs give the
    same bundle; randomised nonces otherwise, which verify the same way."""
    try:
        return private_key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    except (UnsupportedAlgorithm, TypeError):
        return private_key.sign(message, ec.ECDSA(hashes.SHA256()))


def signature_ok(message: bytes, signature: bytes, public_key: ec.EllipticCurvePublicKey) -> bool:
    """Whether ``signature`` (DER) is a valid ECDSA P-256 / SHA-256 signature of ``message``."""
    try:
        public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def raw_signature(message: bytes, private_key: ec.EllipticCurvePrivateKey) -> bytes:
    """``sign_manifest`` as the raw r||s (64 bytes) that a GB image trailer carries."""
    r, s = decode_dss_signature(sign_manifest(message, private_key))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def load_trusted_keys(trusted) -> dict:
    """Trusted public keys by key ID. ``trusted`` is a PEM file, a directory (its ``*.pem`` files), a key
    object, PEM/DER bytes, a mapping whose values are any of these, or an iterable of them."""
    found: dict = {}
    _collect(trusted, found)
    if not found:
        raise ReleaseError("no trusted release keys were given: a bundle cannot be verified without them")
    return found


def _collect(source, found: dict) -> None:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            files = sorted(path.glob("*.pem"))
            if not files:
                raise ReleaseError(f"{path}: the trusted-key directory holds no .pem files")
            for file in files:
                _collect(file, found)
            return
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReleaseError(f"{path}: cannot read the trusted key: {exc.strerror or exc}") from None
        public = _public(data, str(path))
    elif isinstance(source, Mapping):
        for value in source.values():
            _collect(value, found)
        return
    elif isinstance(source, (bytes, bytearray, memoryview)) or hasattr(source, "public_bytes") or \
            hasattr(source, "public_key"):
        public = _public(source, "trusted key")
    else:
        try:
            items = list(source)
        except TypeError:
            raise ReleaseError(f"trusted keys: expected a path, key, bytes or a list of them, not "
                               f"{type(source).__name__}") from None
        for item in items:
            _collect(item, found)
        return
    found[key_id(public)] = public


def _public(key, where: str):
    if isinstance(key, (bytes, bytearray, memoryview)) and b"PRIVATE KEY" in bytes(key):
        raise ReleaseError(f"{where}: holds a private key; trust is given by the public key alone")
    try:
        return load_public_key(key)
    except AltHanError as exc:
        raise ReleaseError(f"{where}: {exc}") from None
