"""Writing files so that an interrupted run loses nothing already stored: the new content goes to a
temporary file beside the target, which replaces the target only once it is complete."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path in ``path``'s folder; when the block ends normally it atomically becomes
    ``path``, and on any exception (Ctrl-C included) it is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
