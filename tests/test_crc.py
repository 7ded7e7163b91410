"""The CRC family against the catalogue check values, published vectors and independent implementations
(zlib for CRC-32, the crc32c package for CRC-32C, a bit-at-a-time reference for all), on every CPU tier."""

from __future__ import annotations

import array
import functools
import threading
import zlib

import crc32c
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from althan_ota.checksum import CRC_ALGORITHMS, crc, crc_blocks
from althan_ota.errors import ParameterError
from crc_reference import CATALOGUE, reference_crc

WIDTH = {name: spec[0] for name, spec in CATALOGUE.items()}
algorithms = st.sampled_from(sorted(CATALOGUE))



def _random_bytes(length: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, length, dtype=np.uint8).tobytes()


# Lengths 0..4096: hypothesis's own byte strings favour short and patterned ones, so lengths drawn uniformly
# with random contents are mixed in.
up_to_4k = st.one_of(st.binary(max_size=4096),
                     st.builds(_random_bytes, st.integers(0, 4096), st.integers(0, 2**32 - 1)))
# ... at every alignment: a slice of a larger buffer starting at an offset within a cache line.
misaligned = st.tuples(up_to_4k, st.integers(0, 63))


def _slice_at(data: bytes, offset: int) -> memoryview:
    buf = bytearray(b"\xa5" * offset + data + b"\x5a" * 7)
    return memoryview(buf)[offset:offset + len(data)]


def test_catalogue_names():
    assert CRC_ALGORITHMS == tuple(CATALOGUE)


def test_each_alias_names_one_algorithm():
    from althan_ota._native._crc import ALIASES

    spellings = [a.upper().replace("_", "-") for name in CRC_ALGORITHMS for a in (name, *ALIASES[name])]
    assert len(spellings) == len(set(spellings))
    for name, aliases in ALIASES.items():
        for alias in aliases:
            assert crc(b"123456789", alias) == CATALOGUE[name][5], alias


def test_reference_matches_check_values():
    for name, spec in CATALOGUE.items():
        assert reference_crc(b"123456789", name) == spec[5], name


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_check_value(crc_tier, name):
    # CRC RevEng catalogue check values, also in VECTORS.md
    assert crc(b"123456789", name) == CATALOGUE[name][5]


def test_zigbee_install_code(crc_tier):
    # VECTORS.md: the install code 83FE...D505 carries the CRC-16/X-25 of its 16 bytes, little-endian: C3B5
    code = bytes.fromhex("83FED3407A939723A5C639B26916D505")
    value = crc(code, "CRC-16/IBM-SDLC")
    assert value == 0xB5C3
    assert value.to_bytes(2, "little") == bytes.fromhex("C3B5")
    assert crc(code, "X-25") == value


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_empty_input(crc_tier, name):
    assert crc(b"", name) == reference_crc(b"", name)
    assert crc(b"", name, init=0x1234) == 0x1234
    assert crc_blocks(b"", 64, name).shape == (0,)


@settings(max_examples=150, deadline=None)
@given(misaligned)
def test_crc32_matches_zlib(crc_tier, case):
    data, offset = case
    assert crc(_slice_at(data, offset), "CRC-32/ISO-HDLC") == zlib.crc32(data)


@settings(max_examples=150, deadline=None)
@given(misaligned)
def test_crc32c_matches_crc32c_package(crc_tier, case):
    data, offset = case
    assert crc(_slice_at(data, offset), "CRC-32/ISCSI") == crc32c.crc32c(data)


@settings(max_examples=40, deadline=None)
@given(algorithms, misaligned)
def test_matches_bitwise_reference(crc_tier, name, case):
    data, offset = case
    assert crc(_slice_at(data, offset), name) == reference_crc(data, name)


_BOUNDARY_DATA = np.random.default_rng(7).integers(0, 256, 4200, dtype=np.uint8).tobytes()
# lengths around the 16-, 128- and 256-byte strides of the folding loops and the 4 KiB GIL threshold
_BOUNDARY_LENGTHS = [*range(0, 300), *range(4080, 4112)]


@functools.lru_cache(maxsize=None)
def _boundary_reference(name: str) -> tuple[int, ...]:
    return tuple(reference_crc(_BOUNDARY_DATA[:n], name) for n in _BOUNDARY_LENGTHS)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_length_near_the_folding_boundaries(crc_tier, name):
    for n, want in zip(_BOUNDARY_LENGTHS, _boundary_reference(name)):
        assert crc(_BOUNDARY_DATA[:n], name) == want, n
        for offset in (1, 15):
            assert crc(_slice_at(_BOUNDARY_DATA[:n], offset), name) == want, (n, offset)


