"""The CRC family's public functions, from its native module with the CPU tier chosen (ALTHAN_OTA_BACKEND
first, else the best); names, aliases and argument checks live in althan_ota/_native/_crc.pyx."""

from __future__ import annotations

from . import _backend

_native = _backend.native("crc")

CRC_ALGORITHMS: tuple[str, ...] = _native.CRC_ALGORITHMS
crc = _native.crc
crc_blocks = _native.crc_blocks
