# cython: language_level=3, boundscheck=False, wraparound=False
"""Identifier text (csrc/idtext.h): EUI-64s, firmware versions, MPAN cores and digit strings parsed straight
from Arrow string arrays (chunk by chunk, no copy), and fixed-width formatting back to Arrow strings.

Each parse returns (values, state, counts): ``state`` per value is one of OK, ABSENT, MALFORMED, DEFER
(see idtext.h); counts has ``absent``, ``malformed``, ``deferred`` and ``noncanonical``.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t

import numpy as np
import pyarrow as pa

from ._status cimport check_rc
from .idtext cimport (ALT_ID_ABSENT, ALT_ID_DEFER, ALT_ID_MALFORMED, ALT_ID_OK, alt_id_check_digits, alt_id_counts,
                      alt_id_format_decimal, alt_id_format_eui64, alt_id_format_hex32, alt_id_parse_eui64,
                      alt_id_parse_hex32, alt_id_parse_mpan, alt_text_column, alt_text_scan, alt_text_scan_result)

from ..errors import ParameterError

OK, ABSENT, MALFORMED, DEFER = ALT_ID_OK, ALT_ID_ABSENT, ALT_ID_MALFORMED, ALT_ID_DEFER
EUI64_WIDTH, HEX32_WIDTH = 23, 10

cdef enum Kind:
    KIND_EUI64, KIND_HEX32, KIND_MPAN, KIND_DIGITS, KIND_DECIMAL


def _chunks(values):
    """The string chunks of an Arrow array / chunked array (large strings and other types cast to string)."""
    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(values, type=pa.string())
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    return values.chunks if isinstance(values, pa.ChunkedArray) else [values]


cdef void _column(object chunk, alt_text_column *col):
    buffers = chunk.buffers()
    cdef size_t offset = chunk.offset
    col.n = len(chunk)
    col.validity = NULL
    col.offsets = NULL
    col.data = NULL
    col.validity_offset = offset
    if buffers[0] is not None and chunk.null_count:
        col.validity = <const uint8_t *><size_t>buffers[0].address
    if buffers[1] is not None:
        col.offsets = (<const int32_t *><size_t>buffers[1].address) + offset
    if buffers[2] is not None:
        col.data = <const uint8_t *><size_t>buffers[2].address


cdef object _parse(object values, Kind kind, unsigned min_len=0, unsigned max_len=0):
    chunks = _chunks(values)
    total = sum(len(c) for c in chunks)
    out = None
    if kind == KIND_HEX32:
        out = np.zeros(total, dtype=np.uint32)
    elif kind != KIND_DIGITS:
        out = np.zeros(total, dtype=np.uint64)
    state = np.zeros(total, dtype=np.uint8)
    cdef uint8_t[::1] state_view = state
    cdef uint64_t[::1] u64
    cdef uint32_t[::1] u32
    if kind == KIND_HEX32:
        u32 = out
    elif kind != KIND_DIGITS:
        u64 = out
    cdef alt_text_column col
    cdef alt_id_counts c, sums
    sums.absent = sums.malformed = sums.deferred = sums.noncanonical = 0
    cdef size_t at = 0
    cdef int rc = 0
    for chunk in chunks:
        _column(chunk, &col)
        if col.n == 0:
            continue
        if col.offsets == NULL:
            raise ParameterError("an Arrow string array without an offsets buffer")
        with nogil:
            if kind == KIND_EUI64:
                rc = alt_id_parse_eui64(&col, &u64[at], &state_view[at], &c)
            elif kind == KIND_HEX32:
                rc = alt_id_parse_hex32(&col, &u32[at], &state_view[at], &c)
            elif kind == KIND_MPAN:
                rc = alt_id_parse_mpan(&col, &u64[at], &state_view[at], &c)
            else:
                rc = alt_id_check_digits(&col, min_len, max_len, &state_view[at], &c)
        check_rc(rc, "identifier parse")
        sums.absent += c.absent
        sums.malformed += c.malformed
        sums.deferred += c.deferred
        sums.noncanonical += c.noncanonical
        at += col.n
    counts = {"absent": sums.absent, "malformed": sums.malformed, "deferred": sums.deferred,
              "noncanonical": sums.noncanonical}
    return out, state, counts


def parse_eui64(values):
    return _parse(values, KIND_EUI64)


def parse_hex32(values):
    return _parse(values, KIND_HEX32)


def parse_mpan(values):
    return _parse(values, KIND_MPAN)


def check_digits(values, unsigned min_len, unsigned max_len):
    if min_len == 0 or min_len > max_len:
        raise ParameterError(f"digit lengths must be 1 <= min_len <= max_len, got {min_len}..{max_len}")
    _, state, counts = _parse(values, KIND_DIGITS, min_len, max_len)
    return state, counts


def text_scan(values):
    """{"present", "edges", "empty"}: present values, those whose first or last byte trimming might remove,
    and empty ones."""
    cdef alt_text_column col
    cdef alt_text_scan_result r
    cdef int rc
    present = edges = empty = 0
    for chunk in _chunks(values):
        _column(chunk, &col)
        if col.n == 0:
            continue
        with nogil:
            rc = alt_text_scan(&col, &r)
        check_rc(rc, "text scan")
        present += r.present
        edges += r.edges
        empty += r.empty
    return {"present": present, "edges": edges, "empty": empty}


# Arrow string arrays hold at most 2 GiB of text (int32 offsets): longer results are chunked.
cdef size_t MAX_CHUNK_BYTES = 1 << 30


def _strings(data, size_t n, size_t width, valid):
    """Fixed-width text ``data`` (n * width bytes) as a string array (chunked when large), nulls where
    ``valid`` is False."""
    rows_per_chunk = max(1, MAX_CHUNK_BYTES // max(width, 1))
    chunks = []
    for start in range(0, max(n, 1), rows_per_chunk):
        stop = min(n, start + rows_per_chunk)
        count = stop - start
        offsets = np.arange(0, (count + 1) * width, width, dtype=np.int32)
        validity, nulls = None, 0
        if valid is not None:
            part = np.asarray(valid[start:stop], dtype=bool)
            nulls = int(count - np.count_nonzero(part))
            if nulls:
                validity = pa.py_buffer(np.packbits(part, bitorder="little"))
        text = pa.py_buffer(data[start * width:stop * width])
        chunks.append(pa.StringArray.from_buffers(count, pa.py_buffer(offsets), text, validity, nulls))
    return chunks[0] if len(chunks) == 1 else pa.chunked_array(chunks, pa.string())


cdef object _format(object values, Kind kind, unsigned width, object valid):
    cdef const uint64_t[::1] v64
    cdef const uint32_t[::1] v32
    cdef size_t n
    if kind == KIND_HEX32:
        v32 = np.ascontiguousarray(values, dtype=np.uint32)
        n = v32.shape[0]
    else:
        v64 = np.ascontiguousarray(values, dtype=np.uint64)
        n = v64.shape[0]
    data = np.empty(n * width, dtype=np.uint8)
    cdef uint8_t[::1] out = data
    cdef int rc = 0
    if n:
        with nogil:
            if kind == KIND_EUI64:
                rc = alt_id_format_eui64(&v64[0], n, &out[0])
            elif kind == KIND_HEX32:
                rc = alt_id_format_hex32(&v32[0], n, &out[0])
            else:
                rc = alt_id_format_decimal(&v64[0], n, width, &out[0])
        check_rc(rc, "identifier formatting")
    return _strings(data, n, width, valid)


def format_eui64(values, valid=None):
    """uint64 values -> canonical "00-DB-12-34-56-78-90-A0" strings (null where ``valid`` is False)."""
    return _format(values, KIND_EUI64, EUI64_WIDTH, valid)


def format_hex32(values, valid=None):
    """uint32 values -> "0x0102A0B3" strings (null where ``valid`` is False)."""
    return _format(values, KIND_HEX32, HEX32_WIDTH, valid)


def format_decimal(values, unsigned width, valid=None):
    """Non-negative integers -> zero-padded decimal strings of ``width`` digits (null where not ``valid``)."""
    if width == 0 or width > 20:
        raise ParameterError(f"a decimal width is 1..20 digits, got {width}")
    return _format(values, KIND_DECIMAL, width, valid)
