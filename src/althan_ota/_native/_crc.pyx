# cython: language_level=3, boundscheck=False, wraparound=False
"""The CRC family (csrc/crc.h): one CRC over a buffer, or one per block of a firmware image.

Algorithms are addressed by their index in ``models()``; ``althan_ota._crc`` maps catalogue names and aliases
onto them. Buffers are read in place, and the GIL is released for long ones and for every batch.
"""

from libc.stdint cimport uint8_t, uint32_t

import numpy as np

from althan_ota.errors import BackendError, ParameterError

cdef extern from "alt_status.h":
    int ALT_OK

cdef extern from "crc.h":
    ctypedef struct alt_crc_model:
        const char *name
        unsigned width
        uint32_t poly
        uint32_t init
        bint reflected
        uint32_t xorout
        uint32_t check
    int ALT_CRC_ALGORITHM_COUNT
    const alt_crc_model *alt_crc_model_get(int algorithm) nogil
    int alt_crc_compute(int algorithm, const uint8_t *data, size_t len, uint32_t *crc) nogil
    int alt_crc_blocks(int algorithm, const uint8_t *data, size_t len, size_t block_size, void *out,
                       size_t out_count) nogil
    int alt_crc_tier_count() nogil
    const char *alt_crc_tier_name(int tier) nogil
    int alt_crc_set_tier(int tier) nogil
    int alt_crc_get_tier() nogil

# Below this many bytes releasing and re-taking the GIL costs more than the CRC itself.
cdef size_t NOGIL_BYTES = 4096


def models():
    """The catalogue, one dict per algorithm index: name, width, poly, init, reflected, xorout, check."""
    out = []
    cdef const alt_crc_model *m
    for i in range(ALT_CRC_ALGORITHM_COUNT):
        m = alt_crc_model_get(i)
        out.append({"name": m.name.decode(), "width": m.width, "poly": m.poly, "init": m.init,
                    "reflected": bool(m.reflected), "xorout": m.xorout, "check": m.check})
    return out


def tier_names():
    return tuple(alt_crc_tier_name(i).decode() for i in range(alt_crc_tier_count()))


def get_tier():
    return alt_crc_tier_name(alt_crc_get_tier()).decode()


def set_tier(name):
    names = tier_names()
    if name not in names:
        raise BackendError(f"crc tier {name!r} is not available; this build and CPU offer {list(names)}")
    alt_crc_set_tier(names.index(name))


cdef const unsigned char[::1] _bytes_of(object data) except *:
    """The bytes of any C-contiguous buffer, without copying."""
    cdef const unsigned char[::1] view
    if isinstance(data, str):
        raise TypeError("data must be a bytes-like object (bytes, bytearray, memoryview, numpy array), "
                        "not str; encode it first")
    try:
        view = data
        return view
    except (TypeError, ValueError, BufferError):
        pass
    try:
        m = memoryview(data)
    except TypeError:
        raise TypeError(f"data must be a bytes-like object (bytes, bytearray, memoryview, numpy array), "
                        f"not {type(data).__name__}") from None
    if not m.c_contiguous:
        raise ParameterError("data must be a C-contiguous buffer; pass a contiguous copy "
                             "(bytes(data) or numpy.ascontiguousarray(data))")
    view = m.cast("B")
    return view


cdef const alt_crc_model *_model(int algorithm) except NULL:
    cdef const alt_crc_model *m = alt_crc_model_get(algorithm)
    if m == NULL:
        raise ParameterError(f"CRC algorithm index {algorithm} is out of range 0..{ALT_CRC_ALGORITHM_COUNT - 1}")
    return m


def crc(data, int algorithm, init=None):
    """The CRC of data; init, if given, is the CRC of the data before it (chaining)."""
    cdef const alt_crc_model *m = _model(algorithm)
    cdef const unsigned char[::1] view = _bytes_of(data)
    cdef size_t n = view.shape[0]
    cdef const uint8_t *p = &view[0] if n else NULL
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
    cdef int rc
    if n > NOGIL_BYTES:
        with nogil:
            rc = alt_crc_compute(algorithm, p, n, &c)
    else:
        rc = alt_crc_compute(algorithm, p, n, &c)
    if rc != ALT_OK:
        raise ParameterError(f"alt_crc_compute failed with status {rc}")
    return c


def crc_blocks(data, Py_ssize_t block_size, int algorithm):
    """One CRC per block_size bytes of data (the last block may be short), as a uint16 or uint32 array."""
    cdef const alt_crc_model *m = _model(algorithm)
    if block_size < 1:
        raise ParameterError(f"block_size must be at least 1, not {block_size}")
    cdef const unsigned char[::1] view = _bytes_of(data)
    cdef size_t n = view.shape[0]
    cdef size_t count = (n + <size_t>block_size - 1) // <size_t>block_size
    out = np.empty(count, dtype=np.uint16 if m.width == 16 else np.uint32)
    cdef unsigned char[::1] out_bytes = out.view(np.uint8)
    cdef const uint8_t *p = &view[0] if n else NULL
    cdef void *o = <void *>&out_bytes[0] if count else NULL
    cdef int rc
    with nogil:
        rc = alt_crc_blocks(algorithm, p, n, <size_t>block_size, o, count)
    if rc != ALT_OK:
        raise ParameterError(f"alt_crc_blocks failed with status {rc}")
    return out
