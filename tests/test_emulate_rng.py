"""The emulator's counter-based generator is numpy's Philox4x64-10, word for word (csrc/rng.h layout)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from althan_ota._native import _emu

U64 = st.integers(0, 2**64 - 1)


@settings(max_examples=200, deadline=None)
@given(seed=U64, installation=U64, stream=U64, block=st.integers(1, 2**64 - 4), n=st.integers(0, 13))
def test_words_match_numpy_philox(seed, installation, stream, block, n):
    # (a stream is 2^64 blocks and never carries into the next stream, unlike numpy's 256-bit counter, so
    # the blocks drawn stay below 2^64)
    ours = _emu.philox_words(seed, installation, stream, block, n)
    # numpy increments its 256-bit counter before each block; pass the key as one int (a list of large
    # words would go through float64)
    ref = np.random.Philox(key=seed + (installation << 64), counter=(stream << 64) + block - 1).random_raw(n)
    assert np.array_equal(ours, np.asarray(ref, dtype=np.uint64))


def test_block_zero_wraps_like_numpy():
    # block 0 of stream s is numpy's counter (s << 64) - 1 incremented once
    ours = _emu.philox_words(5, 6, 7, 0, 8)
    ref = np.random.Philox(key=5 + (6 << 64), counter=(7 << 64) - 1).random_raw(8)
    assert np.array_equal(ours, ref)
