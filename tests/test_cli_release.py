"""``althan-ota release``: pack, show and verify from the command line, and refusals as exit code 1."""

from __future__ import annotations

import json

import pytest

from althan_ota.cli import main
from althan_ota.release import verify_bundle
from althan_ota.testing.release_bundles import (NEW_VERSION, PRODUCT, deterministic_key, make_test_release,
                                               public_pem)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("demo")
    assert main(["release", "demo", str(directory), "--image-size", "1000"]) == 0
    return directory


def _pack(demo, tmp_path, environment="production", extra=()):
    notes = tmp_path / "notes.md"
    notes.write_text("# R-1\nfirmware 0x01040000\n")
    out = tmp_path / "bundle.zip"
    argv = ["release", "pack", "-o", str(out), "--release-id", "R-1", "--date", "2026-11-25",
            "--environment", environment, "--key", str(demo / "release.pem"), "--notes", str(notes),
            "--cpl", str(demo / "cpl.json"),
            "--image", f"hub:{PRODUCT.manufacturer}:{PRODUCT.hub_model}:{demo / 'althan_p2p_hub.bin'}",
            "--image", f"meter-side:{PRODUCT.manufacturer}:{PRODUCT.meter_model}:{demo / 'althan_p2p_meter.bin'}",
            "--upgrade-path", "0x01030100:0x01040000", "--compatible", "0x01040000:0x01030100",
            "--compatible", "0x01040000:0x01040000", *extra]
    return out, main(argv)


def test_demo_writes_a_verifiable_bundle(demo, capsys):
    assert main(["release", "verify", str(demo / "release-test.zip"), "--environment", "test",
                 "--trusted-key", str(demo / "release.pub.pem"),
                 "--manufacturer-key", f"{PRODUCT.manufacturer}={demo / 'manufacturer.pub.pem'}",
                 "--cpl", str(demo / "cpl.json")]) == 0
    out = capsys.readouterr().out
    assert "ok   manifest signed by trusted key" in out and "GB signature valid" in out


def test_pack_show_verify(demo, tmp_path, capsys):
    out, code = _pack(demo, tmp_path)
    assert code == 0 and "release R-1 (production), 2 images" in capsys.readouterr().out
    assert main(["release", "show", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "NOT verified" in shown and f"{PRODUCT.hub_model} type 0x0101 0x{NEW_VERSION:08X}" in shown
    assert "0x01030100 -> 0x01040000" in shown
    assert main(["release", "show", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["release_id"] == "R-1"
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    (trusted / "alt-han-co.pem").write_bytes((demo / "release.pub.pem").read_bytes())
    (trusted / "other.pem").write_bytes(public_pem(deterministic_key("other")))
    assert main(["release", "verify", str(out), "--environment", "production", "--trusted-key", str(trusted),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and [i["side"] for i in report["images"]] == ["ALTHAN_P2P_HUB", "ALTHAN_P2P_METER"]
    assert report["images"][0]["gb_signature"].startswith("not checked")
    assert main(["release", "verify", str(out), "--environment", "production", "--trusted-key", str(demo)]) == 1
    assert "manufacturer.pem: holds a private key" in capsys.readouterr().err
    got = verify_bundle(out, "production", demo / "release.pub.pem")
    assert got.compatibility.pairs == [(NEW_VERSION, 0x01030100), (NEW_VERSION, NEW_VERSION)]


@pytest.mark.parametrize("argv_tail, message", [
    (["--environment", "test"], "is a production release; it is refused for the test environment"),
    (["--environment", "production", "--trusted-key-from-stranger"], "signed by unknown key"),
    (["--environment", "production", "--manufacturer-key-wrong"], "GB image signature"),
])
def test_verify_refusals_exit_1(demo, tmp_path, capsys, argv_tail, message):
    out, _ = _pack(demo, tmp_path)
    capsys.readouterr()
    trusted = str(demo / "release.pub.pem")
    tail = list(argv_tail)
    if "--trusted-key-from-stranger" in tail:
        stranger = tmp_path / "stranger.pem"
        stranger.write_bytes(public_pem(deterministic_key("stranger")))
        tail.remove("--trusted-key-from-stranger")
        trusted = str(stranger)
    if "--manufacturer-key-wrong" in tail:
        wrong = tmp_path / "wrong.pem"
        wrong.write_bytes(public_pem(deterministic_key("wrong maker")))
        tail[tail.index("--manufacturer-key-wrong")] = "--manufacturer-key"
        tail.append(str(wrong))
    assert main(["release", "verify", str(out), "--trusted-key", trusted, *tail]) == 1
    assert message in capsys.readouterr().err


def test_pack_argument_errors(demo, tmp_path, capsys):
    _, code = _pack(demo, tmp_path, extra=["--image", "hub-only"])
    assert code == 1 and "--image takes SIDE:MANUFACTURER:MODEL:FILE" in capsys.readouterr().err
    _, code = _pack(demo, tmp_path, extra=["--compatible", "0x01:zz"])
    assert code == 1 and "is not a version" in capsys.readouterr().err
    _, code = _pack(demo, tmp_path, extra=["--image", f"side:{PRODUCT.manufacturer}:X:{demo / 'cpl.json'}"])
    assert code == 1 and "not a readable firmware image" in capsys.readouterr().err


def test_verify_a_non_bundle(tmp_path, capsys):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    key = tmp_path / "k.pem"
    key.write_bytes(public_pem(deterministic_key("k")))
    assert main(["release", "verify", str(junk), "--environment", "test", "--trusted-key", str(key)]) == 1
    assert "not a readable zip archive" in capsys.readouterr().err
    assert main(["release", "show", str(junk)]) == 1


def test_make_test_release_is_small_deterministic_and_complete(tmp_path):
    # what keeps it fast, checked without a clock: no fresh keys (the same bundle twice), small images
    release = make_test_release(tmp_path / "r.zip")
    again = make_test_release(tmp_path / "again.zip")
    assert verify_bundle(release.path, "test", release.trusted_keys, manufacturer_keys=release.manufacturer_keys)
    assert release.path.read_bytes() == again.path.read_bytes()
    assert all(len(image) < 8192 for image in release.images.values())
