# cython: language_level=3, boundscheck=False, wraparound=False
"""The CRC family (csrc/crc.h): one CRC over a buffer, or one per block of a firmware image.

Algorithms are named as in the CRC RevEng catalogue, or by a common alias. Buffers are read in place through
the buffer protocol, and the GIL is released for long ones and for every batch.
"""

from libc.stdint cimport uint8_t, uint32_t

import numpy as np

from ._buffers cimport RELEASE_GIL_FROM, Held, release, take
from ._status cimport check_rc
from .crc cimport ALT_CRC_ALGORITHM_COUNT, alt_crc_blocks, alt_crc_compute, alt_crc_model, alt_crc_model_get

from ..errors import ParameterError

def models():
    """The catalogue, one dict per algorithm index: name, width, poly, init, reflected, xorout, check and
    aliases ("|"-separated)."""
    out = []
    cdef const alt_crc_model *m
    for i in range(ALT_CRC_ALGORITHM_COUNT):
        m = alt_crc_model_get(i)
        out.append({"name": m.name.decode(), "width": m.width, "poly": m.poly, "init": m.init,
                    "reflected": bool(m.reflected), "xorout": m.xorout, "check": m.check,
                    "aliases": m.aliases.decode()})
    return out


#: The supported algorithms, by their CRC RevEng catalogue names, in the C enum's order.
CRC_ALGORITHMS = tuple(m["name"] for m in models())

#: Other names of each algorithm (csrc/crc.h, ALT_CRC_CATALOGUE), matched case-insensitively with "_" read
#: as "-".
ALIASES = {m["name"]: tuple(m["aliases"].split("|")) for m in models()}


def _normal(name):
    return name.strip().upper().replace("_", "-")


cdef dict _INDEX = {name: i for i, name in enumerate(CRC_ALGORITHMS)}
for _i, _name in enumerate(CRC_ALGORITHMS):
    for _alias in (_name, *ALIASES[_name]):
        _INDEX[_normal(_alias)] = _i


cdef int _algorithm(object name) except -1:
    if not isinstance(name, str):
        raise TypeError(f"algorithm must be a CRC name such as 'CRC-16/KERMIT', not {type(name).__name__}")
    index = _INDEX.get(name)
    if index is not None:
        return index
    index = _INDEX.get(_normal(name))
    if index is None:
        raise ParameterError(f"unknown CRC algorithm {name!r}; known: {', '.join(CRC_ALGORITHMS)} "
                             "(common aliases such as X-25, CRC-32 and CRC-32C are accepted too)")
    if len(_INDEX) < 256:  # remember the spelling so the next call is one lookup; bounded
        _INDEX[name] = index
    return index


def crc(data, algorithm, init=None):
    """The CRC of data (any C-contiguous buffer) with algorithm (see CRC_ALGORITHMS).

    init continues a CRC across calls: it is a previous *result*, so
    crc(a + b, alg) == crc(b, alg, init=crc(a, alg)).
    """
    cdef int index = _algorithm(algorithm)
    cdef const alt_crc_model *m = alt_crc_model_get(index)
    cdef uint32_t c
    if init is None:
        c = m.init ^ m.xorout
    else:
        if not isinstance(init, int):
            raise TypeError(f"init must be an int (a previous CRC), not {type(init).__name__}")
        if init < 0 or init >> m.width:
            raise ParameterError(f"init {init!r} is out of range for {m.name.decode()}, a {m.width}-bit CRC "
                                 f"(0..{(1 << m.width) - 1:#x})")
        c = init
    cdef Held held
    held.count = 0
    cdef Py_ssize_t n
    cdef const uint8_t *p
    cdef int rc
    try:
        p = take(&held, data, &n, "data")
        if n >= RELEASE_GIL_FROM:
            with nogil:
                rc = alt_crc_compute(index, p, n, &c)
        else:
            rc = alt_crc_compute(index, p, n, &c)
        check_rc(rc, "CRC")
    finally:
        release(&held)
    return c


def crc_blocks(data, Py_ssize_t block_size, algorithm):
    """One CRC per block_size bytes of data (the last block may be short), computed in one call without the
    GIL; a uint16 array for 16-bit CRCs, uint32 for 32-bit ones."""
    cdef int index = _algorithm(algorithm)
    cdef const alt_crc_model *m = alt_crc_model_get(index)
    if block_size < 1:
        raise ParameterError(f"block_size must be at least 1, not {block_size}")
    cdef Held held
    held.count = 0
    cdef Py_ssize_t n, count
    cdef const uint8_t *p
    cdef unsigned char[::1] out_bytes
    cdef int rc
    try:
        p = take(&held, data, &n, "data")
        count = (n + block_size - 1) // block_size
        out = np.empty(count, dtype=np.uint16 if m.width == 16 else np.uint32)
        out_bytes = out.view(np.uint8)
        with nogil:
            rc = alt_crc_blocks(index, p, n, <size_t>block_size, <void *>&out_bytes[0] if count else NULL, count)
        check_rc(rc, "CRC")
    finally:
        release(&held)
    return out
