"""Block CRCs over a 1 MiB image in 64-byte OTA blocks: ``image.chunk`` (C kernel, best CRC tier) against a
Python loop of zlib.crc32 over memoryview slices, in one benchmark group."""

import random

import pytest

from althan_ota.bench.image import BLOCK_SIZE, IMAGE_SIZE, zlib_block_crcs
from althan_ota.image import chunk

DATA = random.Random(0).randbytes(IMAGE_SIZE)


@pytest.mark.benchmark(group="image-chunk-crc32-1MiB-64B")
def test_chunk_with_crc_blocks(benchmark):
    chunks = benchmark(chunk, DATA, BLOCK_SIZE)
    assert [int(c) for c in chunks.crcs] == zlib_block_crcs(memoryview(DATA), BLOCK_SIZE)


@pytest.mark.benchmark(group="image-chunk-crc32-1MiB-64B")
def test_peer_zlib_loop(benchmark):
    crcs = benchmark(zlib_block_crcs, memoryview(DATA), BLOCK_SIZE)
    assert len(crcs) == IMAGE_SIZE // BLOCK_SIZE
