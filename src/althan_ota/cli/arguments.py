"""Argument types for the command line: numbers are range-checked where they are parsed, so a bad value is
argparse's one-line error (exit status 2) naming the option, before any work starts."""

from __future__ import annotations

import argparse
import math


def integer(minimum: int = 0, maximum: int | None = None):
    """An integer in [minimum, maximum], written in decimal or with 0x."""
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


def number(minimum: float = 0.0, maximum: float | None = None, below_maximum: bool = False):
    """A finite number in [minimum, maximum] (or [minimum, maximum) with ``below_maximum``)."""
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


count = integer(0)                    # how many of something, 0 allowed
positive = integer(1)                 # how many of something, at least one
seed = integer(0, 2 ** 64 - 1)        # random seeds are unsigned 64-bit
fraction = number(0.0, 1.0)           # a probability or a rate
amount = number(0.0)                  # a cost, a factor
