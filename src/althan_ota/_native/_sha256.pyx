# cython: language_level=3, boundscheck=False, wraparound=False
"""SHA-256 (FIPS 180-4) in C on the best CPU tier: one digest, or one digest per fixed-size block."""

from cpython.buffer cimport PyBUF_C_CONTIGUOUS, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t

import operator

import numpy as np

from althan_ota.errors import BackendError, ParameterError

cdef extern from "sha256.h":
    int alt_sha256(const uint8_t *data, size_t len, uint8_t *out) nogil
    int alt_sha256_blocks(const uint8_t *data, size_t len, size_t block_size, uint8_t *out) nogil
    int alt_sha256_tier_count() nogil
    const char *alt_sha256_tier_name(int tier) nogil
    int alt_sha256_set_tier(int tier) nogil
    int alt_sha256_get_tier() nogil

cdef extern from "alt_status.h":
    int ALT_OK

# Below this many bytes, releasing and retaking the GIL costs more than the hash saves other threads.
cdef size_t RELEASE_GIL_FROM = 4096

cdef int _get_bytes(object data, Py_buffer *buf) except -1:
    """Borrows the bytes of any C-contiguous buffer (bytes, bytearray, memoryview, numpy) without copying;
    the caller releases buf."""
    if isinstance(data, str):
        raise TypeError("data must be a bytes-like object, not str; encode it first")
    try:
        PyObject_GetBuffer(data, buf, PyBUF_C_CONTIGUOUS)
    except (BufferError, ValueError):
        if not memoryview(data).c_contiguous:
            raise ParameterError("data must be a C-contiguous buffer; copy it first (e.g. bytes(...))") from None
        raise
    except TypeError:
        raise TypeError(f"data must be a bytes-like object, not {type(data).__name__}") from None
    return 0


def sha256(data) -> bytes:
    """The SHA-256 digest (32 bytes) of a bytes-like object, as ``hashlib.sha256(data).digest()``."""
    cdef uint8_t digest[32]
    cdef Py_buffer buf
    _get_bytes(data, &buf)
    cdef const uint8_t *p = <const uint8_t *>buf.buf
    cdef size_t n = <size_t>buf.len
    try:
        if n >= RELEASE_GIL_FROM:
            with nogil:
                alt_sha256(p, n, digest)
        else:
            alt_sha256(p, n, digest)
    finally:
        PyBuffer_Release(&buf)
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
    cdef Py_buffer buf
    cdef unsigned char[:, ::1] out_view
    cdef int status
    _get_bytes(data, &buf)
    cdef size_t n = <size_t>buf.len
    cdef size_t bs = min(size, max(n, 1))
    cdef size_t rows = (n + bs - 1) // bs
    try:
        out = np.empty((rows, 32), dtype=np.uint8)
        if rows:
            out_view = out
            with nogil:
                status = alt_sha256_blocks(<const uint8_t *>buf.buf, n, bs, &out_view[0, 0])
            if status != ALT_OK:
                raise ParameterError(f"sha256_blocks failed with status {status}")
    finally:
        PyBuffer_Release(&buf)
    return out


def tier_names():
    """CPU tiers available here, "portable" first and the best last."""
    return tuple(alt_sha256_tier_name(i).decode() for i in range(alt_sha256_tier_count()))


def get_tier():
    return alt_sha256_tier_name(alt_sha256_get_tier()).decode()


def set_tier(name):
    names = tier_names()
    if name not in names:
        raise BackendError(f"sha256 has no tier {name!r}; this build and CPU offer {list(names)}")
    alt_sha256_set_tier(names.index(name))
