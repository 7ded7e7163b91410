"""Packing a release bundle, verifying one for an environment, and showing one without trusting it."""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AltHanError, ReleaseError
from ..image import CplEntry, OtaImage, cpl_check, format_version, image_cpl_hash, load_private_key, parse
from ._archive import (MAX_MANIFEST_BYTES, MAX_MEMBER_BYTES, MAX_NOTES_BYTES, MAX_SIGNATURE_BYTES,
                       BundleArchive, write_archive)
from ._compat import Compatibility
from ._keys import key_id, load_trusted_keys, sign_manifest, signature_ok
from ._manifest import (IMAGE_DIR, MANIFEST_NAME, SCHEMA_VERSION, SIGNATURE_NAME, ImageEntry, Manifest,
                        NotesEntry, check_environment, from_json, side_code, signing_key_id_of, to_json)


@dataclass(frozen=True)
class ImageInput:
    """An image to pack: its bytes (or a path to them), which bridge side it is for, and the manufacturer and
    model names operators use (the fleet's ``manufacturer`` and ``model`` columns). Codes, versions and the
    hardware range are read from the image itself. ``file`` is its name in the bundle (default
    ``images/<model>-<version>.bin``)."""

    data: bytes | str | Path
    side: str
    manufacturer: str
    model: str
    file: str | None = None


@dataclass(frozen=True)
class ReleaseImage:
    """A verified image of a release: its manifest entry, the bytes, the parsed image and its CPL entry.
    ``signature_checked`` is True when its GB signature was verified with a manufacturer key, False when no
    key was given for its manufacturer."""

    entry: ImageEntry
    data: bytes = field(repr=False)
    image: OtaImage = field(repr=False)
    cpl_entry: CplEntry
    signature_checked: bool

    @property
    def file(self) -> str:
        return self.entry.file

    @property
    def side(self) -> str:
        return self.entry.side

    @property
    def manufacturer(self) -> str:
        return self.entry.manufacturer

    @property
    def model(self) -> str:
        return self.entry.model

    @property
    def file_version(self) -> int:
        return self.entry.file_version

    @property
    def sha256(self) -> bytes:
        return self.entry.sha256

    def __repr__(self) -> str:
        return (f"ReleaseImage({self.file!r}, {self.side}, {self.manufacturer} {self.model}, version "
                f"{format_version(self.file_version)}, hardware [{_hw(self.entry.min_hardware_version)}, "
                f"{_hw(self.entry.max_hardware_version)}], sha256 {self.sha256.hex()[:16]}…)")

    def fits_hardware(self, hardware_version: int) -> bool:
        low, high = self.entry.min_hardware_version, self.entry.max_hardware_version
        return (low is None or hardware_version >= low) and (high is None or hardware_version <= high)


