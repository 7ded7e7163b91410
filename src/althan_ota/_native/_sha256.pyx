# cython: language_level=3, boundscheck=False, wraparound=False
"""SHA-256 (FIPS 180-4) in C on the best CPU tier: one digest, or one digest per fixed-size block."""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t

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

cdef const unsigned char[::1] _byte_view(data, str what):
    """A zero-copy view of the bytes of any C-contiguous buffer (bytes, bytearray, memoryview, numpy)."""
    if isinstance(data, str):
        raise TypeError(f"{what} must be a bytes-like object, not str; encode it first")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"{what} must be a bytes-like object, not {type(data).__name__}") from None
    if not view.c_contiguous:
        raise ParameterError(f"{what} must be a C-contiguous buffer; copy it first (e.g. bytes(...))")
    if view.ndim != 1 or view.format not in ("B", "b", "c"):
        view = view.cast("B")
    return view


def sha256(data) -> bytes:
    """The SHA-256 digest (32 bytes) of a bytes-like object, as ``hashlib.sha256(data).digest()``."""
    cdef uint8_t digest[32]
    cdef const uint8_t *p
    cdef size_t n
    cdef const unsigned char[::1] view
    cdef uint8_t empty = 0
    if type(data) is bytes:
        p = <const uint8_t *>PyBytes_AS_STRING(data)
        n = <size_t>PyBytes_GET_SIZE(data)
    else:
        view = _byte_view(data, "data")
        n = view.shape[0]
        p = &view[0] if n else &empty
    if n >= RELEASE_GIL_FROM:
        with nogil:
            alt_sha256(p, n, digest)
    else:
        alt_sha256(p, n, digest)
    return PyBytes_FromStringAndSize(<char *>digest, 32)


def sha256_blocks(data, block_size):
    """One SHA-256 digest per ``block_size``-byte block of ``data`` (the last block may be short).

    Returns a numpy uint8 array of shape (ceil(len(data) / block_size), 32); no rows for empty data.
    """
    cdef const unsigned char[::1] view = _byte_view(data, "data")
    if isinstance(block_size, bool) or not hasattr(type(block_size), "__index__"):
        raise TypeError(f"block_size must be an int, not {type(block_size).__name__}")
    size = block_size.__index__()
    if size < 1:
        raise ParameterError(f"block_size must be at least 1, got {size}")
    cdef size_t n = view.shape[0]
    cdef size_t bs = min(size, max(n, 1))
    cdef size_t rows = (n + bs - 1) // bs
    out = np.empty((rows, 32), dtype=np.uint8)
    if rows == 0:
        return out
    cdef unsigned char[::1] out_view = out.reshape(-1)
    cdef int status
    with nogil:
        status = alt_sha256_blocks(&view[0], n, bs, &out_view[0])
    if status != ALT_OK:
        raise ParameterError(f"sha256_blocks failed with status {status}")
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
