"""pytest-benchmark: SHA-256 of a 1 MiB image, ours on every CPU tier against hashlib in the same group.

Run with ``python -m pytest bench/test_sha256.py --benchmark-enable``.
"""

import hashlib

import numpy as np
import pytest

from althan_ota import _backend
from althan_ota.bench.sha256 import BLOCK_SIZE, IMAGE_SIZE, hashlib_per_block

mod = _backend.native("sha256")


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(2024).integers(0, 256, IMAGE_SIZE, dtype=np.uint8).tobytes()


@pytest.mark.benchmark(group="sha256 per 64-byte block, 1 MiB")
def test_blocks_althan(benchmark, image, sha256_tier):
    digests = benchmark(mod.sha256_blocks, image, BLOCK_SIZE)
    assert digests[-1].tobytes() == hashlib.sha256(image[-BLOCK_SIZE:]).digest()


@pytest.mark.benchmark(group="sha256 per 64-byte block, 1 MiB")
def test_blocks_hashlib_loop(benchmark, image):
    digests = benchmark(hashlib_per_block, image, BLOCK_SIZE)
    assert len(digests) == IMAGE_SIZE // BLOCK_SIZE


@pytest.mark.benchmark(group="sha256 one-shot, 1 MiB")
def test_oneshot_althan(benchmark, image, sha256_tier):
    assert benchmark(mod.sha256, image) == hashlib.sha256(image).digest()


@pytest.mark.benchmark(group="sha256 one-shot, 1 MiB")
def test_oneshot_hashlib(benchmark, image):
    benchmark(lambda: hashlib.sha256(image).digest())
