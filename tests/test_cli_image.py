"""``althan-ota image`` end to end: build, inspect, sign, verify with a CPL, and clear errors."""

import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from althan_ota.cli import main
from althan_ota.image import parse

KEY = ec.derive_private_key(4242, ec.SECP256R1())
OTHER = ec.derive_private_key(4343, ec.SECP256R1())
HEADER = ["--manufacturer-code", "0x1234", "--image-type", "2", "--file-version", "0x00020100"]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "fw.bin").write_bytes(b"bridge firmware" * 1000)
    (tmp_path / "notes.bin").write_bytes(b"release notes")
    for name, key in (("key.pem", KEY), ("other.pem", OTHER)):
        (tmp_path / name).write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                        serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
        (tmp_path / name.replace(".pem", ".pub.pem")).write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return tmp_path


def test_build_inspect_verify_gbcs(files, capsys):
    out = str(files / "gb.zigbee")
    assert main(["image", "build", "gbcs", str(files / "fw.bin"), "-o", out, *HEADER, "--hardware", "1", "5",
                 "--key", str(files / "key.pem")]) == 0
    image = parse((files / "gb.zigbee").read_bytes())
    assert image.format == "gbcs" and image.verify_signature(KEY.public_key())
    capsys.readouterr()
    assert main(["image", "inspect", out, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["manufacturer_image_hash"] == hashlib.sha256(b"bridge firmware" * 1000).hexdigest()
    assert info["file_version"] == "0x00020100" and info["min_hardware_version"] == "0x0001"
    cpl = files / "cpl.csv"
    cpl.write_text("manufacturer_code,image_type,firmware_version,manufacturer_image_hash\n"
                   f"0x1234,2,0x00020100,{info['manufacturer_image_hash']}\n")
    assert main(["image", "verify", out, "--public-key", str(files / "key.pub.pem"), "--cpl", str(cpl)]) == 0
    text = capsys.readouterr().out
    assert "ok   signature: valid" in text and "ok   CPL:" in text
    assert main(["image", "verify", out, "--public-key", str(files / "other.pub.pem")]) == 1
    assert "FAIL signature: signature does not verify" in capsys.readouterr().out


def test_sign_unsigned_image(files, capsys):
    unsigned, signed = str(files / "u.zigbee"), str(files / "s.zigbee")
    assert main(["image", "build", "gbcs", str(files / "fw.bin"), "-o", unsigned, *HEADER,
                 "--hardware", "1", "5"]) == 0
    assert main(["image", "verify", unsigned, "--json"]) == 0
    assert main(["image", "sign", unsigned, "--key", str(files / "other.pem"), "-o", signed,
                 "--force-replace", "1"]) == 0
    image = parse((files / "s.zigbee").read_bytes())
    assert image.force_replace == 1 and image.verify_signature(OTHER.public_key())


def test_build_inspect_verify_zigbee(files, capsys):
    out = str(files / "z.ota")
    assert main(["image", "build", "zigbee", str(files / "fw.bin"), "-o", out, *HEADER, "--integrity-code",
                 "--element", f"0xF000:{files / 'notes.bin'}", "--header-string", "hub bridge"]) == 0
    capsys.readouterr()
    assert main(["image", "inspect", out]) == 0
    text = capsys.readouterr().out
    assert "0xF000 manufacturer-specific" in text and "integrity_code" in text and "valid" in text
    data = bytearray((files / "z.ota").read_bytes())
    data[100] ^= 1
    (files / "bad.ota").write_bytes(bytes(data))
    assert main(["image", "verify", str(files / "bad.ota")]) == 1
    assert "FAIL integrity code: does not match" in capsys.readouterr().out


def test_errors_are_clear_and_exit_non_zero(files, capsys):
    assert main(["image", "inspect", str(files / "fw.bin")]) == 1
    assert "ImageFormatError: magic at offset 0" in capsys.readouterr().err
    assert main(["image", "inspect", str(files / "missing.bin")]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert main(["image", "build", "gbcs", str(files / "fw.bin"), "-o", str(files / "x"), *HEADER]) == 1
    assert "needs --hardware" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["image", "build", "zigbee", str(files / "fw.bin"), "-o", str(files / "x"),
              "--manufacturer-code", "zz", "--image-type", "1", "--file-version", "1"])
    assert exit_info.value.code == 2
    assert "expected an integer (0x hex allowed), not 'zz'" in capsys.readouterr().err
    assert main(["image", "build", "zigbee", str(files / "fw.bin"), "-o", str(files / "x"), *HEADER,
                 "--element", "tag:file"]) == 1
    assert "the tag must be an integer" in capsys.readouterr().err
