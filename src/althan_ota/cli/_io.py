"""What the command modules share: number options range-checked by the parser (integers with ``0x`` hex
allowed), reading and writing the files they are given with a clear error instead of a traceback, and the
HTTPS options of the commands that speak DUIS over the network."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..errors import ParameterError


def integer_in(minimum: int = 0, maximum: int | None = None):
    """An argparse ``type=``: an integer in [minimum, maximum], decimal or ``0x`` hex. Numbers are range-checked
    where they are parsed, so a bad value is argparse's one-line error (exit status 2) before any work."""
    def parse(text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer (0x hex allowed), not {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            upper = "" if maximum is None else f" and <= {maximum:#x}" if maximum > 1_000_000 else f" and <= {maximum}"
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}{upper}, not {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


def number_in(minimum: float = 0.0, maximum: float | None = None, below_maximum: bool = False):
    """An argparse ``type=``: a finite number in [minimum, maximum] (or [minimum, maximum) with
    ``below_maximum``)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
        too_high = maximum is not None and (value >= maximum if below_maximum else value > maximum)
        if not math.isfinite(value) or value < minimum or too_high:
            upper = "" if maximum is None else f" and {'<' if below_maximum else '<='} {maximum:g}"
            raise argparse.ArgumentTypeError(f"expected a number >= {minimum:g}{upper}, not {text!r}")
        return value

    parse.__name__ = "number"
    return parse


integer = integer_in(0)                       # a non-negative integer
count = integer_in(0)                         # how many of something, 0 allowed
positive = integer_in(1)                      # how many of something, at least one
seed = integer_in(0, 2 ** 64 - 1)             # random seeds are unsigned 64-bit
firmware_version = integer_in(0, 0xFFFFFFFF)  # a 4-octet firmware version
fraction = number_in(0.0, 1.0)                # a probability or a rate
amount = number_in(0.0)                       # a cost, a factor


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


def add_tls_options(group, server: str, peer: str) -> None:
    """--tls-cert / --tls-key / --tls-ca, for a command that serves HTTPS (``server``) and calls ``peer``."""
    group.add_argument("--tls-cert", type=Path, help=f"PEM certificate (chain): {server} serves HTTPS with it, and "
                                                     f"it is presented to {peer} as client certificate")
    group.add_argument("--tls-key", type=Path, help="the private key of --tls-cert (PEM)")
    group.add_argument("--tls-ca", type=Path, help=f"PEM certificates that {peer}'s certificate must chain to (its "
                                                   f"server certificate, and the client certificate {server} then "
                                                   "requires); default: the system's roots, no client certificate")


def tls_config(args):
    """The TlsConfig of add_tls_options' flags."""
    from .._tls import TlsConfig

    return TlsConfig(cert=args.tls_cert, key=args.tls_key, ca=args.tls_ca)
