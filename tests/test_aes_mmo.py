"""ZigBee AES-MMO (spec 05-3474 Annex B.6; vectors from Annex C.5 and the install-code examples, see
/work/shared/VECTORS.md) on every AES tier, and differentially against a pure-Python MMO on cryptography."""

import pytest
from hypothesis import given, settings, strategies as st

from althan_ota.bench.aes_mmo import aes_mmo_python
from althan_ota.checksum import aes_mmo, install_code_key
from althan_ota.errors import ParameterError


def counting(n: int) -> bytes:
    return bytes(i & 0xFF for i in range(n))


# ZigBee spec 05-3474 Annex C.5 (the long inputs straddle the 2**16-bit switch of the length field)
ANNEX_C5 = [
    (bytes([0xC0]), "ae3a102a28d43ee0d4a09e22788b206c"),
    (bytes(range(0xC0, 0xD0)), "a7977e88bc0b61e8210827109a228f2d"),
    (counting(8191), "24ec2fe75bbffcb34789bc0610e7f165"),
    (counting(8192), "dc6b0687f09f8607131c170b3bd31591"),
    (counting(8201), "72c9b15e178aa843e4a16c58e33643a3"),
    (counting(8202), "bc9828d59b2aa323daf20be5f2e66511"),
]


@pytest.mark.parametrize("data,digest", ANNEX_C5, ids=lambda v: str(len(v)) if isinstance(v, bytes) else None)
def test_annex_c5_vectors(aes_tier, data, digest):
    assert aes_mmo(data).hex() == digest


def test_reference_agrees_with_annex_c5():
    for data, digest in ANNEX_C5:
        assert aes_mmo_python(data).hex() == digest


@pytest.mark.parametrize("code,key", [
    ("11223344556677884AF7", "41618FC0C83B0E14A589954B16E31466"),
    ("83FED3407A939723A5C639B26916D505C3B5", "66B6900981E1EE3CA4206B6B861C02BB"),
])
def test_install_code_keys(aes_tier, code, key):
    # ZigBee install-code examples (Base Device Behaviour / spec 05-3474 install-code key derivation)
    assert install_code_key(bytes.fromhex(code)).hex().upper() == key


def test_install_code_length_is_checked():
    with pytest.raises(ParameterError, match="install code"):
        install_code_key(bytes(9))


# Every padding shape: one or two final blocks, below and from 8192 bytes on.
BOUNDARY_LENGTHS = sorted({*range(0, 50), *range(8160, 8240), 4096 + 13, 4096 + 14, 65536 + 9, 65536 + 10})


def test_padding_boundaries_match_reference(aes_tier):
    for n in BOUNDARY_LENGTHS:
        data = counting(n)[::-1]
        assert aes_mmo(data) == aes_mmo_python(data), n


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=600))
def test_matches_reference(aes_tier, data):
    assert aes_mmo(data) == aes_mmo_python(data)


def test_accepts_buffers_without_copying_semantics_change(aes_tier):
    import numpy as np

    data = counting(1000)
    assert aes_mmo(bytearray(data)) == aes_mmo(memoryview(data)) == aes_mmo(np.frombuffer(data, np.uint8))


def test_rejects_non_contiguous_and_non_bytes():
    import numpy as np

    with pytest.raises((ValueError, TypeError)):
        aes_mmo(np.zeros(64, np.uint8)[::2])
    with pytest.raises(TypeError):
        aes_mmo("text")
