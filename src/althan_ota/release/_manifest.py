"""``manifest.json``: what a release bundle declares, written as readable JSON and read back strictly.

Integers that operators write in hex (manufacturer codes, image types, versions, hardware versions) are
stored as ``"0x…"`` strings; hashes as lowercase hex. Reading accepts only the fields of its schema version,
each with its type and range checked, so a manifest either yields a :class:`Manifest` or a ReleaseError that
names the field.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass

from ..errors import ReleaseError
from ..fleet.schema import HUB_SIDE, METER_SIDE, VARIANT_LOOKUP, normalise_key
from ..image import CplEntry

SCHEMA_VERSION = 1
ENVIRONMENTS = ("test", "production")
SIDES = (HUB_SIDE, METER_SIDE)
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
IMAGE_DIR = "images/"
# Table lengths a manifest may have: room for any real release, and a bound on the work of checking one
# (the hardware-overlap check compares images pairwise).
MAX_IMAGES = 250
MAX_ROWS = 100_000

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_RELEASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ImageEntry:
    """One image as the manifest declares it."""

    file: str
    side: str
    manufacturer: str
    manufacturer_code: int
    model: str
    image_type: int
    min_hardware_version: int | None
    max_hardware_version: int | None
    file_version: int
    size: int
    sha256: bytes
    manufacturer_image_hash: bytes


@dataclass(frozen=True)
class NotesEntry:
    file: str
    size: int
    sha256: bytes


@dataclass(frozen=True)
class Manifest:
    schema_version: int
    release_id: str
    release_date: _dt.date
    environment: str
    signing_key_id: str
    notes: NotesEntry
    images: tuple[ImageEntry, ...]
    cpl: tuple[CplEntry, ...]
    upgrade_paths: tuple[tuple[int, int], ...]
    compatibility: tuple[tuple[int, int], ...]

    def member_names(self) -> list[str]:
        """Every archive member the bundle must hold, in the order they are written."""
        return [MANIFEST_NAME, SIGNATURE_NAME, self.notes.file, *(e.file for e in self.images)]


def side_code(text: str) -> str:
    """The fleet's PPMID-variant code for a bridge side written any usual way ("hub", "meter-side", ...)."""
    code = VARIANT_LOOKUP.get(normalise_key(str(text)))
    if code not in SIDES:
        raise ReleaseError(f"side {text!r}: expected hub-side ({HUB_SIDE}) or meter-side ({METER_SIDE})")
    return code


def check_member_name(name: str, where: str) -> None:
    """A member name is ``NAME`` or ``images/NAME`` with NAME a plain file name: no directories beyond
    ``images/``, no ``..``, no absolute paths, no backslashes or drive letters."""
    base = name[len(IMAGE_DIR):] if name.startswith(IMAGE_DIR) else name
    if not _SAFE_NAME.fullmatch(base) or ".." in base:
        raise ReleaseError(f"{where}: unsafe file name {name!r} (expected NAME or images/NAME, NAME made of "
                           f"letters, digits, '.', '_' and '-', not starting with '.', no '..')")


def check_environment(environment: str, where: str = "environment") -> str:
    if environment not in ENVIRONMENTS:
        raise ReleaseError(f"{where} must be 'test' or 'production', not {environment!r}")
    return environment


def to_json(manifest: Manifest) -> bytes:
    """The exact bytes that are signed and stored as manifest.json."""
    doc = {
        "schema_version": manifest.schema_version,
        "release_id": manifest.release_id,
        "release_date": manifest.release_date.isoformat(),
        "environment": manifest.environment,
        "signing_key_id": manifest.signing_key_id,
        "notes": {"file": manifest.notes.file, "size": manifest.notes.size,
                  "sha256": manifest.notes.sha256.hex()},
        "images": [{
            "file": e.file, "side": e.side, "manufacturer": e.manufacturer,
            "manufacturer_code": _hex(e.manufacturer_code, 4), "model": e.model,
            "image_type": _hex(e.image_type, 4),
            "min_hardware_version": _hex(e.min_hardware_version, 4),
            "max_hardware_version": _hex(e.max_hardware_version, 4),
            "file_version": _hex(e.file_version, 8), "size": e.size, "sha256": e.sha256.hex(),
            "manufacturer_image_hash": e.manufacturer_image_hash.hex(),
        } for e in manifest.images],
        "cpl": [{
            "manufacturer_code": _hex(c.manufacturer_code, 4), "model": c.model or None,
            "image_type": _hex(c.image_type, 4), "firmware_version": _hex(c.firmware_version, 8),
            "min_hardware_version": _hex(c.min_hardware_version, 4),
            "max_hardware_version": _hex(c.max_hardware_version, 4),
            "manufacturer_image_hash": c.manufacturer_image_hash.hex(),
        } for c in manifest.cpl],
        "upgrade_paths": [{"from": _hex(a, 8), "to": _hex(b, 8)} for a, b in manifest.upgrade_paths],
        "compatibility": [{"hub": _hex(h, 8), "meter": _hex(m, 8)} for h, m in manifest.compatibility],
    }
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def signing_key_id_of(data: bytes) -> str:
    """The key ID a manifest claims, read before its signature can be checked (to pick the key)."""
    doc = _load(data)
    return _field(doc, "signing_key_id", "manifest", _hash_text)


