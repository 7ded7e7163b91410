"""Column-wise text clean-up shared by every reader of inventory-shaped files (the fleet importer, the report
listings): trimming with empty values as null, and free spellings mapped to canonical codes. Both look at
the data first and return the input untouched when it is already clean, which is the common case for
millions of rows written by a system.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import ids
from .schema import normalise_key


def text_values(values):
    """Trimmed text (Unicode white space), empty values null; the input itself when nothing changes."""
    text = values if pa.types.is_string(values.type) else values.cast(pa.string())
    scan = ids.text_scan(text)
    if scan["edges"]:
        text = pc.utf8_trim_whitespace(text)
        if not pc.any(pc.equal(text, "")).as_py():
            return text
    elif not scan["empty"]:
        return text
    return pc.if_else(pc.equal(text, ""), pa.nulls(len(text), pa.string()), text)


def lookup(values, mapping: dict[str, str], order=None) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Free spellings -> canonical values, normalising only the distinct values; (canonical text, present
    mask, int32 index of each value in ``order`` (default: the canonical values sorted), -1 where absent or
    unknown)."""
    text = text_values(values)
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    canonical = pa.array(list(order) if order is not None else sorted(set(mapping.values())), pa.string())
    codes = pc.fill_null(pc.index_in(text, value_set=canonical), -1).to_numpy()
    if (codes[present] >= 0).all():
        return text, present, codes       # already canonical: nothing to map
    encoded = pc.dictionary_encode(text)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks() if encoded.num_chunks else pa.array(
            [], pa.dictionary(pa.int32(), pa.string()))
    mapped = pc.take(pa.array([mapping.get(normalise_key(v)) for v in encoded.dictionary.to_pylist()],
                              pa.string()), encoded.indices)
    return mapped, present, pc.fill_null(pc.index_in(mapped, value_set=canonical), -1).to_numpy()


# No inventory value comes near this: identifiers are tens of bytes, names and building references a few dozen.
MAX_VALUE_BYTES = 1024
# C0 control characters and DEL, except the tab and line breaks a spreadsheet cell may hold (an address)
_CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def oversized(values) -> np.ndarray:
    """Values longer than MAX_VALUE_BYTES (a mask; null is not). The lengths are read from the offsets of
    each chunk's values (one numpy pass per chunk where computing them as an Arrow array took four)."""
    text = values if pa.types.is_string(values.type) else values.cast(pa.string())
    masks = []
    for chunk in (text.chunks if isinstance(text, pa.ChunkedArray) else [text]):
        offsets = chunk.buffers()[1]
        if offsets is None or not len(chunk):
            masks.append(np.zeros(len(chunk), bool))
            continue
        ends = np.frombuffer(offsets, dtype=np.int32, count=len(chunk) + 1, offset=chunk.offset * 4)
        mask = np.diff(ends) > MAX_VALUE_BYTES
        if chunk.null_count and mask.any():     # a null slot's offsets may span bytes: it is not oversized
            mask &= chunk.is_valid().to_numpy(zero_copy_only=False)
        masks.append(mask)
    return np.concatenate(masks) if masks else np.zeros(0, bool)


def shortened(values, mask: np.ndarray, keep: int = 40):
    """The values with those under ``mask`` cut to their first ``keep`` characters and an ellipsis, so that
    later messages quote them without carrying megabytes along."""
    text = values if pa.types.is_string(values.type) else values.cast(pa.string())
    cut = pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, keep), "…", "")
    return pc.if_else(pa.array(mask), cut, text)


def control_characters(values) -> np.ndarray:
    """Values holding a control character other than tab and line breaks (a NUL byte, an escape, ...). Only
    the values that are not plain printable ASCII are searched."""
    text = values if pa.types.is_string(values.type) else values.cast(pa.string())
    plain = pc.fill_null(pc.ascii_is_printable(text), True).to_numpy(zero_copy_only=False)
    mask = np.zeros(len(text), bool)
    if plain.all():
        return mask
    rows = np.flatnonzero(~plain)
    found = pc.match_substring_regex(pc.take(text, pa.array(rows)), _CONTROL)
    mask[rows] = pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    return mask


def first_control_character(value: str) -> tuple[int, str]:
    """(1-based position, U+XXXX name) of the first control character of ``value``."""
    import re

    match = re.search(_CONTROL, value)
    char = match.group()
    return match.start() + 1, f"U+{ord(char):04X}" + (" (NUL)" if char == "\x00" else "")
