"""GB upgrade images (GBCS 11.2.2-11.2.4): layout as in the DCC's published samples, Manufacturer Image Hash
against hashlib, ECDSA P-256 signatures checked with OpenSSL through ``cryptography``."""

import hashlib
import struct

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given, settings, strategies as st

from althan_ota.errors import ImageFormatError, ParameterError, SignatureError
from althan_ota.image import build_gbcs, build_zigbee, parse, sign_gbcs

KEY = ec.derive_private_key(0x1F2E3D4C5B6A79880123456789ABCDEF, ec.SECP256R1())
OTHER_KEY = ec.derive_private_key(12345, ec.SECP256R1())
MANUFACTURER_IMAGE = bytes(range(256)) * 40 + b"end of manufacturer image"
OPTIONS = dict(manufacturer_code=0x1234, image_type=0x0001, file_version=0x01020304,
               min_hardware_version=0x0100, max_hardware_version=0x01FF)


def sample_layout(manufacturer_image: bytes, signature: bytes, force_replace: int = 0) -> bytes:
    """The OTA Upgrade Image exactly as GBCS 11.2.3 lays it out (and the published sample tools build it):
    60-byte header, field control 0x0004, stack version 0x0002, zero header string, total size covering the
    trailer, min/max hardware versions, then Manufacturer Image, ForceReplace, 0x40, signature."""
    upgrade_image = manufacturer_image + bytes([force_replace, 0x40]) + signature
    total = 60 + len(upgrade_image)
    header = (bytes([0x1E, 0xF1, 0xEE, 0x0B, 0x00, 0x01, 60, 0, 0x04, 0x00])
              + struct.pack("<HHIH", OPTIONS["manufacturer_code"], OPTIONS["image_type"],
                            OPTIONS["file_version"], 0x0002)
              + bytes(32) + struct.pack("<IHH", total, OPTIONS["min_hardware_version"],
                                        OPTIONS["max_hardware_version"]))
    return header + upgrade_image


def test_signed_image_has_the_sample_layout_and_hash():
    data = build_gbcs(MANUFACTURER_IMAGE, private_key=KEY, **OPTIONS)
    image = parse(data)
    assert data == sample_layout(MANUFACTURER_IMAGE, image.signature)
    assert image.format == "gbcs" and image.elements == ()
    assert (image.header_length, image.field_control, image.total_size) == (60, 0x0004, len(data))
    assert bytes(image.manufacturer_image) == MANUFACTURER_IMAGE
    assert image.manufacturer_image_hash == hashlib.sha256(MANUFACTURER_IMAGE).digest()
    assert image.force_replace == 0 and len(image.signature) == 64
    # the raw r||s is an ordinary ECDSA/SHA-256 signature of the Manufacturer Image for OpenSSL
    r, s = int.from_bytes(image.signature[:32], "big"), int.from_bytes(image.signature[32:], "big")
    KEY.public_key().verify(encode_dss_signature(r, s), MANUFACTURER_IMAGE, ec.ECDSA(hashes.SHA256()))
    assert image.verify_signature(KEY.public_key()) is True


def test_signature_made_by_openssl_verifies():
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(KEY.sign(MANUFACTURER_IMAGE, ec.ECDSA(hashes.SHA256())))
    data = sample_layout(MANUFACTURER_IMAGE, r.to_bytes(32, "big") + s.to_bytes(32, "big"), force_replace=1)
    image = parse(data)
    assert image.force_replace == 1
    assert image.verify_signature(KEY.public_key())


@pytest.mark.parametrize("encoding", ["object", "pem", "der", "raw64", "raw65", "private"])
def test_public_key_forms(encoding):
    public = KEY.public_key()
    key = {
        "object": public,
        "private": KEY,
        "pem": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "der": public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        "raw65": public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint),
        "raw64": public.public_bytes(serialization.Encoding.X962,
                                     serialization.PublicFormat.UncompressedPoint)[1:],
    }[encoding]
    assert parse(build_gbcs(MANUFACTURER_IMAGE, private_key=KEY, **OPTIONS)).verify_signature(key)


