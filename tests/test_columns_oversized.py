"""fleet.columns.oversized reads value lengths from the Arrow offsets: the same mask as Arrow's own
binary_length, on sliced, chunked, empty and null-holding columns."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from althan_ota.fleet.columns import MAX_VALUE_BYTES, oversized


def _arrow_reference(values) -> np.ndarray:
    text = values if pa.types.is_string(values.type) else values.cast(pa.string())
    return pc.fill_null(pc.greater(pc.binary_length(text), MAX_VALUE_BYTES), False).to_numpy(zero_copy_only=False)


def _mixed(n: int = 3000) -> pa.Array:
    rng = np.random.default_rng(0)
    return pa.array([None if r < 0.1 else "x" * int(size)
                     for r, size in zip(rng.random(n), rng.integers(0, 2 * MAX_VALUE_BYTES, n))])


def _null_spanning_bytes() -> pa.Array:
    """A null slot whose offsets span 2,000 bytes (Arrow allows it): not oversized."""
    validity = np.packbits([1, 0], bitorder="little").tobytes()
    offsets = np.array([0, 5, 2005], np.int32).tobytes()
    return pa.Array.from_buffers(pa.string(), 2, [pa.py_buffer(validity), pa.py_buffer(offsets),
                                                  pa.py_buffer(b"a" * 2005)], null_count=1)


@pytest.mark.parametrize("values", [
    _mixed(), _mixed().slice(7, 1500),
    pa.chunked_array([_mixed().slice(0, 10), _mixed().slice(10, 0), _mixed().slice(10)]),
    pa.chunked_array([], pa.string()), pa.array([], pa.string()), pa.nulls(5, pa.string()),
    pa.array(["y" * (MAX_VALUE_BYTES + 1), None, "z" * MAX_VALUE_BYTES]), pa.array([1, 2, None]),
    _null_spanning_bytes(),
], ids=["mixed", "sliced", "chunked", "no-chunks", "empty", "all-null", "at-the-limit", "integers",
        "null-spanning-bytes"])
def test_oversized_matches_arrows_lengths(values):
    mask = oversized(values)
    assert mask.dtype == bool and len(mask) == len(values)
    assert (mask == _arrow_reference(values)).all()


def test_the_mixed_column_has_values_on_both_sides_of_the_limit():
    mask = oversized(_mixed())
    assert 0 < mask.sum() < len(mask)
