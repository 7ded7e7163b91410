"""The image integrity code (ZCL 07-5123 11.4, tag 0x0003): AES-MMO (ZigBee 05-3474 B.6, vectors C.5) over the
OTA image up to the integrity sub-element."""

import pytest
from hypothesis import given, settings, strategies as st

from aes_mmo_reference import VECTORS, aes_mmo_reference
from althan_ota.checksum import aes_mmo
from althan_ota.errors import ImageFormatError
from althan_ota.image import build_zigbee, parse

OPTIONS = dict(manufacturer_code=0x1234, image_type=1, file_version=7)


@pytest.mark.parametrize("message, expected", VECTORS, ids=lambda v: str(len(v)) if isinstance(v, bytes) else "")
def test_published_vectors(message, expected, aes_tier):
    assert aes_mmo_reference(message).hex() == expected
    assert aes_mmo(message).hex() == expected


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=200) | st.integers(8180, 8210).map(lambda n: bytes(n)))
def test_against_reference(message):
    # the C kernel (checksum.aes_mmo, best tier) against the independent pure-Python reference
    assert aes_mmo(message) == aes_mmo_reference(message)


def test_integrity_code_covers_everything_before_its_element(aes_tier):
    data = build_zigbee(b"payload" * 10, **OPTIONS, elements=[(0xF000, b"v")], integrity_code=True)
    image = parse(data)
    code = image.elements[-1]
    assert code.tag == 3 and code.length == 16 and code.offset == len(data) - 16
    assert bytes(code.data) == aes_mmo_reference(data[:-22])
    assert image.integrity_code_ok() is True


def test_corruption_is_detected():
    data = bytearray(build_zigbee(b"payload" * 10, **OPTIONS, integrity_code=True))
    data[70] ^= 0x80
    assert parse(bytes(data)).integrity_code_ok() is False
    assert parse(build_zigbee(b"payload", **OPTIONS)).integrity_code_ok() is None


def test_misplaced_or_wrong_size_integrity_code_is_a_format_error():
    image = parse(build_zigbee(None, **OPTIONS, elements=[(0xF000, b"")]))
    body = bytes(image.image) + b"\x03\x00\x04\x00\x00\x00abcd"
    patched = body[:52] + len(body).to_bytes(4, "little") + body[56:]
    with pytest.raises(ImageFormatError, match="expected 16 bytes, found 4"):
        parse(patched).integrity_code_ok()
    body = bytes(image.image)[:56] + b"\x03\x00" + (16).to_bytes(4, "little") + bytes(16) + b"\x00\xf0" + bytes(4)
    patched = body[:52] + len(body).to_bytes(4, "little") + body[56:]
    with pytest.raises(ImageFormatError, match="expected the last sub-element"):
        parse(patched).integrity_code_ok()