@dataclass(frozen=True)
class VerifiedRelease:
    """A bundle that passed :func:`verify_bundle` for ``environment``: only this gives a campaign its image."""

    release_id: str
    release_date: _dt.date
    environment: str
    key_id: str
    notes_file: str
    notes: str = field(repr=False)
    images: tuple[ReleaseImage, ...]
    cpl: tuple[CplEntry, ...] = field(repr=False)
    upgrade_paths: tuple[tuple[int, int], ...] = field(repr=False)
    compatibility: Compatibility = field(repr=False)
    manifest_bytes: bytes = field(repr=False)

    def image_for(self, manufacturer: str | int, model_or_side: str, hardware_version: int, *,
                  environment: str | None = None) -> ReleaseImage:
        """The one image of this release for a device: ``manufacturer`` as a name (case-insensitive) or code,
        ``model_or_side`` as a model name or a bridge side in any usual spelling (``"hub"``,
        ``"ALTHAN_P2P_METER"``, ...), and its hardware version. Give ``environment`` (the campaign's) to have
        a release for another environment refused here too. ReleaseError says why nothing fits."""
        if environment is not None:
            _require_environment(self.release_id, self.environment, environment)
        if isinstance(hardware_version, bool) or not isinstance(hardware_version, (int, np.integer)):
            raise ReleaseError(f"hardware version {hardware_version!r}: an integer is needed to pick an image "
                               f"(unknown hardware cannot be matched safely)")
        makers = [r for r in self.images if _same_maker(r, manufacturer)]
        who = manufacturer if isinstance(manufacturer, str) else f"0x{int(manufacturer):04X}"
        if not makers:
            known = sorted({r.manufacturer for r in self.images})
            raise ReleaseError(f"release {self.release_id} has no image for manufacturer {who!r} "
                               f"(it has {', '.join(known)})")
        by_model = [r for r in makers if r.model.lower() == str(model_or_side).lower()]
        if by_model:
            candidates, what = by_model, f"model {model_or_side}"
        else:
            try:
                side = side_code(model_or_side)
            except ReleaseError:
                models = sorted({r.model for r in makers})
                raise ReleaseError(f"release {self.release_id}: {who!r} has no model {model_or_side!r} and it is "
                                   f"not a bridge side (models: {', '.join(models)})") from None
            candidates, what = [r for r in makers if r.side == side], f"side {side}"
        fitting = [r for r in candidates if r.fits_hardware(int(hardware_version))]
        if not fitting:
            ranges = ", ".join(f"{r.model} [{_hw(r.entry.min_hardware_version)}, {_hw(r.entry.max_hardware_version)}]"
                               for r in candidates) or "none"
            raise ReleaseError(f"release {self.release_id} has no image for {who!r} {what} on hardware version "
                               f"0x{int(hardware_version):04X} (images for it: {ranges})")
        if len(fitting) > 1:
            raise ReleaseError(f"release {self.release_id}: {who!r} {what} on hardware 0x{int(hardware_version):04X} "
                               f"matches several models ({', '.join(r.model for r in fitting)}); name the model")
        return fitting[0]

    def match_images(self, manufacturers, models, hardware_versions) -> np.ndarray:
        """``image_for`` by model over a whole fleet: for each row of the three columns (Arrow arrays, numpy
        arrays or lists; the fleet's ``manufacturer``, ``model``, ``hardware_version``), the index into
        ``images`` of its image, or -1 where the release has none (other model, hardware out of range, or
        unknown hardware). Names compare ignoring case, as in ``image_for``."""
        import pyarrow as pa
        import pyarrow.compute as pc

        columns = []
        for values, kind in ((manufacturers, pa.string()), (models, pa.string()), (hardware_versions, pa.int64())):
            try:
                array = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
                columns.append(pc.cast(array, kind))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                raise ReleaseError(f"match_images: cannot read a column as {kind}: {exc}") from None
        maker, model, hardware = columns
        if not len(maker) == len(model) == len(hardware):
            raise ReleaseError(f"match_images: columns of different lengths ({len(maker)}, {len(model)}, "
                               f"{len(hardware)})")
        maker, model = pc.utf8_lower(maker), pc.utf8_lower(model)
        found = np.full(len(maker), -1, dtype=np.int32)
        for index, image in enumerate(self.images):
            low, high = image.entry.min_hardware_version, image.entry.max_hardware_version
            hit = pc.and_(pc.equal(maker, image.manufacturer.lower()), pc.equal(model, image.model.lower()))
            hit = pc.and_(hit, pc.is_valid(hardware))
            if low is not None:
                hit = pc.and_(hit, pc.greater_equal(hardware, low))
            if high is not None:
                hit = pc.and_(hit, pc.less_equal(hardware, high))
            found[pc.fill_null(hit, False).to_numpy(zero_copy_only=False)] = index
        return found

    def may_upgrade(self, from_version: int, to_version: int) -> bool:
        """Whether the upgrade-path table lets a device running ``from_version`` take ``to_version``."""
        return (int(from_version), int(to_version)) in set(self.upgrade_paths)

    def upgradable(self, running_versions, to_version: int) -> np.ndarray:
        """``may_upgrade`` over an array of running versions, as a bool mask."""
        sources = np.array(sorted({a for a, b in self.upgrade_paths if b == int(to_version)}), dtype=np.int64)
        return np.isin(np.asarray(running_versions, dtype=np.int64), sources)


