"""Deterministic keys and a complete release bundle for tests and demos.

``make_test_release(path)`` writes, in a few milliseconds, a signed bundle for the synthetic fleet's
largest manufacturer (``Northbridge Radio``, models ``NB-P2P-H2`` hub-side and ``NB-P2P-M2`` meter-side,
hardware 1-2, see ``althan_ota.fleet.synthetic``): two GB images of version 0x01040000 signed by a
manufacturer key, their CPL entries, upgrade paths from 0x01030000 and 0x01030100, and a compatibility
table in which the new hub-side firmware still works with the old meter side but not the other way round
(so pairs upgrade ``hub_first``, and pairs still on 0x01020000 have no safe order). Keys come from the seed,
and signatures are RFC 6979 ones where OpenSSL has them (3.2+), so the same arguments give the same bundle
bytes.
These keys are public knowledge: never trust them outside tests.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..fleet.synthetic import DEFAULT_MIX
from ..image import CplEntry, build_gbcs, image_cpl_hash, parse
from ..release._bundle import ImageInput, pack
from ..release._keys import key_id, raw_signature
from ..release._manifest import Manifest

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

PRODUCT = DEFAULT_MIX[0]                 # Northbridge Radio, NB-P2P-H2 / NB-P2P-M2
MANUFACTURER_CODE = 0x1234               # fictional, as the fleet is
HUB_IMAGE_TYPE = 0x0101
METER_IMAGE_TYPE = 0x0102
NEW_VERSION = 0x01040000
OLD_VERSIONS = PRODUCT.firmware_versions     # 0x01020000, 0x01030000, 0x01030100
HARDWARE_RANGE = (min(PRODUCT.hardware_versions), max(PRODUCT.hardware_versions))


def deterministic_key(label: str, seed: int = 0) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key derived from ``label`` and ``seed``: the same arguments, the same key."""
    digest = hashlib.sha256(f"althan-ota test key/{label}/{seed}".encode()).digest()
    return ec.derive_private_key(int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def public_pem(key) -> bytes:
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def demo_compatibility() -> list[tuple[int, int]]:
    """The demo product's (hub, meter) pairs that work together: versions of one generation (0x0102, 0x0103,
    0x0104) and the two older generations with each other; a 0x0104 hub side with a 0x0103 meter side; not a
    0x0104 meter side with anything older."""
    generation = {v: v >> 16 for v in (*OLD_VERSIONS, NEW_VERSION)}

    def works(hub: int, meter: int) -> bool:
        gh, gm = generation[hub], generation[meter]
        return gh == gm or {gh, gm} == {0x0102, 0x0103} or (gh, gm) == (0x0104, 0x0103)

    return [(h, m) for h in generation for m in generation if works(h, m)]


@dataclass(frozen=True)
class TestRelease:
    """What :func:`make_test_release` wrote and the keys to check it with."""

    __test__ = False    # not a pytest test class, despite the name

    path: Path
    environment: str
    manifest: Manifest
    release_key: ec.EllipticCurvePrivateKey = field(repr=False)
    manufacturer_key: ec.EllipticCurvePrivateKey = field(repr=False)
    images: dict = field(repr=False)          # side code -> image bytes
    cpl: tuple = field(repr=False)

    @property
    def key_id(self) -> str:
        return key_id(self.release_key)

    @property
    def trusted_keys(self) -> bytes:
        """The release public key as PEM, what ``verify_bundle(..., trusted_keys=)`` takes."""
        return public_pem(self.release_key)

    @property
    def manufacturer_keys(self) -> dict:
        """``verify_bundle``'s ``manufacturer_keys`` for this release."""
        return {PRODUCT.manufacturer: public_pem(self.manufacturer_key)}

    def write_keys(self, directory) -> dict[str, Path]:
        """Write release.pem, release.pub.pem, manufacturer.pem, manufacturer.pub.pem and cpl.json into
        ``directory``; returns their paths by name."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files = {"release.pem": private_pem(self.release_key), "release.pub.pem": public_pem(self.release_key),
                 "manufacturer.pem": private_pem(self.manufacturer_key),
                 "manufacturer.pub.pem": public_pem(self.manufacturer_key),
                 "cpl.json": json.dumps([_cpl_json(e) for e in self.cpl], indent=2).encode() + b"\n"}
        paths = {}
        for name, data in files.items():
            paths[name] = directory / name
            paths[name].write_bytes(data)
        return paths


def make_test_release(path, *, environment: str = "test", seed: int = 0, image_size: int = 4096,
                      release_id: str | None = None,
                      release_date: _dt.date = _dt.date(2026, 11, 25)) -> TestRelease:
    """Write a complete signed bundle to ``path`` (see the module docstring) and return it with its keys.
    ``image_size`` is each Manufacturer Image's length in bytes (real ones are 100-500 KB; the default keeps
    tests fast)."""
    release_key = deterministic_key("alt-han-co-release", seed)
    manufacturer_key = deterministic_key("manufacturer", seed)
    lo, hi = HARDWARE_RANGE
    images, cpl, inputs = {}, [], []
    for side, model, image_type in (("ALTHAN_P2P_HUB", PRODUCT.hub_model, HUB_IMAGE_TYPE),
                                    ("ALTHAN_P2P_METER", PRODUCT.meter_model, METER_IMAGE_TYPE)):
        firmware = hashlib.shake_256(f"{model}/{NEW_VERSION:08X}/{seed}".encode()).digest(image_size)
        data = build_gbcs(firmware, manufacturer_code=MANUFACTURER_CODE, image_type=image_type,
                          file_version=NEW_VERSION, min_hardware_version=lo, max_hardware_version=hi,
                          header_string=f"{model} {NEW_VERSION:08X}",
                          signature=raw_signature(firmware, manufacturer_key))
        images[side] = data
        cpl.append(CplEntry(MANUFACTURER_CODE, image_type, NEW_VERSION, image_cpl_hash(parse(data)), lo, hi, model))
        inputs.append(ImageInput(data, side, PRODUCT.manufacturer, model))
    release_id = release_id or f"AHC-{release_date:%Y%m%d}-NB-{NEW_VERSION:08X}-{environment}"
    notes = (f"# {release_id}\n\n{PRODUCT.manufacturer} P2P bridge firmware 0x{NEW_VERSION:08X} "
             f"({PRODUCT.hub_model}, {PRODUCT.meter_model}), {environment} environment.\n\n"
             f"Upgrade the hub side first: a 0x{NEW_VERSION:08X} meter side does not work with an older hub "
             f"side.\nDevices on 0x{OLD_VERSIONS[0]:08X} take 0x{OLD_VERSIONS[-1]:08X} first.\n")
    manifest = pack(path, images=inputs, notes=notes, release_id=release_id, release_date=release_date,
                    environment=environment, cpl=cpl, signing_key=release_key,
                    upgrade_paths=[(v, NEW_VERSION) for v in OLD_VERSIONS[1:]],
                    compatibility=demo_compatibility())
    return TestRelease(Path(path), environment, manifest, release_key, manufacturer_key, images, tuple(cpl))


def _cpl_json(entry: CplEntry) -> dict:
    return {"manufacturer_code": f"0x{entry.manufacturer_code:04X}", "image_type": f"0x{entry.image_type:04X}",
            "firmware_version": f"0x{entry.firmware_version:08X}",
            "manufacturer_image_hash": entry.manufacturer_image_hash.hex(),
            "min_hardware_version": entry.min_hardware_version, "max_hardware_version": entry.max_hardware_version,
            "model": entry.model}
