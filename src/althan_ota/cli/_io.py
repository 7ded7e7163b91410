"""What the command modules share: integer options (``0x`` hex allowed), and reading and writing the files
they are given, with a clear error instead of a traceback."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ParameterError


def integer(text: str) -> int:
    """An argparse ``type=``: decimal or ``0x`` hex."""
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer (0x hex allowed), not {text!r}") from None


def read_file(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ParameterError(f"cannot read {path}: {exc.strerror or exc}") from None


def write_file(path, data: bytes) -> None:
    """Write through a temporary beside ``path`` (see ``_files.replacing``): an interruption leaves no half file."""
    from .._files import replacing

    try:
        with replacing(path) as partial:
            partial.write_bytes(data)
    except OSError as exc:
        raise ParameterError(f"cannot write {path}: {exc.strerror or exc}") from None
