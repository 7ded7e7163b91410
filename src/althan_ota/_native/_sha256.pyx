# cython: language_level=3, boundscheck=False, wraparound=False
"""SHA-256 (FIPS 180-4) in C on the CPU tier in use: one digest, or one digest per fixed-size block."""

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t

import operator

import numpy as np

from ._buffers cimport Held, digest_of, release, take
from ._status cimport check_rc
from .sha256 cimport alt_sha256, alt_sha256_blocks

from ..errors import ParameterError

def sha256(data) -> bytes:
    """The SHA-256 digest (32 bytes) of a bytes-like object, as ``hashlib.sha256(data).digest()``."""
    cdef uint8_t digest[32]
    cdef Held held
    held.count = 0
    cdef Py_ssize_t n
    try:
        p = take(&held, data, &n, "data")
        check_rc(digest_of(alt_sha256, p, n, digest), "SHA-256")
    finally:
        release(&held)
    return PyBytes_FromStringAndSize(<char *>digest, 32)


def sha256_blocks(data, block_size):
    """One SHA-256 digest per ``block_size``-byte block of ``data`` (the last block may be short).

    Returns a numpy uint8 array of shape (ceil(len(data) / block_size), 32); no rows for empty data.
    """
    if isinstance(block_size, bool):
        raise TypeError("block_size must be an int, not bool")
    try:
        size = operator.index(block_size)
    except TypeError:
        raise TypeError(f"block_size must be an int, not {type(block_size).__name__}") from None
    if size < 1:
        raise ParameterError(f"block_size must be at least 1, got {size}")
    cdef Held held
    held.count = 0
    cdef Py_ssize_t n, bs, rows
    cdef const uint8_t *p
    cdef unsigned char[:, ::1] out_view
    cdef int rc
    try:
        p = take(&held, data, &n, "data")
        bs = min(size, max(n, 1))
        rows = (n + bs - 1) // bs
        out = np.empty((rows, 32), dtype=np.uint8)
        if rows:
            out_view = out
            with nogil:
                rc = alt_sha256_blocks(p, n, <size_t>bs, &out_view[0, 0])
            check_rc(rc, "SHA-256 blocks")
    finally:
        release(&held)
    return out