def pack(output, *, images: Iterable[ImageInput], notes, release_id: str, release_date: _dt.date | str,
         environment: str, cpl: Iterable[CplEntry], signing_key, upgrade_paths: Iterable[tuple[int, int]] = (),
         compatibility: Iterable[tuple[int, int]] = (), notes_name: str = "RELEASE-NOTES.md") -> Manifest:
    """Write a signed release bundle to ``output`` and return its manifest.

    ``notes`` is the release-notes text (str or UTF-8 bytes) or a ``pathlib.Path`` to it; ``cpl`` the CPL
    entries the images correspond to (each image must be listed: an unlisted image is refused here rather
    than by every supplier); ``signing_key`` Alt HAN Co's P-256 private key (object or PEM/DER bytes);
    ``upgrade_paths`` (from, to) version pairs; ``compatibility`` (hub, meter) version pairs that work
    together. The same inputs give the same bytes (RFC 6979 signatures, where OpenSSL has them)."""
    check_environment(environment)
    private_key = _private_key(signing_key)
    if isinstance(release_date, str):
        try:
            release_date = _dt.date.fromisoformat(release_date)
        except ValueError as exc:
            raise ReleaseError(f"release date {release_date!r}: {exc}") from None
    cpl = tuple(cpl)
    notes_bytes = _notes_bytes(notes)
    entries, blobs = [], []
    for number, item in enumerate(images, 1):
        data = _image_bytes(item.data, f"image {number}")
        image = _parse(data, item.file or f"image {number}")
        file = item.file or f"{IMAGE_DIR}{_safe(item.model)}-{image.file_version:08X}.bin"
        listed = cpl_check(image, cpl)
        if not listed.listed:
            raise ReleaseError(f"refusing to pack {file}: {listed.detail}")
        entries.append(ImageEntry(
            file=file, side=side_code(item.side), manufacturer=item.manufacturer,
            manufacturer_code=image.manufacturer_code, model=item.model, image_type=image.image_type,
            min_hardware_version=image.min_hardware_version, max_hardware_version=image.max_hardware_version,
            file_version=image.file_version, size=len(data), sha256=hashlib.sha256(data).digest(),
            manufacturer_image_hash=image_cpl_hash(image)))
        blobs.append(data)
    manifest = Manifest(SCHEMA_VERSION, release_id, release_date, environment, key_id(private_key),
                        NotesEntry(notes_name, len(notes_bytes), hashlib.sha256(notes_bytes).digest()),
                        tuple(entries), cpl, tuple(sorted({(int(a), int(b)) for a, b in upgrade_paths})),
                        tuple(Compatibility(compatibility).pairs))
    manifest_bytes = to_json(manifest)
    manifest = from_json(manifest_bytes)     # the reader's rules, applied before anything is published
    signature = sign_manifest(manifest_bytes, private_key)
    members = [(MANIFEST_NAME, manifest_bytes), (SIGNATURE_NAME, signature), (notes_name, notes_bytes)]
    members += [(entry.file, data) for entry, data in zip(manifest.images, blobs)]
    write_archive(output, members, manifest.release_date)
    return manifest