def test_large_buffer_matches_zlib(crc_tier):
    data = np.random.default_rng(1).integers(0, 256, (1 << 20) + 13, dtype=np.uint8)
    assert crc(data, "CRC-32") == zlib.crc32(data.tobytes())
    assert crc(data[5:], "CRC-32C") == crc32c.crc32c(data[5:].tobytes())


@settings(max_examples=100, deadline=None)
@given(algorithms, st.binary(max_size=2048), st.binary(max_size=2048))
def test_init_chains_across_calls(crc_tier, name, a, b):
    assert crc(a + b, name) == crc(b, name, init=crc(a, name))


@settings(max_examples=100, deadline=None)
@given(algorithms, st.binary(max_size=3000), st.integers(1, 300), st.integers(0, 31))
def test_blocks_match_one_call_per_block(crc_tier, name, data, block_size, offset):
    got = crc_blocks(_slice_at(data, offset), block_size, name)
    want = [crc(data[i:i + block_size], name) for i in range(0, len(data), block_size)]
    assert got.dtype == (np.uint16 if WIDTH[name] == 16 else np.uint32)
    assert got.tolist() == want


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_blocks_of_a_firmware_image(crc_tier, name):
    image = np.random.default_rng(3).integers(0, 256, 100_000 + 37, dtype=np.uint8).tobytes()
    for block_size in (40, 64, 256, 4096, 200_000):
        got = crc_blocks(image, block_size, name)
        want = [crc(image[i:i + block_size], name) for i in range(0, len(image), block_size)]
        assert got.tolist() == want, block_size
    assert crc_blocks(image, 64, name)[-1] == reference_crc(image[-(len(image) % 64):], name)


def test_any_buffer_without_copying_semantics():
    payload = bytes(range(256)) * 3
    want = zlib.crc32(payload)
    words = np.frombuffer(payload, dtype=np.uint32)
    for buf in (payload, bytearray(payload), memoryview(payload), np.frombuffer(payload, np.uint8), words,
                words.reshape(8, -1), array.array("I", words.tolist())):
        assert crc(buf, "CRC-32") == want, type(buf)
        assert crc_blocks(buf, 64, "CRC-32").tolist() == [zlib.crc32(payload[i:i + 64])
                                                          for i in range(0, len(payload), 64)]


def test_aliases_are_case_insensitive():
    data = b"123456789"
    assert crc(data, "crc-32") == crc(data, "CRC32") == crc(data, "CRC-32/ISO-HDLC") == 0xCBF43926
    assert crc(data, "crc-32c") == crc(data, "CRC-32/Castagnoli") == 0xE3069283
    assert crc(data, "kermit") == crc(data, "CRC-16/CCITT") == 0x2189
    assert crc(data, "x-25") == crc(data, "ibm_sdlc") == 0x906E
    assert crc(data, "xmodem") == 0x31C3 and crc(data, "en-13757") == 0xC2B7


def test_bad_input_is_a_clear_error():
    with pytest.raises(TypeError, match="not str"):
        crc("123456789", "CRC-32")
    with pytest.raises(TypeError, match="bytes-like"):
        crc(12345, "CRC-32")
    with pytest.raises(ParameterError, match="CRC-16/KERMIT.*CRC-32/ISCSI"):
        crc(b"x", "CRC-64/XZ")
    with pytest.raises(TypeError, match="CRC name"):
        crc(b"x", 3)
    with pytest.raises(ParameterError, match="contiguous"):
        crc(np.arange(100, dtype=np.uint8)[::2], "CRC-32")
    with pytest.raises(ParameterError, match="contiguous"):
        crc_blocks(memoryview(bytes(100))[::3], 16, "CRC-32")
    with pytest.raises(ParameterError, match="block_size"):
        crc_blocks(b"abc", 0, "CRC-32")
    with pytest.raises(ParameterError, match="16-bit"):
        crc(b"x", "CRC-16/KERMIT", init=0x10000)
    with pytest.raises(ParameterError, match="out of range"):
        crc(b"x", "CRC-32", init=-1)
    with pytest.raises(ParameterError, match="out of range"):
        crc(b"x", "CRC-32", init=1 << 32)
    with pytest.raises(TypeError, match="init"):
        crc(b"x", "CRC-32", init="0")


def test_threads_share_the_kernels(crc_tier):
    data = np.random.default_rng(5).integers(0, 256, 1 << 18, dtype=np.uint8)
    want = zlib.crc32(data.tobytes())
    results = []

    def work():
        results.extend(crc(data, "CRC-32") for _ in range(20))
        results.extend(int(crc_blocks(data, 64, "CRC-32")[3]) == zlib.crc32(data[192:256].tobytes())
                       for _ in range(5))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(want) == 80 and results.count(True) == 20