def test_wrong_key_tampered_image_and_missing_signature():
    data = bytearray(build_gbcs(MANUFACTURER_IMAGE, private_key=KEY, **OPTIONS))
    with pytest.raises(SignatureError, match="does not verify"):
        parse(bytes(data)).verify_signature(OTHER_KEY.public_key())
    data[100] ^= 1
    with pytest.raises(SignatureError, match="does not verify"):
        parse(bytes(data)).verify_signature(KEY.public_key())
    unsigned = parse(build_gbcs(MANUFACTURER_IMAGE, signed=False, **OPTIONS))
    assert unsigned.signature is None and unsigned.force_replace is None
    with pytest.raises(SignatureError, match="no signature trailer"):
        unsigned.verify_signature(KEY.public_key())
    with pytest.raises(SignatureError, match="only GB images"):
        parse(build_zigbee(b"x", manufacturer_code=1, image_type=1, file_version=1)).verify_signature(KEY)


def test_other_curves_and_garbage_keys_are_refused():
    with pytest.raises(SignatureError, match="P-256"):
        build_gbcs(b"x", private_key=ec.generate_private_key(ec.SECP384R1()), **OPTIONS)
    image = parse(build_gbcs(b"x", private_key=KEY, **OPTIONS))
    with pytest.raises(SignatureError, match="cannot read the public key"):
        image.verify_signature(b"\x04" + bytes(64))
    with pytest.raises(SignatureError):
        image.verify_signature(b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")


def test_unsigned_ppmid_image():
    data = build_gbcs(MANUFACTURER_IMAGE, signed=False, **OPTIONS)
    assert len(data) == 60 + len(MANUFACTURER_IMAGE)
    image = parse(data)
    assert image.format == "gbcs" and bytes(image.manufacturer_image) == MANUFACTURER_IMAGE


def test_sign_gbcs_signs_an_unsigned_image_and_replaces_a_signature():
    unsigned = build_gbcs(MANUFACTURER_IMAGE, signed=False, **OPTIONS)
    signed = parse(sign_gbcs(unsigned, KEY))
    assert signed.verify_signature(KEY.public_key()) and signed.total_size == len(unsigned) + 66
    resigned = parse(sign_gbcs(bytes(signed.image), OTHER_KEY, force_replace=1))
    assert resigned.force_replace == 1 and resigned.verify_signature(OTHER_KEY.public_key())
    assert resigned.manufacturer_image_hash == signed.manufacturer_image_hash
    # a vendor prefix is dropped, the OTA image itself comes out
    assert sign_gbcs(b"prefix" + unsigned, KEY)[:4] == b"\x1e\xf1\xee\x0b"


def test_format_detection_and_forcing():
    gb = build_gbcs(b"\x00\x00\x04\x00\x00\x00abcd", private_key=KEY, **OPTIONS)
    assert parse(gb).format == "gbcs"
    # a Manufacturer Image that happens to be exactly one sub-element is a ZigBee file, unless forced
    bare = build_gbcs(b"\x00\x00\x04\x00\x00\x00abcd", signed=False, **OPTIONS)
    assert parse(bare).format == "zigbee"
    assert parse(bare, format="gbcs").manufacturer_image.tobytes() == b"\x00\x00\x04\x00\x00\x00abcd"
    with pytest.raises(ImageFormatError, match="truncated sub-element"):
        parse(gb, format="zigbee")


def test_build_arguments_are_checked():
    with pytest.raises(ParameterError, match="force_replace"):
        build_gbcs(b"x", private_key=KEY, force_replace=2, **OPTIONS)
    with pytest.raises(ParameterError, match="64-byte"):
        build_gbcs(b"x", signature=b"short", **OPTIONS)
    with pytest.raises(ParameterError, match="manufacturer code"):
        build_gbcs(b"x", signed=False, **{**OPTIONS, "manufacturer_code": 0x10000})
    with pytest.raises(ParameterError, match="header string"):
        build_gbcs(b"x", signed=False, header_string="x" * 33, **OPTIONS)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=500), st.integers(0, 1), st.integers(0, 2 ** 32 - 1))
def test_random_gb_images_round_trip(manufacturer_image, force_replace, file_version):
    data = build_gbcs(manufacturer_image, private_key=KEY, force_replace=force_replace,
                      **{**OPTIONS, "file_version": file_version})
    image = parse(data, format="gbcs")
    assert bytes(image.image) == data and image.force_replace == force_replace
    assert image.manufacturer_image_hash == hashlib.sha256(manufacturer_image).digest()
    assert image.verify_signature(KEY.public_key())


def test_manufacturer_image_hash_matches_the_native_sha256(sha256_tier):
    from althan_ota import checksum

    image = parse(build_gbcs(MANUFACTURER_IMAGE, private_key=KEY, **OPTIONS))
    assert checksum.sha256(image.manufacturer_image) == image.manufacturer_image_hash
