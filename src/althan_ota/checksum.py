"""Checksums over firmware images and frames: the CRC family (RevEng catalogue names), one SHA-256 per
transfer block, and the ZigBee AES-MMO hash. Each kernel runs in C on the best CPU tier; see
``althan_ota.backend()``.

This module is the public face; each kernel family's wrapper lives in its own private module and is
re-exported here.
"""

from ._aes_mmo import aes_mmo, install_code_key  # noqa: F401
from ._backend import native as _native
from ._crc import CRC_ALGORITHMS, crc, crc_blocks  # noqa: F401

sha256 = _native("sha256").sha256
sha256_blocks = _native("sha256").sha256_blocks
