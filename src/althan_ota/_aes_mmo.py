"""ZigBee AES-MMO (spec 05-3474 Annex B.6): the OTA image integrity code and install-code link keys."""

from __future__ import annotations

from . import _backend
from .errors import ParameterError

# Install codes are 6, 8, 12 or 16 bytes, each followed by its 2-byte CRC (CRC-16/X-25, little-endian).
INSTALL_CODE_LENGTHS = (8, 10, 14, 18)


_native = None   # the "aes" kernel module, looked up once


def aes_mmo(data) -> bytes:
    """The 16-byte AES-MMO hash of ``data`` (any bytes-like object, fewer than 2**29 bytes)."""
    global _native
    if _native is None:
        _native = _backend.native("aes")
    return _native.aes_mmo(data)


def install_code_key(code_with_crc) -> bytes:
    """The link key derived from a ZigBee install code: AES-MMO over the code and its trailing CRC.

    Only the length is checked here; the CRC itself is checked by the CRC family (CRC-16/X-25).
    """
    n = len(memoryview(code_with_crc).cast("B"))
    if n not in INSTALL_CODE_LENGTHS:
        raise ParameterError(f"an install code with its CRC is {', '.join(map(str, INSTALL_CODE_LENGTHS))} "
                             f"bytes long, got {n}")
    return aes_mmo(code_with_crc)
