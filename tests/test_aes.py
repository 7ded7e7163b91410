"""AES-128 forward cipher (family "aes") on every CPU tier, against FIPS-197 and OpenSSL via cryptography."""

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings, strategies as st

from althan_ota import _backend
from althan_ota.errors import ParameterError

aes = _backend.native("aes")


def openssl_ecb(key: bytes, data: bytes) -> bytes:
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(data)


def test_tiers_portable_first_and_best_by_default():
    names = _backend.tiers()["aes"]
    assert names[0] == "portable"
    assert set(names) <= {"portable", "aes-ni", "vaes", "vaes-avx512"}


def test_fips197_appendix_c1(aes_tier):
    # FIPS-197 Appendix C.1, AES-128
    key = bytes(range(16))
    pt = bytes.fromhex("00112233445566778899aabbccddeeff")
    assert aes.ecb_encrypt(key, pt).hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


@settings(max_examples=60, deadline=None)
@given(key=st.binary(min_size=16, max_size=16), blocks=st.integers(0, 40), seed=st.binary(min_size=1))
def test_ecb_matches_openssl(aes_tier, key, blocks, seed):
    data = (seed * (16 * blocks // len(seed) + 1))[: 16 * blocks]
    assert aes.ecb_encrypt(key, data) == openssl_ecb(key, data)


def test_every_tier_agrees_on_long_input(aes_tier):
    key = bytes(range(100, 116))
    data = bytes(i * 7 & 0xFF for i in range(16 * 1000 + 16 * 15))   # not a multiple of the 16-block stride
    assert aes.ecb_encrypt(key, data) == openssl_ecb(key, data)


@pytest.mark.parametrize("key,data", [(bytes(15), bytes(16)), (bytes(17), bytes(16)), (bytes(16), bytes(15))])
def test_bad_lengths_are_clear_errors(key, data):
    with pytest.raises(ParameterError, match="16"):
        aes.ecb_encrypt(key, data)
