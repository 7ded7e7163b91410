# cython: language_level=3
"""The slow half of taking the caller's memory (see _buffers.pxd)."""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from libc.stdint cimport uint8_t

import numpy as np

from ..errors import ParameterError

cdef const uint8_t NO_BYTES[1]


cdef const uint8_t *take_buffer(Held *held, object obj, Py_ssize_t *size, str what) except NULL:
    if held.count == MAX_HELD:
        raise RuntimeError(f"more than {MAX_HELD} buffers held by one call")   # a wrapper's bug, not the caller's
    if isinstance(obj, str):
        raise TypeError(f"{what} must be a bytes-like object (bytes, bytearray, memoryview, numpy array), not "
                        "str; encode it first")
    cdef Py_buffer *view = &held.views[held.count]
    try:
        PyObject_GetBuffer(obj, view, PyBUF_SIMPLE)
    except (TypeError, ValueError, BufferError):
        try:
            m = memoryview(obj)
        except TypeError:
            raise TypeError(f"{what} must be a bytes-like object (bytes, bytearray, memoryview, numpy array), "
                            f"not {type(obj).__name__}") from None
        if not m.c_contiguous:
            raise ParameterError(f"{what} must be a C-contiguous buffer; pass a contiguous copy "
                                 "(bytes(...) or numpy.ascontiguousarray(...))") from None
        PyObject_GetBuffer(m.cast("B"), view, PyBUF_SIMPLE)   # contiguous but multi-dimensional or typed
    held.count += 1
    size[0] = view.len
    return <const uint8_t *>view.buf if view.buf != NULL else NO_BYTES


cdef void release(Held *held) noexcept:
    while held.count > 0:
        held.count -= 1
        PyBuffer_Release(&held.views[held.count])


cdef void *array_data(object arr, str dtype, Py_ssize_t n, str what, bint writeable) except? NULL:
    if not isinstance(arr, np.ndarray) or arr.dtype.str[1:] != dtype or arr.shape != (n,) or \
            not arr.flags.c_contiguous or (writeable and not arr.flags.writeable):
        raise ParameterError(f"{what} must be a {'writeable ' if writeable else ''}contiguous {dtype} array of "
                             f"{n}, got {getattr(arr, 'dtype', type(arr).__name__)} {getattr(arr, 'shape', '')}")
    if n == 0:
        return NULL
    cdef const unsigned char[::1] raw = arr.view(np.uint8)
    return <void *>&raw[0]
