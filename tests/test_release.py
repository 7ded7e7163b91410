"""Release bundles: pack -> verify round trip, every refusal with its own message, strict archive reading.

Bundles are made by ``althan_ota.testing.release_bundles.make_test_release`` and then altered member by member
with plain ``zipfile`` (as an attacker or a careless packer would), re-signed with the release key when a test
needs the manifest itself to be wrong but authentic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import struct
import warnings
import zipfile

import numpy as np
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from althan_ota.errors import ReleaseError
from althan_ota.image import CplEntry, build_gbcs, build_zigbee, image_cpl_hash, parse
from althan_ota.release import (Compatibility, ImageInput, key_id, load_trusted_keys, pack, show,
                                verify_bundle)
from althan_ota.release import _archive
from althan_ota.testing.release_bundles import (MANUFACTURER_CODE, NEW_VERSION, PRODUCT, demo_compatibility,
                                               deterministic_key, make_test_release, public_pem)

HUB_FILE = f"images/{PRODUCT.hub_model}-{NEW_VERSION:08X}.bin"
METER_FILE = f"images/{PRODUCT.meter_model}-{NEW_VERSION:08X}.bin"


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return make_test_release(tmp_path_factory.mktemp("rel") / "bundle.zip", image_size=2048)


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    return make_test_release(tmp_path_factory.mktemp("prod") / "bundle.zip", environment="production",
                             image_size=2048)


def members_of(path) -> list[list]:
    with zipfile.ZipFile(path) as z:
        return [[info.filename, z.read(info)] for info in z.infolist()]


def write_zip(path, members, compress=zipfile.ZIP_DEFLATED) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # zipfile warns about the duplicate names some tests write
        with zipfile.ZipFile(path, "w", compression=compress) as z:
            for name, data in members:
                z.writestr(name, data)


def altered(release, tmp_path, change, name="altered.zip"):
    """A copy of the release bundle with ``change(members)`` applied to its [name, bytes] list."""
    members = members_of(release.path)
    change(members)
    out = tmp_path / name
    write_zip(out, members)
    return out


def member(members, name) -> list:
    return next(m for m in members if m[0] == name)


def resigned(release, tmp_path, edit, key=None):
    """The bundle with its manifest edited as JSON (``edit(doc)``) and signed again with ``key`` (default:
    the release key), so only the checks after the signature can catch what was edited."""
    key = key or release.release_key

    def change(members):
        doc = json.loads(member(members, "manifest.json")[1])
        edit(doc)
        data = json.dumps(doc, indent=2).encode()
        member(members, "manifest.json")[1] = data
        member(members, "manifest.sig")[1] = key.sign(data, ec.ECDSA(hashes.SHA256()))

    return altered(release, tmp_path, change)


def refused(path, match, environment="test", trusted=None, **kwargs):
    with pytest.raises(ReleaseError, match=match) as info:
        verify_bundle(path, environment, trusted, **kwargs)
    return str(info.value)


# ----------------------------------------------------------------------------------------- round trip

def test_round_trip(release):
    got = verify_bundle(release.path, "test", release.trusted_keys, manufacturer_keys=release.manufacturer_keys)
    assert (got.release_id, got.environment, got.release_date) == (release.manifest.release_id, "test",
                                                                   dt.date(2026, 11, 25))
    assert got.key_id == key_id(release.release_key) == release.manifest.signing_key_id
    assert {r.side: r.data for r in got.images} == release.images
    assert all(r.signature_checked for r in got.images)
    for image in got.images:
        assert image.sha256 == hashlib.sha256(image.data).digest()
        assert image.cpl_entry.manufacturer_image_hash == hashlib.sha256(image.image.manufacturer_image).digest()
        assert image.image.file_version == NEW_VERSION
    assert set(got.cpl) == set(release.cpl)
    assert got.compatibility == Compatibility(demo_compatibility())
    assert got.upgrade_paths == ((0x01030000, NEW_VERSION), (0x01030100, NEW_VERSION))
    assert got.notes.startswith(f"# {got.release_id}") and got.notes_file == "RELEASE-NOTES.md"
    assert json.loads(got.manifest_bytes)["environment"] == "test"


def test_without_manufacturer_key_signatures_are_not_checked(release):
    got = verify_bundle(release.path, "test", release.trusted_keys)
    assert [r.signature_checked for r in got.images] == [False, False]


def test_same_inputs_same_bundle(tmp_path):
    try:
        deterministic_key("probe").sign(b"", ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    except UnsupportedAlgorithm:
        pytest.skip("this OpenSSL has no RFC 6979 signatures; bundles differ in their signatures")
    a = make_test_release(tmp_path / "a.zip", image_size=512)
    b = make_test_release(tmp_path / "b.zip", image_size=512)
    c = make_test_release(tmp_path / "c.zip", image_size=512, seed=1)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.path.read_bytes() != c.path.read_bytes() and a.key_id != c.key_id


def test_pack_zigbee_image_and_explicit_inputs(tmp_path):
    key = deterministic_key("another release key")
    zigbee = build_zigbee(b"\x55" * 300, manufacturer_code=0x1001, image_type=7, file_version=0x00000200,
                          hardware_versions=(3, 9), integrity_code=True)
    cpl = [CplEntry(0x1001, 7, 0x200, image_cpl_hash(parse(zigbee)), 1, 10, "ZB-HUB")]
    path = tmp_path / "z.zip"
    manifest = pack(path, images=[ImageInput(zigbee, "hub-side", "Zed Devices", "ZB-HUB", "images/zb.ota")],
                    notes="notes\n", release_id="R1", release_date="2026-01-02", environment="production",
                    cpl=cpl, signing_key=key, upgrade_paths=[(0x100, 0x200)], compatibility=[(0x200, 0x200)])
    assert manifest.images[0].side == "ALTHAN_P2P_HUB"
    got = verify_bundle(path, "production", public_pem(key))
    assert got.images[0].data == zigbee and got.images[0].image.format == "zigbee"
    assert got.image_for(0x1001, "hub", 5).file == "images/zb.ota"
    signature = dict(members_of(path))["manifest.sig"]
    key.public_key().verify(signature, got.manifest_bytes, ec.ECDSA(hashes.SHA256()))   # plain DER ECDSA
    assert show(path)["members"] == {"manifest.json": len(got.manifest_bytes), "manifest.sig": len(signature),
                                     "RELEASE-NOTES.md": 6, "images/zb.ota": len(zigbee)}


def test_pack_refuses_an_image_missing_from_the_cpl(tmp_path, release):
    with pytest.raises(ReleaseError, match=r"refusing to pack .*NB-P2P-H2.*no CPL entry"):
        pack(tmp_path / "x.zip", images=[ImageInput(release.images["ALTHAN_P2P_HUB"], "hub", "N", "NB-P2P-H2")],
             notes="n", release_id="R", release_date=dt.date(2026, 1, 1), environment="test", cpl=[],
             signing_key=release.release_key)
    assert not (tmp_path / "x.zip").exists()


@pytest.mark.parametrize("kwargs, match", [
    (dict(environment="staging"), "must be 'test' or 'production'"),
    (dict(release_id="../x"), "release_id"),
    (dict(release_date="25/11/2026"), "release date"),
    (dict(upgrade_paths=[(0x01030000, 0x09999999)]), "no image in the release has version 0x09999999"),
    (dict(signing_key=b"not a key"), "release signing key"),
    (dict(notes_name="../notes.md"), "unsafe file name"),
])
def test_pack_refuses_bad_arguments(tmp_path, release, kwargs, match):
    args = dict(images=[ImageInput(release.images["ALTHAN_P2P_HUB"], "hub", "N", "NB-P2P-H2")], notes="n",
                release_id="R", release_date=dt.date(2026, 1, 1), environment="test", cpl=release.cpl,
                signing_key=release.release_key)
    args.update(kwargs)
    with pytest.raises(ReleaseError, match=match):
        pack(tmp_path / "x.zip", **args)


def test_pack_refuses_overlapping_hardware_ranges_and_duplicate_names(tmp_path, release):
    hub = release.images["ALTHAN_P2P_HUB"]
    base = dict(notes="n", release_id="R", release_date=dt.date(2026, 1, 1), environment="test",
                cpl=release.cpl, signing_key=release.release_key)
    with pytest.raises(ReleaseError, match="same manufacturer and image type with overlapping hardware ranges"):
        pack(tmp_path / "x.zip", images=[ImageInput(hub, "hub", "N", "A", "images/a.bin"),
                                         ImageInput(hub, "hub", "N", "B", "images/b.bin")], **base)
    with pytest.raises(ReleaseError, match="same manufacturer and model with overlapping hardware ranges"):
        pack(tmp_path / "x.zip", images=[ImageInput(hub, "hub", "N", "A", "images/a.bin"),
                                         ImageInput(release.images["ALTHAN_P2P_METER"], "meter", "n", "a",
                                                    "images/b.bin")], **base)
    with pytest.raises(ReleaseError, match="used twice"):
        pack(tmp_path / "x.zip", images=[ImageInput(hub, "hub", "N", "A", "images/a.bin"),
                                         ImageInput(release.images["ALTHAN_P2P_METER"], "meter", "N", "B",
                                                    "images/A.BIN")], **base)


# ---------------------------------------------------------------------------------------- image_for

def test_image_for(release):
    got = verify_bundle(release.path, "test", release.trusted_keys)
    hub = got.image_for("Northbridge Radio", PRODUCT.hub_model, 1)
    assert hub.side == "ALTHAN_P2P_HUB" and hub.data == release.images["ALTHAN_P2P_HUB"]
    for spelling in ("meter", "Meter-Side", "ALTHAN_P2P_METER", "alt han p2p meter"):
        assert got.image_for("northbridge radio", spelling, 2).model == PRODUCT.meter_model
    assert got.image_for(MANUFACTURER_CODE, "hub", np.uint16(2), environment="test") is hub
    with pytest.raises(ReleaseError, match="test release; it is refused for the production environment"):
        got.image_for("Northbridge Radio", "hub", 1, environment="production")
    with pytest.raises(ReleaseError, match=r"no image for 'Northbridge Radio' side ALTHAN_P2P_HUB on hardware "
                                           r"version 0x0003 \(images for it: NB-P2P-H2 \[0x0001, 0x0002\]\)"):
        got.image_for("Northbridge Radio", "hub", 3)
    with pytest.raises(ReleaseError, match="no image for manufacturer 'Tamar Telemetry'"):
        got.image_for("Tamar Telemetry", "hub", 1)
    with pytest.raises(ReleaseError, match="has no model 'NB-X' and it is not a bridge side"):
        got.image_for("Northbridge Radio", "NB-X", 1)
    with pytest.raises(ReleaseError, match="unknown hardware cannot be matched"):
        got.image_for("Northbridge Radio", "hub", None)


def test_match_images_over_a_fleet(release):
    from althan_ota.fleet.synthetic import generate_fleet

    got = verify_bundle(release.path, "test", release.trusted_keys)
    fleet = generate_fleet(300, seed=3).table
    found = got.match_images(fleet["manufacturer"], fleet["model"], fleet["hardware_version"])
    assert found.dtype == np.int32 and len(found) == fleet.num_rows and (found >= 0).any() and (found < 0).any()
    rows = zip(fleet["manufacturer"].to_pylist(), fleet["model"].to_pylist(),
               fleet["hardware_version"].to_pylist(), found.tolist())
    for maker, model, hardware, index in rows:
        try:
            expected = got.images.index(got.image_for(maker, model, hardware))
        except ReleaseError:
            expected = -1
        assert index == expected, (maker, model, hardware)
    assert got.match_images(["NORTHBRIDGE RADIO", "Northbridge Radio", None], ["nb-p2p-m2", "NB-P2P-H2", "x"],
                            [2, None, 1]).tolist() == [1, -1, -1]
    with pytest.raises(ReleaseError, match="different lengths"):
        got.match_images(["a"], ["b", "c"], [1])
    with pytest.raises(ReleaseError, match="cannot read a column"):
        got.match_images(["a"], ["b"], ["one"])


def test_upgrade_paths(release):
    got = verify_bundle(release.path, "test", release.trusted_keys)
    assert got.may_upgrade(0x01030100, NEW_VERSION) and not got.may_upgrade(0x01020000, NEW_VERSION)
    mask = got.upgradable(np.array([0x01020000, 0x01030000, 0x01030100, NEW_VERSION], dtype=np.uint32),
                          NEW_VERSION)
    assert mask.tolist() == [False, True, True, False]


# ----------------------------------------------------------------------------------------- refusals

def test_test_bundle_refused_in_production(release):
    refused(release.path, r"release AHC-\S+-test is a test release; it is refused for the production environment",
            "production", release.trusted_keys)


def test_production_bundle_refused_in_test(production):
    refused(production.path, "is a production release; it is refused for the test environment", "test",
            production.trusted_keys)
    assert verify_bundle(production.path, "production", production.trusted_keys).environment == "production"


def test_unknown_key(release):
    stranger = deterministic_key("stranger")
    message = refused(release.path, "manifest is signed by unknown key", trusted=public_pem(stranger))
    assert release.key_id in message and key_id(stranger) in message


def test_manifest_resigned_by_another_key_claiming_the_trusted_id(release, tmp_path):
    # an attacker keeps the trusted key ID in the manifest but can only sign with their own key
    path = resigned(release, tmp_path, lambda doc: None, key=deterministic_key("attacker"))
    refused(path, "manifest signature does not verify with trusted key", trusted=release.trusted_keys)


def test_manifest_resigned_by_another_key_under_its_own_id(release, tmp_path):
    attacker = deterministic_key("attacker")
    path = resigned(release, tmp_path, lambda doc: doc.update(signing_key_id=key_id(attacker)), key=attacker)
    refused(path, f"signed by unknown key {key_id(attacker)}", trusted=release.trusted_keys)


@pytest.mark.parametrize("edit", [
    lambda m: m.replace(b'"environment": "test"', b'"environment": "production"'),   # the environment
    lambda m: m.replace(b'"release_date": "2026-11-25"', b'"release_date": "2026-11-26"'),
    lambda m: m.replace(b"\n", b"\r\n", 1),                                           # whitespace only
    lambda m: m + b"\n",
])
def test_tampered_manifest(release, tmp_path, edit):
    def change(members):
        before = member(members, "manifest.json")[1]
        member(members, "manifest.json")[1] = edit(before)
        assert member(members, "manifest.json")[1] != before

    refused(altered(release, tmp_path, change), "manifest signature does not verify",
            trusted=release.trusted_keys)


@pytest.mark.parametrize("edit", [
    lambda s: bytes([s[0] ^ 1]) + s[1:],            # r changed
    lambda s: s[:-1] + bytes([s[-1] ^ 0x80]),       # s changed
    lambda s: s[:-1],                               # truncated
    lambda s: s + b"\x00",                          # extended
    lambda s: bytes(len(s)),                        # zeros
    lambda s: b"",                                  # empty
])
def test_tampered_signature(release, tmp_path, edit):
    def change(members):
        member(members, "manifest.sig")[1] = edit(member(members, "manifest.sig")[1])

    refused(altered(release, tmp_path, change), "manifest signature does not verify",
            trusted=release.trusted_keys)


@pytest.mark.parametrize("name", [HUB_FILE, METER_FILE])
@pytest.mark.parametrize("where", [0, 30, 60, 1000, -70, -1])   # header, Manufacturer Image, signature trailer
def test_tampered_image_bytes(release, tmp_path, name, where):
    def change(members):
        data = bytearray(member(members, name)[1])
        data[where] ^= 0x01
        member(members, name)[1] = bytes(data)

    refused(altered(release, tmp_path, change), f"image {re.escape(name)} was tampered with: its SHA-256 is",
            trusted=release.trusted_keys)


def test_image_with_other_length(release, tmp_path):
    def change(members):
        member(members, HUB_FILE)[1] += b"\x00"

    refused(altered(release, tmp_path, change), "bytes in the archive, .* in the manifest: the file was changed",
            trusted=release.trusted_keys)


def test_swapped_images(release, tmp_path):
    def change(members):
        hub, meter = member(members, HUB_FILE), member(members, METER_FILE)
        hub[1], meter[1] = meter[1], hub[1]

    refused(altered(release, tmp_path, change), "was tampered with", trusted=release.trusted_keys)


@pytest.mark.parametrize("edit", [lambda n: n.replace(b"hub side", b"HUB side"), lambda n: n[:-1] + b"!"])
def test_tampered_notes(release, tmp_path, edit):
    def change(members):
        member(members, "RELEASE-NOTES.md")[1] = edit(member(members, "RELEASE-NOTES.md")[1])

    refused(altered(release, tmp_path, change), "release notes RELEASE-NOTES.md was tampered with",
            trusted=release.trusted_keys)


def test_image_missing_from_cpl_entries(release, tmp_path):
    path = resigned(release, tmp_path, lambda doc: doc["cpl"].pop(0))
    refused(path, rf"image {HUB_FILE} is not in the release's CPL entries \(no-entry\): no CPL entry for "
                  r"manufacturer 0x1234 image type 0x0101", trusted=release.trusted_keys)


def test_cpl_hash_differs(release, tmp_path):
    path = resigned(release, tmp_path, lambda doc: doc["cpl"][1].update(manufacturer_image_hash="ab" * 32))
    refused(path, rf"image {METER_FILE} is not in the release's CPL entries \(hash-mismatch\): .* differs from "
                  r"the listed abab", trusted=release.trusted_keys)


def test_manifest_manufacturer_image_hash_differs(release, tmp_path):
    path = resigned(release, tmp_path, lambda doc: doc["images"][0].update(manufacturer_image_hash="cd" * 32))
    refused(path, "Manufacturer Image Hash [0-9a-f]{64} differs from the manifest's cdcd",
            trusted=release.trusted_keys)


def test_given_cpl_lacks_the_image(release):
    refused(release.path, rf"image {HUB_FILE} is not in the given CPL \(no-entry\)", trusted=release.trusted_keys,
            cpl=[])
    assert verify_bundle(release.path, "test", release.trusted_keys, cpl=release.cpl)


@pytest.mark.parametrize("field, value, words", [
    ("file_version", "0x01040001", "file version"),
    ("image_type", "0x0999", "image type"),
    ("max_hardware_version", "0x0003", "maximum hardware version"),
])
def test_manifest_fields_must_match_the_image_header(release, tmp_path, field, value, words):
    path = resigned(release, tmp_path, lambda doc: doc["images"][0].update({field: value}))
    refused(path, f"the manifest says {words}", trusted=release.trusted_keys)


def test_gb_signature_with_the_wrong_manufacturer_key(release):
    refused(release.path, "GB image signature: signature does not verify", trusted=release.trusted_keys,
            manufacturer_keys={PRODUCT.manufacturer: public_pem(deterministic_key("other maker"))})
    # a key for another manufacturer is not used for these images
    assert verify_bundle(release.path, "test", release.trusted_keys,
                         manufacturer_keys={"Tamar Telemetry": public_pem(deterministic_key("other maker"))})


def test_unsigned_gb_image_with_manufacturer_key(tmp_path):
    key = deterministic_key("r")
    data = build_gbcs(b"x" * 100, manufacturer_code=1, image_type=2, file_version=3, min_hardware_version=0,
                      max_hardware_version=9, signed=False)
    path = tmp_path / "u.zip"
    pack(path, images=[ImageInput(data, "meter", "M", "MM")], notes="n", release_id="U",
         release_date=dt.date(2026, 1, 1), environment="test",
         cpl=[CplEntry(1, 2, 3, image_cpl_hash(parse(data)))], signing_key=key)
    refused(path, "GB image signature: the GB image has no signature trailer", trusted=public_pem(key),
            manufacturer_keys={None: public_pem(deterministic_key("m"))})


def test_unexpected_and_missing_members(release, tmp_path):
    refused(altered(release, tmp_path, lambda m: m.append(["README.txt", b"hi"])),
            r"holds file\(s\) its manifest does not list: \['README.txt'\]", trusted=release.trusted_keys)
    refused(altered(release, tmp_path, lambda m: m.remove(member(m, METER_FILE)), "b.zip"),
            rf"lacks file\(s\) its manifest lists: \['{METER_FILE}'\]", trusted=release.trusted_keys)
    refused(altered(release, tmp_path, lambda m: m.remove(member(m, "manifest.sig")), "c.zip"),
            "manifest.sig is missing", trusted=release.trusted_keys)


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.update(extra=1), r"unknown field\(s\) \['extra'\]"),
    (lambda d: d.update(schema_version=2), "schema_version 2 is not supported"),
    (lambda d: d["images"][0].update(side="gateway"), "side: expected ALTHAN_P2P_HUB or ALTHAN_P2P_METER"),
    (lambda d: d["images"][0].update(file_version=17039360), "expected a hex string like 0x00000000"),
    (lambda d: d["images"][0].update(file="../../etc/passwd"), "unsafe file name"),
    (lambda d: d["images"][1].update(file=d["images"][0]["file"]), "is used twice"),
    (lambda d: d["images"].clear(), "at least one image"),
    (lambda d: d.pop("compatibility"), "missing field 'compatibility'"),
    (lambda d: d.update(release_date="2026-13-01"), "release_date"),
    (lambda d: d["notes"].update(sha256="XYZ"), "64 lowercase hex digits"),
    (lambda d: d["images"][0].update(model="NB\x1b[2J"), "printable characters"),
])
def test_authentic_but_malformed_manifest(release, tmp_path, edit, match):
    refused(resigned(release, tmp_path, edit), match, trusted=release.trusted_keys)


def test_manifest_not_json(release, tmp_path):
    def change(members):
        member(members, "manifest.json")[1] = b"{not json"

    refused(altered(release, tmp_path, change), r"manifest.json, line 1, column 2", trusted=release.trusted_keys)


def test_trusted_keys_forms(release, tmp_path):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "a.pem").write_bytes(release.trusted_keys)
    (tmp_path / "keys" / "b.pem").write_bytes(public_pem(deterministic_key("b")))
    assert set(load_trusted_keys(tmp_path / "keys")) == {release.key_id, key_id(deterministic_key("b"))}
    assert set(load_trusted_keys([str(tmp_path / "keys" / "a.pem"), release.release_key.public_key()])) == \
        {release.key_id}
    with pytest.raises(ReleaseError, match="no trusted release keys"):
        load_trusted_keys([])
    with pytest.raises(ReleaseError, match="holds a private key"):
        from althan_ota.testing.release_bundles import private_pem
        load_trusted_keys(private_pem(release.release_key))
    with pytest.raises(ReleaseError, match="cannot read the trusted key"):
        load_trusted_keys(tmp_path / "missing.pem")


# ------------------------------------------------------------------------------------ malformed archives

@pytest.mark.parametrize("cut", [0, 1, 4, 22, 100, 500, -1, -22, -23, -60])
def test_truncated_archive(release, tmp_path, cut):
    data = release.path.read_bytes()
    refused(data[:cut] if cut >= 0 else data[:len(data) + cut], ".", trusted=release.trusted_keys)


def test_not_an_archive(release, tmp_path):
    refused(b"PK\x03\x04" + bytes(100), "not a readable zip archive", trusted=release.trusted_keys)
    refused(tmp_path / "nothing.zip", "cannot open the bundle", trusted=release.trusted_keys)
    refused(tmp_path, "cannot open the bundle", trusted=release.trusted_keys)


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "images/../../x", "C:\\x", "images\\x.bin",
                                  "images/sub/x.bin", "images/", ".hidden", "a/b", "x\u00e9.bin", "images/.."])
def test_unsafe_member_names(release, tmp_path, name):
    refused(altered(release, tmp_path, lambda m: m.append([name, b"x"])), "unsafe file name",
            trusted=release.trusted_keys)


@pytest.mark.parametrize("duplicate", ["manifest.json", HUB_FILE, "release-notes.md"])
def test_duplicate_members(release, tmp_path, duplicate):
    def change(members):
        source = member(members, {"release-notes.md": "RELEASE-NOTES.md"}.get(duplicate, duplicate))
        members.append([duplicate, source[1]])

    refused(altered(release, tmp_path, change), f"member '{re.escape(duplicate)}' appears more than once",
            trusted=release.trusted_keys)


def _patch_sizes(data: bytes, name: bytes, size: int, local: bool) -> bytes:
    """Rewrite the uncompressed size of member ``name`` in the central directory (and local header)."""
    out = bytearray(data)
    central = out.find(b"PK\x01\x02" + b"")
    while central >= 0:
        name_len = struct.unpack_from("<H", out, central + 28)[0]
        if bytes(out[central + 46:central + 46 + name_len]) == name:
            struct.pack_into("<I", out, central + 24, size)
            if local:
                offset = struct.unpack_from("<I", out, central + 42)[0]
                struct.pack_into("<I", out, offset + 22, size)
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


@pytest.mark.parametrize("name, size, match", [
    (HUB_FILE, 0xFFFFFFF0, "declares 4294967280 bytes, more than the 67108864 allowed"),
    ("manifest.json", 5 << 20, "manifest.json declares 5242880 bytes, more than the 4194304 allowed"),
    ("manifest.sig", 4096, "manifest.sig declares 4096 bytes, more than the 1024 allowed"),
])
def test_huge_declared_sizes(release, tmp_path, name, size, match):
    patched = _patch_sizes(release.path.read_bytes(), name.encode(), size, local=False)
    refused(patched, match, trusted=release.trusted_keys)


def test_declared_size_smaller_than_content(release):
    patched = _patch_sizes(release.path.read_bytes(), b"manifest.json", 10, local=True)
    refused(patched, "manifest.json", trusted=release.trusted_keys)


def test_deflate_bomb_is_refused_by_its_declared_size(release, tmp_path):
    bomb = b" " * (8 << 20)                       # 8 MiB of spaces deflate to about 8 KiB
    path = altered(release, tmp_path, lambda m: m.__setitem__(0, ["manifest.json", bomb]))
    assert path.stat().st_size < 100_000
    refused(path, "manifest.json declares 8388608 bytes, more than the 4194304 allowed",
            trusted=release.trusted_keys)


def test_total_size_bound(release, tmp_path, monkeypatch):
    monkeypatch.setattr(_archive, "MAX_TOTAL_BYTES", 5000)
    refused(release.path, "declare more than 5000 bytes in all", trusted=release.trusted_keys)


def test_too_many_members(release, tmp_path):
    extra = [[f"f{i}.txt", b""] for i in range(300)]
    refused(altered(release, tmp_path, lambda m: m.extend(extra)), "300|30[0-9] members, more than the 256",
            trusted=release.trusted_keys)


def test_encrypted_flag_and_other_compression(release, tmp_path):
    data = bytearray(release.path.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x01                     # general-purpose flag bit 0: encrypted
    refused(bytes(data), "is encrypted", trusted=release.trusted_keys)
    path = tmp_path / "bz.zip"
    write_zip(path, members_of(release.path), compress=zipfile.ZIP_BZIP2)
    refused(path, "compression method 12", trusted=release.trusted_keys)


def test_symlink_member(release, tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members_of(release.path):
            info = zipfile.ZipInfo(name)
            if name == HUB_FILE:
                info.create_system = 3
                info.external_attr = 0o120777 << 16
            z.writestr(info, data)
    refused(path, "is not a regular file", trusted=release.trusted_keys)


def test_show_checks_the_archive_but_not_the_signature(release, tmp_path):
    info = show(release.path)
    assert info["manifest"].release_id == release.manifest.release_id
    assert 8 <= info["signature_length"] <= 72     # DER ECDSA-Sig-Value for P-256
    assert json.loads(info["manifest_json"])["signing_key_id"] == release.key_id
    with pytest.raises(ReleaseError, match="unsafe file name"):
        show(altered(release, tmp_path, lambda m: m.append(["../x", b""])))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzzed_bundle_is_refused_or_unchanged(release, data):
    """Any byte of the archive flipped: either a ReleaseError or exactly the released content (zip fields
    nobody reads, such as timestamps, may change harmlessly), never another exception."""
    raw = bytearray(release.path.read_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    try:
        got = verify_bundle(bytes(raw), "test", release.trusted_keys)
    except ReleaseError:
        return
    assert {r.side: r.data for r in got.images} == release.images
    assert got.manifest_bytes == dict(members_of(release.path))["manifest.json"]
