"""Independent numpy reference for althan_ota.fleet.ids (the C kernels of csrc/idtext.c): the same
identifier rules written column-wise with numpy and pyarrow's Unicode trimming, no C.

* EUI-64: 16 hex digits, plain, 0x-prefixed, or in eight groups separated by '-', ':' or ' '.
* MPAN: the 13-digit core or the 21-digit supply number; the check digit is verified.
* MPRN: 6 to 10 digits. Firmware versions: 8 hex digits, optionally 0x-prefixed.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_HEX_VALUE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _HEX_VALUE[_c] = _HEX_VALUE[bytes([_c]).lower()[0]] = _i
_HEX_DIGITS = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)

# MPAN check digit weights (the first twelve primes from 3, skipping 11), per the MRA definition.
_MPAN_WEIGHTS = np.array([3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43], dtype=np.int64)


def _strings(values) -> pa.StringArray:
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, type=pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_large_string(arr.type) or not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    return arr


def text_matrix(values, widths: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bytes of each string whose trimmed length is one of ``widths``, right-aligned in an (n, max width)
    uint8 matrix, read straight from the Arrow buffers. Returns (matrix, length of each row, selected mask);
    rows of other lengths (and nulls) are zero and not selected."""
    arr = pc.utf8_trim_whitespace(_strings(values))
    n, width = len(arr), max(widths)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=n + 1, offset=arr.offset * 4)
    lengths = np.diff(offsets)
    chosen = np.isin(lengths, widths)
    if arr.null_count:
        chosen &= arr.is_valid().to_numpy(zero_copy_only=False)
    out = np.zeros((n, width), dtype=np.uint8)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] is not None else None
    for w in widths:
        rows = np.flatnonzero(chosen & (lengths == w))
        if len(rows):
            out[rows, width - w:] = data[offsets[rows][:, None] + np.arange(w)]
    return out, np.where(chosen, lengths, 0), chosen


def _hex_value(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, k) ASCII hex digits -> (uint64 values, all-hex mask)."""
    nibbles = _HEX_VALUE[digits]
    ok = (nibbles != 255).all(axis=1)
    value = np.zeros(len(digits), dtype=np.uint64)
    for column in range(digits.shape[1]):
        value = (value << np.uint64(4)) | nibbles[:, column].astype(np.uint64)
    value[~ok] = 0
    return value, ok


def parse_hex_ids(values, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Hex identifiers of ``width`` digits, optionally 0x-prefixed, either case; -> (uint64, valid mask)."""
    text, length, chosen = text_matrix(values, (width, width + 2))
    prefixed = length == width + 2
    prefix_ok = ~prefixed | ((text[:, 0] == ord("0")) & ((text[:, 1] | 0x20) == ord("x")))
    value, ok = _hex_value(text[:, -width:])
    valid = chosen & ok & prefix_ok
    value[~valid] = 0
    return value, valid


def parse_eui64(values) -> tuple[np.ndarray, np.ndarray]:
    """EUI-64 as 16 hex digits, plain, 0x-prefixed, or in eight groups separated by '-', ':' or ' '."""
    text, length, chosen = text_matrix(values, (16, 18, 23))
    value, valid = parse_hex_ids(values, 16)
    grouped = length == 23
    if grouped.any():
        g = text[grouped]
        seps = g[:, 2::3]
        same_sep = (seps == seps[:, :1]).all(axis=1) & np.isin(seps[:, 0], np.frombuffer(b"-: ", np.uint8))
        digits = np.delete(g, np.s_[2::3], axis=1)
        v, ok = _hex_value(digits)
        value[grouped] = np.where(ok & same_sep, v, 0)
        valid[grouped] = ok & same_sep
    return value, valid


def format_eui64(values: np.ndarray) -> pa.StringArray:
    """uint64 array -> canonical ``00-DB-12-34-56-78-90-A0`` strings."""
    octets = np.asarray(values, dtype=">u8").view(np.uint8).reshape(-1, 8)
    text = np.full((len(octets), 23), ord("-"), dtype=np.uint8)
    text[:, 0::3] = _HEX_DIGITS[octets >> 4]
    text[:, 1::3] = _HEX_DIGITS[octets & 0x0F]
    return pa.array(text.view("S23").ravel()).cast(pa.string())


def parse_firmware_version(values) -> tuple[np.ndarray, np.ndarray]:
    """'0x0102A0B3' / '0102A0B3' -> (uint32 values, valid mask)."""
    value, valid = parse_hex_ids(values, 8)
    return value.astype(np.uint32), valid


def format_firmware_version(values) -> pa.StringArray:
    words = np.asarray(values, dtype=">u4").view(np.uint8).reshape(-1, 4)
    text = np.empty((len(words), 10), dtype=np.uint8)
    text[:, 0], text[:, 1] = ord("0"), ord("x")
    text[:, 2::2] = _HEX_DIGITS[words >> 4]
    text[:, 3::2] = _HEX_DIGITS[words & 0x0F]
    return pa.array(text.view("S10").ravel()).cast(pa.string())


def mpan_check_digit(first_twelve: np.ndarray) -> np.ndarray:
    """Check digit for an (n, 12) array of MPAN core digits."""
    # column by column in int32: a 4M-row int64 copy and matmul of the whole matrix costs seconds
    total = np.zeros(len(first_twelve), dtype=np.int32)
    for column, weight in enumerate(_MPAN_WEIGHTS[:first_twelve.shape[1]]):
        total += first_twelve[:, column].astype(np.int32) * int(weight)
    return total % 11 % 10


def _all_digits(text: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Rows of a right-aligned text matrix whose ``length`` trailing bytes are all ASCII digits."""
    inside = np.arange(text.shape[1])[None, :] >= (text.shape[1] - length)[:, None]
    return ((text >= ord("0")) & (text <= ord("9")) | ~inside).all(axis=1)


def validate_mpan(values) -> tuple[pa.StringArray, np.ndarray, np.ndarray]:
    """Returns (13-digit cores or null, present mask, valid mask). Absent (null/empty) values are valid."""
    arr = pc.utf8_trim_whitespace(_strings(values))
    present = pc.fill_null(pc.greater(pc.utf8_length(arr), 0), False).to_numpy(zero_copy_only=False)
    text, length, chosen = text_matrix(arr, (13, 21))
    core = text[:, -13:]
    digits = core.astype(np.int64) - ord("0")
    checked = chosen & _all_digits(text, length) & (mpan_check_digit(digits[:, :12]) == digits[:, 12])
    cores = pa.array(np.ascontiguousarray(core).view("S13").ravel(), mask=~checked).cast(pa.string())
    return cores, present, checked | ~present


def validate_mprn(values) -> tuple[np.ndarray, np.ndarray]:
    """Returns (present mask, valid mask) for MPRNs of 6 to 10 digits; absent values are valid."""
    arr = pc.utf8_trim_whitespace(_strings(values))
    present = pc.fill_null(pc.greater(pc.utf8_length(arr), 0), False).to_numpy(zero_copy_only=False)
    text, length, chosen = text_matrix(arr, tuple(range(6, 11)))
    return present, (chosen & _all_digits(text, length)) | ~present
