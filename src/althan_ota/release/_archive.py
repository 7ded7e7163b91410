"""The zip container of a release bundle: written deterministically, read strictly.

Reading never extracts anything to disk and never trusts the archive: before a byte is decompressed every
member name is checked (no traversal, absolute paths, directories, links or duplicates), encrypted members
and unusual compression methods are refused, and each member's declared size is bounded, so a zip bomb is
refused by its central directory. A member is then read with a cap one byte above its declared size, and
whatever zipfile, zlib or the operating system complain about becomes a ReleaseError.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path

from ..errors import ReleaseError
from ._manifest import check_member_name

MAX_BUNDLE_BYTES = 1 << 30          # the archive file itself
MAX_MEMBERS = 256
MAX_MEMBER_BYTES = 64 << 20         # one image (real ones are 100-500 KB)
MAX_TOTAL_BYTES = 512 << 20         # all members, uncompressed
MAX_MANIFEST_BYTES = 4 << 20
MAX_NOTES_BYTES = 4 << 20
MAX_SIGNATURE_BYTES = 1024

_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, RuntimeError,
                NotImplementedError, ValueError, OverflowError)


def write_archive(path, members: list[tuple[str, bytes]], date: _dt.date) -> None:
    """Write ``members`` (name, bytes) in order, deflated, with fixed timestamps and permissions so the same
    inputs give the same archive bytes. Written to a temporary file first and renamed into place."""
    path = Path(path)
    stamp = (max(date.year, 1980), date.month, date.day, 0, 0, 0)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".release-", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    except OSError as exc:
        raise ReleaseError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for name, data in members:
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3                      # Unix, so the mode bits below mean what they say
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, data, compresslevel=9)
        os.chmod(tmp, 0o644)     # mkstemp's 0600 would hide a file that is meant to be handed out
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ReleaseError(f"cannot write {path}: {exc.strerror or exc}") from None


class BundleArchive:
    """An opened, pre-checked bundle archive. Use as a context manager; ``names`` lists its members."""

    def __init__(self, source):
        self._label, raw = _open_source(source)
        try:
            self._zip = zipfile.ZipFile(raw)
            infos = self._zip.infolist()
        except _READ_ERRORS as exc:
            raw.close()
            raise ReleaseError(f"{self._label}: not a readable zip archive ({_say(exc)})") from None
        try:
            self._infos = _check_members(infos, self._label)
        except ReleaseError:
            self.close()
            raise

    @property
    def names(self) -> list[str]:
        return list(self._infos)

    def read(self, name: str, limit: int, what: str | None = None) -> bytes:
        """The member's bytes; ReleaseError if it is missing, declares more than ``limit`` bytes, or does not
        decompress to exactly its declared size with a matching CRC."""
        what = what or name
        info = self._infos.get(name)
        if info is None:
            raise ReleaseError(f"{self._label}: {what} is missing from the bundle")
        if info.file_size > limit:
            raise ReleaseError(f"{self._label}: {what} declares {info.file_size} bytes, more than the {limit} "
                               f"allowed")
        try:
            with self._zip.open(info) as member:
                data = member.read(limit + 1)
        except _READ_ERRORS as exc:
            raise ReleaseError(f"{self._label}: cannot read {what}: {_say(exc)}") from None
        if len(data) != info.file_size:
            raise ReleaseError(f"{self._label}: {what} decompresses to {len(data)} bytes, not the declared "
                               f"{info.file_size}")
        return data

    def declared_size(self, name: str) -> int | None:
        info = self._infos.get(name)
        return None if info is None else info.file_size

    def close(self) -> None:
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _open_source(source):
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) > MAX_BUNDLE_BYTES:
            raise ReleaseError(f"the bundle is {len(source)} bytes, more than the {MAX_BUNDLE_BYTES} allowed")
        return "bundle", io.BytesIO(bytes(source))
    try:
        path = Path(source)
    except TypeError:
        raise ReleaseError(f"a bundle is a path or bytes, not {type(source).__name__}") from None
    try:
        raw = open(path, "rb")
        size = os.fstat(raw.fileno()).st_size
    except OSError as exc:
        raise ReleaseError(f"{path}: cannot open the bundle: {exc.strerror or exc}") from None
    if size > MAX_BUNDLE_BYTES:
        raw.close()
        raise ReleaseError(f"{path}: the bundle is {size} bytes, more than the {MAX_BUNDLE_BYTES} allowed")
    return str(path), raw


def _check_members(infos: list[zipfile.ZipInfo], label: str) -> dict[str, zipfile.ZipInfo]:
    if len(infos) > MAX_MEMBERS:
        raise ReleaseError(f"{label}: {len(infos)} members, more than the {MAX_MEMBERS} a bundle may hold")
    checked: dict[str, zipfile.ZipInfo] = {}
    folded: set[str] = set()
    total = 0
    for info in infos:
        name = info.orig_filename
        if name != info.filename:
            raise ReleaseError(f"{label}: member name {name!r} is not a plain file name")
        check_member_name(name, f"{label}: member")
        if name.lower() in folded:
            raise ReleaseError(f"{label}: member {name!r} appears more than once (names compared ignoring case)")
        folded.add(name.lower())
        if info.flag_bits & 0x1:
            raise ReleaseError(f"{label}: member {name!r} is encrypted; bundles are signed, not encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ReleaseError(f"{label}: member {name!r} uses compression method {info.compress_type}; only "
                               f"stored (0) and deflated (8) are accepted")
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG):   # 0: type not recorded
            raise ReleaseError(f"{label}: member {name!r} is not a regular file (mode 0o{mode:o})")
        if info.file_size > MAX_MEMBER_BYTES:
            raise ReleaseError(f"{label}: member {name!r} declares {info.file_size} bytes, more than the "
                               f"{MAX_MEMBER_BYTES} allowed")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise ReleaseError(f"{label}: the members declare more than {MAX_TOTAL_BYTES} bytes in all")
        checked[name] = info
    return checked


def _say(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
