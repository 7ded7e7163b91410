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
