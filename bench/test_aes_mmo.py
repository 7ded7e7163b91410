"""AES-MMO (ZigBee image integrity code) against a pure-Python MMO on cryptography, same run and group."""

import os

import pytest

from althan_ota import _backend
from althan_ota.bench.aes_mmo import aes_mmo_python
from althan_ota.checksum import aes_mmo

DATA = os.urandom(64 * 1024)


@pytest.mark.parametrize("tier", _backend.native("aes").tier_names())
def test_aes_mmo_ours(benchmark, tier):
    aes = _backend.native("aes")
    before = aes.get_tier()
    aes.set_tier(tier)
    try:
        benchmark.group = "aes-mmo 64 KiB"
        digest = benchmark(aes_mmo, DATA)
    finally:
        aes.set_tier(before)
    assert digest == aes_mmo_python(DATA)


def test_aes_mmo_python_cryptography(benchmark):
    benchmark.group = "aes-mmo 64 KiB"
    benchmark(aes_mmo_python, DATA)
