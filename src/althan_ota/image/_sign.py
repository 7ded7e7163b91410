"""ECDSA P-256 over SHA-256 for GB upgrade images (GBCS 11.2.2): the signature covers the Manufacturer
Image and travels raw, r||s in 32 bytes each."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from ..errors import ParameterError, SignatureError
from ._model import GBCS_FIELD_CONTROL, GBCS_SIGNATURE_LENGTH, OtaImage

_HALF = GBCS_SIGNATURE_LENGTH // 2


def load_private_key(key) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from a ``cryptography`` key or PEM/DER bytes (unencrypted)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        found = key
    else:
        data = _bytes(key, "private key")
        try:
            loader = serialization.load_pem_private_key if b"-----BEGIN" in data else \
                serialization.load_der_private_key
            found = loader(data, password=None)
        except (ValueError, TypeError) as exc:
            raise SignatureError(f"cannot read the private key: {exc}") from None
    return _p256(found, "private key")


def load_public_key(key) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from a ``cryptography`` key, PEM/DER bytes, or raw X||Y (64 bytes, or 65 with the
    leading 0x04 of the uncompressed point)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = key.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _p256(key, "public key")
    data = _bytes(key, "public key")
    try:
        if b"-----BEGIN" in data:
            found = serialization.load_pem_public_key(data)
        elif len(data) in (64, 65):
            point = data if len(data) == 65 else b"\x04" + data
            found = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        else:
            found = serialization.load_der_public_key(data)
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"cannot read the public key: {exc}") from None
    return _p256(found, "public key")


def sign_raw(message, private_key) -> bytes:
    """ECDSA P-256 / SHA-256 signature of ``message`` as raw r||s (64 bytes)."""
    der = load_private_key(private_key).sign(bytes(message), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return r.to_bytes(_HALF, "big") + s.to_bytes(_HALF, "big")


def verify_raw(message, signature: bytes, public_key) -> None:
    """Raise SignatureError unless ``signature`` (r||s) is a valid signature of ``message``."""
    if signature is None or len(signature) != GBCS_SIGNATURE_LENGTH:
        raise SignatureError(f"expected a {GBCS_SIGNATURE_LENGTH}-byte r||s signature")
    der = encode_dss_signature(int.from_bytes(signature[:_HALF], "big"),
                               int.from_bytes(signature[_HALF:], "big"))
    try:
        load_public_key(public_key).verify(der, bytes(message), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SignatureError("signature does not verify over the Manufacturer Image with this key") from None


def verify_signature(image: OtaImage, public_key) -> bool:
    if image.format != "gbcs":
        raise SignatureError(f"only GB images carry a signature trailer; this image is {image.format!r}")
    if image.signature is None:
        raise SignatureError("the GB image has no signature trailer (ForceReplace, 0x40, 64-byte r||s)")
    verify_raw(image.manufacturer_image, image.signature, public_key)
    return True


def sign_gbcs(image_bytes, private_key, force_replace: int | None = None) -> bytes:
    """Sign a GB image: its Manufacturer Image gets a fresh trailer (replacing any existing one) and the
    total image size is rewritten. ``force_replace`` defaults to the existing flag, else 0. Returns the OTA
    image alone (any vendor container or trailing bytes of the input are not carried over)."""
    from ._build import build_gbcs
    from ._parse import parse

    image = parse(image_bytes, format="gbcs")
    if force_replace is None:
        force_replace = image.force_replace if image.force_replace is not None else 0
    if image.field_control != GBCS_FIELD_CONTROL:
        raise ParameterError(f"a GB image has field control 0x0004 (hardware versions only), this one "
                             f"0x{image.field_control:04X}")
    return build_gbcs(image.manufacturer_image, manufacturer_code=image.manufacturer_code,
                      image_type=image.image_type, file_version=image.file_version,
                      min_hardware_version=image.min_hardware_version,
                      max_hardware_version=image.max_hardware_version, stack_version=image.stack_version,
                      header_string=image.header_string_raw.rstrip(b"\x00"),
                      force_replace=force_replace, private_key=private_key)


def _p256(key, what: str):
    if not isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) or \
            not isinstance(key.curve, ec.SECP256R1):
        raise SignatureError(f"the {what} must be an ECDSA P-256 (secp256r1) key")
    return key


def _bytes(key, what: str) -> bytes:
    if isinstance(key, str):
        return key.encode("ascii", errors="replace")
    try:
        return bytes(key)
    except TypeError:
        raise ParameterError(f"{what}: expected a key object or bytes, not {type(key).__name__}") from None

