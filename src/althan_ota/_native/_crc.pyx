# cython: language_level=3, boundscheck=False, wraparound=False
"""The CRC family (csrc/crc.h): one CRC over a buffer, or one per block of a firmware image.

Algorithms are named as in the CRC RevEng catalogue, or by a common alias. Buffers are read in place through
the buffer protocol, and the GIL is released for long ones and for every batch.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
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


#: The supported algorithms, by their CRC RevEng catalogue names, in the C enum's order.
CRC_ALGORITHMS = tuple(m["name"] for m in models())

# Aliases from the RevEng catalogue, plus the short names people use; all matched case-insensitively with
# "_" read as "-". Bare suffixes are accepted only where they are unambiguous (ISO-HDLC is not).
ALIASES = {
    "CRC-16/KERMIT": ("KERMIT", "CRC-16/CCITT", "CRC-16/CCITT-TRUE", "CRC-16/V-41-LSB", "CRC-CCITT"),
    "CRC-16/EN-13757": ("EN-13757",),
    "CRC-16/IBM-SDLC": ("IBM-SDLC", "X-25", "X25", "CRC-16/X-25", "CRC-16/ISO-HDLC", "CRC-16/ISO-IEC-14443-3-B",
                        "CRC-B"),
    "CRC-16/XMODEM": ("XMODEM", "ZMODEM", "CRC-16/ACORN", "CRC-16/LTE", "CRC-16/V-41-MSB"),
    "CRC-32/ISO-HDLC": ("CRC-32", "CRC32", "CRC-32/ADCCP", "CRC-32/V-42", "CRC-32/XZ", "PKZIP"),
    "CRC-32/ISCSI": ("ISCSI", "CRC-32C", "CRC32C", "CRC-32/BASE91-C", "CRC-32/CASTAGNOLI", "CRC-32/INTERLAKEN"),
}


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


cdef int _get_bytes(object data, Py_buffer *buf) except -1:
    """Borrow the bytes of any C-contiguous buffer (release with PyBuffer_Release), without copying."""
    if isinstance(data, str):
        raise TypeError("data must be a bytes-like object (bytes, bytearray, memoryview, numpy array), "
                        "not str; encode it first")
    try:
        PyObject_GetBuffer(data, buf, PyBUF_SIMPLE)
        return 0
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
    PyObject_GetBuffer(m.cast("B"), buf, PyBUF_SIMPLE)
    return 0


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
    cdef Py_buffer buf
    _get_bytes(data, &buf)
    cdef const uint8_t *p = <const uint8_t *>buf.buf
    cdef size_t n = <size_t>buf.len
    cdef int rc
    try:
        if n > NOGIL_BYTES:
            with nogil:
                rc = alt_crc_compute(index, p, n, &c)
        else:
            rc = alt_crc_compute(index, p, n, &c)
    finally:
        PyBuffer_Release(&buf)
    if rc != ALT_OK:
        raise ParameterError(f"alt_crc_compute failed with status {rc}")
    return c


def crc_blocks(data, Py_ssize_t block_size, algorithm):
    """One CRC per block_size bytes of data (the last block may be short), computed in one call without the
    GIL; a uint16 array for 16-bit CRCs, uint32 for 32-bit ones."""
    cdef int index = _algorithm(algorithm)
    cdef const alt_crc_model *m = alt_crc_model_get(index)
    if block_size < 1:
        raise ParameterError(f"block_size must be at least 1, not {block_size}")
    cdef Py_buffer buf
    _get_bytes(data, &buf)
    cdef size_t n = <size_t>buf.len
    cdef size_t count = (n + <size_t>block_size - 1) // <size_t>block_size
    cdef unsigned char[::1] out_bytes
    cdef int rc
    try:
        out = np.empty(count, dtype=np.uint16 if m.width == 16 else np.uint32)
        out_bytes = out.view(np.uint8)
        with nogil:
            rc = alt_crc_blocks(index, <const uint8_t *>buf.buf, n, <size_t>block_size,
                                <void *>&out_bytes[0] if count else NULL, count)
    finally:
        PyBuffer_Release(&buf)
    if rc != ALT_OK:
        raise ParameterError(f"alt_crc_blocks failed with status {rc}")
    return out
