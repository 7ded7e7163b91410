"""Transfer blocks with a CRC each (checked against zlib), and reassembly from blocks in any order."""

import hashlib
import random
import zlib

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings, strategies as st

from althan_ota.errors import ImageFormatError, ParameterError
from althan_ota.image import build_gbcs, chunk, parse, reassemble

DATA = bytes(random.Random(3).randbytes(10_000))


@pytest.mark.parametrize("block_size", [1, 7, 64, 9999, 10_000, 20_000])
def test_blocks_cover_the_image_with_zlib_crcs(block_size, crc_tier):
    chunks = chunk(DATA, block_size)
    assert len(chunks) == -(-len(DATA) // block_size)
    assert chunks.offsets[0] == 0 and int(chunks.lengths.sum()) == len(DATA)
    assert np.all(chunks.lengths[:-1] == block_size)
    assert b"".join(bytes(b) for _, b in chunks) == DATA
    assert [int(c) for c in chunks.crcs] == [zlib.crc32(bytes(b)) for _, b in chunks]


@pytest.mark.parametrize("algorithm", ["CRC-32/ISCSI", "CRC-16/KERMIT", "CRC-16/IBM-SDLC"])
def test_other_catalogue_crcs(algorithm, crc_tier):
    import crc32c

    chunks = chunk(DATA, 64, algorithm)
    if algorithm == "CRC-32/ISCSI":
        expected = [crc32c.crc32c(bytes(b)) for _, b in chunks]
    else:
        expected = [_bitwise_crc16(bytes(b), algorithm) for _, b in chunks]
    assert chunks.crcs.dtype == (np.uint32 if algorithm.startswith("CRC-32") else np.uint16)
    assert [int(c) for c in chunks.crcs] == expected


def _bitwise_crc16(data: bytes, algorithm: str) -> int:
    # reflected CRC-16/CCITT (poly 0x1021 reflected = 0x8408); KERMIT: init 0, xorout 0; X-25: 0xFFFF, 0xFFFF
    init, xorout = {"CRC-16/KERMIT": (0, 0), "CRC-16/IBM-SDLC": (0xFFFF, 0xFFFF)}[algorithm]
    crc = init
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ xorout


def test_bitwise_reference_matches_the_published_checks():
    assert _bitwise_crc16(b"123456789", "CRC-16/KERMIT") == 0x2189
    assert _bitwise_crc16(b"123456789", "CRC-16/IBM-SDLC") == 0x906E


def test_blocks_are_views_not_copies():
    buffer = bytearray(DATA)
    chunks = chunk(buffer, 64)
    assert chunks.data.obj is buffer and chunks.data.readonly
    buffer[0] ^= 0xFF
    assert chunks.block(0)[0] == buffer[0]


def test_empty_and_bad_arguments():
    assert len(chunk(b"", 64)) == 0
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ParameterError):
            chunk(DATA, bad)
    with pytest.raises(ParameterError):
        chunk("text", 64)
    with pytest.raises(ParameterError):
        chunk(DATA, 64, "CRC-7/NOT-A-CRC")


def test_reassembly_in_any_order_with_duplicates():
    expected = hashlib.sha256(DATA).digest()
    r = reassemble(len(DATA), expected)
    blocks = list(chunk(DATA, 50))
    order = blocks + blocks[::3]
    random.Random(1).shuffle(order)
    for offset, block in order[: len(order) // 2]:
        r.add(offset, block)
    assert not r.complete and r.missing()
    for offset, block in order[len(order) // 2:]:
        r.add(offset, block)
    assert r.complete and r.missing() == [] and r.finish() == DATA


def test_missing_ranges_and_incomplete_finish():
    r = reassemble(100)
    assert r.add(10, b"x" * 10) == 10
    assert r.add(15, b"x" * 10) == 5          # overlapping, consistent
    assert r.add(50, b"y" * 50) == 50
    assert r.add(10, b"x" * 15) == 0          # duplicate
    assert r.missing() == [(0, 10), (25, 50)]
    with pytest.raises(ImageFormatError, match=r"35 of 100 bytes missing in 2 ranges \(0-10, 25-50\)"):
        r.finish()


def test_conflicting_overlap_and_out_of_range_blocks():
    r = reassemble(100)
    r.add(0, b"a" * 20)
    with pytest.raises(ImageFormatError, match="block at offset 10 conflicts .* byte 19 was 0x61, the block "
                                               "says 0x62"):
        r.add(10, b"a" * 9 + b"b")
    assert r.missing() == [(20, 100)]   # the refused block left nothing behind
    with pytest.raises(ImageFormatError, match="run past the image size 100"):
        r.add(90, b"z" * 11)


def test_hash_mismatch():
    r = reassemble(len(DATA), hashlib.sha256(b"other").digest())
    r.add(0, DATA)
    with pytest.raises(ImageFormatError, match="reassembled image hash .* differs"):
        r.finish()


def test_gb_images_check_the_manufacturer_image_hash():
    key = ec.derive_private_key(5, ec.SECP256R1())
    data = build_gbcs(DATA, private_key=key, manufacturer_code=1, image_type=2, file_version=3,
                      min_hardware_version=0, max_hardware_version=9)
    r = reassemble(len(data), hashlib.sha256(DATA).digest(), hash_of="manufacturer_image")
    for offset, block in chunk(data, 64):
        r.add(offset, block)
    assert parse(r.finish()).verify_signature(key.public_key())


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=400), st.integers(1, 64), st.randoms(use_true_random=False))
def test_random_reassembly(data, block_size, rng):
    blocks = list(chunk(data, block_size))
    rng.shuffle(blocks)
    r = reassemble(len(data), hashlib.sha256(data).digest())
    received = set()
    for offset, block in blocks:
        assert r.add(offset, block) == len(block)
        received.update(range(offset, offset + len(block)))
        gaps = {i for start, end in r.missing() for i in range(start, end)}
        assert gaps == set(range(len(data))) - received
    assert r.finish() == data


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 120), st.lists(st.tuples(st.integers(0, 130), st.binary(max_size=40)), max_size=20))
def test_reassembly_matches_a_byte_by_byte_model(total_size, blocks):
    r = reassemble(total_size)
    stored: dict[int, int] = {}
    for offset, data in blocks:
        if offset + len(data) > total_size:
            with pytest.raises(ImageFormatError, match="run past"):
                r.add(offset, data)
            continue
        conflict = any(stored.get(offset + i, b) != b for i, b in enumerate(data))
        if conflict:
            with pytest.raises(ImageFormatError, match="conflicts"):
                r.add(offset, data)
            continue
        fresh = sum(1 for i in range(len(data)) if offset + i not in stored)
        assert r.add(offset, data) == fresh
        stored.update((offset + i, b) for i, b in enumerate(data))
        assert r.received == len(stored)
    gaps = {i for start, end in r.missing() for i in range(start, end)}
    assert gaps == set(range(total_size)) - stored.keys()
    if not gaps:
        assert r.finish() == bytes(stored[i] for i in range(total_size))
