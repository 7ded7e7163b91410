"""CPL check: listed, or why not."""

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from althan_ota.errors import InventoryError
from althan_ota.image import CplEntry, build_gbcs, build_zigbee, cpl_check, load_cpl, parse

KEY = ec.derive_private_key(77, ec.SECP256R1())
FIRMWARE = b"bridge firmware 2.1" * 100
IMAGE = parse(build_gbcs(FIRMWARE, private_key=KEY, manufacturer_code=0x1234, image_type=0x0002,
                         file_version=0x00020100, min_hardware_version=2, max_hardware_version=4))
LISTED = CplEntry(0x1234, 0x0002, 0x00020100, hashlib.sha256(FIRMWARE).digest(), 1, 5, "hub bridge")


def test_listed():
    result = cpl_check(IMAGE, [CplEntry(0x1234, 0x0002, 0x00010000, bytes(32)), LISTED])
    assert (result.listed, result.reason, result.entry) == (True, "listed", LISTED)


@pytest.mark.parametrize("entry, reason, words", [
    (CplEntry(0x9999, 0x0002, 0x00020100, hashlib.sha256(FIRMWARE).digest()), "no-entry", "no CPL entry"),
    (CplEntry(0x1234, 0x0003, 0x00020100, hashlib.sha256(FIRMWARE).digest()), "no-entry", "image type 0x0002"),
    (CplEntry(0x1234, 0x0002, 0x00020000, hashlib.sha256(FIRMWARE).digest()), "version-not-listed",
     "0x00020100 is not listed \\(listed: 0x00020000\\)"),
    (CplEntry(0x1234, 0x0002, 0x00020100, bytes(32)), "hash-mismatch", "differs from the listed 0000"),
    (CplEntry(0x1234, 0x0002, 0x00020100, hashlib.sha256(FIRMWARE).digest(), 3, 4), "hardware-range",
     r"\[0x0002, 0x0004\] is not within the listed \[0x0003, 0x0004\]"),
    (CplEntry(0x1234, 0x0002, 0x00020100, hashlib.sha256(FIRMWARE).digest(), None, 3), "hardware-range",
     r"listed \[any, 0x0003\]"),
])
def test_not_listed_says_why(entry, reason, words):
    result = cpl_check(IMAGE, [entry])
    assert not result.listed and result.reason == reason
    assert pytest.importorskip("re").search(words, result.detail), result.detail


def test_zigbee_files_are_listed_by_the_hash_of_the_whole_image():
    data = build_zigbee(FIRMWARE, manufacturer_code=1, image_type=2, file_version=3)
    image = parse(data)
    assert cpl_check(image, [CplEntry(1, 2, 3, hashlib.sha256(data).digest())]).listed


def test_load_json_and_csv(tmp_path):
    row = {"manufacturer_code": "0x1234", "image_type": 2, "firmware_version": "0x00020100",
           "manufacturer_image_hash": LISTED.manufacturer_image_hash.hex(), "min_hardware_version": 1,
           "max_hardware_version": "5", "model": "hub bridge"}
    (tmp_path / "cpl.json").write_text(json.dumps([row]))
    (tmp_path / "cpl.csv").write_text(",".join(row) + "\n" + ",".join(str(v) for v in row.values()) + "\n")
    assert load_cpl(tmp_path / "cpl.json") == [LISTED]
    assert load_cpl(tmp_path / "cpl.csv") == [LISTED]


@pytest.mark.parametrize("text, message", [
    ("manufacturer_code,image_type\n1,2\n", "line 1: missing CPL columns"),
    ("manufacturer_code,image_type,firmware_version,manufacturer_image_hash\n1,2,x,00\n",
     "line 2, column firmware_version: bad value 'x'"),
    ("manufacturer_code,image_type,firmware_version,manufacturer_image_hash\n1,2,3,00\n",
     "column manufacturer_image_hash: bad value '00' \\(expected 32 bytes"),
    ('[{"manufacturer_code": 1}', "line 1, column 26: Expecting"),
    ('[{"manufacturer_code": 1}]', "entry 1, column image_type: missing"),
])
def test_bad_cpl_files(tmp_path, text, message):
    path = tmp_path / ("cpl.json" if text.startswith("[") else "cpl.csv")
    path.write_text(text)
    with pytest.raises(InventoryError, match=message):
        load_cpl(path)
