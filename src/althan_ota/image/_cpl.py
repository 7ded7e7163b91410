"""Checking an image against Central Products List entries: is this exact firmware listed for this model?"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InventoryError
from ._model import OtaImage, format_version


@dataclass(frozen=True)
class CplEntry:
    """One CPL line: a model (manufacturer code + image type) running a firmware version whose Manufacturer
    Image Hash is listed, on hardware versions ``min_hardware_version``..``max_hardware_version`` (None:
    unbounded)."""

    manufacturer_code: int
    image_type: int
    firmware_version: int
    manufacturer_image_hash: bytes
    min_hardware_version: int | None = None
    max_hardware_version: int | None = None
    model: str = ""


@dataclass(frozen=True)
class CplResult:
    """``listed`` and the matching ``entry``, or why not: ``reason`` is one of ``"listed"``, ``"no-entry"``
    (manufacturer/model unknown), ``"version-not-listed"``, ``"hash-mismatch"``, ``"hardware-range"``;
    ``detail`` says it in words."""

    listed: bool
    reason: str
    detail: str
    entry: CplEntry | None = None


def image_cpl_hash(image: OtaImage) -> bytes:
    """The hash a CPL lists for an image: the Manufacturer Image Hash of a GB image; for a ZigBee OTA file,
    which has no Manufacturer Image, the SHA-256 of the whole OTA image."""
    return image.manufacturer_image_hash if image.format == "gbcs" else image.image_hash


def cpl_check(image: OtaImage, entries) -> CplResult:
    """Whether ``image`` is listed in the CPL ``entries``, and if not, the first reason found in the order
    model, version, hash, hardware range."""
    model = [e for e in entries
             if e.manufacturer_code == image.manufacturer_code and e.image_type == image.image_type]
    who = f"manufacturer 0x{image.manufacturer_code:04X} image type 0x{image.image_type:04X}"
    if not model:
        return CplResult(False, "no-entry", f"no CPL entry for {who}")
    versions = [e for e in model if e.firmware_version == image.file_version]
    if not versions:
        known = ", ".join(sorted({format_version(e.firmware_version) for e in model}))
        return CplResult(False, "version-not-listed",
                         f"{who}: version {image.file_version_hex} is not listed (listed: {known})")
    actual = image_cpl_hash(image)
    hashed = [e for e in versions if e.manufacturer_image_hash == actual]
    if not hashed:
        listed = ", ".join(e.manufacturer_image_hash.hex() for e in versions)
        return CplResult(False, "hash-mismatch",
                         f"{who} version {image.file_version_hex}: image hash {actual.hex()} differs from "
                         f"the listed {listed}", versions[0])
    for entry in hashed:
        if _hardware_fits(image, entry):
            return CplResult(True, "listed", f"{who} version {image.file_version_hex} is listed", entry)
    entry = hashed[0]
    return CplResult(False, "hardware-range",
                     f"{who} version {image.file_version_hex}: image hardware range "
                     f"{_range(image.min_hardware_version, image.max_hardware_version)} is not within the "
                     f"listed {_range(entry.min_hardware_version, entry.max_hardware_version)}", entry)


def _hardware_fits(image: OtaImage, entry: CplEntry) -> bool:
    low = image.min_hardware_version
    high = image.max_hardware_version
    if entry.min_hardware_version is not None and (low is None or low < entry.min_hardware_version):
        return False
    if entry.max_hardware_version is not None and (high is None or high > entry.max_hardware_version):
        return False
    return True


def _range(low, high) -> str:
    return f"[{'any' if low is None else f'0x{low:04X}'}, {'any' if high is None else f'0x{high:04X}'}]"


_COLUMNS = ("manufacturer_code", "image_type", "firmware_version", "manufacturer_image_hash",
            "min_hardware_version", "max_hardware_version", "model")
_REQUIRED = _COLUMNS[:4]


def load_cpl(path) -> list[CplEntry]:
    """CPL entries from a JSON list of objects or a CSV file with a header line, both with the columns
    manufacturer_code, image_type, firmware_version (integers, ``0x`` hex allowed), manufacturer_image_hash
    (64 hex digits) and optionally min_hardware_version, max_hardware_version, model."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(f"{path}: cannot read the CPL file: {exc}") from None
    if path.suffix.lower() == ".json" or text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InventoryError(f"{path}, line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InventoryError(f"{path}: expected a JSON list of objects")
        return [_entry(row, f"{path}, entry {i + 1}") for i, row in enumerate(rows)]
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise InventoryError(f"{path}, line 1: missing CPL columns {missing}")
    return [_entry(row, f"{path}, line {reader.line_num}") for row in reader]


def _entry(row: dict, where: str) -> CplEntry:
    values = {}
    for column in _COLUMNS:
        value = row.get(column)
        if value in (None, ""):
            if column in _REQUIRED:
                raise InventoryError(f"{where}, column {column}: missing")
            continue
        try:
            if column == "manufacturer_image_hash":
                digest = bytes.fromhex(str(value))
                if len(digest) != 32:
                    raise ValueError(f"expected 32 bytes, got {len(digest)}")
                values[column] = digest
            elif column == "model":
                values[column] = str(value)
            else:
                values[column] = value if isinstance(value, int) and not isinstance(value, bool) \
                    else int(str(value), 0)
        except ValueError as exc:
            raise InventoryError(f"{where}, column {column}: bad value {value!r} ({exc})") from None
    return CplEntry(**values)