def from_json(data: bytes) -> Manifest:
    """Parse and validate manifest bytes; ReleaseError names the first bad field."""
    doc = _load(data)
    _only(doc, {"schema_version", "release_id", "release_date", "environment", "signing_key_id", "notes",
                "images", "cpl", "upgrade_paths", "compatibility"}, "manifest")
    version = _field(doc, "schema_version", "manifest", _int_value)
    if version != SCHEMA_VERSION:
        raise ReleaseError(f"manifest schema_version {version} is not supported (this reader knows "
                           f"{SCHEMA_VERSION})")
    release_id = _field(doc, "release_id", "manifest", _text)
    if not _RELEASE_ID.fullmatch(release_id):
        raise ReleaseError(f"manifest release_id {release_id!r}: use letters, digits, '.', '_' and '-'")
    try:
        release_date = _dt.date.fromisoformat(_field(doc, "release_date", "manifest", _text))
    except ValueError as exc:
        raise ReleaseError(f"manifest release_date: {exc}") from None
    environment = check_environment(_field(doc, "environment", "manifest", _text), "manifest environment")

    notes_doc = _field(doc, "notes", "manifest", _object)
    _only(notes_doc, {"file", "size", "sha256"}, "manifest notes")
    notes = NotesEntry(_field(notes_doc, "file", "manifest notes", _text),
                       _field(notes_doc, "size", "manifest notes", _int_value),
                       bytes.fromhex(_field(notes_doc, "sha256", "manifest notes", _hash_text)))
    check_member_name(notes.file, "manifest notes file")

    images = tuple(_image(item, f"manifest images[{i}]")
                   for i, item in enumerate(_field(doc, "images", "manifest", _list)))
    if not images:
        raise ReleaseError("manifest images: a release holds at least one image")
    if len(images) > MAX_IMAGES:
        raise ReleaseError(f"manifest images: {len(images)} images, more than the {MAX_IMAGES} allowed")
    cpl = tuple(_cpl(item, f"manifest cpl[{i}]") for i, item in enumerate(_field(doc, "cpl", "manifest", _list)))
    paths = tuple(_pair(item, ("from", "to"), f"manifest upgrade_paths[{i}]")
                  for i, item in enumerate(_field(doc, "upgrade_paths", "manifest", _list)))
    compat = tuple(_pair(item, ("hub", "meter"), f"manifest compatibility[{i}]")
                   for i, item in enumerate(_field(doc, "compatibility", "manifest", _list)))
    manifest = Manifest(version, release_id, release_date, environment,
                        _field(doc, "signing_key_id", "manifest", _hash_text), notes, images, cpl, paths, compat)
    check_consistent(manifest)
    return manifest


def check_consistent(manifest: Manifest) -> None:
    """Rules across fields, checked when packing and when reading: unique member names (case-insensitively,
    as a Windows or macOS unzip would see them), image files under images/, upgrade paths that lead to a
    version in the bundle, and no two images of one model whose hardware ranges overlap."""
    names = manifest.member_names()
    folded = [n.lower() for n in names]
    for i, name in enumerate(folded):
        if name in folded[:i]:
            raise ReleaseError(f"manifest: file name {names[i]!r} is used twice (names are compared "
                               f"ignoring case)")
    for entry in manifest.images:
        if not entry.file.startswith(IMAGE_DIR):
            raise ReleaseError(f"manifest: image file {entry.file!r} must be under {IMAGE_DIR}")
    if manifest.notes.file.startswith(IMAGE_DIR):
        raise ReleaseError(f"manifest: the notes file {manifest.notes.file!r} must not be under {IMAGE_DIR}")
    versions = {e.file_version for e in manifest.images}
    for old, new in manifest.upgrade_paths:
        if new not in versions:
            raise ReleaseError(f"manifest upgrade path {_hex(old, 8)} -> {_hex(new, 8)}: no image in the "
                               f"release has version {_hex(new, 8)}")
    for i, a in enumerate(manifest.images):
        for b in manifest.images[:i]:
            same_type = (a.manufacturer_code, a.image_type) == (b.manufacturer_code, b.image_type)
            same_model = (a.manufacturer.lower(), a.model.lower()) == (b.manufacturer.lower(), b.model.lower())
            if (same_type or same_model) and _overlap(a, b):
                what = "image type" if same_type else "model"
                raise ReleaseError(f"manifest: images {b.file!r} and {a.file!r} are for the same manufacturer "
                                   f"and {what} with overlapping hardware ranges; a device could take either")


def _overlap(a: ImageEntry, b: ImageEntry) -> bool:
    low_a, high_a = _bounds(a)
    low_b, high_b = _bounds(b)
    return low_a <= high_b and low_b <= high_a


