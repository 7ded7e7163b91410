"""The CRC family by name: catalogue names (CRC RevEng), their common aliases, and the native kernels."""

from __future__ import annotations

import numpy as np

from . import _backend
from ._native import _crc as _native_crc
from .errors import ParameterError


_MODELS = _native_crc.models()

#: The supported algorithms, by their CRC RevEng catalogue names.
CRC_ALGORITHMS: tuple[str, ...] = tuple(m["name"] for m in _MODELS)

# Aliases from the RevEng catalogue, plus the short names people use; all matched case-insensitively with
# "_" read as "-". Bare suffixes are accepted only where they are unambiguous (ISO-HDLC is not).
_ALIASES = {
    "CRC-16/KERMIT": ["KERMIT", "CRC-16/CCITT", "CRC-16/CCITT-TRUE", "CRC-16/V-41-LSB", "CRC-CCITT"],
    "CRC-16/EN-13757": ["EN-13757"],
    "CRC-16/IBM-SDLC": ["IBM-SDLC", "X-25", "X25", "CRC-16/X-25", "CRC-16/ISO-HDLC", "CRC-16/ISO-IEC-14443-3-B",
                        "CRC-B"],
    "CRC-16/XMODEM": ["XMODEM", "ZMODEM", "CRC-16/ACORN", "CRC-16/LTE", "CRC-16/V-41-MSB"],
    "CRC-32/ISO-HDLC": ["CRC-32", "CRC32", "CRC-32/ADCCP", "CRC-32/V-42", "CRC-32/XZ", "PKZIP"],
    "CRC-32/ISCSI": ["ISCSI", "CRC-32C", "CRC32C", "CRC-32/BASE91-C", "CRC-32/CASTAGNOLI", "CRC-32/INTERLAKEN"],
}


def _normal(name: str) -> str:
    return name.strip().upper().replace("_", "-")


_INDEX: dict[str, int] = {}
for _i, _name in enumerate(CRC_ALGORITHMS):
    for _alias in [_name, *_ALIASES[_name]]:
        _INDEX[_normal(_alias)] = _i
_INDEX_EXACT = {name: i for i, name in enumerate(CRC_ALGORITHMS)}


def algorithm_index(algorithm: str) -> int:
    """The native index of a CRC named by catalogue name or alias."""
    index = _INDEX_EXACT.get(algorithm)
    if index is not None:
        return index
    if not isinstance(algorithm, str):
        raise TypeError(f"algorithm must be a CRC name such as 'CRC-16/KERMIT', not {type(algorithm).__name__}")
    index = _INDEX.get(_normal(algorithm))
    if index is None:
        raise ParameterError(f"unknown CRC algorithm {algorithm!r}; known: {', '.join(CRC_ALGORITHMS)} "
                             "(common aliases such as X-25, CRC-32 and CRC-32C are accepted too)")
    return index


def crc(data, algorithm: str, init: int | None = None) -> int:
    """The CRC of ``data`` (any C-contiguous buffer) with ``algorithm`` (see ``CRC_ALGORITHMS``).

    ``init`` continues a CRC across calls: it is a previous *result*, so
    ``crc(a + b, alg) == crc(b, alg, init=crc(a, alg))``.
    """
    return _backend.native("crc").crc(data, algorithm_index(algorithm), init)


def crc_blocks(data, block_size: int, algorithm: str) -> np.ndarray:
    """One CRC per ``block_size`` bytes of ``data`` (the last block may be short), computed in one call
    without the GIL; a uint16 array for 16-bit CRCs, uint32 for 32-bit ones."""
    return _backend.native("crc").crc_blocks(data, block_size, algorithm_index(algorithm))
