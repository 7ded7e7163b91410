"""SHA-256 against FIPS 180-4 examples and hashlib (OpenSSL), on every CPU tier."""

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from althan_ota.checksum import sha256, sha256_blocks
from althan_ota.errors import ParameterError

# FIPS 180-4 / NIST CSRC "Examples with intermediate values" for SHA-256.
FIPS_VECTORS = [
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    (b"a" * 1_000_000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
]

# Where the padding needs one block or two: the 0x80 byte and the 8-byte length just fit, or do not.
PADDING_EDGES = [55, 56, 63, 64, 119, 120]


def expected_blocks(data: bytes, block_size: int) -> np.ndarray:
    rows = [hashlib.sha256(data[i:i + block_size]).digest() for i in range(0, len(data), block_size)]
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, 32)


@pytest.mark.parametrize("message,digest", FIPS_VECTORS)
def test_fips_vectors(sha256_tier, message, digest):
    assert sha256(message).hex() == digest
    assert sha256(bytearray(message)).hex() == digest
    assert sha256_blocks(message, max(len(message), 1)).tobytes().hex() == (digest if message else "")


@pytest.mark.parametrize("length", PADDING_EDGES)
def test_padding_edges(sha256_tier, length):
    data = bytes(range(256)) * 2
    for size in (length - 1, length, length + 1):
        assert sha256(data[:size]) == hashlib.sha256(data[:size]).digest()
    # Many blocks of exactly this length exercise the paired kernel, then one short block the single one.
    image = data * 3
    np.testing.assert_array_equal(sha256_blocks(image, length), expected_blocks(image, length))


@settings(max_examples=150, deadline=None)
@given(data=st.binary(min_size=0, max_size=4096 + 64), offset=st.integers(0, 63))
def test_matches_hashlib_any_length_and_alignment(sha256_tier, data, offset):
    message = np.frombuffer(data, dtype=np.uint8)[offset:] if offset < len(data) else b""
    assert sha256(message) == hashlib.sha256(bytes(message)).digest()
    assert sha256(memoryview(data)[offset:]) == hashlib.sha256(data[offset:]).digest()


@settings(max_examples=150, deadline=None)
@given(data=st.binary(min_size=0, max_size=2048), block_size=st.integers(1, 300), offset=st.integers(0, 15))
def test_blocks_match_hashlib(sha256_tier, data, block_size, offset):
    view = memoryview(data)[offset:]
    got = sha256_blocks(view, block_size)
    assert got.dtype == np.uint8 and got.shape == (-(-len(view) // block_size), 32)
    np.testing.assert_array_equal(got, expected_blocks(bytes(view), block_size))


@settings(max_examples=50, deadline=None)
@given(data=st.binary(min_size=1, max_size=1000), extra=st.integers(0, 10**12))
def test_block_larger_than_data_is_one_digest(sha256_tier, data, extra):
    got = sha256_blocks(data, len(data) + extra)
    assert got.shape == (1, 32)
    assert got.tobytes() == hashlib.sha256(data).digest()


def test_whole_blocks_of_a_large_image(sha256_tier):
    image = np.random.default_rng(7).integers(0, 256, 1 << 20, dtype=np.uint8)
    for size in (64, 4096, 1 << 19):
        np.testing.assert_array_equal(sha256_blocks(image, size), expected_blocks(image.tobytes(), size))


def test_threads_hash_concurrently(sha256_tier):
    # Large inputs run without the GIL; results must not depend on what other threads are doing.
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(11)
    images = [rng.integers(0, 256, 300_000 + i, dtype=np.uint8).tobytes() for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        digests = list(pool.map(sha256, images))
        blocks = list(pool.map(lambda im: sha256_blocks(im, 4096), images))
    for image, digest, per_block in zip(images, digests, blocks):
        assert digest == hashlib.sha256(image).digest()
        np.testing.assert_array_equal(per_block, expected_blocks(image, 4096))


def test_accepts_any_contiguous_buffer():
    words = np.arange(100, dtype=np.uint32)
    assert sha256(words) == hashlib.sha256(words.tobytes()).digest()
    assert sha256(words.reshape(10, 10)) == hashlib.sha256(words.tobytes()).digest()
    np.testing.assert_array_equal(sha256_blocks(words, 64), expected_blocks(words.tobytes(), 64))


def test_empty_data_has_no_blocks():
    got = sha256_blocks(b"", 64)
    assert got.shape == (0, 32) and got.dtype == np.uint8


def test_bad_input_is_a_clear_error():
    with pytest.raises(TypeError, match="not str"):
        sha256("abc")
    with pytest.raises(TypeError, match="not str"):
        sha256_blocks("abc", 4)
    with pytest.raises(TypeError, match="bytes-like"):
        sha256(123)
    with pytest.raises(ParameterError, match="contiguous"):
        sha256(np.arange(10, dtype=np.uint8)[::2])
    with pytest.raises(ParameterError, match="contiguous"):
        sha256_blocks(memoryview(b"abcdef")[::2], 1)
    for size in (0, -1):
        with pytest.raises(ParameterError, match="at least 1"):
            sha256_blocks(b"abc", size)
    for size in (2.0, "2", True, None):
        with pytest.raises(TypeError, match="block_size"):
            sha256_blocks(b"abc", size)


def test_environment_forces_the_portable_tier():
    import os
    import subprocess
    import sys

    code = ("from althan_ota.checksum import sha256; import althan_ota; "
            "print(althan_ota.backend()['sha256'], sha256(b'abc').hex())")
    env = dict(os.environ, ALTHAN_OTA_BACKEND="sha256=portable")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["portable", FIPS_VECTORS[0][1]]