def verify_bundle(path, environment: str, trusted_keys, *, manufacturer_keys: Mapping | None = None,
                  cpl: Iterable[CplEntry] | None = None) -> VerifiedRelease:
    """Verify a bundle for ``environment`` ("test" or "production") and return what it releases.

    Checked, in this order, each failure a ReleaseError that says which: the archive's structure (names,
    sizes, duplicates); the manifest's signature against ``trusted_keys`` (see :func:`load_trusted_keys`),
    by the key ID the manifest records; the manifest's fields; that the archive holds exactly the files it
    lists; the environment; the notes' and every image's size and SHA-256; each image's header against its
    entry; its Manufacturer Image Hash against the entry and the bundle's CPL entries (``image.cpl_check``),
    and against ``cpl`` too when given (e.g. the DCC's current CPL); its GB signature when
    ``manufacturer_keys`` (manufacturer name or code -> public key; key None applies to every manufacturer)
    has a key for it. The environment is part of the signed manifest, so trust per environment by passing
    only that environment's release keys when they differ."""
    check_environment(environment, "the environment to verify for")
    trusted = load_trusted_keys(trusted_keys)
    with BundleArchive(path) as archive:
        manifest_bytes = archive.read(MANIFEST_NAME, MAX_MANIFEST_BYTES)
        signature = archive.read(SIGNATURE_NAME, MAX_SIGNATURE_BYTES)
        claimed = signing_key_id_of(manifest_bytes)
        if claimed not in trusted:
            raise ReleaseError(f"manifest is signed by unknown key {claimed}: it is not among the "
                               f"{len(trusted)} trusted release key(s) ({', '.join(sorted(trusted))})")
        if not signature_ok(manifest_bytes, signature, trusted[claimed]):
            raise ReleaseError(f"manifest signature does not verify with trusted key {claimed}: the manifest "
                               f"or manifest.sig was altered after signing")
        manifest = from_json(manifest_bytes)
        _check_members(archive.names, manifest)
        _require_environment(manifest.release_id, manifest.environment, environment)
        notes = _read_checked(archive, manifest.notes.file, manifest.notes.size, manifest.notes.sha256,
                              MAX_NOTES_BYTES, "release notes")
        try:
            notes_text = notes.decode("utf-8")
        except UnicodeDecodeError:
            raise ReleaseError(f"release notes {manifest.notes.file} are not UTF-8 text") from None
        extra_cpl = None if cpl is None else tuple(cpl)
        images = tuple(_verify_image(archive, entry, manifest, extra_cpl, manufacturer_keys)
                       for entry in manifest.images)
    return VerifiedRelease(manifest.release_id, manifest.release_date, manifest.environment, claimed,
                           manifest.notes.file, notes_text, images, manifest.cpl, manifest.upgrade_paths,
                           Compatibility(manifest.compatibility), manifest_bytes)


def show(path) -> dict:
    """What a bundle declares, WITHOUT verifying its signature or images: the archive is checked strictly
    and the manifest parsed, so a malformed bundle still raises ReleaseError. Returns a dict with
    ``manifest`` (the parsed :class:`Manifest`), ``manifest_json`` (its text), ``members`` (name ->
    declared size) and ``signature_length``."""
    with BundleArchive(path) as archive:
        manifest_bytes = archive.read(MANIFEST_NAME, MAX_MANIFEST_BYTES)
        signature = archive.read(SIGNATURE_NAME, MAX_SIGNATURE_BYTES)
        manifest = from_json(manifest_bytes)
        return {"manifest": manifest, "manifest_json": manifest_bytes.decode("utf-8"),
                "members": {name: archive.declared_size(name) for name in archive.names},
                "signature_length": len(signature)}


def _verify_image(archive: BundleArchive, entry: ImageEntry, manifest: Manifest, extra_cpl, manufacturer_keys):
    data = _read_checked(archive, entry.file, entry.size, entry.sha256, MAX_MEMBER_BYTES, "image")
    image = _parse(data, entry.file)
    declared = {"manufacturer code": (entry.manufacturer_code, image.manufacturer_code),
                "image type": (entry.image_type, image.image_type),
                "file version": (entry.file_version, image.file_version),
                "minimum hardware version": (entry.min_hardware_version, image.min_hardware_version),
                "maximum hardware version": (entry.max_hardware_version, image.max_hardware_version)}
    for name, (listed, actual) in declared.items():
        if listed != actual:
            raise ReleaseError(f"image {entry.file}: the manifest says {name} {listed!r}, the image header "
                               f"{actual!r}")
    if image_cpl_hash(image) != entry.manufacturer_image_hash:
        raise ReleaseError(f"image {entry.file}: Manufacturer Image Hash {image_cpl_hash(image).hex()} differs "
                           f"from the manifest's {entry.manufacturer_image_hash.hex()}")
    listed = cpl_check(image, manifest.cpl)
    if not listed.listed:
        raise ReleaseError(f"image {entry.file} is not in the release's CPL entries ({listed.reason}): "
                           f"{listed.detail}")
    if extra_cpl is not None:
        outside = cpl_check(image, extra_cpl)
        if not outside.listed:
            raise ReleaseError(f"image {entry.file} is not in the given CPL ({outside.reason}): {outside.detail}")
    key = _manufacturer_key(manufacturer_keys, entry)
    if key is not None:
        if image.format != "gbcs":
            raise ReleaseError(f"image {entry.file}: a manufacturer key was given but the image is a ZigBee OTA "
                               f"file, which carries no GB signature")
        try:
            image.verify_signature(key)
        except AltHanError as exc:
            raise ReleaseError(f"image {entry.file}: GB image signature: {exc}") from None
    return ReleaseImage(entry, data, image, listed.entry, key is not None)