def _bounds(entry: ImageEntry) -> tuple[int, int]:
    return (0 if entry.min_hardware_version is None else entry.min_hardware_version,
            0xFFFF if entry.max_hardware_version is None else entry.max_hardware_version)


def _image(item, where: str) -> ImageEntry:
    item = _object(item, where)
    _only(item, {"file", "side", "manufacturer", "manufacturer_code", "model", "image_type",
                 "min_hardware_version", "max_hardware_version", "file_version", "size", "sha256",
                 "manufacturer_image_hash"}, where)
    entry = ImageEntry(
        file=_field(item, "file", where, _text),
        side=_field(item, "side", where, _text),
        manufacturer=_field(item, "manufacturer", where, _text),
        manufacturer_code=_field(item, "manufacturer_code", where, _hex_value(0xFFFF)),
        model=_field(item, "model", where, _text),
        image_type=_field(item, "image_type", where, _hex_value(0xFFFF)),
        min_hardware_version=_field(item, "min_hardware_version", where, _hex_value(0xFFFF), optional=True),
        max_hardware_version=_field(item, "max_hardware_version", where, _hex_value(0xFFFF), optional=True),
        file_version=_field(item, "file_version", where, _hex_value(0xFFFFFFFF)),
        size=_field(item, "size", where, _int_value),
        sha256=bytes.fromhex(_field(item, "sha256", where, _hash_text)),
        manufacturer_image_hash=bytes.fromhex(_field(item, "manufacturer_image_hash", where, _hash_text)))
    check_member_name(entry.file, f"{where} file")
    if entry.side not in SIDES:
        raise ReleaseError(f"{where} side: expected {HUB_SIDE} or {METER_SIDE}, not {entry.side!r}")
    return entry


def _cpl(item, where: str) -> CplEntry:
    item = _object(item, where)
    _only(item, {"manufacturer_code", "model", "image_type", "firmware_version", "min_hardware_version",
                 "max_hardware_version", "manufacturer_image_hash"}, where)
    return CplEntry(
        manufacturer_code=_field(item, "manufacturer_code", where, _hex_value(0xFFFF)),
        image_type=_field(item, "image_type", where, _hex_value(0xFFFF)),
        firmware_version=_field(item, "firmware_version", where, _hex_value(0xFFFFFFFF)),
        manufacturer_image_hash=bytes.fromhex(_field(item, "manufacturer_image_hash", where, _hash_text)),
        min_hardware_version=_field(item, "min_hardware_version", where, _hex_value(0xFFFF), optional=True),
        max_hardware_version=_field(item, "max_hardware_version", where, _hex_value(0xFFFF), optional=True),
        model=_field(item, "model", where, _text, optional=True) or "")


def _pair(item, names: tuple[str, str], where: str) -> tuple[int, int]:
    item = _object(item, where)
    _only(item, set(names), where)
    return tuple(_field(item, name, where, _hex_value(0xFFFFFFFF)) for name in names)


def _load(data: bytes) -> dict:
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ReleaseError(f"manifest.json is not UTF-8: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ReleaseError(f"manifest.json, line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ReleaseError("manifest.json nests too deeply") from None
    return _object(doc, "manifest")


def _only(doc: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise ReleaseError(f"{where}: unknown field(s) {unknown} for schema version {SCHEMA_VERSION}")


def _field(doc: dict, name: str, where: str, convert, optional: bool = False):
    if name not in doc or doc[name] is None:
        if optional:
            return None
        raise ReleaseError(f"{where}: missing field {name!r}")
    try:
        return convert(doc[name])
    except (TypeError, ValueError) as exc:
        raise ReleaseError(f"{where} {name}: {exc}") from None


def _object(value, where: str = "value") -> dict:
    if not isinstance(value, dict):
        raise ReleaseError(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def _list(value) -> list:
    if not isinstance(value, list):
        raise TypeError(f"expected a JSON list, got {type(value).__name__}")
    if len(value) > MAX_ROWS:
        raise ValueError(f"{len(value)} rows, more than the {MAX_ROWS} allowed")
    return value


def _text(value) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"expected a non-empty string, got {value!r}")
    if len(value) > 200 or not value.isprintable():
        # ``release show`` prints these before anything is verified: no terminal control sequences
        raise ValueError(f"expected at most 200 printable characters, got {value[:40]!r}")
    return value


def _int_value(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"expected a non-negative integer, got {value!r}")
    return value


def _hash_text(value) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ValueError(f"expected 64 lowercase hex digits, got {value!r}")
    return value


def _hex_value(maximum: int):
    digits = len(f"{maximum:X}")

    def convert(value) -> int:
        if not isinstance(value, str) or not re.fullmatch(rf"0x[0-9A-Fa-f]{{1,{digits}}}", value):
            raise ValueError(f"expected a hex string like 0x{'0' * digits} (at most {digits} digits), "
                             f"got {value!r}")
        return int(value, 16)

    return convert


def _hex(value: int | None, digits: int) -> str | None:
    return None if value is None else f"0x{value:0{digits}X}"
