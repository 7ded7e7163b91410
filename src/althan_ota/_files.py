"""Writing files so that an interrupted run loses nothing already stored: the new content goes to a
temporary file beside the target, which replaces the target only once it is complete."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import ParameterError


def writable(path: str | Path) -> Path:
    """``path`` if a file can be written there (its folder may still have to be made); otherwise a
    ParameterError saying why, so that a command can refuse a bad output before it does any work."""
    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"cannot write {path}: it is a directory; give a file name")
    existing = path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ParameterError(f"cannot write {path}: {existing} is not a folder this process may write to")
    return path


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path in ``path``'s folder; when the block ends normally it atomically becomes
    ``path``, and on any exception (Ctrl-C included) it is removed and ``path`` is left as it was."""
    path = writable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"cannot write {path}: cannot create its folder {path.parent} "
                             f"({exc.strerror or exc})") from None
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