def _read_checked(archive: BundleArchive, name: str, size: int, sha256: bytes, limit: int, what: str) -> bytes:
    declared = archive.declared_size(name)
    if declared is not None and declared != size:
        raise ReleaseError(f"{what} {name} is {declared} bytes in the archive, {size} in the manifest: the "
                           f"file was changed after signing")
    data = archive.read(name, min(size, limit), f"{what} {name}")
    actual = hashlib.sha256(data).digest()
    if actual != sha256:
        raise ReleaseError(f"{what} {name} was tampered with: its SHA-256 is {actual.hex()}, the signed "
                           f"manifest says {sha256.hex()}")
    return data


def _check_members(names: list[str], manifest: Manifest) -> None:
    expected = manifest.member_names()
    unexpected = [n for n in names if n not in expected]
    if unexpected:
        raise ReleaseError(f"the bundle holds file(s) its manifest does not list: {unexpected}")
    missing = [n for n in expected if n not in names]
    if missing:
        raise ReleaseError(f"the bundle lacks file(s) its manifest lists: {missing}")


def _require_environment(release_id: str, bundle_environment: str, wanted: str) -> None:
    check_environment(wanted, "the environment to verify for")
    if bundle_environment != wanted:
        raise ReleaseError(f"release {release_id} is a {bundle_environment} release; it is refused for the "
                           f"{wanted} environment")


def _manufacturer_key(keys: Mapping | None, entry: ImageEntry):
    if not keys:
        return None
    for name, key in keys.items():
        if name is None or (isinstance(name, str) and name.lower() == entry.manufacturer.lower()) or \
                (isinstance(name, (int, np.integer)) and not isinstance(name, bool)
                 and int(name) == entry.manufacturer_code):
            return key
    return None


def _same_maker(image: ReleaseImage, manufacturer) -> bool:
    if isinstance(manufacturer, str):
        return image.manufacturer.lower() == manufacturer.lower()
    if isinstance(manufacturer, (int, np.integer)) and not isinstance(manufacturer, bool):
        return image.entry.manufacturer_code == int(manufacturer)
    raise ReleaseError(f"manufacturer must be a name or a manufacturer code, not {manufacturer!r}")


def _parse(data: bytes, where: str) -> OtaImage:
    try:
        return parse(data)
    except AltHanError as exc:
        raise ReleaseError(f"image {where} is not a readable firmware image: {exc}") from None


def _private_key(key):
    try:
        return load_private_key(key)
    except AltHanError as exc:
        raise ReleaseError(f"release signing key: {exc}") from None


def _notes_bytes(notes) -> bytes:
    if isinstance(notes, Path):
        try:
            data = notes.read_bytes()
        except OSError as exc:
            raise ReleaseError(f"cannot read the release notes {notes}: {exc.strerror or exc}") from None
    else:
        data = notes.encode("utf-8") if isinstance(notes, str) else bytes(notes)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReleaseError("release notes must be UTF-8 text") from None
    if len(data) > MAX_NOTES_BYTES:
        raise ReleaseError(f"release notes are {len(data)} bytes, more than the {MAX_NOTES_BYTES} allowed")
    return data


def _image_bytes(source, where: str) -> bytes:
    if isinstance(source, (str, Path)):
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise ReleaseError(f"{where}: cannot read {source}: {exc.strerror or exc}") from None
    return bytes(source)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "image"


def _hw(value: int | None) -> str:
    return "any" if value is None else f"0x{value:04X}"
