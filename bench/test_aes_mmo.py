"""AES-MMO (ZigBee image integrity code) against a pure-Python MMO on cryptography, same run and group."""

import os

from althan_ota.bench.aes_mmo import aes_mmo_python
from althan_ota.checksum import aes_mmo

DATA = os.urandom(64 * 1024)


def test_aes_mmo_ours(benchmark, aes_tier):
    benchmark.group = "aes-mmo 64 KiB"
    assert benchmark(aes_mmo, DATA) == aes_mmo_python(DATA)


def test_aes_mmo_python_cryptography(benchmark):
    benchmark.group = "aes-mmo 64 KiB"
    benchmark(aes_mmo_python, DATA)
