"""The ZigBee OTA image integrity code (ZCL 07-5123, 11.4.9): an AES-MMO hash (ZigBee 05-3474, B.6) of the
OTA image from its first header byte up to, not including, the integrity code sub-element, which must be
the last one."""

from __future__ import annotations

import hmac

from ..errors import ImageFormatError
from ._model import TAG_INTEGRITY_CODE, OtaImage

INTEGRITY_CODE_LENGTH = 16
_ELEMENT_HEADER = 6


def aes_mmo(data) -> bytes:
    """AES-MMO hash of ``data`` (16 bytes)."""
    from .. import checksum

    native = getattr(checksum, "aes_mmo", None)
    if native is not None:
        return bytes(native(data))
    return _aes_mmo_python(memoryview(data).cast("B"))


def _aes_mmo_python(data: memoryview) -> bytes:
    # Used only until the C kernel (checksum.aes_mmo) is merged; tests keep their own reference.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    bits = len(data) * 8
    # B.6: a 1 bit, zeros, then the bit length in 16 bits, or from 2**16 bits on in 32 bits + 16 zero bits
    tail = bits.to_bytes(2, "big") if bits < 1 << 16 else bits.to_bytes(4, "big") + b"\x00\x00"
    full = len(data) - len(data) % 16
    pad = (-(len(data) - full + 1 + len(tail))) % 16
    last = bytes(data[full:]) + b"\x80" + b"\x00" * pad + tail
    digest = bytes(16)
    for source, stop in ((data, full), (memoryview(last), len(last))):
        for i in range(0, stop, 16):
            block = bytes(source[i:i + 16])
            enc = Cipher(algorithms.AES(digest), modes.ECB()).encryptor().update(block)
            digest = (int.from_bytes(enc, "big") ^ int.from_bytes(block, "big")).to_bytes(16, "big")
    return digest


def integrity_code_ok(image: OtaImage) -> bool | None:
    element = image.element(TAG_INTEGRITY_CODE)
    if element is None:
        return None
    if element is not image.elements[-1]:
        raise ImageFormatError(
            f"image integrity code at offset {element.offset - _ELEMENT_HEADER}: expected the last "
            f"sub-element, {len(image.elements) - 1 - image.elements.index(element)} follow it")
    if element.length != INTEGRITY_CODE_LENGTH:
        raise ImageFormatError(
            f"image integrity code at offset {element.offset - _ELEMENT_HEADER}: expected "
            f"{INTEGRITY_CODE_LENGTH} bytes, found {element.length}")
    covered = image.image[:element.offset - _ELEMENT_HEADER]
    return hmac.compare_digest(aes_mmo(covered), bytes(element.data))
