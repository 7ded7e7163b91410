# How the native modules take the caller's memory, the one way for each kind:
#  * bytes-like inputs (data, keys, nonces, images): take(), which reads a bytes object in place (the common
#    case, and the cheapest) and any other C-contiguous buffer through the buffer protocol, held until
#    release(); str, non-buffers and non-contiguous buffers get a clear error;
#  * numpy columns the Python layer has shaped (emulator inputs and outputs): array_data(), which checks
#    dtype, length, contiguity and writeability and returns the data pointer.

from cpython.buffer cimport Py_buffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t

cdef enum:
    MAX_HELD = 6
    # Below this many bytes a call into the core is shorter than releasing and re-taking the GIL; longer
    # single-buffer calls release it, so other threads run meanwhile (batch calls always release it).
    RELEASE_GIL_FROM = 4096

# Buffers taken by one call; set count to 0 before the first take(), call release() in a finally.
cdef struct Held:
    int count
    Py_buffer views[MAX_HELD]

cdef const uint8_t *take_buffer(Held *held, object obj, Py_ssize_t *size, str what) except NULL
cdef void release(Held *held) noexcept
cdef void *array_data(object arr, str dtype, Py_ssize_t n, str what, bint writeable) except? NULL


# A one-buffer kernel with a fixed-size result: SHA-256, AES-MMO.
ctypedef int (*digest_fn)(const uint8_t *data, size_t len, uint8_t *out) noexcept nogil


cdef inline int digest_of(digest_fn fn, const uint8_t *data, Py_ssize_t n, uint8_t *out) noexcept:
    """fn over data, without the GIL from RELEASE_GIL_FROM bytes on; fn's status."""
    if n < RELEASE_GIL_FROM:
        return fn(data, n, out)
    with nogil:
        return fn(data, n, out)


cdef inline const uint8_t *take(Held *held, object obj, Py_ssize_t *size, str what) except NULL:
    """The bytes of obj (never NULL, even when empty) and their number in size."""
    if type(obj) is bytes:
        size[0] = PyBytes_GET_SIZE(obj)
        return <const uint8_t *>PyBytes_AS_STRING(obj)
    return take_buffer(held, obj, size, what)
